"""The late-order scan: orders that will miss their delivery date (orders/late.py decides)
tell the customer — an apology and a new date — and alert the rep; from the second miss on,
also the rep's manager.

Run beside the outbox worker (`run_late_orders_loop`, every `late_orders.interval_minutes`
of the risk table, an injectable clock). Each order is handled in its own transaction that
writes the `late_notice` event and the outbox rows together. Idempotent: the rows' dedup keys
name the order and the miss ("late:<order>:<n>:customer"), and the event carries the new date
the next miss is counted against, so a re-run or two workers scanning at once notify each
miss exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.events import EventType, add_event
from orders.late import WATCHED_STATUSES, Miss, late_decision, latest_due
from orders.models import Customer, Order, OrderEvent, SalesRep, utcnow
from orders.notifications import order_payload
from orders.outbox import OutboxKind, enqueue
from orders.risk import RiskTable
from orders.sla import manager_for
from orders.status import OrderStatus

log = logging.getLogger(__name__)

LATE_ACTOR = Actor.system("timer:late-orders")


@dataclass
class LateReport:
    """Order numbers told of a miss in one scan, and those whose manager heard too."""

    notified: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)


async def _notices(s: AsyncSession, order_id: int) -> list[dict]:
    stmt = (select(OrderEvent.changes)
            .where(OrderEvent.order_id == order_id, OrderEvent.type == EventType.LATE_NOTICE.value)
            .order_by(col(OrderEvent.id)))
    return list((await s.exec(stmt)).all())


async def _announce(s: AsyncSession, order: Order, miss: Miss, now: datetime) -> bool:
    """The miss's rows and event; False when another scan already announced it."""
    assert order.id is not None
    key = f"late:{order.id}:{miss.number}"
    customer = await s.get(Customer, order.customer_id)
    target = (customer.openid or customer.mp_openid or "") if customer else ""
    text = miss.customer_text(order.number)
    payload = order_payload(EventType.LATE_NOTICE.value, order, [], text=text, new_date=miss.new_date,
                            promised=miss.promised, miss=miss.number)
    if not await enqueue(s, OutboxKind.NOTIFY_CUSTOMER, target, payload, f"{key}:customer"):
        return False
    # The customer sees it in their order's history (我的订单): the status stays, the reason says why.
    add_event(s, order.id, EventType.LATE_NOTICE, LATE_ACTOR, from_status=order.status, to_status=order.status,
              changes={"miss": miss.number, "promised": miss.promised, "new_date": miss.new_date},
              reason=miss.history_text(), at=now)
    reps = list((await s.exec(select(SalesRep))).all())
    rep = next((r for r in reps if r.id == order.rep_id), None)
    rep_text = miss.rep_text(order.number, OrderStatus(order.status).label)
    short = {"type": "late", "order_id": order.id, "number": order.number}
    if rep is not None and rep.active:
        await enqueue(s, OutboxKind.NOTIFY_REP, rep.wecom_userid, {**short, "text": rep_text}, f"{key}:rep")
    if miss.alert_manager or rep is None or not rep.active:
        manager = manager_for(rep, reps)
        target = manager.wecom_userid if manager is not None else ""
        await enqueue(s, OutboxKind.ALERT_MANAGER, target, {**short, "text": rep_text}, f"{key}:manager")
    return True


async def sweep_late(sessionmaker: async_sessionmaker[AsyncSession], table: RiskTable, now: datetime) -> LateReport:
    """One pass over unshipped orders with a delivery date: each miss due now, at most once."""
    report = LateReport()
    rules = table.late_orders
    if not rules.enabled:
        return report
    async with sessionmaker() as s:
        ids = (await s.exec(select(Order.id).where(
            col(Order.status).in_(WATCHED_STATUSES), col(Order.delivery_date).is_not(None),
            col(Order.delivery_date) <= latest_due(now, rules),
        ))).all()
    for order_id in ids:
        try:
            async with sessionmaker() as s, s.begin():
                stmt = select(Order).where(Order.id == order_id).with_for_update()
                order = (await s.exec(stmt.execution_options(populate_existing=True))).one_or_none()
                if order is None:
                    continue
                miss = late_decision(order.status, order.delivery_date, await _notices(s, order_id), now, rules)
                if miss is None or not await _announce(s, order, miss, now):
                    continue
                report.notified.append(order.number)
                if miss.alert_manager:
                    report.managers.append(order.number)
        except Exception:  # one bad order must not stop the scan
            log.exception("late-order scan failed for order id %s", order_id)
    return report


async def run_late_orders_loop(
    sessionmaker: async_sessionmaker[AsyncSession], table: Callable[[], RiskTable], *,
    clock: Callable[[], datetime] = utcnow, stop: asyncio.Event | None = None,
) -> None:
    """Scan every `late_orders.interval_minutes` (read each pass) until `stop`."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        interval = 60.0
        try:
            current = table()
            interval = current.late_orders.interval_minutes * 60
            report = await sweep_late(sessionmaker, current, clock())
            if report.notified:
                log.info("late orders: notified %s (managers too: %s)", report.notified, report.managers)
        except Exception:
            log.exception("late-order scan failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
