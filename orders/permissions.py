"""Who may touch which order: enforced in the hub, from the database, for every action.

A customer acts only on their own orders, a rep only on orders assigned to them, a manager
on orders whose customer is in one of their regions (province or city) or whose rep they
manage; admins and the system act on everything. The state machine (orders.status) then
decides whether the role may take the action at all.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, Order, SalesRep
from orders.status import Role


def in_regions(regions: list[str], *places: str | None) -> bool:
    wanted = {r for r in regions if r}
    return any(p in wanted for p in places if p)


async def load_manager(session: AsyncSession, actor: Actor) -> SalesRep:
    rep = await session.get(SalesRep, actor.rep_id) if actor.rep_id is not None else None
    if rep is None or not rep.active or not rep.is_manager:
        raise OrderError(OrderErrorCode.ROLE_FORBIDDEN, "只有在职的经理可以以经理身份操作")
    return rep


def customer_places(customer: Customer, order: Order | None = None) -> tuple[str | None, ...]:
    """The customer's province and city; a customer with neither falls back to the order's address."""
    if (customer.province or customer.city) or order is None:
        return (customer.province, customer.city)
    return (order.province, order.city)


async def check_access(
    session: AsyncSession,
    actor: Actor,
    customer: Customer,
    order_rep_id: int | None,
    places: tuple[str | None, ...],
) -> None:
    """Whether `actor` may act for `customer` on an order assigned to `order_rep_id`."""
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        return
    if actor.role == Role.CUSTOMER:
        if actor.customer_id != customer.id:
            raise OrderError(OrderErrorCode.NOT_OWN_ORDER, "只能操作自己的订单")
        return
    if actor.role == Role.REP:
        if actor.rep_id is None or order_rep_id != actor.rep_id:
            raise OrderError(OrderErrorCode.NOT_ASSIGNED, "这张订单没有分配给你")
        return
    if actor.role == Role.MANAGER:
        manager = await load_manager(session, actor)
        if order_rep_id == manager.id or in_regions(manager.regions, *places):
            return
        if order_rep_id is not None:
            rep = await session.get(SalesRep, order_rep_id)
            if rep is not None and rep.manager_id == manager.id:
                return
        raise OrderError(OrderErrorCode.OUTSIDE_REGION, "这位客户不在你负责的区域")
    raise OrderError(OrderErrorCode.ROLE_FORBIDDEN, f"未知角色 {actor.role}")


async def check_order_access(session: AsyncSession, actor: Actor, order: Order) -> Customer:
    """Raise unless `actor` may act on `order`; returns the order's customer."""
    customer = await session.get(Customer, order.customer_id)
    if customer is None:  # the foreign key makes this impossible short of manual deletes
        raise OrderError(OrderErrorCode.CUSTOMER_NOT_FOUND, f"客户 {order.customer_id} 不存在")
    await check_access(session, actor, customer, order.rep_id, customer_places(customer, order))
    return customer
