"""Late orders: an unshipped order past its ship-by cut-off tells the customer (apology, new date)
and the rep; the second miss also the manager; each miss once (both databases)."""

from __future__ import annotations

import asyncio
import datetime as dt
from datetime import date, timedelta

from sqlmodel import select

from orders import actions
from orders.actions import DraftLine
from orders.late import LateOrderRules, late_decision, ship_deadline
from orders.models import OrderEvent, Outbox
from orders.risk import RiskTable
from tests.orders.hub_factories import COMPLETE, World
from tests.push.harness import (
    CUSTOMER_OPENID,
    MANAGER_ID,
    REP_ID,
    world,  # noqa: F401  (the two-profile fixture)
)
from tests.push.harness import World as PushWorld
from tests.rules.conftest import Tables
from workers.late_orders import sweep_late

RULES = LateOrderRules(cutoff_hours_before=24, reschedule_days=2, manager_from_miss=2)
TABLE = RiskTable(late_orders=RULES)
PROMISED = date(2026, 3, 11)  # COMPLETE's delivery date


def test_the_cut_off_is_before_the_promised_day_in_china_time() -> None:
    # 3月11日 00:00 in China is 3月10日 16:00 UTC; 24 hours before that
    assert ship_deadline(PROMISED, RULES) == dt.datetime(2026, 3, 9, 16, tzinfo=dt.UTC)


def test_a_miss_then_a_second_miss_against_the_new_date() -> None:
    deadline = ship_deadline(PROMISED, RULES)
    assert late_decision("confirmed", PROMISED, [], deadline - timedelta(minutes=1), RULES) is None
    first = late_decision("confirmed", PROMISED, [], deadline + timedelta(hours=1), RULES)
    assert first is not None and (first.number, first.promised, first.new_date, first.alert_manager) == \
        (1, PROMISED, date(2026, 3, 13), False)
    notices = [{"miss": 1, "new_date": "2026-03-13"}]
    # the same moment again: nothing new is due (the new date's cut-off is ahead)
    assert late_decision("confirmed", PROMISED, notices, deadline + timedelta(hours=2), RULES) is None
    second = late_decision("pending", PROMISED, notices, ship_deadline(date(2026, 3, 13), RULES), RULES)
    assert second is not None and (second.number, second.promised, second.alert_manager) == (2, date(2026, 3, 13), True)
    # a very late scan dates the promise from today, not from the missed day
    far = late_decision("on_hold", PROMISED, [], dt.datetime(2026, 3, 20, 2, tzinfo=dt.UTC), RULES)
    assert far is not None and far.new_date == date(2026, 3, 22)
    for status in ("shipped", "delivered", "cancelled", "draft"):
        assert late_decision(status, PROMISED, [], deadline + timedelta(days=3), RULES) is None
    assert late_decision("confirmed", PROMISED, [], deadline + timedelta(days=3), LateOrderRules(enabled=False)) is None
    assert "非常抱歉" in first.customer_text("SO1") and "3月13日" in first.customer_text("SO1")


async def rows(w: World, prefix: str) -> list[Outbox]:
    async with w.sm() as s:
        return list((await s.exec(select(Outbox).where(Outbox.dedup_key.startswith(prefix)).order_by(Outbox.id))).all())


async def test_the_scan_notifies_each_miss_once_and_the_manager_from_the_second(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    late = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")], w.as_customer,
                                      fields=COMPLETE, submit=True)
    await actions.confirm(w.sm, late.order.id, w.as_rep)
    gone = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")], w.as_customer,
                                      fields=COMPLETE, submit=True)
    await actions.confirm(w.sm, gone.order.id, w.as_rep)
    await actions.ship(w.sm, gone.order.id, w.as_rep, "顺丰", "SF1")
    deadline = ship_deadline(PROMISED, RULES)

    assert (await sweep_late(w.sm, TABLE, deadline - timedelta(hours=1))).notified == []
    # two workers scanning at once, then again: one notice
    reports = await asyncio.gather(*(sweep_late(w.sm, TABLE, deadline + timedelta(hours=1)) for _ in range(2)))
    assert sorted(n for r in reports for n in r.notified) == [late.order.number]
    assert (await sweep_late(w.sm, TABLE, deadline + timedelta(hours=5))).notified == []
    first = await rows(w, f"late:{late.order.id}:")
    assert [(r.kind, r.target) for r in first] == [("notify_customer", "o-zhang"), ("notify_rep", "rep-li")]
    assert "非常抱歉" in first[0].payload["text"] and "3月13日" in first[0].payload["text"]
    assert "交期延误" in first[1].payload["text"] and await rows(w, f"late:{gone.order.id}:") == []

    # the new date (3月13日) is missed too: the manager hears as well
    second = await sweep_late(w.sm, TABLE, ship_deadline(date(2026, 3, 13), RULES) + timedelta(minutes=1))
    assert (second.notified, second.managers) == ([late.order.number], [late.order.number])
    kinds = [(r.kind, r.target) for r in await rows(w, f"late:{late.order.id}:2:")]
    assert kinds == [("notify_customer", "o-zhang"), ("notify_rep", "rep-li"), ("alert_manager", "mgr-wang")]
    async with w.sm() as s:
        notices = (await s.exec(select(OrderEvent).where(OrderEvent.type == "late_notice"))).all()
    assert [(e.order_id, e.changes["miss"], e.changes["new_date"]) for e in notices] == \
        [(late.order.id, 1, "2026-03-13"), (late.order.id, 2, "2026-03-15")]
    assert all(e.visible_to_customer and e.to_status == "confirmed" for e in notices)
    assert notices[0].reason == "交期延误：原定 3月11日，新交期 3月13日"


async def test_the_customer_and_the_rep_hear_through_the_push_router(world: PushWorld) -> None:  # noqa: F811
    w = world
    await w.customer_wrote(hours_ago=1)
    due = date.today() + timedelta(days=1)
    order_id = await w.place_order(delivery_date=due)
    await w.drain()
    number = (await w.order(order_id)).number
    await sweep_late(w.sm, TABLE, ship_deadline(due, RULES) + timedelta(minutes=5))
    await w.drain()
    told = [e["payload"]["text"]["content"] for e in w.sent("custom_send", to=CUSTOMER_OPENID)]
    new_date = due + timedelta(days=2)
    assert any("非常抱歉" in t and number in t and f"{new_date.month}月{new_date.day}日" in t for t in told), told
    rep = [e["payload"]["text"]["content"] for e in w.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert any("交期延误" in t and number in t for t in rep), rep
    assert not [e for e in w.sent("wecom_send", to=MANAGER_ID) if number in str(e["payload"])]


async def test_the_loop_scans_with_the_table_in_force_until_stopped(ruled: tuple[World, Tables]) -> None:
    from workers.late_orders import run_late_orders_loop

    w, _ = ruled
    order = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")], w.as_customer,
                                       fields=COMPLETE, submit=True)
    stop = asyncio.Event()
    clock = lambda: ship_deadline(PROMISED, RULES) + timedelta(hours=1)  # noqa: E731
    task = asyncio.create_task(run_late_orders_loop(w.sm, lambda: TABLE, clock=clock, stop=stop))
    for _ in range(100):
        if await rows(w, f"late:{order.order.id}:1:"):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert [r.kind for r in await rows(w, f"late:{order.order.id}:")] == ["notify_customer", "notify_rep"]
