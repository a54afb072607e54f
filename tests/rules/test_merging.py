"""合并: the newer of two orders folded into the older through the state machine (both databases)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from orders import actions
from orders.errors import OrderError, OrderErrorCode
from orders.merging import merge_orders
from orders.models import OrderLine, Outbox
from tests.orders.hub_factories import COMPLETE, World, events_of, snapshot, stock_of
from tests.rules.conftest import Tables
from tests.rules.test_duplicates import place


async def lines_of(w: World, order_id: int) -> dict[str, tuple[Decimal, str]]:
    async with w.sm() as s:
        rows = (await s.exec(select(OrderLine).where(OrderLine.order_id == order_id))).all()
    return {r.sku or r.name: (Decimal(r.quantity), r.unit) for r in rows}


async def test_merge_adds_the_newer_lines_to_the_older_and_cancels_the_newer(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    older = await place(w, "wechat", "m1", [("HB-M6X20-304", 5000), ("NUT-M6-ZN", 2000)])
    newer = await place(w, "miniprogram", "k1", [("HB-M6X20-304", 5000), ("WASH-M6", 100)])
    merged = await merge_orders(w.sm, newer.id, older.id, w.as_rep)  # either order of arguments
    assert (merged.kept.id, merged.cancelled.id, merged.added, merged.increased) == (older.id, newer.id, 1, 1)
    assert merged.cancelled.status == "cancelled" and merged.kept.status == "pending"
    assert await lines_of(w, older.id) == {"HB-M6X20-304": (Decimal(10000), "个"), "NUT-M6-ZN": (Decimal(2000), "个"),
                                           "WASH-M6": (Decimal(100), "个")}
    assert merged.kept.total == Decimal("2500") + Decimal("40") + Decimal("1")  # 0.25×10000 + 0.02×2000 + 0.01×100
    kept_events, gone_events = await events_of(w.sm, older.id), await events_of(w.sm, newer.id)
    assert (kept_events[-1].type, kept_events[-1].reason) == ("edited", f"合并 {newer.number}")
    assert (gone_events[-1].type, gone_events[-1].reason) == ("cancelled", f"合并至 {older.number}")
    assert kept_events[-1].actor_id == gone_events[-1].actor_id == "rep-li"
    async with w.sm() as s:
        told = [r.payload for r in (await s.exec(select(Outbox).where(Outbox.kind == "notify_customer"))).all()]
    assert any(p.get("event") == "cancelled" and p.get("reason") == f"合并至 {older.number}" for p in told)
    assert any(p.get("event") == "edited" and p.get("number") == older.number for p in told)


async def test_a_confirmed_older_order_takes_the_stock_of_the_merged_lines(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    older = await place(w, "wechat", "m1", [("HB-M6X20-304", 5000)])
    await actions.confirm(w.sm, older.id, w.as_rep)
    before = await stock_of(w.sm, "HB-M6X20-304")
    newer = await place(w, "miniprogram", "k1", [("HB-M6X20-304", 4000)])
    merged = await merge_orders(w.sm, older.id, newer.id, w.as_rep)
    assert merged.kept.status == "confirmed" and await stock_of(w.sm, "HB-M6X20-304") == before - 4000


async def test_refusals_leave_both_orders_as_they_were(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    mine = await place(w, "wechat", "m1", [("HB-M6X20-304", 5000)])
    theirs = await place(w, "wechat", "m2", [("HB-M6X20-304", 5000)], customer=w.other_customer, phone="13900001111")
    shipped = await place(w, "wechat", "m3", [("HB-M6X20-304", 100)])
    await actions.confirm(w.sm, shipped.id, w.as_rep)
    await actions.ship(w.sm, shipped.id, w.as_rep, "顺丰", "SF1")
    before = await snapshot(w.sm)
    cases = [
        (mine.id, theirs.id, w.as_manager, OrderErrorCode.MERGE_NOT_ALLOWED),  # not one customer, not one phone
        (mine.id, mine.id, w.as_rep, OrderErrorCode.MERGE_NOT_ALLOWED),
        (mine.id, shipped.id, w.as_manager, OrderErrorCode.MERGE_NOT_ALLOWED),  # shipped: not folded away
    ]
    for a, b, actor, code in cases:
        with pytest.raises(OrderError) as err:
            await merge_orders(w.sm, a, b, actor)
        assert err.value.code == code, err.value
    same_phone = await place(w, "miniprogram", "k9", [("NUT-M6-ZN", 100)], customer=w.other_customer,
                             phone=COMPLETE["phone"])
    with pytest.raises(OrderError) as err:  # the same phone, but the rep is not assigned to the other's order
        await merge_orders(w.sm, mine.id, same_phone.id, w.as_rep)
    assert err.value.code == OrderErrorCode.NOT_ASSIGNED
    after = await snapshot(w.sm)
    assert {k: v for k, v in after.items() if k not in ("orders", "lines", "events", "outbox")} == \
           {k: v for k, v in before.items() if k not in ("orders", "lines", "events", "outbox")}
    assert [o for o in after["orders"] if o[0] != same_phone.id] == before["orders"]
    merged = await merge_orders(w.sm, mine.id, same_phone.id, w.as_manager)  # a manager may
    assert merged.kept.id == mine.id and (await lines_of(w, mine.id))["NUT-M6-ZN"] == (Decimal(100), "个")
