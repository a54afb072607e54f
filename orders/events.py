"""The append-only order event log: one row per thing that happened to an order.

Each event names its actor (kind and id), the status before and after, the fields that
changed as {field: [before, after]}, the reason and the source message. Events are only
ever added, in the same transaction as the change they describe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.models import OrderEvent, utcnow


class EventType(StrEnum):
    CREATED = "created"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    HELD = "held"
    RELEASED = "released"
    EDITED = "edited"
    REASSIGNED = "reassigned"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    RISK_HIT = "risk_hit"  # one hold rule fired (orders/risk.py); actor "rule:<id>"
    HOLD_REMINDED = "hold_reminded"  # a held order's response timer (workers/hold_sla.py)
    HOLD_ESCALATED = "hold_escalated"
    RETURNED = "returned"  # a delivery came back (orders/returns.py)
    DUPLICATE_SUSPECTED = "duplicate_suspected"  # alike to another order of the customer (orders/duplicates.py)
    LATE_NOTICE = "late_notice"  # the delivery date will be missed; the customer was told (orders/late.py)


# Internal events a customer never sees in their order history.
INTERNAL_EVENTS = frozenset({
    EventType.HELD, EventType.RELEASED, EventType.REASSIGNED, EventType.RISK_HIT, EventType.HOLD_REMINDED,
    EventType.HOLD_ESCALATED, EventType.RETURNED, EventType.DUPLICATE_SUSPECTED,
})


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Decimals, dates and enums as JSON-friendly values for the `changes` column."""
    if type(value) in _PLAIN:  # most values: nothing to do (every order's events pass here)
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def add_event(
    session: AsyncSession,
    order_id: int,
    type: EventType,
    actor: Actor,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    source_message_id: int | None = None,
    at: dt.datetime | None = None,
    visible_to_customer: bool | None = None,
) -> None:
    """Add one event row to the session (written at the caller's flush/commit). `at`: when
    it happened (now by default); `visible_to_customer`: by its type unless given."""
    row = {
        "order_id": order_id,
        "type": type.value,
        "actor_kind": actor.role.value,
        "actor_id": actor.id,
        "at": at or utcnow(),
        "from_status": from_status,
        "to_status": to_status,
        "changes": jsonable(changes or {}),
        "reason": reason,
        "source_message_id": source_message_id,
        "visible_to_customer": type not in INTERNAL_EVENTS if visible_to_customer is None else visible_to_customer,
    }
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:  # inside events_together(): one insert at its end, no ORM object
        deferred.append(row)  # (building an OrderEvent costs more than inserting it)
    else:
        session.add(OrderEvent(**row))


_DEFERRED = "orders.events.deferred"


@asynccontextmanager
async def events_together(session: AsyncSession) -> AsyncIterator[None]:
    """The events added inside the block are written at its end in ONE insert, in the order
    they were added, still in the caller's transaction (many orders placed in one
    transaction: three to five events each, which the ORM would otherwise insert one at a
    time). For blocks that read no event they add; nothing is written on an error (the
    caller rolls back). Nested blocks join the outer one."""
    if session.info.get(_DEFERRED) is not None:
        yield
        return
    events: list[dict[str, Any]] = []
    session.info[_DEFERRED] = events
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    if events:  # one executemany of a statement compiled once (no per-value coercion)
        await session.exec(_INSERT_EVENT, params=events)  # type: ignore[call-overload]


_INSERT_EVENT = insert(OrderEvent.__table__)  # type: ignore[attr-defined]
