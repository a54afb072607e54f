"""Order hub use cases against SQLite and PostgreSQL: state, event and outbox together."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from orders import actions
from orders.actions import DraftLine, OrderEdit
from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, Order, OrderEvent, Outbox, Product
from orders.outbox import enqueue
from orders.status import OrderStatus
from tests.orders.hub_factories import (
    COMPLETE,
    World,
    build_world,
    count,
    events_of,
    outbox_rows,
    snapshot,
    stock_of,
)

BOLTS_3_BOXES = DraftLine("HB-M6X20-304", 3, "盒", raw="M6*20的外六角 304的 3盒")


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await build_world(engine)


async def pending_order(w: World, *lines: DraftLine) -> int:
    result = await actions.create_order(
        w.sm, w.customer.id, list(lines or [BOLTS_3_BOXES]), w.as_customer, fields=COMPLETE, submit=True
    )
    assert result.status == OrderStatus.PENDING
    return result.order.id


async def test_create_prices_packs_and_submits_with_event_and_outbox(world: World) -> None:
    # given a complete order for 3 boxes of 1000 bolts at 0.25 and a gift line
    gift = DraftLine("NUT-M6-ZN", 100, "个", line_type="gift")
    # when the rep creates and submits it for the customer (customers may not add gifts)
    result = await actions.create_order(
        world.sm, world.customer.id, [BOLTS_3_BOXES, gift], world.as_rep, fields=COMPLETE, submit=True
    )
    # then it is pending with priced lines, the gift not counted as sales
    order = result.order
    assert order.status == "pending" and order.rep_id == world.rep.id
    assert re.fullmatch(r"SO\d{8}-0001", order.number)
    bolts, nuts = result.lines
    assert (bolts.base_quantity, bolts.base_unit, bolts.amount) == (Decimal(3000), "个", Decimal("750.00"))
    assert (nuts.amount, nuts.counts_as_sales) == (Decimal(0), False)
    assert order.total == Decimal("750.00")
    # and the log and the outbox say so
    assert [e.type for e in await events_of(world.sm, order.id)] == ["created", "submitted"]
    kinds = {(o.kind, o.target) for o in await outbox_rows(world.sm)}
    assert kinds == {("notify_customer", "o-zhang"), ("notify_rep", "rep-li")}


async def test_incomplete_draft_lists_what_is_missing_and_cannot_be_submitted(world: World) -> None:
    result = await actions.create_order(
        world.sm, world.customer.id, [BOLTS_3_BOXES], world.as_customer, fields={"phone": "13812345678"},
        submit=True,
    )
    assert result.status == OrderStatus.DRAFT
    assert result.missing == ["address", "delivery_date"]
    with pytest.raises(OrderError) as err:
        await actions.submit(world.sm, result.order.id, world.as_customer)
    assert err.value.code == OrderErrorCode.MISSING_FIELDS
    assert err.value.details["missing"] == ["address", "delivery_date"]
    # filling the gaps by an edit makes it submittable
    edited = await actions.edit(
        world.sm, result.order.id, world.as_customer, OrderEdit(fields=COMPLETE)
    )
    assert edited.missing == []
    submitted = await actions.submit(world.sm, result.order.id, world.as_customer)
    assert submitted.status == OrderStatus.PENDING


async def test_unknown_unit_is_refused_and_nothing_is_written(world: World) -> None:
    before = await snapshot(world.sm)
    with pytest.raises(OrderError) as err:
        await actions.create_order(
            world.sm, world.customer.id, [DraftLine("HB-M6X20-304", 2, "吨")], world.as_customer
        )
    assert err.value.code == OrderErrorCode.UNKNOWN_UNIT
    assert await snapshot(world.sm) == before


async def test_confirm_reserves_stock_and_records_it(world: World) -> None:
    order_id = await pending_order(world)
    result = await actions.confirm(world.sm, order_id, world.as_rep)
    assert result.status == OrderStatus.CONFIRMED
    assert await stock_of(world.sm, "HB-M6X20-304") == 97_000
    confirmed = (await events_of(world.sm, order_id))[-1]
    assert (confirmed.type, confirmed.actor_kind, confirmed.actor_id) == ("confirmed", "rep", "rep-li")
    assert confirmed.changes["stock"] == {"HB-M6X20-304": -3000}
    assert result.order.version == 3  # created+submitted = 1..2, confirmed = 3


async def test_failure_after_the_event_leaves_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a pending order
    order_id = await pending_order(world)
    before = await snapshot(world.sm)

    # when writing the outbox row (after the status update, the stock and the event) fails
    async def broken(*args, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "enqueue", broken)
    with pytest.raises(RuntimeError):
        await actions.confirm(world.sm, order_id, world.as_rep)
    # then status, version, stock, events and outbox are all as before
    assert await snapshot(world.sm) == before


async def test_forbidden_confirmations_write_nothing(world: World) -> None:
    order_id = await pending_order(world)
    before = await snapshot(world.sm)
    refused = [
        (world.as_customer, OrderErrorCode.ROLE_FORBIDDEN),
        (Actor.rep(world.other_rep.id, "rep-chen"), OrderErrorCode.NOT_ASSIGNED),
        (Actor.manager(world.far_manager.id, "mgr-zhao"), OrderErrorCode.OUTSIDE_REGION),
        (Actor.manager(world.rep.id, "rep-li"), OrderErrorCode.ROLE_FORBIDDEN),  # not a manager
    ]
    for actor, code in refused:
        with pytest.raises(OrderError) as err:
            await actions.confirm(world.sm, order_id, actor)
        assert err.value.code == code, actor
        assert await snapshot(world.sm) == before


async def test_illegal_transition_and_foreign_customer_write_nothing(world: World) -> None:
    draft = await actions.create_order(world.sm, world.customer.id, [BOLTS_3_BOXES], world.as_customer)
    before = await snapshot(world.sm)
    with pytest.raises(OrderError) as err:
        await actions.confirm(world.sm, draft.order.id, world.as_rep)  # drafts are not confirmed
    assert err.value.code == OrderErrorCode.ILLEGAL_TRANSITION
    with pytest.raises(OrderError) as err:
        await actions.cancel(world.sm, draft.order.id, Actor.customer(world.other_customer.id))
    assert err.value.code == OrderErrorCode.NOT_OWN_ORDER
    assert await snapshot(world.sm) == before


async def test_manager_in_region_confirms_any_rep_order(world: World) -> None:
    order_id = await pending_order(world)
    result = await actions.confirm(world.sm, order_id, world.as_manager)
    assert result.status == OrderStatus.CONFIRMED


async def test_two_concurrent_confirmations_give_one_transition(world: World, engine: AsyncEngine) -> None:
    # given a pending order
    order_id = await pending_order(world)
    # when the rep and the manager confirm at once, each in its own session and connection
    results = await asyncio.gather(
        actions.confirm(world.sm, order_id, world.as_rep),
        actions.confirm(world.sm, order_id, world.as_manager),
        return_exceptions=True,
    )
    # then exactly one succeeds; the other is told the order already moved
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1, results
    assert len(losses) == 1 and isinstance(losses[0], OrderError), results
    assert losses[0].code in {OrderErrorCode.CONFLICT, OrderErrorCode.ILLEGAL_TRANSITION}
    assert await count(world.sm, OrderEvent, OrderEvent.type == "confirmed") == 1
    assert await count(world.sm, Outbox, Outbox.kind == "notify_customer") == 2  # submitted + confirmed
    assert await stock_of(world.sm, "HB-M6X20-304") == 97_000


async def test_credit_over_limit_holds_then_manager_release_overrides(engine: AsyncEngine) -> None:
    # given a customer with 500 元 of credit and an order of 750 元
    world = await build_world(engine, credit_limit=Decimal("500"))
    result = await actions.create_order(
        world.sm, world.customer.id, [BOLTS_3_BOXES], world.as_customer, fields=COMPLETE, submit=True
    )
    # then it goes on hold with the reason, and the manager is alerted
    assert result.status == OrderStatus.ON_HOLD
    assert "信用超限" in result.order.hold_reason
    alert = [o for o in await outbox_rows(world.sm) if o.kind == "alert_manager"]
    assert len(alert) == 1 and alert[0].target == "mgr-wang" and "信用超限" in alert[0].payload["reason"]
    held = (await events_of(world.sm, result.order.id))[-1]
    assert (held.type, held.actor_kind, held.actor_id) == ("held", "system", "rule:credit")
    # a rep cannot release it, the manager can, and then the rep's confirmation goes through
    with pytest.raises(OrderError):
        await actions.release(world.sm, result.order.id, world.as_rep)
    await actions.release(world.sm, result.order.id, world.as_manager, reason="老客户，同意赊账")
    confirmed = await actions.confirm(world.sm, result.order.id, world.as_rep)
    assert confirmed.status == OrderStatus.CONFIRMED


async def test_credit_counts_other_open_orders(engine: AsyncEngine) -> None:
    world = await build_world(engine, credit_limit=Decimal("1000"))
    first = await pending_order(world)  # 750 元, within the limit
    second = await actions.create_order(
        world.sm, world.customer.id, [BOLTS_3_BOXES], world.as_customer, fields=COMPLETE, submit=True
    )
    assert second.status == OrderStatus.ON_HOLD  # 750 + 750 > 1000
    await actions.cancel(world.sm, first, world.as_customer, "重复下单")
    third = await actions.create_order(
        world.sm, world.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")], world.as_customer,
        fields=COMPLETE, submit=True,
    )
    assert third.status == OrderStatus.PENDING  # 750 (held) + 250 = 1000, not over


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_two_orders_submitted_at_once_do_not_both_pass_the_credit_check(engine: AsyncEngine) -> None:
    # given 1000 元 of credit and two drafts of 750 元 each
    world = await build_world(engine, credit_limit=Decimal("1000"))
    drafts = [
        (await actions.create_order(world.sm, world.customer.id, [BOLTS_3_BOXES], world.as_customer,
                                    fields=COMPLETE)).order.id
        for _ in range(2)
    ]
    # when both are submitted at the same moment
    results = await asyncio.gather(*(actions.submit(world.sm, d, world.as_customer) for d in drafts))
    # then only one fits the limit; the other waits on hold for a manager
    assert sorted(r.status for r in results) == [OrderStatus.ON_HOLD, OrderStatus.PENDING]


async def test_stock_short_at_confirmation_holds(world: World) -> None:
    # given 200 washers on hand and a pending order for 1 pack of 500
    order_id = await pending_order(world, DraftLine("HB-M6X20-304", 1, "盒"))
    short = await actions.create_order(
        world.sm, world.customer.id, [DraftLine("WASH-M6", 1, "包")], world.as_customer,
        fields=COMPLETE, submit=True,
    )
    # then the submit already holds it, naming the SKU
    assert short.status == OrderStatus.ON_HOLD
    assert "WASH-M6 库存 200，需要 500" in short.order.hold_reason
    # and an order confirmed after stock ran out is held at confirmation, stock untouched
    async with world.sm() as s, s.begin():
        (await s.get(Product, "HB-M6X20-304")).stock = 10
    result = await actions.confirm(world.sm, order_id, world.as_rep)
    assert result.status == OrderStatus.ON_HOLD
    assert await stock_of(world.sm, "HB-M6X20-304") == 10


async def test_cancel_of_confirmed_order_returns_stock(world: World) -> None:
    order_id = await pending_order(world)
    await actions.confirm(world.sm, order_id, world.as_rep)
    result = await actions.cancel(world.sm, order_id, world.as_customer, reason="不要了")
    assert result.status == OrderStatus.CANCELLED
    assert await stock_of(world.sm, "HB-M6X20-304") == 100_000
    last = (await outbox_rows(world.sm))[-1]
    assert (last.kind, last.target, last.payload["event"]) == ("notify_rep", "rep-li", "cancelled")


async def test_rep_price_within_discount_limit(world: World) -> None:
    order_id = await pending_order(world)
    async with world.sm() as s:
        line_id = (await actions._lines(s, order_id))[0].id
    before = await snapshot(world.sm)
    # 5% off 0.25 is 0.2375: 0.23 is too low for the rep, and customers set no prices at all
    with pytest.raises(OrderError) as err:
        await actions.edit(world.sm, order_id, world.as_rep, OrderEdit(prices={line_id: "0.23"}), reason="老客户")
    assert err.value.code == OrderErrorCode.PRICE_BELOW_LIMIT
    with pytest.raises(OrderError) as err:
        await actions.edit(world.sm, order_id, world.as_customer, OrderEdit(prices={line_id: "0.24"}),
                           reason="想便宜点")
    assert err.value.code == OrderErrorCode.PRICE_CHANGE_FORBIDDEN
    assert await snapshot(world.sm) == before
    # within the limit it goes through, totals follow, and the event shows before/after
    result = await actions.edit(world.sm, order_id, world.as_rep, OrderEdit(prices={line_id: "0.24"}), reason="老客户")
    assert result.order.total == Decimal("720.00")
    edited = (await events_of(world.sm, order_id))[-1]
    assert edited.changes[f"line:{line_id}:unit_price"] == ["0.25", "0.24"]
    assert edited.changes["total"] == ["750", "720"]


async def test_edit_confirmed_order_moves_reservation_but_not_prices(world: World) -> None:
    order_id = await pending_order(world)
    await actions.confirm(world.sm, order_id, world.as_rep)
    async with world.sm() as s:
        line_id = (await actions._lines(s, order_id))[0].id
    with pytest.raises(OrderError) as err:
        await actions.edit(world.sm, order_id, world.as_rep, OrderEdit(prices={line_id: "0.30"}), reason="涨价")
    assert err.value.code == OrderErrorCode.PRICES_LOCKED
    result = await actions.edit(
        world.sm, order_id, world.as_rep,
        OrderEdit(quantities={line_id: 5}, fields={"delivery_date": "2026-03-20"}), reason="客户加量",
    )
    assert result.order.total == Decimal("1250.00")
    assert await stock_of(world.sm, "HB-M6X20-304") == 95_000
    edited = (await events_of(world.sm, order_id))[-1]
    assert edited.changes["delivery_date"] == ["2026-03-11", "2026-03-20"]
    assert edited.changes["stock"] == {"HB-M6X20-304": -2000}


async def test_ship_deliver_close_with_tracking_to_customer(world: World) -> None:
    order_id = await pending_order(world)
    await actions.confirm(world.sm, order_id, world.as_rep)
    with pytest.raises(OrderError) as err:
        await actions.ship(world.sm, order_id, world.as_rep, "顺丰", " ")
    assert err.value.code == OrderErrorCode.WAYBILL_REQUIRED
    shipped = await actions.ship(world.sm, order_id, Actor.system("hook:wms"), "顺丰", "SF1234567890")
    assert (shipped.status, shipped.order.waybill_no) == (OrderStatus.SHIPPED, "SF1234567890")
    note = (await outbox_rows(world.sm))[-1]
    assert (note.kind, note.payload["waybill_no"], note.payload["status_label"]) == (
        "notify_customer", "SF1234567890", "已发货",
    )
    # the same waybill again changes nothing; the customer may no longer cancel
    with pytest.raises(OrderError) as err:
        await actions.ship(world.sm, order_id, Actor.system("hook:wms"), "顺丰", "SF1234567890")
    assert err.value.code == OrderErrorCode.NOTHING_TO_CHANGE
    with pytest.raises(OrderError) as err:
        await actions.cancel(world.sm, order_id, world.as_customer)
    assert err.value.code == OrderErrorCode.ROLE_FORBIDDEN
    await actions.deliver(world.sm, order_id, world.as_customer)
    closed = await actions.close(world.sm, order_id, Actor.system("rule:paid"))
    assert closed.status == OrderStatus.CLOSED
    types = [e.type for e in await events_of(world.sm, order_id)]
    assert types == ["created", "submitted", "confirmed", "shipped", "delivered", "closed"]


async def test_reassign_hands_the_card_to_the_new_rep(world: World) -> None:
    order_id = await pending_order(world)
    result = await actions.reassign(world.sm, order_id, world.as_rep, world.other_rep.id, reason="出差")
    assert result.order.rep_id == world.other_rep.id
    last = (await outbox_rows(world.sm))[-1]
    assert (last.kind, last.target) == ("notify_rep", "rep-chen")
    # the old rep has lost it
    with pytest.raises(OrderError) as err:
        await actions.confirm(world.sm, order_id, world.as_rep)
    assert err.value.code == OrderErrorCode.NOT_ASSIGNED
    event = (await events_of(world.sm, order_id))[-1]
    assert event.changes["rep_id"] == [world.rep.id, world.other_rep.id]
    assert not event.visible_to_customer


async def test_reject_needs_a_reason_and_tells_the_customer(world: World) -> None:
    order_id = await pending_order(world)
    with pytest.raises(OrderError) as err:
        await actions.reject(world.sm, order_id, world.as_rep, "")
    assert err.value.code == OrderErrorCode.REASON_REQUIRED
    await actions.reject(world.sm, order_id, world.as_rep, "型号停产")
    last = (await outbox_rows(world.sm))[-1]
    assert (last.kind, last.payload["reason"], last.payload["status"]) == ("notify_customer", "型号停产", "cancelled")


async def test_outbox_enqueue_is_idempotent_on_dedup_key(world: World) -> None:
    async with world.sm() as s, s.begin():
        assert await enqueue(s, "notify_customer", "o-zhang", {"text": "hi"}, "order:1:v1:x")
        assert not await enqueue(s, "notify_customer", "o-zhang", {"text": "again"}, "order:1:v1:x")
    rows = await outbox_rows(world.sm)
    assert [(r.dedup_key, r.payload) for r in rows] == [("order:1:v1:x", {"text": "hi"})]


async def test_action_joins_the_callers_transaction(world: World) -> None:
    order_id = await pending_order(world)
    async with world.sm() as s:
        await s.get(Order, order_id)  # the caller's transaction is open
        await actions.confirm(s, order_id, world.as_rep)
        await s.rollback()  # the caller changes its mind: nothing of the action stays
    async with world.sm() as s:
        assert (await s.get(Order, order_id)).status == "pending"


async def test_hold_of_confirmed_order_gives_stock_back_and_reconfirm_takes_it_once(world: World) -> None:
    order_id = await pending_order(world)
    await actions.confirm(world.sm, order_id, world.as_rep)
    with pytest.raises(OrderError) as err:
        await actions.hold(world.sm, order_id, world.as_rep, "客户要求暂停")  # reps cannot hold
    assert err.value.code == OrderErrorCode.ROLE_FORBIDDEN
    held = await actions.hold(world.sm, order_id, world.as_manager, "客户要求暂停")
    assert (held.status, held.order.hold_reason) == (OrderStatus.ON_HOLD, "客户要求暂停")
    assert await stock_of(world.sm, "HB-M6X20-304") == 100_000
    await actions.release(world.sm, order_id, world.as_manager, "客户同意")
    await actions.confirm(world.sm, order_id, world.as_rep)
    assert await stock_of(world.sm, "HB-M6X20-304") == 97_000


async def test_edit_adds_and_removes_lines(world: World) -> None:
    order_id = await pending_order(world, BOLTS_3_BOXES, DraftLine("NUT-M6-ZN", 1, "箱"))
    async with world.sm() as s:
        bolts, nuts = await actions._lines(s, order_id)
    result = await actions.edit(
        world.sm, order_id, world.as_customer,
        OrderEdit(remove_lines=[nuts.id], add_lines=[DraftLine("WASH-M6", 2000, "个", raw="再加两千个垫片")]),
        reason="螺母换垫片",
    )
    assert [(line.sku, line.base_quantity) for line in result.lines] == [
        ("HB-M6X20-304", Decimal(3000)), ("WASH-M6", Decimal(2000)),
    ]
    assert result.order.total == Decimal("770.00")  # 750 + 2000 × 0.01
    last = (await outbox_rows(world.sm))[-1]
    assert (last.kind, last.target, last.payload["event"]) == ("notify_rep", "rep-li", "edited")
    assert f"line:{nuts.id}" in last.payload["changes"]


async def test_bad_edits_are_refused_without_writing(world: World) -> None:
    order_id = await pending_order(world)
    before = await snapshot(world.sm)
    refused = [
        (OrderEdit(fields={"status": "confirmed"}), OrderErrorCode.UNKNOWN_FIELD),
        (OrderEdit(fields={"delivery_date": "下周三"}), OrderErrorCode.INVALID_FIELD),
        (OrderEdit(quantities={999_999: 1}), OrderErrorCode.LINE_NOT_FOUND),
        (OrderEdit(fields={"phone": COMPLETE["phone"]}), OrderErrorCode.NOTHING_TO_CHANGE),
        (OrderEdit(add_lines=[DraftLine("HB-M6X20-304", 1, "箱")]), OrderErrorCode.UNKNOWN_UNIT),
        (OrderEdit(add_lines=[DraftLine("NO-SUCH-SKU", 1)]), OrderErrorCode.PRODUCT_NOT_FOUND),
    ]
    for change, code in refused:
        with pytest.raises(OrderError) as err:
            await actions.edit(world.sm, order_id, world.as_customer, change, reason="改一下")
        assert err.value.code == code, change
        assert await snapshot(world.sm) == before


async def test_team_manager_may_act_outside_their_regions(world: World) -> None:
    # the rep's own manager covers only 江苏省; a customer in 浙江省 assigned to that rep
    async with world.sm() as s, s.begin():
        far = Customer(name="远方", openid="o-far", province="浙江省", rep_id=world.rep.id)
        s.add(far)
    result = await actions.create_order(
        world.sm, far.id, [BOLTS_3_BOXES], Actor.customer(far.id, "o-far"), fields=COMPLETE, submit=True
    )
    confirmed = await actions.confirm(world.sm, result.order.id, world.as_manager)
    assert confirmed.status == OrderStatus.CONFIRMED


async def test_button_on_a_stale_card_is_refused(world: World) -> None:
    # given the rep's card shows version 2, then the customer edits the order (version 3)
    order_id = await pending_order(world)
    card = (await outbox_rows(world.sm))[-1].payload
    assert (card["event"], card["version"]) == ("new_order", 2)
    await actions.edit(world.sm, order_id, world.as_customer, OrderEdit(fields={"remarks": "防静电袋"}),
                       reason="包装要求")
    before = await snapshot(world.sm)
    # when the rep presses 确认 on the old card, then it is refused and nothing changes
    with pytest.raises(OrderError) as err:
        await actions.confirm(world.sm, order_id, world.as_rep, expected_version=card["version"])
    assert err.value.code == OrderErrorCode.CONFLICT
    assert await snapshot(world.sm) == before
    # the new card (version 3) works
    fresh = (await outbox_rows(world.sm))[-1].payload
    result = await actions.confirm(world.sm, order_id, world.as_rep, expected_version=fresh["version"])
    assert result.status == OrderStatus.CONFIRMED
