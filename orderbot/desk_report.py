"""Reading the desk metrics out of the database: the board, /metrics and `orderbot report`.

The database does the heavy part: one aggregate query turns the events of the orders
placed in the window into one summary row per order (orders.desk_metrics.OrderSummary),
and one more lists the holds with the release or cancellation that followed each. Python
then only folds ~one row per order, so a million events cost one scan in PostgreSQL.
Portable SQL (CASE inside MIN/MAX/SUM), so SQLite gives the same numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from orders import desk_metrics
from orders.models import Order, OrderEvent

E = OrderEvent


def _first(kind: str) -> Any:
    return func.min(case((E.type == kind, E.at))).label(f"{kind}_at")


def _placed(since: dt.datetime) -> Any:
    return select(E.order_id).where(E.type == "submitted", E.at >= since)


def summaries_query(since: dt.datetime) -> Any:
    """One row per order placed since `since`, with the fields of OrderSummary."""
    people = E.actor_kind.in_(sorted(desk_metrics.PEOPLE))
    external = and_(E.actor_id.like("hook:%"), E.to_status.is_not(None))
    agg = (
        select(
            E.order_id,
            _first("created"), _first("submitted"), _first("confirmed"), _first("shipped"), _first("delivered"),
            func.max(case((E.type == "held", 1), else_=0)).label("held"),
            func.sum(case((people, 1), else_=0)).label("touches"),
            func.sum(case((E.type == "escalated", 1), else_=0)).label("escalations"),
            func.max(case((external, E.id))).label("last_hook_id"),
        )
        .where(E.order_id.in_(_placed(since)))
        .group_by(E.order_id)
        .subquery()
    )
    last = aliased(OrderEvent)
    return (
        select(agg.c.order_id, Order.status, Order.rep_id, agg.c.created_at, agg.c.submitted_at,
               agg.c.confirmed_at, agg.c.shipped_at, agg.c.delivered_at, agg.c.held, agg.c.touches,
               agg.c.escalations, last.to_status)
        .join(Order, Order.id == agg.c.order_id)
        .outerjoin(last, last.id == agg.c.last_hook_id)
    )


def holds_query(since: dt.datetime) -> Any:
    """Each hold of those orders, with the first release or cancellation after it."""
    end = aliased(OrderEvent)
    ended = (
        select(func.min(end.at))
        .where(end.order_id == E.order_id, end.type.in_(sorted(desk_metrics.HOLD_ENDS)), end.id > E.id)
        .scalar_subquery()
    )
    return select(E.order_id, E.at, ended).where(E.type == "held", E.order_id.in_(_placed(since)))


async def metrics_since(engine: AsyncEngine, since: dt.datetime) -> desk_metrics.DeskMetrics:
    async with engine.connect() as conn:
        rows = (await conn.execute(summaries_query(since))).all()
        holds = (await conn.execute(holds_query(since))).all()
    summaries = [
        desk_metrics.OrderSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), int(r[9] or 0),
                                  int(r[10] or 0), r[11])
        for r in rows
    ]
    spans = [desk_metrics.HoldSpan(order_id, at, ended) for order_id, at, ended in holds]
    return desk_metrics.from_summaries(summaries, spans, since=since)
