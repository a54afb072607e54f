"""What the board reads, in a handful of set-based queries (no query per order).

First paint = `board_snapshot`: the active orders with their customer (one query), the ones
with a product below safety stock (one), the SLA facts of the pending ones (one), today's
exception events (one), the customers with an overdue receivable (one), the reps (one); classification is orders/desk_buckets.py. The desk
metrics (orderbot/desk_report.py) are cached for METRICS_TTL seconds per process and served
stale while a refresh runs: they change slowly and cost the most. Each computation is also
stored (desk_metrics_snapshot), so a restarted process paints its charts from the last one
instead of computing first; the first paint never waits for a computation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot import desk_report
from orders import coei_survey, desk_metrics, receivables
from orders.desk_buckets import ACTIVE_STATUSES, Bucket, OrderFacts, classify
from orders.drafts import today_in_china
from orders.models import (
    Customer,
    DeskMetricsSnapshot,
    InboundMessage,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    SalesRep,
    utcnow,
)
from orders.numbering import SHANGHAI
from orders.sla import DEFAULT_POLICY
from orders.upsert import insert_for

ASSIGNING = ("submitted", "routed", "reassigned", "released")
EXCEPTION_TYPES = ("held", "escalated", "rejected", "cancelled")
EXCEPTION_WEIGHT = {"held": 3, "escalated": 3, "rejected": 2, "cancelled": 1}
METRICS_DAYS = 14
METRICS_TTL = 300.0
SHOWN_PER_BUCKET = 60

log = logging.getLogger(__name__)


@dataclass
class BoardOrder:
    id: int
    number: str
    status: str
    customer: str
    rep_id: int | None
    total: Decimal
    delivery_date: dt.date | None
    updated_at: dt.datetime
    version: int
    reasons: list[str]


@dataclass
class ExceptionItem:
    at: dt.datetime
    number: str
    type: str
    actor: str
    reason: str
    total: Decimal


@dataclass
class RepRow:
    id: int
    name: str
    team: str
    open_orders: int
    confirmation_median: float | None
    sla_breaches: int


@dataclass
class BoardSnapshot:
    now: dt.datetime
    buckets: dict[Bucket, list[BoardOrder]] = field(default_factory=lambda: {b: [] for b in Bucket})
    exceptions: list[ExceptionItem] = field(default_factory=list)
    reps: list[RepRow] = field(default_factory=list)
    rep_names: dict[int, str] = field(default_factory=dict)
    coei: coei_survey.MonthResult | None = None  # the latest surveyed month

    def count(self, bucket: Bucket) -> int:
        return len(self.buckets[bucket])


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


async def _active_orders(s: AsyncSession) -> list[Any]:
    stmt = (
        select(Order.id, Order.number, Order.status, Order.rep_id, Order.total, Order.delivery_date,
               Order.confirm_due_at, Order.updated_at, Order.rush, Order.version, Customer.name,
               Customer.company, Order.customer_id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(col(Order.status).in_(ACTIVE_STATUSES))
    )
    return list((await s.exec(stmt)).all())


async def _short_stock_orders(s: AsyncSession) -> set[int]:
    """Open orders with a line whose product is below safety stock. The few short SKUs are
    read first, so the lines are found through ix_order_line_sku, not a scan of every line."""
    short = list((await s.exec(select(Product.sku).where(Product.stock < Product.safety_stock))).all())
    if not short:
        return set()
    stmt = (
        select(OrderLine.order_id).distinct()
        .join(Order, Order.id == OrderLine.order_id)
        .where(col(OrderLine.sku).in_(short), col(Order.status).in_(("pending", "on_hold", "confirmed")))
    )
    return set((await s.exec(stmt)).all())


async def _sla_facts(s: AsyncSession) -> dict[int, tuple[dt.datetime | None, bool]]:
    """Pending orders → (when their current rep got them, escalated since then)."""
    assigning = col(OrderEvent.type).in_(ASSIGNING)
    stmt = (
        select(
            OrderEvent.order_id,
            func.max(case((assigning, OrderEvent.at))),
            func.max(case((assigning, OrderEvent.id))),
            func.max(case((OrderEvent.type == "escalated", OrderEvent.id))),
        )
        .join(Order, Order.id == OrderEvent.order_id)
        .where(Order.status == "pending")
        .group_by(OrderEvent.order_id)
    )
    out: dict[int, tuple[dt.datetime | None, bool]] = {}
    for order_id, assigned_at, assigned_id, escalated_id in (await s.exec(stmt)).all():
        at = _aware(assigned_at) if isinstance(assigned_at, dt.datetime) else None
        out[order_id] = (at, escalated_id is not None and (assigned_id is None or escalated_id > assigned_id))
    return out


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in China, as UTC."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


async def exceptions_on(s: AsyncSession, day: dt.date, limit: int = 10) -> list[ExceptionItem]:
    """A China day's exception events, the most serious and largest first."""
    stmt = (
        select(OrderEvent.at, Order.number, OrderEvent.type, OrderEvent.actor_id, OrderEvent.reason, Order.total)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(col(OrderEvent.type).in_(EXCEPTION_TYPES), OrderEvent.at >= day_start(day),
               OrderEvent.at < day_start(day + dt.timedelta(days=1)))
        .order_by(col(OrderEvent.at).desc())
        .limit(500)
    )
    # Among the day's latest 500; a day with more exceptions than that has bigger problems.
    items = [ExceptionItem(_aware(at), number, typ, actor or "", reason or "", Decimal(total or 0))
             for at, number, typ, actor, reason, total in (await s.exec(stmt)).all()]
    items.sort(key=lambda e: (EXCEPTION_WEIGHT.get(e.type, 0), e.total, e.at), reverse=True)
    return items[:limit]


async def board_snapshot(
    sm: async_sessionmaker[AsyncSession], *, now: dt.datetime | None = None,
    metrics: desk_metrics.DeskMetrics | None = None,
) -> BoardSnapshot:
    now = now or utcnow()
    today = today_in_china(now)
    snap = BoardSnapshot(now)
    async with sm() as s:
        rows = await _active_orders(s)
        short = await _short_stock_orders(s)
        sla = await _sla_facts(s)
        overdue = await receivables.overdue_payers(s, now)
        snap.exceptions = await exceptions_on(s, today)
        reps = list((await s.exec(select(SalesRep).where(SalesRep.active))).all())
        snap.coei = await coei_survey.latest_result(s)
    open_by_rep: Counter[int] = Counter()
    for (oid, number, status, rep_id, total, delivery, due, updated, rush, version, name, company, cid) in rows:
        assigned_at, escalated = sla.get(oid, (None, False))
        if assigned_at is not None and (due is None or _aware(due) < assigned_at):
            # No deadline, or one set for an earlier assignment: the default policy's applies.
            due_at = assigned_at + DEFAULT_POLICY.remind_after(bool(rush))
        else:
            due_at = _aware(due) if due is not None else None
        facts = OrderFacts(status=status, updated_at=_aware(updated), delivery_date=delivery,
                           confirm_due_at=due_at, rush=bool(rush), escalated=escalated, short_stock=oid in short,
                           overdue_days=overdue.get(cid, 0))
        bucket, reasons = classify(facts, now, today)
        snap.buckets[bucket].append(BoardOrder(oid, number, status, company or name or "", rep_id,
                                               Decimal(total or 0), delivery, _aware(updated), version, reasons))
        if status in ("pending", "on_hold") and rep_id is not None:
            open_by_rep[rep_id] += 1
    for bucket in Bucket:
        snap.buckets[bucket].sort(key=lambda o: (len(o.reasons), o.total), reverse=True)
    snap.rep_names = {r.id: r.name for r in reps if r.id is not None}
    by_rep = metrics.reps if metrics is not None else {}
    for r in reps:
        if r.id is None or r.is_manager and not open_by_rep[r.id]:
            continue
        m = by_rep.get(r.id) if by_rep else None
        snap.reps.append(RepRow(r.id, r.name, r.team, open_by_rep[r.id],
                                m.confirmation_median if m else None, m.sla_breaches if m else 0))
    snap.reps.sort(key=lambda r: (r.sla_breaches, r.open_orders), reverse=True)
    return snap


# --- desk metrics ------------------------------------------------------------------------


_cache: dict[int, tuple[float, desk_metrics.DeskMetrics]] = {}
_running: dict[int, asyncio.Task[desk_metrics.DeskMetrics]] = {}


def _since(now: dt.datetime, days: int) -> dt.datetime:
    return day_start(today_in_china(now) - dt.timedelta(days=days - 1))


def _snapshot_name(days: int) -> str:
    return f"days:{days}"


async def _load_stored(engine: AsyncEngine, days: int,
                       now: dt.datetime) -> tuple[float, desk_metrics.DeskMetrics] | None:
    """The snapshot the last computation stored (any process, before any restart), as a
    cache entry whose age is the snapshot's; one primary-key read."""
    async with AsyncSession(engine) as s:
        row = await s.get(DeskMetricsSnapshot, _snapshot_name(days))
    if row is None:
        return None
    age = max(0.0, (now - _aware(row.computed_at)).total_seconds())
    if _aware(row.since) != _since(now, days):  # another day's window: shown, refreshed at once
        age = max(age, METRICS_TTL)
    return time.monotonic() - age, desk_metrics.from_stored(row.payload)


async def _store(engine: AsyncEngine, days: int, since: dt.datetime, m: desk_metrics.DeskMetrics) -> None:
    payload = desk_metrics.to_stored(m)
    values = {"name": _snapshot_name(days), "since": since, "computed_at": utcnow(), "payload": payload}
    async with AsyncSession(engine) as s, s.begin():
        stmt = insert_for(s, DeskMetricsSnapshot).values(**values)
        await s.exec(stmt.on_conflict_do_update(
            index_elements=[DeskMetricsSnapshot.name],
            set_={"since": since, "computed_at": values["computed_at"], "payload": payload}))


async def _compute(engine: AsyncEngine, key: int, since: dt.datetime, days: int) -> desk_metrics.DeskMetrics:
    try:
        m = await desk_report.metrics_since(engine, since, fold_in_thread=True)
        _cache[key] = (time.monotonic(), m)
        try:
            await _store(engine, days, since, m)
        except Exception:  # noqa: BLE001 — the figures are still served from this process
            log.exception("desk metrics snapshot not stored")
        return m
    finally:
        _running.pop(key, None)


def _refresh(engine: AsyncEngine, key: int, now: dt.datetime, days: int) -> asyncio.Task[desk_metrics.DeskMetrics]:
    """The running computation for `key`, or a new one: never two at a time per process."""
    task = _running.get(key)
    if task is None:
        task = _running[key] = asyncio.ensure_future(_compute(engine, key, _since(now, days), days))
    return task


async def cached_metrics(engine: AsyncEngine, now: dt.datetime,
                         days: int = METRICS_DAYS) -> desk_metrics.DeskMetrics:
    """The last `days` days' metrics, recomputed at most every METRICS_TTL seconds."""
    key = id(engine) * 100 + days
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < METRICS_TTL:
        return hit[1]
    return await asyncio.shield(_refresh(engine, key, now, days))


async def metrics_for_paint(engine: AsyncEngine, now: dt.datetime, *, wait: float = 0.0,
                            days: int = METRICS_DAYS) -> desk_metrics.DeskMetrics | None:
    """For the page, without waiting on the computation: this process's cached metrics, else
    the snapshot the last computation stored (a restart paints its charts at once), even when
    a little stale — a refresh then runs in the background; else the fresh ones if they come
    within `wait` seconds, else None: the page shows the orders at once and fetches the
    metrics panel (/board/metrics) when it is ready."""
    key = id(engine) * 100 + days
    hit = _cache.get(key)
    if hit is None:
        hit = await _load_stored(engine, days, now)
        if hit is not None:
            _cache.setdefault(key, hit)
    if hit is not None:
        if time.monotonic() - hit[0] >= METRICS_TTL:
            _refresh(engine, key, now, days)
        return hit[1]
    task = _refresh(engine, key, now, days)
    if wait <= 0:
        return None
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout=wait)
    except TimeoutError:
        return None


async def warm_metrics(engine: AsyncEngine, now: dt.datetime, days: int = METRICS_DAYS) -> None:
    """At start-up: the stored snapshot into this process's cache, and a computation in the
    background only when there is none or it is stale."""
    try:
        await metrics_for_paint(engine, now, days=days)
    except Exception:  # noqa: BLE001 — no snapshot table yet (unmigrated): compute on demand
        log.exception("desk metrics not warmed")


def mark_metrics_stale() -> None:
    """After an action: keep showing the metrics, but refresh them on the next paint."""
    for key, (_, m) in list(_cache.items()):
        _cache[key] = (float("-inf"), m)


def clear_metrics_cache() -> None:
    """Forget this process's metrics (after an action); the stored snapshot stays."""
    _cache.clear()


# --- one order -----------------------------------------------------------------------------


@dataclass
class OrderPage:
    order: Order
    customer: Customer | None
    rep: SalesRep | None
    lines: list[OrderLine]
    events: list[OrderEvent]
    messages: dict[int, InboundMessage]
    reps: list[SalesRep]


async def order_page(sm: async_sessionmaker[AsyncSession], number: str) -> OrderPage | None:
    async with sm() as s:
        order = (await s.exec(select(Order).where(Order.number == number))).one_or_none()
        if order is None:
            return None
        customer = await s.get(Customer, order.customer_id)
        rep = await s.get(SalesRep, order.rep_id) if order.rep_id is not None else None
        lines = list((await s.exec(select(OrderLine).where(OrderLine.order_id == order.id)
                                   .order_by(OrderLine.id))).all())
        events = list((await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                    .order_by(OrderEvent.id))).all())
        ids = {e.source_message_id for e in events if e.source_message_id is not None}
        if order.source_message_id is not None:
            ids.add(order.source_message_id)
        messages = {}
        if ids:
            found = await s.exec(select(InboundMessage).where(col(InboundMessage.id).in_(ids)))
            messages = {m.id: m for m in found.all() if m.id is not None}
        reps = list((await s.exec(select(SalesRep).where(SalesRep.active).order_by(SalesRep.team, SalesRep.name))).all())
    return OrderPage(order, customer, rep, lines, events, messages, reps)
