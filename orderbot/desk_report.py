"""Reading the desk metrics out of the database: the board, /metrics and `orderbot report`.

The database does the heavy part: one aggregate query turns the events of the orders
placed in the window into one summary row per order (orders.desk_metrics.OrderSummary),
and one more lists the holds with the release or cancellation that followed each (paired in SQL). Python
then only folds ~one row per order, so a million events cost one scan in PostgreSQL.
Portable SQL (CASE inside MIN/MAX/SUM), so SQLite gives the same numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import DateTime, and_, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from orders import desk_metrics
from orders.models import Order, OrderEvent

E = OrderEvent


# Times come back as the driver gives them (aware on PostgreSQL, naive UTC on SQLite, which
# orders.desk_metrics accepts), not through UTCDateTime: that is a Python call per value,
# half a million of them over 100,000 orders.
RAW_TIME = DateTime(timezone=True)


def _first(kind: str) -> Any:
    return type_coerce(func.min(case((E.type == kind, E.at))), RAW_TIME).label(f"{kind}_at")


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
    """Each hold of those orders with the release or cancellation that followed it (the next
    such event of the order, by id; NULL while open): desk_metrics.hold_spans, in SQL."""
    after = aliased(OrderEvent)
    ended = (
        select(after.at)
        .where(after.order_id == E.order_id, after.type.in_(sorted(desk_metrics.HOLD_ENDS)), after.id > E.id)
        .order_by(after.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(E.order_id, type_coerce(E.at, RAW_TIME).label("held_at"), type_coerce(ended, RAW_TIME).label("ended_at"))
        .where(E.type == "held", E.order_id.in_(_placed(since)))
    )


async def metrics_since(engine: AsyncEngine, since: dt.datetime, *,
                        fold_in_thread: bool = False) -> desk_metrics.DeskMetrics:
    """`fold_in_thread`: fold the rows off the event loop (a web process keeps answering
    requests meanwhile); the CLI folds in place."""
    async with engine.connect() as conn:
        rows = (await conn.execute(summaries_query(since))).all()
        holds = (await conn.execute(holds_query(since))).all()

    def fold() -> desk_metrics.DeskMetrics:
        return desk_metrics.from_summaries(rows, [desk_metrics.HoldSpan(*h) for h in holds], since=since)

    return await asyncio.to_thread(fold) if fold_in_thread else fold()
