"""The held-order response timer: an order on hold too long reminds its manager, then
escalates (to the manager's own manager, else the managers' group robot).

The same decision as the confirmation SLA (orders.sla.next_step) with the risk table's
`hold_sla` timings, counted from the latest `held` event. Idempotent like workers/sla.py:
the outbox dedup key names the hold event ("hold-sla:<order>:<held event>:remind"), so a
re-run or two workers sweeping at once write each step once; a new hold starts a new pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.events import EventType, add_event
from orders.models import Order, OrderEvent, SalesRep, as_utc, utcnow
from orders.outbox import OutboxKind, enqueue
from orders.risk import RiskTable
from orders.sla import SlaState, SlaStep, manager_for, next_step
from orders.status import OrderStatus
from workers.sla import SweepReport

log = logging.getLogger(__name__)

HOLD_SLA_ACTOR = Actor.system("timer:hold-sla")
REMINDED, ESCALATED = EventType.HOLD_REMINDED.value, EventType.HOLD_ESCALATED.value


async def _hold_state(s: AsyncSession, order: Order) -> tuple[SlaState, int] | None:
    events = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(col(OrderEvent.id)))).all()
    held = max((i for i, e in enumerate(events) if e.type == EventType.HELD.value), default=None)
    if held is None:
        return None
    since = {e.type for e in events[held + 1:]}
    state = SlaState(as_utc(events[held].at), rush=False, reminded=REMINDED in since, escalated=ESCALATED in since)
    return state, events[held].id or 0


async def _step(s: AsyncSession, order: Order, step: SlaStep, held_id: int, now: datetime) -> bool:
    reps = list((await s.exec(select(SalesRep))).all())
    rep = next((r for r in reps if r.id == order.rep_id), None)
    manager = manager_for(rep, reps)
    if step is SlaStep.REMIND:
        target = manager.wecom_userid if manager is not None else ""
        text = f"挂起订单 {order.number} 还没有处理（{order.hold_reason or '风控规则'}），请放行或取消"
    else:
        # Up one level (the manager's own manager), else the managers' group robot.
        boss = next((r for r in reps if manager is not None and r.id == manager.manager_id and r.active), None)
        target = boss.wecom_userid if boss is not None else ""
        text = f"挂起订单 {order.number} 超时未处理，已升级（{order.hold_reason or '风控规则'}）"
    payload = {"type": f"hold_{step.value}", "order_id": order.id, "number": order.number, "text": text}
    if not await enqueue(s, OutboxKind.ALERT_MANAGER, target, payload, f"hold-sla:{order.id}:{held_id}:{step.value}"):
        return False
    kind = EventType.HOLD_REMINDED if step is SlaStep.REMIND else EventType.HOLD_ESCALATED
    add_event(s, order.id, kind, HOLD_SLA_ACTOR, reason=text, at=now)
    return True


async def sweep_held(sessionmaker: async_sessionmaker[AsyncSession], table: RiskTable, now: datetime) -> SweepReport:
    """One pass over orders on hold: the reminder or escalation now due, each at most once."""
    report = SweepReport()
    policy = table.hold_sla.policy()
    async with sessionmaker() as s:
        ids = (await s.exec(select(Order.id).where(Order.status == OrderStatus.ON_HOLD.value))).all()
    for order_id in ids:
        try:
            async with sessionmaker() as s, s.begin():
                order = (await s.exec(select(Order).where(Order.id == order_id).with_for_update())).one_or_none()
                if order is None or order.status != OrderStatus.ON_HOLD.value:
                    continue
                found = await _hold_state(s, order)
                step = next_step(found[0], policy, now) if found else None
                if found is None or step is None or not await _step(s, order, step, found[1], now):
                    continue
                (report.reminded if step is SlaStep.REMIND else report.escalated).append(order.number)
        except Exception:  # one bad order must not stop the sweep
            log.exception("hold SLA sweep failed for order id %s", order_id)
    return report


async def run_hold_sla_loop(
    sessionmaker: async_sessionmaker[AsyncSession], table: Callable[[], RiskTable], *,
    interval: float = 60.0, clock: Callable[[], datetime] = utcnow, stop: asyncio.Event | None = None,
) -> None:
    """Sweep held orders every `interval` seconds until `stop`; `table()` is read each pass."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            report = await sweep_held(sessionmaker, table(), clock())
            if report.reminded or report.escalated:
                log.info("hold SLA: reminded %s, escalated %s", report.reminded, report.escalated)
        except Exception:
            log.exception("hold SLA sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
