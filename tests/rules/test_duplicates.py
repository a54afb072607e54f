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


async def test_orders_placed_together_are_checked_as_one_by_one_with_one_read(ruled: tuple[World, Tables]) -> None:
    """A batch of confirmations placed in one transaction (orders.duplicates_read_together):
    an earlier order before the batch and one placed earlier in the batch are both found;
    orders of customers and phones with no earlier order are checked without a read each."""
    from sqlalchemy import event

    from orders import duplicates_read_together

    w, _ = ruled
    before = await place(w, "miniprogram", "k0", [("HB-M6X20-304", 3000), ("NUT-M6-ZN", 5000)])
    async with w.sm() as s, s.begin():
        fresh = [Customer(name=f"新{i}", openid=f"o-new-{i}") for i in range(3)]
        s.add_all(fresh)
        await s.flush()
        ids = [c.id for c in fresh]
    reads: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM orders" in statement:
            reads.append(statement)

    async def one(s: Any, customer: Customer, key: str, phone: str, bolts: int) -> Order:
        placed = await place_order(
            s, Idempotency(f"wechat:{customer.id}", key), customer_id=customer.id,
            lines=[actions.DraftLine("HB-M6X20-304", bolts), actions.DraftLine("NUT-M6-ZN", 5000)],
            actor=Actor.customer(customer.id, customer.openid), channel="wechat", rules=RULES,
            fields={**COMPLETE, "phone": phone},
        )
        return placed.order

    async with w.sm() as s, s.begin():
        customers = {c.id: c for c in (await s.exec(select(Customer))).all()}
        batch = [(w.customer.id, COMPLETE["phone"]), (ids[0], "13900000001"), (ids[1], "13900000002"),
                 (ids[1], "13900000002"), (ids[2], "13900000003")]
        sync_engine = s.bind.sync_engine
        event.listen(sync_engine, "before_cursor_execute", seen)
        try:
            async with duplicates_read_together(s, batch):
                assert len(reads) == 1
                again = await one(s, customers[w.customer.id], "k1", COMPLETE["phone"], 3000)  # like `before`
                new_a = await one(s, customers[ids[0]], "k2", "13900000001", 1000)
                new_b = await one(s, customers[ids[1]], "k3", "13900000002", 2000)
                twice_b = await one(s, customers[ids[1]], "k4", "13900000002", 2000)  # like new_b, same batch
                new_c = await one(s, customers[ids[2]], "k5", "13900000003", 1000)
        finally:
            event.remove(sync_engine, "before_cursor_execute", seen)
        duplicate_reads = [r for r in reads if "orders.created_at >=" in r]
        assert len(duplicate_reads) == 3  # the batch's one, `again`'s and `twice_b`'s: not the new ones'
    assert [e.changes["duplicate_of"] for e in await flagged(w, again)] == [before.number]
    assert [e.changes["duplicate_of"] for e in await flagged(w, twice_b)] == [new_b.number]
    for order in (new_a, new_b, new_c):
        assert await flagged(w, order) == []
