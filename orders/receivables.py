"""Receivables: what each customer still owes, when it fell due, and payments matched to orders.

An order is owed from the moment it is submitted until it is closed or cancelled; payments
matched to it reduce what is owed, and a customer's unmatched payments are a prepaid balance
that covers any of their orders. A receivable falls due on the order date for prepayment
customers (款到发货), else `payment_terms_days` after delivery; undelivered credit orders are
not yet due. Credit checks count these open receivables, not every unclosed order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, not_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import Customer, Order, Payment
from orders.status import OrderStatus
from orders.upsert import dialect_name

ZERO = Decimal(0)
OWED_STATUSES = (
    OrderStatus.PENDING, OrderStatus.ON_HOLD, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
)


def _aware(ts: dt.datetime) -> dt.datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def due_at(customer: Customer, order: Order) -> dt.datetime | None:
    """When the order's amount falls due, or None while it is not yet due."""
    if customer.prepayment:
        return _aware(order.created_at)
    if order.delivered_at is None:
        return None
    return _aware(order.delivered_at) + dt.timedelta(days=customer.payment_terms_days)


@dataclass(frozen=True)
class Receivable:
    order_id: int
    number: str
    total: Decimal
    paid: Decimal
    due: dt.datetime | None

    @property
    def outstanding(self) -> Decimal:
        return max(self.total - self.paid, ZERO)

    def overdue_days(self, now: dt.datetime) -> int:
        if self.due is None or self.outstanding <= 0 or now <= self.due:
            return 0
        return (now - self.due).days


async def paid_on(s: AsyncSession, order_id: int) -> Decimal:
    stmt = select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.order_id == order_id)
    return Decimal((await s.exec(stmt)).one())


async def prepaid_balance(s: AsyncSession, customer_id: int) -> Decimal:
    """Payments of this customer not matched to any order."""
    stmt = select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.customer_id == customer_id, col(Payment.order_id).is_(None)
    )
    return Decimal((await s.exec(stmt)).one())


async def open_receivables(s: AsyncSession, customer: Customer, exclude_order_id: int | None = None) -> list[Receivable]:
    """The customer's owed orders with what was paid on each (one query)."""
    paid = (
        select(Payment.order_id, func.sum(Payment.amount).label("paid"))
        .where(Payment.customer_id == customer.id, col(Payment.order_id).is_not(None))
        .group_by(Payment.order_id)
        .subquery()
    )
    stmt = (
        select(Order, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.order_id == Order.id)
        .where(Order.customer_id == customer.id, col(Order.status).in_([st.value for st in OWED_STATUSES]))
        .order_by(col(Order.id))
    )
    if exclude_order_id is not None:
        stmt = stmt.where(Order.id != exclude_order_id)
    rows = (await s.exec(stmt)).all()
    return [Receivable(o.id, o.number, Decimal(o.total), Decimal(p), due_at(customer, o)) for o, p in rows]


async def exposure(s: AsyncSession, customer: Customer, exclude_order_id: int | None = None) -> Decimal:
    """Open receivables less the prepaid balance: what credit is used by other orders."""
    owed = sum((r.outstanding for r in await open_receivables(s, customer, exclude_order_id)), ZERO)
    return owed - await prepaid_balance(s, customer.id)


async def max_overdue_days(s: AsyncSession, customer: Customer, now: dt.datetime) -> int:
    return max((r.overdue_days(now) for r in await open_receivables(s, customer)), default=0)


async def settled(s: AsyncSession, order: Order) -> bool:
    """Delivered and paid in full (by matched payments): time to close it."""
    return order.status == OrderStatus.DELIVERED and await paid_on(s, order.id) >= Decimal(order.total)


async def match_order(s: AsyncSession, customer_id: int, amount: Decimal, number: str | None) -> Order | None:
    """The order a payment pays: the one named (it must be this customer's), else the only
    owed order of exactly this amount still unpaid; None keeps it as prepaid balance."""
    if number:
        order = (await s.exec(select(Order).where(Order.number == number))).first()
        return order if order is not None and order.customer_id == customer_id else None
    candidates = (
        await s.exec(
            select(Order).where(
                Order.customer_id == customer_id, Order.total == amount,
                col(Order.status).in_([st.value for st in OWED_STATUSES]),
            )
        )
    ).all()
    unpaid = [o for o in candidates if await paid_on(s, o.id) == 0]
    return unpaid[0] if len(unpaid) == 1 else None


_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def _terms_end_before(s: AsyncSession, cutoff: dt.datetime) -> Any:
    """delivered_at + the customer's payment terms < cutoff, in the database's own date
    arithmetic, so receivables not yet due never leave it."""
    if dialect_name(s) == "postgresql":
        return Order.delivered_at + func.make_interval(0, 0, 0, Customer.payment_terms_days) < cutoff
    cutoff_day = _aware(cutoff).timestamp() / 86400 + _UNIX_EPOCH_JULIAN_DAY
    return func.julianday(Order.delivered_at) + Customer.payment_terms_days < cutoff_day


async def overdue_payers(s: AsyncSession, now: dt.datetime) -> dict[int, int]:
    """Customer id → days the oldest unpaid receivable is past due, for every customer with
    one at least a day overdue (the board's yellow "overdue payer"). One query over the owed
    orders that can be due at all (prepayment customers, or delivered), paid sums joined."""
    cutoff = now - dt.timedelta(days=1)
    paid = (
        select(Payment.order_id, func.sum(Payment.amount).label("paid"))
        .where(col(Payment.order_id).is_not(None))
        .group_by(Payment.order_id)
        .subquery()
    )
    stmt = (
        select(Order.customer_id, Order.created_at, Order.delivered_at, Order.total,
               func.coalesce(paid.c.paid, 0), Customer.prepayment, Customer.payment_terms_days)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(paid, paid.c.order_id == Order.id)
        .where(col(Order.status).in_([st.value for st in OWED_STATUSES]),
               Order.total > func.coalesce(paid.c.paid, 0),
               # due a day ago or earlier: prepayment from the order date, else terms after delivery
               or_(and_(col(Customer.prepayment), col(Order.created_at) < cutoff),
                   and_(not_(col(Customer.prepayment)), _terms_end_before(s, cutoff))))
    )
    out: dict[int, int] = {}
    for customer_id, created, delivered, total, paid_sum, prepayment, terms in (await s.exec(stmt)).all():
        due = _aware(created) if prepayment else _aware(delivered) + dt.timedelta(days=terms or 0)
        days = Receivable(0, "", Decimal(total), Decimal(paid_sum), due).overdue_days(now)
        if days >= 1:
            out[customer_id] = max(days, out.get(customer_id, 0))
    return out
