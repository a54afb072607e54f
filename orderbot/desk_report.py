"""Reading the desk metrics out of the database: the board, /metrics and `orderbot report`.

The database does the heavy part: one aggregate query turns the events of the orders
placed in the window into one summary row per order (orders.desk_metrics.OrderSummary),
and one more lists the holds with the release or cancellation that followed each. Python
then only folds ~one row per order, so a million events cost one scan in PostgreSQL.
Portable SQL (CASE inside MIN/MAX/SUM), so SQLite gives the same numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from orders import desk_metrics
from orders.models import Order, OrderEvent

E = OrderEvent


def _first(kind: str) -> Any:
    return func.min(case((E.type == kind, E.at))).label(f"{kind}_at")


def _placed(since: dt.datetime) -> Any:
    return select(E.order_id).where(E.type == "submitted", E.at >= since)


STATUS_CODES = {status: i + 1 for i, status in enumerate(
    ("draft", "pending", "on_hold", "confirmed", "shipped", "delivered", "closed", "cancelled"))}


def summaries_query(since: dt.datetime) -> Any:
    """One row per order placed since `since`, named like OrderSummary's fields. The last
    external status rides in the aggregate as id * 10 + a status digit (max = the latest),
    so no second pass over the events is needed."""
    people = E.actor_kind.in_(sorted(desk_metrics.PEOPLE))
    external = and_(E.actor_id.like("hook:%"), E.to_status.is_not(None))
    status_digit = case(*((E.to_status == s, n) for s, n in STATUS_CODES.items()), else_=0)
    agg = (
        select(
            E.order_id,
            _first("created"), _first("submitted"), _first("confirmed"), _first("shipped"), _first("delivered"),
            func.max(case((E.type == "held", 1), else_=0)).label("held"),
            func.sum(case((people, 1), else_=0)).label("touches"),
            func.sum(case((E.type == "escalated", 1), else_=0)).label("escalations"),
            func.max(case((external, E.id * 10 + status_digit))).label("last_hook"),
        )
        .where(E.order_id.in_(_placed(since)))
        .group_by(E.order_id)
        .subquery()
    )
    last_external = case(*((agg.c.last_hook % 10 == n, s) for s, n in STATUS_CODES.items()), else_=None)
    return (
        select(agg.c.order_id, Order.status, Order.rep_id, agg.c.created_at,
               agg.c.submitted_at.label("placed_at"), agg.c.confirmed_at, agg.c.shipped_at, agg.c.delivered_at,
               agg.c.held, agg.c.touches, agg.c.escalations, last_external.label("last_external"))
        .join(Order, Order.id == agg.c.order_id)
    )


def holds_query(since: dt.datetime) -> Any:
    """The holds, releases and cancellations of those orders, for desk_metrics.hold_spans."""
    return (
        select(E.order_id, E.type, E.at)
        .where(E.type.in_(["held", *sorted(desk_metrics.HOLD_ENDS)]), E.order_id.in_(_placed(since)))
        .order_by(E.order_id, E.id)
    )


async def metrics_since(engine: AsyncEngine, since: dt.datetime, *,
                        fold_in_thread: bool = False) -> desk_metrics.DeskMetrics:
    """`fold_in_thread`: fold the rows off the event loop (a web process keeps answering
    requests meanwhile); the CLI folds in place."""
    async with engine.connect() as conn:
        rows = (await conn.execute(summaries_query(since))).all()
        holds = (await conn.execute(holds_query(since))).all()

    def fold() -> desk_metrics.DeskMetrics:
        return desk_metrics.from_summaries(rows, desk_metrics.hold_spans(holds), since=since)

    return await asyncio.to_thread(fold) if fold_in_thread else fold()
