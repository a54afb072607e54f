"""The SLA sweep: pending orders past their deadline remind the rep, then alert the manager.

Run periodically (`run_sla_loop`) by the worker, with an injectable clock. Each order is
handled in its own transaction that writes the outbox row and the order event together.
Idempotent: the outbox dedup key is derived from the assignment the deadline belongs to
("sla:<order>:<assignment event>:remind"), so a re-run, a crash between steps, or two workers
sweeping at once write each reminder and each escalation exactly once. A reassignment (or a
release from hold) starts a new assignment and so a new pair of deadlines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import actions
from orders.actors import Actor
from orders.assignment import RoutingEvent, team_load
from orders.errors import OrderError
from orders.events import EventType, add_event
from orders.models import Order, OrderEvent, SalesRep, utcnow
from orders.outbox import OutboxKind, enqueue
from orders.routing import RuleSet, Strategy, pick_in_team, team_members
from orders.sla import SlaPolicy, SlaState, SlaStep, confirm_due_at, manager_for, next_step
from orders.status import OrderStatus

log = logging.getLogger(__name__)

SLA_ACTOR = Actor.system("timer:sla")
# Events that hand the order to a rep and so restart its confirmation clock.
_ASSIGNING = {RoutingEvent.ROUTED.value, EventType.REASSIGNED.value, EventType.RELEASED.value,
              EventType.SUBMITTED.value}


class _AlreadyDone(Exception):
    """Raised inside a transaction to roll it back: another sweep did this step first."""


@dataclass
class SweepReport:
    """Order numbers each step touched in one sweep."""

    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    reassigned: list[str] = field(default_factory=list)


async def _state(session: AsyncSession, order: Order) -> tuple[SlaState, int]:
    """The SLA state of the current assignment and that assignment's event id (0: none)."""
    events = (
        await session.exec(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)  # type: ignore[arg-type]
        )
    ).all()
    start = max((i for i, e in enumerate(events) if e.type in _ASSIGNING), default=None)
    since = events[start + 1 :] if start is not None else events
    assigned_at = events[start].at if start is not None else order.updated_at
    kinds = {e.type for e in since}
    state = SlaState(
        assigned_at=assigned_at,
        rush=order.rush,
        reminded=RoutingEvent.REMINDED.value in kinds,
        escalated=RoutingEvent.ESCALATED.value in kinds,
    )
    return state, (events[start].id or 0) if start is not None else 0


async def _remind(session: AsyncSession, order: Order, rep: SalesRep, key: str, now: datetime) -> bool:
    text = f"订单 {order.number} 待确认已超时，请尽快处理" + ("（加急）" if order.rush else "")
    payload = {"type": "sla_reminder", "order_id": order.id, "number": order.number, "text": text}
    if not await enqueue(session, OutboxKind.NOTIFY_REP, rep.wecom_userid, payload, key):
        return False
    add_event(session, order.id, RoutingEvent.REMINDED, SLA_ACTOR,  # type: ignore[arg-type]
              changes={"rep_id": rep.id}, reason="待确认超时提醒", at=now, visible_to_customer=False)
    return True


async def _escalate(
    session: AsyncSession, order: Order, rep: SalesRep | None, reps: list[SalesRep],
    rules: RuleSet, key: str, now: datetime,
) -> tuple[bool, SalesRep | None]:
    """Alert the manager; with the rule's reassign_on_escalate, hand the order to a teammate."""
    policy = rules.policy_for(order.routing_rule)
    team = rep.team if rep is not None else None
    new_rep: SalesRep | None = None
    if policy.reassign_on_escalate and team is not None:
        others = [m for m in team_members(reps, team) if m.id != order.rep_id]
        picked = pick_in_team(others, Strategy.FEWEST_OPEN, team, await team_load(session))
        new_rep = next((r for r in reps if picked is not None and r.id == picked.id), None)
    manager = manager_for(rep, reps, team)
    target = manager.wecom_userid if manager is not None else ""
    # The escalated event comes before any reassignment: the reassignment starts a new
    # assignment, whose own reminder and escalation are still to come.
    add_event(session, order.id, RoutingEvent.ESCALATED, SLA_ACTOR,  # type: ignore[arg-type]
              changes={"manager": target or None}, reason="待确认超时升级", at=now, visible_to_customer=False)
    await session.flush()
    if new_rep is not None and not await _reassign(session, order, new_rep, policy, now):
        new_rep = None
    text = f"订单 {order.number} 超时未确认（业务员 {rep.name if rep else '未分配'}）"
    if new_rep is not None:
        text += f"，已转交 {new_rep.name}"
    payload = {
        "type": "sla_escalation", "order_id": order.id, "number": order.number, "text": text,
        "rep": rep.wecom_userid if rep else None, "manager": target or None,
        "reassigned_to": new_rep.wecom_userid if new_rep else None,
    }
    if not await enqueue(session, OutboxKind.ALERT_MANAGER, target, payload, key):
        raise _AlreadyDone  # another sweep escalated this assignment: undo ours entirely
    return True, new_rep


async def _reassign(session: AsyncSession, order: Order, new_rep: SalesRep, policy: SlaPolicy,
                    now: datetime) -> bool:
    """Through the hub: version check, "reassigned" event, the new rep's card. A refusal
    (the order changed meanwhile, the rep left) writes nothing; the escalation still goes out."""
    try:
        await actions.reassign(
            session, order.id, SLA_ACTOR, new_rep.id, reason="待确认超时，自动转交",
            confirm_due_at=confirm_due_at(now, order.rush, policy),
        )
    except OrderError as exc:
        log.warning("SLA: order %s not reassigned to %s: %s", order.number, new_rep.wecom_userid, exc)
        return False
    # The hub stamps events with the wall clock; the new assignment's deadlines run on
    # this job's clock (the same in production, a fake one in tests).
    moved = (
        await session.exec(
            select(OrderEvent)
            .where(OrderEvent.order_id == order.id, OrderEvent.type == EventType.REASSIGNED.value)
            .order_by(col(OrderEvent.id).desc())
        )
    ).first()
    if moved is not None:
        moved.at = now
        session.add(moved)
    return True


async def _sweep_one(
    sessionmaker: async_sessionmaker[AsyncSession], order_id: int, rules: RuleSet,
    now: datetime, report: SweepReport,
) -> None:
    try:
        await _sweep_one_tx(sessionmaker, order_id, rules, now, report)
    except _AlreadyDone:
        pass


async def _sweep_one_tx(
    sessionmaker: async_sessionmaker[AsyncSession], order_id: int, rules: RuleSet,
    now: datetime, report: SweepReport,
) -> None:
    async with sessionmaker() as session, session.begin():
        order = (
            await session.exec(select(Order).where(Order.id == order_id).with_for_update())
        ).one_or_none()
        if order is None or order.status != OrderStatus.PENDING or order.rep_id is None:
            return
        state, assignment = await _state(session, order)
        step = next_step(state, rules.policy_for(order.routing_rule), now)
        if step is None:
            return
        reps = list((await session.exec(select(SalesRep))).all())
        rep = next((r for r in reps if r.id == order.rep_id), None)
        key = f"sla:{order.id}:{assignment}:{step.value}"
        if step is SlaStep.REMIND and rep is not None:
            if await _remind(session, order, rep, key, now):
                report.reminded.append(order.number)
        elif step is SlaStep.ESCALATE:
            done, new_rep = await _escalate(session, order, rep, reps, rules, key, now)
            if done:
                report.escalated.append(order.number)
            if new_rep is not None:
                report.reassigned.append(order.number)


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession], rules: RuleSet, now: datetime
) -> SweepReport:
    """One pass over pending orders whose first deadline has passed (or that have none)."""
    report = SweepReport()
    # Orders already escalated for their current assignment have nothing left to do: leave
    # them out in SQL, so a backlog of stale orders does not cost a read each per sweep.
    latest_assignment = (
        select(func.max(OrderEvent.id))
        .where(OrderEvent.order_id == Order.id, col(OrderEvent.type).in_(_ASSIGNING))
        .correlate(Order)
        .scalar_subquery()
    )
    escalated = (
        select(OrderEvent.id)
        .where(OrderEvent.order_id == Order.id, OrderEvent.type == RoutingEvent.ESCALATED.value)
        .where(or_(latest_assignment.is_(None), OrderEvent.id > latest_assignment))
        .correlate(Order)
        .exists()
    )
    async with sessionmaker() as session:
        ids = (
            await session.exec(
                select(Order.id)
                .where(Order.status == OrderStatus.PENDING.value)
                .where(col(Order.rep_id).is_not(None))
                .where(or_(col(Order.confirm_due_at).is_(None), col(Order.confirm_due_at) <= now))
                .where(~escalated)
                .order_by(col(Order.id))
            )
        ).all()
    for order_id in ids:
        try:
            await _sweep_one(sessionmaker, order_id, rules, now, report)
        except Exception:  # one bad order must not stop the sweep
            log.exception("SLA sweep failed for order id %s", order_id)
    return report


async def run_sla_loop(
    sessionmaker: async_sessionmaker[AsyncSession],
    rules: Callable[[], RuleSet],
    *,
    interval: float = 60.0,
    clock: Callable[[], datetime] = utcnow,
    stop: asyncio.Event | None = None,
) -> None:
    """Sweep every `interval` seconds until `stop` is set. `rules()` is read on every pass,
    so an edited rule file (RulesFile.current) takes effect without a restart."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            report = await sweep(sessionmaker, rules(), clock())
            if report.reminded or report.escalated:
                log.info("SLA: reminded %s, escalated %s, reassigned %s",
                         report.reminded, report.escalated, report.reassigned)
        except Exception:
            log.exception("SLA sweep failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
