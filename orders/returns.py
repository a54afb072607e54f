"""Recording a returned delivery: the row behind the return-rate hold rule (orders/risk.py).

The order's status is left alone (the state machine has no way back from shipped, see
orders/status_mapping.json); the return is a fact about the order and its phone, kept in
`order_return` with an internal `returned` event naming who recorded it and why.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.events import EventType, add_event
from orders.models import Order, OrderReturn
from orders.status import OrderStatus, Role

RETURNABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CLOSED})


async def record_return(s: AsyncSession, order_id: int, actor: Actor, reason: str) -> OrderReturn:
    """Record a return in the caller's transaction (staff or a system hook only)."""
    if actor.role == Role.CUSTOMER:
        raise OrderError(OrderErrorCode.ROLE_FORBIDDEN, "退货由业务员或仓库登记")
    if not reason or not reason.strip():
        raise OrderError(OrderErrorCode.REASON_REQUIRED, "登记退货需要说明原因")
    order = await s.get(Order, order_id)
    if order is None:
        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, f"订单 {order_id} 不存在")
    if OrderStatus(order.status) not in RETURNABLE:
        raise OrderError(OrderErrorCode.ILLEGAL_TRANSITION, f"订单 {order.number} 还没发货，不能登记退货")
    row = OrderReturn(order_id=order.id, phone=order.phone, reason=reason.strip())
    s.add(row)
    add_event(s, order.id, EventType.RETURNED, actor, reason=reason.strip(), changes={"phone": order.phone})
    await s.flush()
    return row
