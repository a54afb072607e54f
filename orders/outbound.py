"""Passing confirmed orders on to the warehouse (WMS) and ERP: what the hub asks for.

The hub calls `request_push` in the transaction of a confirmation — and of an edit or a
cancellation of an order that was confirmed — so the push is written exactly when the
change commits. That one `outbound_order` row is fanned out by the worker (workers/
outbound.py) into one signed webhook per configured system. Every push carries the order
as it is at that version: the receiving system dedups by `idempotency_key`
(order number + version), so a retried push never creates a second shipment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from orders.events import jsonable
from orders.models import Order, OrderLine
from orders.outbox import OutboxKind, dedup_key, enqueue

KIND = OutboxKind.OUTBOUND_ORDER  # one row per order version; fanned out per system
PUSH_KIND = OutboxKind.OUTBOUND_PUSH  # one row per system and order version: the webhook call


def idempotency_key(number: str, version: int) -> str:
    return f"{number}:v{version}"


def order_document(order: Order, lines: Sequence[OrderLine], event: str) -> dict[str, Any]:
    """The JSON the other systems receive (contract: README "Outbound to WMS / ERP")."""
    return jsonable({
        "idempotency_key": idempotency_key(order.number, order.version),
        "event": event,  # confirmed / edited / cancelled
        "order_number": order.number,
        "version": order.version,
        "status": order.status,
        "customer_id": order.customer_id,
        "contact": order.contact,
        "phone": order.phone,
        "address": {"province": order.province, "city": order.city, "district": order.district,
                    "detail": order.address_detail},
        "delivery_date": order.delivery_date,
        "rush": order.rush,
        "remarks": order.remarks,
        "total": order.total,
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.base_quantity, "unit": line.base_unit,
             "ordered": f"{jsonable(line.quantity)}{line.unit}", "unit_price": line.unit_price,
             "amount": line.amount, "line_type": line.line_type}
            for line in lines
        ],
    })


async def request_push(session: AsyncSession, order: Order, lines: Sequence[OrderLine], event: str) -> None:
    """Ask for this order version to be pushed to every configured system (in the caller's
    transaction; a retried action writes no second row)."""
    assert order.id is not None
    await enqueue(session, KIND, "", order_document(order, lines, event), dedup_key(order.id, order.version, KIND))
