"""The desk's own lines (freight, gift, service) and the reason every change of a placed
order needs — on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from orders import actions
from orders.actions import DraftLine, OrderEdit
from orders.errors import OrderError, OrderErrorCode
from orders.special_lines import SpecialLine, add_special_line
from orders.status import OrderStatus
from tests.orders.hub_factories import (
    COMPLETE,
    World,
    build_world,
    events_of,
    outbox_rows,
    snapshot,
    stock_of,
)

BOLTS = DraftLine("HB-M6X20-304", 3, "盒")  # 3000 × 0.25 = 750.00
NUTS = DraftLine("NUT-M6-ZN", 1, "箱")  # 5000 × 0.02 = 100.00


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await build_world(engine)


async def pending(w: World, *lines: DraftLine) -> int:
    result = await actions.create_order(w.sm, w.customer.id, list(lines or [BOLTS]), w.as_customer,
                                        fields=COMPLETE, submit=True)
    assert result.status == OrderStatus.PENDING
    return result.order.id


async def test_rep_adds_freight_with_a_reason_kept_on_line_and_event(world: World) -> None:
    order_id = await pending(world)
    result = await add_special_line(world.sm, order_id, world.as_rep, SpecialLine("freight", amount="50"),
                                    reason="客户要求送到楼上")
    freight = [ln for ln in result.lines if ln.line_type == "freight"]
    assert [(ln.name, ln.amount, ln.rule_id, ln.note, ln.counts_as_sales) for ln in freight] == [
        ("运费", Decimal("50.00"), "manual", "客户要求送到楼上", True)]
    assert result.order.total == Decimal("800.00")
    edited = (await events_of(world.sm, order_id))[-1]
    assert (edited.type, edited.reason, edited.actor_id) == ("edited", "客户要求送到楼上", "rep-li")
    assert edited.changes[f"line:{freight[0].id}"] == [None, "运费 ¥50.00"]
    assert edited.changes["total"] == ["750", "800"]
    told = (await outbox_rows(world.sm))[-1]
    assert (told.kind, told.payload["event"], told.payload["total"]) == ("notify_customer", "edited", "800.00")


async def test_a_change_to_a_placed_order_without_a_reason_is_refused(world: World) -> None:
    order_id = await pending(world)
    before = await snapshot(world.sm)
    for attempt in (
        add_special_line(world.sm, order_id, world.as_rep, SpecialLine("freight", amount=50), reason=" "),
        actions.edit(world.sm, order_id, world.as_customer, OrderEdit(fields={"remarks": "下午送"})),
        actions.cancel(world.sm, order_id, world.as_customer),
    ):
        with pytest.raises(OrderError) as err:
            await attempt
        assert err.value.code == OrderErrorCode.REASON_REQUIRED
    assert await snapshot(world.sm) == before
    # a draft is still the customer's to change freely
    draft = await actions.create_order(world.sm, world.customer.id, [BOLTS], world.as_customer)
    await actions.edit(world.sm, draft.order.id, world.as_customer, OrderEdit(fields={"remarks": "下午送"}))
    await actions.cancel(world.sm, draft.order.id, world.as_customer)


async def test_gift_goes_with_its_main_line_is_not_a_sale_and_leaves_the_warehouse(world: World) -> None:
    order_id = await pending(world, BOLTS, NUTS)
    result = await add_special_line(world.sm, order_id, world.as_rep,
                                    SpecialLine("gift", sku="WASH-M6", quantity=100), reason="老客户送垫片")
    bolts = next(ln for ln in result.lines if ln.sku == "HB-M6X20-304")
    gift = next(ln for ln in result.lines if ln.line_type == "gift")
    assert (gift.parent_line_id, gift.amount, gift.counts_as_sales) == (bolts.id, Decimal(0), False)
    assert result.order.total == Decimal("850.00")  # unchanged by the gift
    await actions.confirm(world.sm, order_id, world.as_rep)
    assert await stock_of(world.sm, "WASH-M6") == 100  # 200 - 100 given away
    # removing the main line takes its gift with it
    async with world.sm() as s:
        lines = await actions._lines(s, order_id)
    kept = await actions.edit(world.sm, order_id, world.as_rep, OrderEdit(remove_lines=[bolts.id]),
                              reason="客户不要螺栓了")
    assert [ln.sku for ln in kept.lines] == ["NUT-M6-ZN"]
    assert await stock_of(world.sm, "WASH-M6") == 200
    assert len(lines) == 3


async def test_customers_may_not_add_gifts_or_freight(world: World) -> None:
    order_id = await pending(world)
    before = await snapshot(world.sm)
    for special in (SpecialLine("gift", sku="WASH-M6", quantity=10), SpecialLine("freight", amount=0)):
        with pytest.raises(OrderError) as err:
            await add_special_line(world.sm, order_id, world.as_customer, special, reason="想要")
        assert err.value.code == OrderErrorCode.LINE_TYPE_FORBIDDEN
    with pytest.raises(OrderError) as err:
        await actions.create_order(world.sm, world.customer.id, [BOLTS, DraftLine("WASH-M6", 10, line_type="gift")],
                                   world.as_customer, fields=COMPLETE, submit=True)
    assert err.value.code == OrderErrorCode.LINE_TYPE_FORBIDDEN
    assert await snapshot(world.sm) == before


async def test_service_line_survives_repricing_and_bad_amounts_are_refused(world: World) -> None:
    order_id = await pending(world)
    await add_special_line(world.sm, order_id, world.as_rep, SpecialLine("service", amount="30", name="包装费"),
                           reason="客户要木箱")
    async with world.sm() as s:
        bolts = (await actions._lines(s, order_id))[0]
    # a later quantity change reprices the goods; the rep's service line stays as typed
    result = await actions.edit(world.sm, order_id, world.as_rep, OrderEdit(quantities={bolts.id: 4}),
                                reason="客户加了一盒")
    assert [(ln.name, ln.amount) for ln in result.lines if ln.line_type == "service"] == [("包装费", Decimal("30.00"))]
    assert result.order.total == Decimal("1030.00")
    before = await snapshot(world.sm)
    for amount in ("-5", "abc", "99999999"):
        with pytest.raises(OrderError) as err:
            await add_special_line(world.sm, order_id, world.as_rep, SpecialLine("freight", amount=amount),
                                   reason="试试")
        assert err.value.code == OrderErrorCode.INVALID_PRICE
    assert await snapshot(world.sm) == before


async def test_a_shipped_order_takes_no_new_lines(world: World) -> None:
    order_id = await pending(world)
    await actions.confirm(world.sm, order_id, world.as_rep)
    await actions.ship(world.sm, order_id, world.as_rep, "顺丰", "SF1")
    with pytest.raises(OrderError) as err:
        await add_special_line(world.sm, order_id, world.as_rep, SpecialLine("freight", amount=20), reason="补运费")
    assert err.value.code == OrderErrorCode.ILLEGAL_TRANSITION
