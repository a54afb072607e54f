"""The SLA sweep against a real database (SQLite and PostgreSQL) with a controlled clock:
orders from different places reach the reps the rules name, reminders go out once, then
escalations reach the manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from orderbot.db import make_sessionmaker
from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
from orders.assignment import assign_rep
from orders.models import Customer, Order, OrderEvent, Outbox, SalesRep
from orders.routing import RuleSet
from workers.sla import sweep

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
RULES = load_rules(DEFAULT_RULES_PATH)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def sm(engine: AsyncEngine):
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add_all([
            SalesRep(id=1, wecom_userid="east-mgr", name="王经理", team="east", is_manager=True),
            SalesRep(id=2, wecom_userid="east-a", name="小李", team="east", manager_id=1),
            SalesRep(id=3, wecom_userid="east-b", name="小赵", team="east", manager_id=1),
            SalesRep(id=4, wecom_userid="south-a", name="小陈", team="south"),
            SalesRep(id=5, wecom_userid="ka-a", name="大客户甲", team="key-accounts"),
            SalesRep(id=6, wecom_userid="ka-b", name="大客户乙", team="key-accounts"),
            SalesRep(id=7, wecom_userid="ka-mgr", name="大客户经理", team="key-accounts", is_manager=True),
            SalesRep(id=8, wecom_userid="general-a", name="综合", team="general"),
        ])
        s.add(Customer(id=1, name="张工"))
    return sm


_seq = iter(range(1, 10_000))


async def submit(sm, *, province: str | None, total: str = "1000", rush: bool = False,
                 rules: RuleSet = RULES, now: datetime = T0) -> Order:
    """What the hub's submit does for routing: a pending order, routed in its transaction."""
    async with sm() as s, s.begin():
        order = Order(number=f"SO20260302-{next(_seq):04d}", customer_id=1, status="pending",
                      province=province, total=Decimal(total), rush=rush)
        s.add(order)
        await s.flush()
        await assign_rep(s, order, rules, now=now)
    return order


async def outbox(sm) -> list[Outbox]:
    async with sm() as s:
        return list((await s.exec(select(Outbox).order_by(Outbox.id))).all())


async def events(sm, order_id: int, type_: str) -> list[OrderEvent]:
    async with sm() as s:
        rows = await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id, OrderEvent.type == type_))
        return list(rows.all())


async def test_orders_reach_the_reps_the_rules_name(sm) -> None:
    jiangsu1 = await submit(sm, province="江苏省")
    jiangsu2 = await submit(sm, province="江苏省")
    guangdong = await submit(sm, province="广东省")
    big = await submit(sm, province="广东省", total="88000")
    nowhere = await submit(sm, province="四川省")
    # round robin inside east, the manager never gets an order
    assert {jiangsu1.rep_id, jiangsu2.rep_id} == {2, 3}
    assert (guangdong.rep_id, guangdong.routing_rule) == (4, "south")
    assert (big.rep_id, big.routing_rule) == (5, "key-accounts")
    assert (nowhere.rep_id, nowhere.routing_rule) == (8, "fallback")
    routed = await events(sm, big.id, "routed")
    assert routed[0].changes["rule"] == "key-accounts" and not routed[0].visible_to_customer
    assert routed[0].changes["rules_version"] == "default-1" and routed[0].actor_id == "rule:key-accounts"


async def test_fewest_open_uses_the_database_counts(sm) -> None:
    first = await submit(sm, province=None, total="60000")
    second = await submit(sm, province=None, total="60000")
    assert {first.rep_id, second.rep_id} == {5, 6}


async def test_reminder_after_n_minutes_once_then_escalation_to_the_manager(sm) -> None:
    order = await submit(sm, province="江苏省")
    assert (await sweep(sm, RULES, at(29))).reminded == []
    assert (await sweep(sm, RULES, at(31))).reminded == [order.number]
    # a second sweep (or a second worker) does not remind again
    assert (await sweep(sm, RULES, at(40))).reminded == []
    assert (await sweep(sm, RULES, at(60))).reminded == []
    rows = await outbox(sm)
    assert [(r.kind, r.target) for r in rows] == [("notify_rep", f"east-{'ab'[order.rep_id - 2]}")]
    assert rows[0].payload["number"] == order.number

    report = await sweep(sm, RULES, at(121))
    assert report.escalated == [order.number] and report.reassigned == []
    assert (await sweep(sm, RULES, at(300))).escalated == []
    alerts = [r for r in await outbox(sm) if r.kind == "alert_manager"]
    assert [a.target for a in alerts] == ["east-mgr"]
    assert len(await events(sm, order.id, "reminded")) == 1
    assert len(await events(sm, order.id, "escalated")) == 1


async def test_rush_orders_remind_sooner(sm) -> None:
    rush = await submit(sm, province="广东省", rush=True)
    calm = await submit(sm, province="广东省")
    assert (await sweep(sm, RULES, at(11))).reminded == [rush.number]
    assert calm.number in (await sweep(sm, RULES, at(31))).reminded


async def test_confirmed_orders_are_left_alone(sm) -> None:
    order = await submit(sm, province="江苏省")
    async with sm() as s, s.begin():
        row = await s.get(Order, order.id)
        row.status = "confirmed"
    report = await sweep(sm, RULES, at(500))
    assert report.reminded == report.escalated == []
    assert await outbox(sm) == []


async def test_escalation_may_reassign_and_restart_the_clock(sm) -> None:
    order = await submit(sm, province=None, total="70000")  # key-accounts: 15 / 60 min, reassign
    first_rep = order.rep_id
    assert (await sweep(sm, RULES, at(16))).reminded == [order.number]
    report = await sweep(sm, RULES, at(61))
    assert report.escalated == report.reassigned == [order.number]
    async with sm() as s:
        moved = await s.get(Order, order.id)
    assert moved.rep_id in {5, 6} and moved.rep_id != first_rep
    alert = next(r for r in await outbox(sm) if r.kind == "alert_manager")
    assert alert.target == "ka-mgr" and alert.payload["reassigned_to"] in {"ka-a", "ka-b"}
    new_userid = alert.payload["reassigned_to"]
    # the hub's reassign sent the new rep the order card and logged who moved it
    assert [r.target for r in await outbox(sm) if r.kind == "notify_rep" and r.payload.get("event") == "reassigned"] == [new_userid]
    moved_event = (await events(sm, order.id, "reassigned"))[0]
    assert moved_event.actor_id == "timer:sla" and moved_event.changes["rep_id"] == [first_rep, moved.rep_id]
    # the new rep gets their own reminder 15 minutes after the handover, once
    assert (await sweep(sm, RULES, at(70))).reminded == []
    assert (await sweep(sm, RULES, at(77))).reminded == [order.number]
    assert (await sweep(sm, RULES, at(78))).reminded == []


async def test_concurrent_sweeps_write_each_reminder_once(sm) -> None:
    import asyncio

    orders = [await submit(sm, province="江苏省") for _ in range(3)]
    reports = await asyncio.gather(*(sweep(sm, RULES, at(45)) for _ in range(3)))
    reminded = sorted(n for r in reports for n in r.reminded)
    assert reminded == sorted(o.number for o in orders)
    assert len([r for r in await outbox(sm) if r.kind == "notify_rep"]) == 3


async def test_escalation_without_a_teammate_alerts_and_keeps_the_rep(sm) -> None:
    async with sm() as s, s.begin():
        (await s.get(SalesRep, 6)).active = False  # ka-b away: ka-a is alone in key-accounts
    order = await submit(sm, province=None, total="70000")
    assert order.rep_id == 5
    report = await sweep(sm, RULES, at(61))
    assert report.escalated == [order.number] and report.reassigned == []
    alert = next(r for r in await outbox(sm) if r.kind == "alert_manager")
    assert alert.payload["reassigned_to"] is None and "转交" not in alert.payload["text"]
    async with sm() as s:
        assert (await s.get(Order, order.id)).rep_id == 5
    assert (await sweep(sm, RULES, at(200))).escalated == []
