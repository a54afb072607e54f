"""The daily overdue-receivables alert: from `overdue_alerts.at_hour` (China time) each day,
every manager gets one message listing their reps' orders whose payment is overdue
(orders/overdue.py decides what is listed; orders/receivables.py when a payment falls due);
orders without a rep-with-manager go to the managers' group robot (else every manager).

Runs beside the outbox worker (`run_overdue_alerts_loop`, checking every few minutes).
Idempotent: one outbox row per China day and manager ("overdue:<day>:<manager>"), so a re-run,
a restart or two workers checking at once send each day's alert once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import Customer, Order, Payment, SalesRep, utcnow
from orders.outbox import OutboxKind, enqueue
from orders.overdue import OverdueItem, alert_texts, due_today, is_listed
from orders.receivables import OWED_STATUSES, Receivable, due_at
from orders.risk import RiskTable
from orders.sla import manager_for

log = logging.getLogger(__name__)

CHECK_EVERY = 300.0  # seconds between checks whether today's alert is due


@dataclass
class OverdueReport:
    day: dt.date | None = None
    sent: dict[str, int] = field(default_factory=dict)  # manager userid ("" = robot) -> orders listed


async def overdue_items(s: AsyncSession, now: dt.datetime, table: RiskTable) -> list[OverdueItem]:
    """Every owed order past due by more than `min_days`, with the manager to tell."""
    rules = table.overdue_alerts
    paid = (select(Payment.order_id, func.sum(Payment.amount).label("paid"))
            .where(col(Payment.order_id).is_not(None)).group_by(Payment.order_id).subquery())
    rows = (await s.exec(
        select(Order, Customer, func.coalesce(paid.c.paid, 0))
        .join(Customer, Customer.id == Order.customer_id)  # type: ignore[arg-type]
        .outerjoin(paid, paid.c.order_id == Order.id)
        .where(col(Order.status).in_([st.value for st in OWED_STATUSES]))
        .order_by(col(Order.id))
    )).all()
    reps = list((await s.exec(select(SalesRep))).all())
    by_id = {r.id: r for r in reps}
    items = []
    for order, customer, paid_amount in rows:
        receivable = Receivable(order.id, order.number, Decimal(order.total), Decimal(paid_amount),
                                due_at(customer, order))
        days = receivable.overdue_days(now)
        if not is_listed(days, receivable.outstanding, rules):
            continue
        manager = manager_for(by_id.get(order.rep_id), reps)
        items.append(OverdueItem(order.id, order.number, customer.company or customer.name or f"客户{customer.id}",
                                 receivable.outstanding, days, manager.wecom_userid if manager else ""))
    return items


async def sweep_overdue(sessionmaker: async_sessionmaker[AsyncSession], table: RiskTable, now: dt.datetime,
                        last_day: dt.date | None = None) -> OverdueReport:
    """Send today's alerts if they are due and not sent yet (see the module docstring)."""
    day = due_today(now, table.overdue_alerts, last_day)
    report = OverdueReport(day)
    if day is None:
        return report
    async with sessionmaker() as s, s.begin():
        items = await overdue_items(s, now, table)
        for manager, text in alert_texts(items, day).items():
            payload = {"type": "overdue", "day": day.isoformat(), "text": text,
                       "dedup": f"overdue:{day.isoformat()}:{manager}"}
            if await enqueue(s, OutboxKind.ALERT_MANAGER, manager, payload, f"overdue:{day.isoformat()}:{manager}"):
                report.sent[manager] = sum(1 for i in items if i.manager == manager)
    return report


async def run_overdue_alerts_loop(
    sessionmaker: async_sessionmaker[AsyncSession], table: Callable[[], RiskTable], *,
    interval: float = CHECK_EVERY, clock: Callable[[], dt.datetime] = utcnow, stop: asyncio.Event | None = None,
) -> None:
    """Check every `interval` seconds until `stop`; the day's alert goes out once."""
    stop = stop or asyncio.Event()
    last_day: dt.date | None = None
    while not stop.is_set():
        try:
            report = await sweep_overdue(sessionmaker, table(), clock(), last_day)
            if report.day is not None:
                last_day = report.day
                if report.sent:
                    log.info("overdue alerts for %s: %s", report.day, report.sent)
        except Exception:
            log.exception("overdue alert check failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
