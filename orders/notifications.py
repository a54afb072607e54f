"""Payloads for the outbox: plain JSON the push workers render, built from order rows.

No sending here. Each payload says which event caused it and carries enough of the order
(number, status label, lines, total, extra facts like the waybill) that a worker can
render a WeChat message or a WeCom card without reading the database again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.duplicates import suspected_duplicate, suspected_duplicates
from orders.events import jsonable
from orders.models import Order, OrderLine
from orders.money import amount
from orders.promotions import applied_summary
from orders.status import OrderStatus, Role, buttons_for


def line_summary(line: OrderLine) -> dict[str, Any]:
    return {
        "line_id": line.id,
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit": line.unit,
        "base_quantity": line.base_quantity,
        "base_unit": line.base_unit,
        "unit_price": line.unit_price,
        "amount": amount(line.amount),
        "gift": not line.counts_as_sales,
        "line_type": line.line_type,
        "note": line.note,  # why the desk added it (orders/special_lines.py)
    }


def order_payload(event: str, order: Order, lines: Iterable[OrderLine], **extra: Any) -> dict[str, Any]:
    status = OrderStatus(order.status)
    payload = {
        "event": event,
        "order_id": order.id,
        "number": order.number,
        "customer_id": order.customer_id,
        "version": order.version,  # the order version this payload describes (see expected_version)
        "status": status.value,
        "status_label": status.label,
        "total": amount(order.total),
        "discount": amount(order.discount),
        "promotions": applied_summary(order.promotions or []),  # one Chinese line per price rule applied
        "delivery_date": order.delivery_date,
        "rush": order.rush,
        "lines": [line_summary(line) for line in lines],
        **extra,
    }
    return jsonable(payload)


def rep_card_payload(event: str, order: Order, lines: Iterable[OrderLine], **extra: Any) -> dict[str, Any]:
    """For the rep's WeCom card: the buttons are the actions a rep may take now
    (orders.status.buttons_for), and both remarks — the customer's and the desk's own."""
    actions = [a.value for a in buttons_for(order, Role.REP)]
    address = "".join(p for p in (order.province, order.city, order.district, order.address_detail) if p)
    return order_payload(
        event, order, lines, actions=actions, contact=order.contact, phone=order.phone,
        address=address, remarks=order.remarks, rep_remarks=order.rep_remarks, **extra,
    )


async def load_rep_card_payload(session: AsyncSession, order_id: int, event: str) -> dict[str, Any] | None:
    """The rep-card payload rebuilt from the database (for rows that carry only an order id,
    so a card shows the order as it is when sent); None when the order does not exist.
    `duplicate_of`: the earlier order this one looks like (orders/duplicates.py), for the
    card's 重复订单提醒 and 合并 button."""
    order = await session.get(Order, order_id)
    if order is None:
        return None
    lines = await session.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))
    payload = rep_card_payload(event, order, list(lines))
    duplicate_of = await suspected_duplicate(session, order_id)
    if duplicate_of:
        payload["duplicate_of"] = duplicate_of
    return payload


async def load_rep_card_payloads(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, tuple[Order, list[OrderLine], str | None]]:
    """load_rep_card_payload's reads for many orders at once (a batch of rep cards): each
    order, its lines and the number it is flagged a duplicate of, in three queries whatever
    the batch's size. Build each card with rep_card_payload (+ `duplicate_of`)."""
    if not order_ids:
        return {}
    orders = (await session.exec(select(Order).where(col(Order.id).in_(order_ids)))).all()
    lines: dict[int, list[OrderLine]] = {}
    rows = await session.exec(select(OrderLine).where(col(OrderLine.order_id).in_(order_ids))
                              .order_by(col(OrderLine.id)))
    for line in rows.all():
        lines.setdefault(line.order_id, []).append(line)
    duplicate_of = await suspected_duplicates(session, order_ids)
    return {o.id: (o, lines.get(o.id, []), duplicate_of.get(o.id)) for o in orders if o.id is not None}
