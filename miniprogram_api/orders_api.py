"""Draft previews, placing orders (idempotently), listing, detail and cancelling.

Object-level authorisation: every query is scoped to the logged-in customer, and another
customer's order answers 404 exactly like a missing one (no probing order numbers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import orders
from miniprogram_api.endpoints import Call, Reply
from miniprogram_api.errors import ApiError, not_found
from miniprogram_api.schemas import (
    CancelIn,
    DraftIn,
    DraftOut,
    OrderEditIn,
    OrderEventOut,
    OrderIn,
    OrderLineOut,
    OrderOut,
    OrderPage,
    OrderQuery,
    OrderSummary,
    ShipTo,
)
from orders import Idempotency, IdempotencyConflict, actions
from orders.actors import Actor
from orders.customers import join_by_phone
from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, CustomerAddress, Order, OrderEvent, OrderLine
from orders.status import TRANSITIONS, Action, OrderStatus, Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Hub refusals caused by the lines of the request itself: the body is wrong, so 422.
_BAD_LINE = frozenset({
    OrderErrorCode.PRODUCT_NOT_FOUND, OrderErrorCode.PRODUCT_INACTIVE, OrderErrorCode.UNKNOWN_UNIT,
    OrderErrorCode.INVALID_QUANTITY, OrderErrorCode.LINE_TYPE_FORBIDDEN,
})
# The API's line types → the hub's (orders.pricing.LineType); "product" reads better to a client.
LINE_TYPES = {"product": "main", "gift": "gift", "freight": "freight", "service": "service"}
IDEMPOTENCY_HEADER = "Idempotency-Key"


def today_in_shanghai(now: dt.datetime) -> dt.date:
    return now.astimezone(SHANGHAI).date()


# ---- drafts --------------------------------------------------------------------------


async def preview_draft(call: Call) -> DraftOut:
    """What the bot understood from a free-text order; nothing is stored."""
    import nlp

    body: DraftIn = call.body
    today = body.today or today_in_shanghai(call.services.clock())
    async with call.services.sessionmaker() as session:
        catalog = await call.services.catalog.get(session)
    draft = nlp.extract_draft(body.text, today, catalog)
    return DraftOut.model_validate(draft.to_dict())


# ---- reading orders ------------------------------------------------------------------


def can_cancel(status: str) -> bool:
    return (OrderStatus(status), Action.CANCEL) in TRANSITIONS and Role.CUSTOMER in TRANSITIONS[
        (OrderStatus(status), Action.CANCEL)
    ].roles


def summary(order: Order) -> OrderSummary:
    status = OrderStatus(order.status)
    return OrderSummary(
        number=order.number, status=status, status_label=status.label, total=order.total,
        delivery_date=order.delivery_date, rush=order.rush, created_at=order.created_at,
    )


async def _own_order(session: AsyncSession, customer_id: int, number: str) -> Order:
    order = (
        await session.exec(select(Order).where(Order.number == number, Order.customer_id == customer_id))
    ).first()
    if order is None:
        raise not_found("订单", "order_not_found")
    return order


async def order_detail(session: AsyncSession, order: Order) -> OrderOut:
    lines = (
        await session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.id)))
    ).all()
    events = (
        await session.exec(
            select(OrderEvent)
            .where(OrderEvent.order_id == order.id, col(OrderEvent.visible_to_customer))
            .order_by(col(OrderEvent.id))
        )
    ).all()
    base = summary(order)
    return OrderOut(
        **base.model_dump(),
        channel=order.channel, subtotal=order.subtotal, discount=order.discount,
        ship_to=ShipTo(contact=order.contact, phone=order.phone, province=order.province,
                       city=order.city, district=order.district, detail=order.address_detail),
        remarks=order.remarks, carrier=order.carrier, waybill_no=order.waybill_no,
        can_cancel=can_cancel(order.status),
        lines=[OrderLineOut.model_validate(line) for line in lines],
        events=[OrderEventOut.model_validate(e) for e in events],
    )


async def list_orders(call: Call) -> OrderPage:
    q: OrderQuery = call.query
    where = [Order.customer_id == call.me.customer_id]
    if q.status is not None:
        where.append(Order.status == q.status.value)
    async with call.services.sessionmaker() as session:
        total = (await session.exec(select(func.count()).select_from(Order).where(*where))).one()
        rows = (
            await session.exec(
                select(Order).where(*where).order_by(col(Order.id).desc())
                .offset((q.page - 1) * q.page_size).limit(q.page_size)
            )
        ).all()
    return OrderPage(items=[summary(o) for o in rows], total=total, page=q.page, page_size=q.page_size)


async def get_order(call: Call) -> OrderOut:
    async with call.services.sessionmaker() as session:
        order = await _own_order(session, call.me.customer_id, call.params["number"])
        return await order_detail(session, order)


# ---- placing an order ----------------------------------------------------------------


def _idempotency_key(call: Call) -> str:
    key = (call.request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key:
        raise ApiError(422, "idempotency_key_required", "下单请求需要 Idempotency-Key 请求头")
    if len(key) > 255:
        raise ApiError(422, "idempotency_key_invalid", "Idempotency-Key 过长（最多 255 个字符）")
    if not key.isprintable():
        raise ApiError(422, "idempotency_key_invalid", "Idempotency-Key 不能包含控制字符")
    return key


async def _ship_to(session: AsyncSession, call: Call, body: OrderIn) -> dict[str, object]:
    if body.address_id is not None:
        row = await session.get(CustomerAddress, body.address_id)
        if row is None or row.customer_id != call.me.customer_id:
            raise not_found("地址", "address_not_found")
        contact, phone, province, city, district, detail = (
            row.contact, row.phone, row.province, row.city, row.district, row.detail)
    elif body.address is not None:
        a = body.address
        contact, phone, province, city, district, detail = (
            a.contact, a.phone, a.province, a.city, a.district, a.detail)
    else:
        raise ApiError(422, "missing_fields", "请填写收货地址", missing=["address"])
    return {"contact": contact, "phone": phone, "province": province, "city": city,
            "district": district or None, "address_detail": detail}


async def place_order(call: Call) -> Reply:
    """Create, price, route and submit an order in one transaction (orders.place_order).

    Idempotent per customer and Idempotency-Key: the key is claimed in the same transaction
    as the order, so a retry (even a concurrent one) gets the first order back, never a
    second; the same key with a different body is a 409.
    """
    body: OrderIn = call.body
    key = _idempotency_key(call)
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    request = Idempotency(f"customer:{call.me.customer_id}", key, digest)
    actor = Actor.customer(call.me.customer_id, call.me.openid)
    async with call.services.sessionmaker() as session:
        async with session.begin():
            fields = await _ship_to(session, call, body)
            fields.update(delivery_date=body.delivery_date, rush=body.rush, remarks=body.remarks)
            lines = [actions.DraftLine(sku=i.sku, quantity=i.quantity, unit=i.unit, line_type=LINE_TYPES[i.line_type])
                     for i in body.items]
            me = await session.get(Customer, call.me.customer_id)
            if me is not None:  # the same phone from the chat: one customer (orders/customers.py)
                await join_by_phone(session, me, fields.get("phone"), free="mp_openid", keep_existing=False)
            try:
                placed = await orders.place_order(
                    session, request, customer_id=call.me.customer_id, lines=lines, actor=actor,
                    channel="miniprogram", rules=call.services.rules.current(), fields=fields,
                    now=call.services.clock(), source_ip=call.request.remote,
                )
            except IdempotencyConflict as exc:
                if exc.reason == "reused":
                    raise ApiError(409, "idempotency_key_reused", "该 Idempotency-Key 已用于另一笔不同的下单请求") from exc
                raise ApiError(409, "idempotency_in_progress", "相同的下单请求正在处理中，请稍后重试") from exc
            except OrderError as exc:
                if exc.code in _BAD_LINE:  # the request names a product or unit that is not sold
                    raise ApiError(422, exc.code.value, exc.message) from exc
                if exc.code == OrderErrorCode.MISSING_FIELDS:
                    missing = list(exc.details.get("missing") or [])
                    raise ApiError(422, "missing_fields", exc.message, missing=missing) from exc
                raise
        detail = await order_detail(session, placed.order)
    headers = {"Idempotent-Replayed": "true"} if placed.replayed else None
    return Reply(detail, status=200 if placed.replayed else 201, headers=headers)


async def cancel_order(call: Call) -> OrderOut:
    """Only before shipping: the state machine refuses a customer's cancel afterwards (409).
    A placed order needs the customer's reason (422 reason_required), kept on the event."""
    body: CancelIn | None = call.body
    actor = Actor.customer(call.me.customer_id, call.me.openid)
    async with call.services.sessionmaker() as session:
        order = await _own_order(session, call.me.customer_id, call.params["number"])
        if not can_cancel(order.status):
            status = OrderStatus(order.status)
            raise ApiError(409, "cannot_cancel", f"订单「{status.label}」，不能再取消，请联系业务员")
        order_id = order.id
        placed = order.status != OrderStatus.DRAFT.value
    assert order_id is not None
    reason = (body.reason if body else None) or None
    if placed and not reason:  # the hub refuses it too; say so before touching the order
        raise ApiError(422, "reason_required", "取消已提交的订单请填写原因")
    await actions.cancel(call.services.sessionmaker, order_id, actor, reason=reason or "客户在小程序取消草稿")
    async with call.services.sessionmaker() as session:
        fresh = await session.get(Order, order_id)
        assert fresh is not None
        return await order_detail(session, fresh)


async def edit_order(call: Call) -> OrderOut:
    """The customer changes their placed order: add lines (line_type as when ordering: gifts,
    freight and services are the desk's, 422 line_type_forbidden), remove lines, change the
    delivery date or remark — always with a reason (422 reason_required), kept on the event
    with every change as [before, after]. The state machine decides when (409 after a rep
    confirmed it)."""
    body: OrderEditIn = call.body
    actor = Actor.customer(call.me.customer_id, call.me.openid)
    async with call.services.sessionmaker() as session:
        order = await _own_order(session, call.me.customer_id, call.params["number"])
        order_id = order.id
    assert order_id is not None
    fields: dict[str, object] = {}
    if body.delivery_date is not None:
        fields["delivery_date"] = body.delivery_date
    if body.remarks is not None:
        fields["remarks"] = body.remarks
    change = actions.OrderEdit(
        fields=fields, remove_lines=list(body.remove_lines),
        add_lines=[actions.DraftLine(sku=i.sku, quantity=i.quantity, unit=i.unit, line_type=LINE_TYPES[i.line_type])
                   for i in body.add_items],
    )
    try:
        await actions.edit(call.services.sessionmaker, order_id, actor, change, reason=body.reason)
    except OrderError as exc:
        if exc.code in _BAD_LINE:
            raise ApiError(422, exc.code.value, exc.message) from exc
        raise
    async with call.services.sessionmaker() as session:
        fresh = await session.get(Order, order_id)
        assert fresh is not None
        return await order_detail(session, fresh)
