"""Recording a payment (CSV import or the payment hook): find the customer, match the order,
and close an order that is now delivered and paid. One function for both ways in, so a bank
import and a hook call of the same payment (same `reference`) record it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import actions, receivables
from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, Order, Payment, utcnow


class PaymentError(ValueError):
    """A payment that cannot be recorded; the message says why, in Chinese."""


@dataclass(frozen=True)
class PaymentIn:
    reference: str
    amount: str | Decimal
    customer: str = ""  # id, name, company or phone; may be empty when `order` is given
    order: str = ""  # order number (SO…), optional
    paid_at: str | dt.datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class Recorded:
    payment: Payment
    new: bool  # False: this reference was recorded before (a retry)
    order_number: str | None
    closed: bool


def _amount(raw: str | Decimal) -> Decimal:
    try:
        value = Decimal(str(raw).replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        raise PaymentError(f"金额「{raw}」不是数字") from None
    if not value.is_finite() or value <= 0:
        raise PaymentError(f"金额必须大于零（收到 {raw}）")
    return value.quantize(Decimal("0.01"))


def _when(raw: str | dt.datetime | None) -> dt.datetime:
    if raw in (None, ""):
        return utcnow()
    try:
        when = raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise PaymentError(f"付款时间「{raw}」看不懂（用 2026-03-01 或 2026-03-01T10:00:00+08:00）") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def _customer(s: AsyncSession, ref: str) -> Customer | None:
    ref = ref.strip()
    if ref.isdigit() and len(ref) < 11:
        return await s.get(Customer, int(ref))
    rows = (await s.exec(select(Customer).where(or_(Customer.name == ref, Customer.company == ref)))).all()
    if len(rows) == 1:
        return rows[0]
    by_phone = [c for c in (await s.exec(select(Customer))).all() if ref in (c.phones or [])] if ref.isdigit() else []
    return by_phone[0] if len(by_phone) == 1 else None


async def record_payment(s: AsyncSession, data: PaymentIn, source: str = "import") -> Recorded:
    """Record one payment in the caller's transaction; PaymentError when it cannot be."""
    reference = (data.reference or "").strip()
    if not reference:
        raise PaymentError("缺少付款流水号（reference）")
    amount, paid_at = _amount(data.amount), _when(data.paid_at)
    existing = (await s.exec(select(Payment).where(Payment.reference == reference))).first()
    if existing is not None:
        if Decimal(existing.amount) != amount:
            raise PaymentError(f"流水号 {reference} 已记录为 {Decimal(existing.amount):.2f} 元，这次是 {amount:.2f} 元")
        return Recorded(existing, False, None, False)
    named: Order | None = None
    if data.order.strip():
        named = (await s.exec(select(Order).where(Order.number == data.order.strip()))).first()
        if named is None:
            raise PaymentError(f"没有订单 {data.order.strip()}")
    customer = await _customer(s, data.customer) if data.customer.strip() else None
    if customer is None and named is not None and not data.customer.strip():
        customer = await s.get(Customer, named.customer_id)
    if customer is None:
        raise PaymentError(f"找不到客户「{data.customer}」（填客户编号、名称、公司或电话）")
    if named is not None and named.customer_id != customer.id:
        raise PaymentError(f"订单 {named.number} 不是客户「{data.customer}」的")
    order = named or await receivables.match_order(s, customer.id, amount, None)
    payment = Payment(reference=reference, customer_id=customer.id, order_id=order.id if order else None,
                      amount=amount, paid_at=paid_at, source=source, note=data.note)
    s.add(payment)
    await s.flush()
    closed = False
    if order is not None and await receivables.settled(s, order):
        try:
            result = await actions.close_if_settled(s, actions.OrderResult(order, []))
            closed = result.order.status == "closed"
        except OrderError as exc:  # changed meanwhile: the payment stays recorded
            if exc.code != OrderErrorCode.CONFLICT:
                raise
    return Recorded(payment, True, order.number if order else None, closed)
