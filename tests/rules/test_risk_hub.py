"""Hold rules from a risk table: each hit holds the order, is an event naming the rule and
is counted in /metrics; on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from prometheus_client import generate_latest

from orderbot.metrics import REGISTRY
from orders import actions
from orders.actions import DraftLine
from orders.errors import OrderError
from orders.models import Customer, Payment, Product
from orders.returns import record_return
from tests.orders.hub_factories import COMPLETE, World, events_of
from tests.rules.conftest import Tables

BOLTS = "HB-M6X20-304"


def risk(*rules: dict[str, object]) -> dict[str, object]:
    return {"version": "t", "rules": list(rules)}


async def place(w: World, boxes: int = 3, customer: Customer | None = None, **fields: object):
    customer = customer or w.customer
    actor = w.as_customer if customer.id == w.customer.id else w.as_manager
    return await actions.create_order(w.sm, customer.id, [DraftLine(BOLTS, boxes, "盒")], actor,
                                      fields={**COMPLETE, **fields}, submit=True, source_ip="10.0.0.7")


async def hits_of(w: World, order_id: int) -> list[tuple[str, str]]:
    return [(e.actor_id, e.reason) for e in await events_of(w.sm, order_id) if e.type == "risk_hit"]


def counted(rule: str) -> float:
    return REGISTRY.get_sample_value("orderbot_risk_hits_total", {"rule": rule}) or 0.0


async def test_parcel_locker_above_an_amount_is_held_with_an_event_and_a_metric(
    ruled: tuple[World, Tables],
) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "locker", "kind": "parcel_locker", "min_amount": 5000}))
    before = counted("locker")
    cheap = await place(w, 3, address_detail="湖塘镇菜鸟驿站")  # 750: under the amount
    dear = await place(w, 30, address_detail="湖塘镇菜鸟驿站")  # 7500
    assert cheap.order.status == "pending" and dear.order.status == "on_hold"
    assert "驿站" in dear.order.hold_reason
    assert await hits_of(w, dear.order.id) == [("rule:locker", dear.order.hold_reason)]
    assert counted("locker") == before + 1
    assert b"orderbot_risk_hits_total" in generate_latest(REGISTRY)


async def test_credit_over_limit_counts_open_receivables_less_payments_with_margin(
    ruled: tuple[World, Tables],
) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "credit", "kind": "credit_limit", "margin": 0.1}))
    async with w.sm() as s, s.begin():
        (await s.get(Customer, w.customer.id)).credit_limit = Decimal(1000)
    first = await place(w, 3)  # 750 of 1000 (1100 with the margin)
    assert first.order.status == "pending"
    second = await place(w, 2)  # 750 + 500 = 1250 > 1100
    assert second.order.status == "on_hold" and "信用超限" in second.order.hold_reason
    async with w.sm() as s, s.begin():  # the first order is paid: its receivable is gone
        s.add(Payment(reference="P1", customer_id=w.customer.id, order_id=first.order.id, amount=Decimal(750)))
    assert (await place(w, 2)).order.status == "pending"


async def test_stock_short_and_below_safety_stock(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "stock", "kind": "stock_short"}, {"id": "safety", "kind": "safety_stock"}))
    async with w.sm() as s, s.begin():
        (await s.get(Product, BOLTS)).safety_stock = 98_000  # 100 000 on hand
    ok = await place(w, 2)  # leaves 98 000
    low = await place(w, 3)  # leaves 97 000 < 98 000
    short = await place(w, 101)
    assert ok.order.status == "pending"
    assert [h[0] for h in await hits_of(w, low.order.id)] == ["rule:safety"]
    assert [h[0] for h in await hits_of(w, short.order.id)] == ["rule:stock"]


async def test_rush_whose_date_cannot_be_met(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "rush", "kind": "rush_unmeetable", "lead_days": 2, "cutoff_hour": 24}))
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    late = await place(w, rush=True, delivery_date=(today + dt.timedelta(days=1)).isoformat())
    fine = await place(w, rush=True, delivery_date=(today + dt.timedelta(days=2)).isoformat())
    calm = await place(w, rush=False, delivery_date=(today + dt.timedelta(days=1)).isoformat())
    assert (late.order.status, fine.order.status, calm.order.status) == ("on_hold", "pending", "pending")
    assert "赶不上" in late.order.hold_reason


async def test_order_rate_per_customer_phone_and_ip(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk={**risk({"id": "burst", "kind": "order_rate", "per": "customer", "max_orders": 2},
                         {"id": "ip", "kind": "order_rate", "per": "ip", "max_orders": 3},
                         {"id": "phone", "kind": "order_rate", "per": "phone", "max_orders": 3})})
    statuses = [(await place(w, 1)).order.status for _ in range(3)]
    assert statuses == ["pending", "pending", "on_hold"]
    other = await place(w, 1, customer=w.other_customer)  # same IP and phone: the 4th within the hour
    assert {h[0] for h in await hits_of(w, other.order.id)} == {"rule:ip", "rule:phone"}
    async with w.sm() as s:
        assert (await s.get(type(other.order), other.order.id)).source_ip == "10.0.0.7"


async def test_phone_with_a_high_return_rate(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "returns", "kind": "return_rate", "max_rate": 0.3, "min_orders": 2}))
    first = await place(w, 1)
    second = await place(w, 1)
    assert second.order.status == "pending"
    async with w.sm() as s, s.begin():
        with pytest.raises(OrderError, match="还没发货"):
            await record_return(s, first.order.id, w.as_rep, "质量问题")
    await actions.confirm(w.sm, first.order.id, w.as_rep)
    await actions.ship(w.sm, first.order.id, w.as_rep, "顺丰", "SF9")
    async with w.sm() as s, s.begin():
        await record_return(s, first.order.id, w.as_rep, "质量问题")
    third = await place(w, 1)  # 1 of 2 returned: 50 %
    assert third.order.status == "on_hold" and "退货率" in third.order.hold_reason


async def test_new_customers_first_order_above_an_amount(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "first", "kind": "first_order", "min_amount": 5000}))
    first = await place(w, 30)
    second = await place(w, 30)
    assert (first.order.status, second.order.status) == ("on_hold", "pending")


async def test_overdue_receivable_holds_the_next_order_and_payment_releases_it(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk=risk({"id": "overdue", "kind": "overdue", "max_days": 10}))
    old = await place(w, 1)
    async with w.sm() as s, s.begin():
        order = await s.get(type(old.order), old.order.id)
        order.status, order.delivered_at = "delivered", dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    held = await place(w, 1)  # 60 days after delivery, 30-day terms: 30 days overdue
    assert held.order.status == "on_hold" and "逾期 30 天" in held.order.hold_reason
    async with w.sm() as s, s.begin():
        s.add(Payment(reference="P-old", customer_id=w.customer.id, order_id=old.order.id, amount=old.order.total))
    assert (await place(w, 1)).order.status == "pending"
