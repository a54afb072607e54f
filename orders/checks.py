"""The facts behind the hold rules (orders/risk.py), and the stock reservation that confirmation makes.

Invariant: an order holds a stock reservation (Product.stock decremented by its base
quantities) exactly while it is confirmed, shipped, delivered or closed. Leaving
`confirmed` for on_hold or cancelled gives the stock back; edits of a confirmed order
move the reservation by the difference.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import receivables, risk
from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, Order, OrderLine, OrderReturn, Product, utcnow
from orders.repricing import RISK_RULES, table_from
from orders.risk import RatePer, RiskFacts, RiskKind, RiskTable, StockFact
from orders.status import OrderStatus

RESERVING_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CLOSED}
)


SHANGHAI = ZoneInfo("Asia/Shanghai")
# Orders that count for rate and history rules: placed, whatever became of them since.
PLACED_STATUSES = [s.value for s in OrderStatus if s not in (OrderStatus.DRAFT, OrderStatus.CANCELLED)]


def stock_needs(lines: Iterable[OrderLine]) -> dict[str, int]:
    """Base units needed per SKU (gift lines included: they leave the warehouse too)."""
    needs: dict[str, int] = {}
    for line in lines:
        if line.sku:
            needs[line.sku] = needs.get(line.sku, 0) + math.ceil(Decimal(line.base_quantity))
    return needs


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


async def _placed_count(s: AsyncSession, column: str, value: object, order: Order,
                        since: dt.datetime | None = None) -> int:
    """How many placed orders besides `order` have `column` = value (since a time)."""
    stmt = _PLACED_COUNTS[column, since is not None]
    params = {"c_value": value, "c_order": order.id, "c_since": since}
    return int((await s.exec(stmt, params=params)).one())  # type: ignore[call-overload]


def _placed_count_query(column: str, windowed: bool) -> Any:
    """Built once and run with parameters: the hold rules count on every submit."""
    where = [getattr(Order, column) == bindparam("c_value"), col(Order.status).in_(PLACED_STATUSES),
             Order.id != bindparam("c_order")]
    if windowed:
        where.append(Order.created_at >= bindparam("c_since"))
    return select(func.count()).select_from(Order).where(*where)


_RATE_COLUMN = {RatePer.CUSTOMER: "customer_id", RatePer.PHONE: "phone", RatePer.IP: "source_ip"}
_PLACED_COUNTS = {(column, windowed): _placed_count_query(column, windowed)
                  for column in _RATE_COLUMN.values() for windowed in (False, True)}
_RETURNS_OF_PHONE = select(func.count()).select_from(OrderReturn).where(OrderReturn.phone == bindparam("c_value"))


async def risk_facts(
    s: AsyncSession, table: RiskTable, order: Order, customer: Customer, lines: Iterable[OrderLine],
    now: dt.datetime, products: Mapping[str, Product] | None = None,
) -> RiskFacts:
    """Read only what the table's enabled rules look at (the hub calls this on every submit).
    `products`: the lines' products as the caller's transaction read them (an order created
    just before): their stock is not read again. Stock moves only when an order is confirmed;
    the reservation itself is the atomic check (reserve_stock)."""
    kinds = table.kinds()
    facts = RiskFacts(
        total=Decimal(order.total), now=now, today=now.astimezone(SHANGHAI).date(), rush=order.rush,
        delivery_date=order.delivery_date,
        address="".join(p for p in (order.province, order.city, order.district, order.address_detail) if p),
        credit_limit=Decimal(customer.credit_limit or 0),
    )
    if RiskKind.CREDIT_LIMIT in kinds and facts.credit_limit > 0:
        facts.open_receivable = await receivables.exposure(s, customer, order.id)
    if kinds & {RiskKind.STOCK_SHORT, RiskKind.SAFETY_STOCK}:
        needs = stock_needs(lines)
        have = {sku: p for sku, p in (products or {}).items() if sku in needs}
        unread = [sku for sku in needs if sku not in have]
        if unread:
            have.update({p.sku: p for p in (await s.exec(select(Product).where(col(Product.sku).in_(unread)))).all()})
        facts.stock = {
            sku: StockFact(have[sku].stock if sku in have else 0, n, have[sku].safety_stock if sku in have else 0)
            for sku, n in needs.items()
        }
    for rule in table.active():
        if rule.kind != RiskKind.ORDER_RATE:
            continue
        value = {RatePer.CUSTOMER: customer.id, RatePer.PHONE: order.phone, RatePer.IP: order.source_ip}[rule.per]
        if value is None:
            continue
        since = now - dt.timedelta(minutes=rule.window_minutes)
        others = await _placed_count(s, _RATE_COLUMN[rule.per], value, order, since)
        facts.recent_orders = {**facts.recent_orders, (rule.per, rule.window_minutes): others + 1}
    if RiskKind.RETURN_RATE in kinds and order.phone:
        facts.phone_orders = await _placed_count(s, "phone", order.phone, order)
        facts.phone_returns = int((await s.exec(_RETURNS_OF_PHONE, params={"c_value": order.phone})).one())  # type: ignore[call-overload]
    if RiskKind.FIRST_ORDER in kinds:
        facts.earlier_orders = await _placed_count(s, "customer_id", customer.id, order)
    if RiskKind.OVERDUE in kinds:
        facts.max_overdue_days = await receivables.max_overdue_days(s, customer, now)
    return facts


async def risk_hits(
    s: AsyncSession, order: Order, customer: Customer, lines: Iterable[OrderLine], now: dt.datetime | None = None,
    *, products: Mapping[str, Product] | None = None,
) -> list[risk.Hit]:
    """The hold rules (the session's risk table, else credit + stock) that this order trips."""
    table: RiskTable = table_from(s, RISK_RULES, risk.DEFAULT_TABLE)
    hits = risk.evaluate(table, await risk_facts(s, table, order, customer, lines, now or utcnow(), products))
    risk.report(hits)
    return hits
