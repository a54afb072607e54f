"""Duplicate orders: the decision (pure) and the check every intake's place_order makes (both databases)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
from orders import Idempotency, actions, place_order
from orders.actors import Actor
from orders.duplicates import (
    DuplicateRules,
    OrderShape,
    find_duplicates,
    similarity,
    suspected_duplicate,
)
from orders.models import Customer, Order, OrderEvent, utcnow
from orders.notifications import load_rep_card_payload
from tests.orders.hub_factories import COMPLETE, World
from tests.rules.conftest import Tables

RULES = load_rules(DEFAULT_RULES_PATH)
D = Decimal


def shape(order_id: int, quantities: dict[str, int], hours_ago: float = 1, channel: str = "wechat") -> OrderShape:
    at = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC) - dt.timedelta(hours=hours_ago)
    return OrderShape(order_id, f"SO20260302-{order_id:04d}", channel, at, {k: D(v) for k, v in quantities.items()})


NEW = shape(9, {"A": 1000, "B": 500}, hours_ago=0, channel="miniprogram")


def test_alike_orders_match_and_the_closest_comes_first() -> None:
    rules = DuplicateRules()
    earlier = [shape(1, {"A": 1000, "B": 500}, 3), shape(2, {"A": 1100, "B": 450, "C": 10}, 2),
               shape(3, {"A": 1000}, 1)]
    found = find_duplicates(NEW, earlier, rules)
    # 1: both products alike (1.0); 2: two of three (0.67); 3: one of two (0.5 < 0.6) is not a duplicate
    assert [m.number for m in found] == ["SO20260302-0001", "SO20260302-0002"]
    assert found[0].score == 1 and "SO20260302-0001" in found[0].reason and "公众号" in found[0].reason


def test_quantities_apart_other_products_or_outside_the_window_do_not_match() -> None:
    rules = DuplicateRules(window_hours=24, quantity_tolerance=D("0.2"))
    assert similarity({"A": D(1000)}, {"A": D(1300)}, D("0.2")) == 0  # 23 % of the larger apart
    assert similarity({"A": D(1000)}, {"A": D(1250)}, D("0.2")) == 1  # 20 % of the larger: still alike
    earlier = [shape(1, {"A": 1000, "B": 2000}, 1), shape(2, {"X": 1000, "Y": 500}, 1),
               shape(3, {"A": 1000, "B": 500}, 25)]
    assert find_duplicates(NEW, earlier, rules) == []
    assert find_duplicates(NEW, [shape(3, {"A": 1000, "B": 500}, 25)], DuplicateRules(window_hours=48))
    assert find_duplicates(NEW, [shape(1, {"A": 1000, "B": 500})], DuplicateRules(enabled=False)) == []


# --- in the hub (both databases) ---------------------------------------------------------------


async def place(w: World, channel: str, key: str, lines: list[tuple[str, int]], customer: Customer | None = None,
                **fields: Any) -> Order:
    customer = customer or w.customer
    async with w.sm() as s, s.begin():
        placed = await place_order(
            s, Idempotency(f"{channel}:{customer.id}", key), customer_id=customer.id,
            lines=[actions.DraftLine(sku, q) for sku, q in lines], actor=Actor.customer(customer.id, customer.openid),
            channel=channel, rules=RULES, fields={**COMPLETE, **fields},
        )
        return placed.order


async def flagged(w: World, order: Order) -> list[OrderEvent]:
    async with w.sm() as s:
        return list((await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                           OrderEvent.type == "duplicate_suspected"))).all())


async def test_the_same_order_from_chat_then_the_mini_program_warns_the_rep(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    first = await place(w, "wechat", "m1", [("HB-M6X20-304", 5000), ("NUT-M6-ZN", 5000)])
    second = await place(w, "miniprogram", "k1", [("HB-M6X20-304", 5000), ("NUT-M6-ZN", 4500)])
    other = await place(w, "miniprogram", "k2", [("WASH-M6", 100)])
    assert await flagged(w, first) == [] and await flagged(w, other) == []
    [event] = await flagged(w, second)
    assert event.changes["duplicate_of"] == first.number and not event.visible_to_customer
    assert first.number in (event.reason or "") and second.status == "pending"  # a warning, not a hold
    async with w.sm() as s:
        card = await load_rep_card_payload(s, second.id, "new_order")
        plain = await load_rep_card_payload(s, other.id, "new_order")
    assert card is not None and card["duplicate_of"] == first.number
    assert plain is not None and "duplicate_of" not in plain
    # once the earlier order is gone there is nothing to merge with: the card stops warning
    await actions.cancel(w.sm, first.id, w.as_customer, "下错了")
    async with w.sm() as s:
        assert await suspected_duplicate(s, second.id) is None


async def test_another_customer_record_with_the_same_phone_is_caught(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    first = await place(w, "wechat", "m1", [("HB-M6X20-304", 3000)])
    second = await place(w, "miniprogram", "k1", [("HB-M6X20-304", 3000)], customer=w.other_customer)
    [event] = await flagged(w, second)
    assert event.changes["duplicate_of"] == first.number
    stranger = await place(w, "miniprogram", "k2", [("HB-M6X20-304", 3000)], customer=w.other_customer,
                           phone="13900001111")
    assert [e.changes["duplicate_of"] for e in await flagged(w, stranger)] == [second.number]  # own record only


async def test_the_window_and_switch_come_from_the_risk_table(ruled: tuple[World, Tables]) -> None:
    w, tables = ruled
    tables.write(risk={"version": "t", "rules": [], "duplicates": {"window_hours": 6}})
    first = await place(w, "wechat", "m1", [("HB-M6X20-304", 3000)])
    async with w.sm() as s, s.begin():  # placed seven hours ago
        await s.exec(update(Order).where(Order.id == first.id).values(created_at=utcnow() - dt.timedelta(hours=7)))
    assert await flagged(w, await place(w, "miniprogram", "k1", [("HB-M6X20-304", 3000)])) == []
    tables.write(risk={"version": "t2", "rules": [], "duplicates": {"window_hours": 8}})
    assert len(await flagged(w, await place(w, "miniprogram", "k2", [("HB-M6X20-304", 3000)]))) == 1
    tables.write(risk={"version": "t3", "rules": [], "duplicates": {"enabled": False}})
    assert await flagged(w, await place(w, "miniprogram", "k3", [("HB-M6X20-304", 3000)])) == []


@pytest.mark.parametrize("section, body, field", [
    ("duplicates", "  window_hours: -1\n", "duplicates.window_hours"),
    ("late_orders", "  reschedule_days: 1\n  cutoff_hours_before: 48\n", "late_orders"),
    ("overdue_alerts", "  at_hour: 25\n", "overdue_alerts.at_hour"),
])
def test_a_bad_section_names_its_line_and_the_last_good_table_stays(
        tmp_path: Path, section: str, body: str, field: str) -> None:
    from orderbot.risk_rules import risk_rules_file

    path = tmp_path / "risk.yaml"
    path.write_text("version: good\nrules: []\n", encoding="utf-8")
    table = risk_rules_file(path)
    assert table.current().version == "good"
    path.write_text(f"version: bad\nrules: []\n{section}:\n{body}", encoding="utf-8")
    assert table.current().version == "good"
    assert table.last_error is not None and field in table.last_error and "line 4" in table.last_error
