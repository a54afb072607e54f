"""Recording a returned delivery: the row behind the return-rate hold rule (orders/risk.py).

The order's status is left alone (the state machine has no way back from shipped, see
orders/status_mapping.json); the return is a fact about the order and its phone, kept in
`order_return` with an internal `returned` event naming who recorded it and why.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.events import EventType, add_event
from orders.models import Order, OrderReturn
from orders.status import OrderStatus, Role

RETURNABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CLOSED})


async def record_return(
    s: AsyncSession, order_id: int, actor: Actor, reason: str, *, reference: str | None = None,
    at: dt.datetime | None = None,
) -> OrderReturn:
    """Record a return in the caller's transaction (staff or a system hook only). With a
    `reference` already recorded, that row comes back and nothing is added (`find_return`)."""
    if reference and (seen := await find_return(s, reference)) is not None:
        return seen
    if actor.role == Role.CUSTOMER:
        raise OrderError(OrderErrorCode.ROLE_FORBIDDEN, "退货由业务员或仓库登记")
    if not reason or not reason.strip():
        raise OrderError(OrderErrorCode.REASON_REQUIRED, "登记退货需要说明原因")
    order = await s.get(Order, order_id)
    if order is None:
        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, f"订单 {order_id} 不存在")
    if OrderStatus(order.status) not in RETURNABLE:
        raise OrderError(OrderErrorCode.ILLEGAL_TRANSITION, f"订单 {order.number} 还没发货，不能登记退货")
    row = OrderReturn(order_id=order.id, phone=order.phone, reason=reason.strip(), reference=reference or None,
                      **({"at": at} if at is not None else {}))
    s.add(row)
    add_event(s, order.id, EventType.RETURNED, actor, reason=reason.strip(),
              changes={"phone": order.phone, **({"reference": reference} if reference else {})})
    await s.flush()
    return row


async def find_return(s: AsyncSession, reference: str) -> OrderReturn | None:
    """The return recorded under this reference, if any (a re-imported file)."""
    return (await s.exec(select(OrderReturn).where(OrderReturn.reference == reference))).first()
