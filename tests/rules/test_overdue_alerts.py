"""The daily overdue-receivables alert: each manager hears once a day of their reps' overdue
orders; paid and not-yet-due orders are not listed (both databases)."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import select

from orders import actions
from orders.actions import DraftLine
from orders.actors import Actor
from orders.models import Customer, Order, Outbox, Payment
from orders.overdue import OverdueAlertRules, OverdueItem, alert_texts, due_today
from orders.risk import RiskTable
from tests.orders.hub_factories import COMPLETE, World
from tests.rules.conftest import Tables
from workers.overdue_alerts import sweep_overdue

RULES = OverdueAlertRules(min_days=0, at_hour=9)
TABLE = RiskTable(overdue_alerts=RULES)


def china(day: date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_the_alert_is_due_once_a_day_from_its_hour() -> None:
    day = date(2026, 3, 2)
    assert due_today(china(day, 8), RULES, None) is None
    assert due_today(china(day, 9), RULES, None) == day
    assert due_today(china(day, 23), RULES, day) is None  # already sent today
    assert due_today(china(day + timedelta(days=1), 10), RULES, day) == day + timedelta(days=1)
    assert due_today(china(day, 10), OverdueAlertRules(enabled=False), None) is None


def test_one_text_per_manager_most_overdue_first() -> None:
    items = [OverdueItem(1, "SO1", "恒锐", Decimal(100), 3, "mgr"), OverdueItem(2, "SO2", "周记", Decimal(50), 40, "mgr"),
             OverdueItem(3, "SO3", "远方", Decimal(10), 1, "")]
    texts = alert_texts(items, date(2026, 3, 2))
    assert set(texts) == {"mgr", ""}
    lines = texts["mgr"].splitlines()
    assert "2 笔逾期未收" in lines[0] and "¥150.00" in lines[0]
    assert lines[1].startswith("SO2") and "逾期 40 天" in lines[1] and lines[2].startswith("SO1")


async def test_managers_hear_of_overdue_orders_once_a_day(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    async with w.sm() as s, s.begin():  # 款到发货: owed from the order date
        await s.exec(update(Customer).where(Customer.id == w.customer.id).values(prepayment=True))
    owed = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")], w.as_customer,
                                      fields=COMPLETE, submit=True)
    paid = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 2, "盒")], w.as_customer,
                                      fields=COMPLETE, submit=True)
    terms = await actions.create_order(w.sm, w.other_customer.id, [DraftLine("NUT-M6-ZN", 1, "箱")],
                                       Actor.customer(w.other_customer.id, w.other_customer.openid),
                                       fields=COMPLETE, submit=True)  # 30 days after delivery: not due
    async with w.sm() as s, s.begin():
        s.add(Payment(reference="BANK-9", customer_id=w.customer.id, order_id=paid.order.id, amount=paid.order.total))
        created = (await s.get(Order, owed.order.id)).created_at
    day = (created + timedelta(days=3)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()

    assert (await sweep_overdue(w.sm, TABLE, china(day, 8))).sent == {}  # before 9:00
    first = await sweep_overdue(w.sm, TABLE, china(day, 10))
    again = await sweep_overdue(w.sm, TABLE, china(day, 15))  # a restarted worker checks again
    assert (first.day, first.sent, again.sent) == (day, {"mgr-wang": 1}, {})
    async with w.sm() as s:
        [row] = (await s.exec(select(Outbox).where(Outbox.dedup_key.startswith("overdue:")))).all()
    assert (row.kind, row.target) == ("alert_manager", "mgr-wang")
    text = row.payload["text"]
    assert owed.order.number in text and paid.order.number not in text and terms.order.number not in text
    assert "逾期" in text and "催收" in text
    # the next day: a new alert (still unpaid)
    assert (await sweep_overdue(w.sm, TABLE, china(day + timedelta(days=1), 9))).sent == {"mgr-wang": 1}
    # once paid, nothing is listed
    async with w.sm() as s, s.begin():
        s.add(Payment(reference="BANK-10", customer_id=w.customer.id, order_id=owed.order.id, amount=owed.order.total))
    assert (await sweep_overdue(w.sm, TABLE, china(day + timedelta(days=2), 9))).sent == {}

