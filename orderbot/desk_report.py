"""Reading the desk metrics out of the database: the board, /metrics and `orderbot report`.

The events of the orders placed in the window are streamed (server-side cursor on
PostgreSQL) in partitions and folded order by order into orders.desk_metrics, so a million
events never sit in memory as ORM objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from orders import desk_metrics
from orders.models import Order, OrderEvent

PARTITION = 20_000


def events_query(since: dt.datetime) -> Any:
    """Events (with their order's current status and rep) of the orders placed since
    `since`, grouped by order, oldest first."""
    placed = select(OrderEvent.order_id).where(OrderEvent.type == "submitted", OrderEvent.at >= since)
    return (
        select(OrderEvent.order_id, OrderEvent.type, OrderEvent.actor_kind, OrderEvent.actor_id,
               OrderEvent.at, OrderEvent.to_status, Order.status, Order.rep_id)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(OrderEvent.order_id.in_(placed))
        .order_by(OrderEvent.order_id, OrderEvent.id)
    )


async def metrics_since(engine: AsyncEngine, since: dt.datetime) -> desk_metrics.DeskMetrics:
    m = desk_metrics.DeskMetrics()
    current: list[Any] = []
    async with engine.connect() as conn:
        result = await conn.stream(events_query(since))
        async for part in result.partitions(PARTITION):
            for row in part:
                if current and row[0] != current[0][0]:
                    desk_metrics.add_order(m, current, current[0][6], current[0][7], since)
                    current = []
                current.append(row)
    if current:
        desk_metrics.add_order(m, current, current[0][6], current[0][7], since)
    return m
