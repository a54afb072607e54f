"""The rules that put an order on hold, and the stock reservation that confirmation makes.

Invariant: an order holds a stock reservation (Product.stock decremented by its base
quantities) exactly while it is confirmed, shipped, delivered or closed. Leaving
`confirmed` for on_hold or cancelled gives the stock back; edits of a confirmed order
move the reservation by the difference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, Order, OrderLine, Product
from orders.status import OrderStatus

# Orders whose amount the customer still owes (closed means paid and invoiced).
UNPAID_STATUSES = (
    OrderStatus.PENDING,
    OrderStatus.ON_HOLD,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)
RESERVING_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CLOSED}
)


async def credit_hold_reason(
    session: AsyncSession, customer: Customer, order_id: int, order_total: Decimal
) -> str | None:
    """Why the order breaks the customer's credit limit, or None (limit 0 = no credit check)."""
    limit = Decimal(customer.credit_limit or 0)
    if limit <= 0:
        return None
    stmt = select(func.coalesce(func.sum(Order.total), 0)).where(
        Order.customer_id == customer.id,
        Order.status.in_([s.value for s in UNPAID_STATUSES]),
        Order.id != order_id,
    )
    open_total = Decimal((await session.exec(stmt)).one())
    exposure = open_total + Decimal(order_total)
    if exposure <= limit:
        return None
    return f"信用超限：未结订单 {open_total:.2f} 元 + 本单 {Decimal(order_total):.2f} 元，超过额度 {limit:.2f} 元"


def stock_needs(lines: Iterable[OrderLine]) -> dict[str, int]:
    """Base units needed per SKU (gift lines included: they leave the warehouse too)."""
    needs: dict[str, int] = {}
    for line in lines:
        if line.sku:
            needs[line.sku] = needs.get(line.sku, 0) + math.ceil(Decimal(line.base_quantity))
    return needs


async def stock_shortages(session: AsyncSession, needs: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """{sku: (on hand, needed)} for every SKU without enough stock."""
    if not needs:
        return {}
    rows = (await session.exec(select(Product.sku, Product.stock).where(Product.sku.in_(list(needs))))).all()
    have = {sku: stock for sku, stock in rows}
    return {sku: (have.get(sku, 0), n) for sku, n in needs.items() if have.get(sku, 0) < n}


def stock_hold_reason(shortages: Mapping[str, tuple[int, int]]) -> str | None:
    if not shortages:
        return None
    parts = "；".join(f"{sku} 库存 {have}，需要 {need}" for sku, (have, need) in sorted(shortages.items()))
    return f"库存不足：{parts}"


async def reserve_stock(session: AsyncSession, needs: Mapping[str, int]) -> dict[str, int]:
    """Decrement stock atomically per SKU (… WHERE stock >= n); STOCK_SHORT if one cannot.

    The caller's transaction rolls back every decrement already made when this raises.
    """
    for sku, n in sorted(needs.items()):
        if n <= 0:
            continue
        stmt = (
            update(Product)
            .where(Product.sku == sku, Product.stock >= n)
            .values(stock=Product.stock - n)
            .execution_options(synchronize_session=False)
        )
        if (await session.exec(stmt)).rowcount != 1:
            raise OrderError(OrderErrorCode.STOCK_SHORT, f"{sku} 库存不足 {n}", sku=sku, needed=n)
    return {sku: -n for sku, n in needs.items() if n > 0}


async def release_stock(session: AsyncSession, needs: Mapping[str, int]) -> dict[str, int]:
    """Give reserved stock back (cancel or hold of a confirmed order)."""
    for sku, n in sorted(needs.items()):
        if n > 0:
            stmt = (
                update(Product)
                .where(Product.sku == sku)
                .values(stock=Product.stock + n)
                .execution_options(synchronize_session=False)
            )
            await session.exec(stmt)
    return {sku: n for sku, n in needs.items() if n > 0}


async def move_stock(session: AsyncSession, before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Adjust a reservation from `before` to `after` needs; returns {sku: stock change}.

    One pass in SKU order, like reserve/release, so concurrent edits lock products in the
    same order and cannot deadlock each other on PostgreSQL.
    """
    moved: dict[str, int] = {}
    for sku in sorted(set(before) | set(after)):
        more = after.get(sku, 0) - before.get(sku, 0)
        if more > 0:
            moved.update(await reserve_stock(session, {sku: more}))
        elif more < 0:
            moved.update(await release_stock(session, {sku: -more}))
    return moved
