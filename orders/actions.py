"""The order hub's use cases: create, submit, confirm, reject, hold, release, edit,
reassign, ship, deliver, close, cancel.

Every action is ONE transaction that
1. loads the order with a row lock (SELECT … FOR UPDATE on PostgreSQL),
2. checks the actor may touch this order (orders.permissions) and that the state machine
   allows the action for the actor's role (orders.status.next_status),
3. writes the order with a version check (UPDATE … WHERE id = :id AND version = :v, which
   bumps the version); zero rows means someone else changed it first → CONFLICT,
4. adds one OrderEvent per state change and the Outbox rows for its side effects.
A refused action raises OrderError; nothing of it is committed. Actions also take
`expected_version`: the version the caller saw (a card, a form); if the order has moved on
since, the action is refused with CONFLICT instead of acting on stale information.

`db` is an async_sessionmaker (the action opens, commits and closes its own session) or
an AsyncSession: an idle session gets its own transaction committed here; a session
already in a transaction is joined, flushed and left for the caller to commit (or to
roll back if an OrderError comes out).

Concurrency: on PostgreSQL the row lock queues a second action on the same order until
the first commits; it then sees the new status (illegal_transition) or version. On
SQLite the first write of a transaction takes the database write lock (waiting up to the
busy timeout), and the version check rejects a writer whose read was stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import checks, outbound, pricing, receivables, repricing, special_lines
from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.events import EventType, add_event, jsonable
from orders.models import Customer, Order, OrderEvent, OrderLine, Product, SalesRep, new_row, utcnow
from orders.notifications import order_payload, rep_card_payload
from orders.numbering import next_order_number
from orders.outbox import OutboxKind, dedup_key, enqueue
from orders.permissions import check_access, check_order_access, customer_places
from orders.pricing import LineType
from orders.status import Action, OrderStatus, Role, TransitionError, next_status

DB = AsyncSession | async_sessionmaker[AsyncSession]

# Order fields an edit (or a new order) may set directly.
ORDER_FIELDS = frozenset(
    {"contact", "phone", "province", "city", "district", "address_detail", "delivery_date",
     "rush", "remarks", "rep_remarks"}
)
STAFF_FIELDS = frozenset({"rep_remarks"})  # the desk's own note: customers neither set nor see it


@dataclass(frozen=True)
class DraftLine:
    """One requested line: a catalog SKU (None = not matched yet), quantity in `unit`."""

    sku: str | None
    quantity: Decimal | int | float | str
    unit: str | None = None  # None = the product's base unit
    raw: str | None = None  # the customer's words
    line_type: str = LineType.MAIN
    name: str | None = None  # shown for unmatched lines
    # Lines the desk adds by hand (orders/special_lines.py): a freight or service line's
    # amount, the main line a gift goes with, and why it was added.
    amount: Decimal | int | str | None = None
    parent_line_id: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class OrderEdit:
    """What an edit changes. Quantities are in the line's own unit; prices per base unit."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    quantities: Mapping[int, Any] = field(default_factory=dict)  # line id -> quantity
    prices: Mapping[int, Any] = field(default_factory=dict)  # line id -> unit price
    add_lines: Sequence[DraftLine] = ()
    remove_lines: Sequence[int] = ()


@dataclass
class OrderResult:
    order: Order
    lines: list[OrderLine]
    missing: list[str] = field(default_factory=list)  # for drafts: what to ask the customer
    # The lines' products as create_order read them: the session's identity map is weak, so
    # routing the new order in the same transaction would otherwise read them again.
    products: dict[str, Product] = field(default_factory=dict)

    @property
    def status(self) -> OrderStatus:
        return OrderStatus(self.order.status)


@asynccontextmanager
async def unit_of_work(db: DB) -> AsyncIterator[AsyncSession]:
    """One transaction for one action (see the module docstring for who commits)."""
    if isinstance(db, AsyncSession):
        if db.in_transaction():
            yield db
            await db.flush()
        else:
            async with db.begin():
                yield db
        return
    async with db() as session, session.begin():
        yield session


def missing_fields(order: Order, lines: Sequence[OrderLine]) -> list[str]:
    """What an order still needs before it can be submitted (names as in extraction.md)."""
    missing = []
    main = [line for line in lines if line.line_type == LineType.MAIN]
    if not main or any(line.sku is None for line in main):
        missing.append("items")
    if not order.phone:
        missing.append("phone")
    if not order.address_detail or not (order.province or order.city):
        missing.append("address")
    if order.delivery_date is None:
        missing.append("delivery_date")
    return missing


# --- loading and writing ---------------------------------------------------------------


async def _lock_order(s: AsyncSession, order_id: int) -> Order:
    stmt = (
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    order = (await s.exec(stmt)).first()
    if order is None:
        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, f"订单 {order_id} 不存在")
    return order


def _check_version(order: Order, expected_version: int | None) -> None:
    """A client that acted on what it saw (a card, a form) passes that version: a newer
    order means what it saw is stale, so the action is refused with CONFLICT."""
    if expected_version is not None and expected_version != order.version:
        raise OrderError(
            OrderErrorCode.CONFLICT, "订单已经更新，请查看最新内容后再操作",
            expected_version=expected_version, version=order.version,
        )


async def _lines(s: AsyncSession, order_id: int) -> list[OrderLine]:
    stmt = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
    return list((await s.exec(stmt)).all())


def _next(status: str, action: Action, role: Role) -> OrderStatus:
    try:
        return next_status(OrderStatus(status), action, role)
    except TransitionError as err:
        raise OrderError(OrderErrorCode(err.code), err.message) from err


def _diff(order: Order, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [getattr(order, k), v] for k, v in values.items() if getattr(order, k) != v}


async def _write(s: AsyncSession, order: Order, values: Mapping[str, Any]) -> None:
    """The optimistic lock: update only if nobody bumped the version since we read it."""
    version = order.version
    values = {**values, "version": version + 1, "updated_at": utcnow()}
    params = {f"w_{key}": value for key, value in values.items()}
    params.update(w__id=order.id, w__version=version)
    if (await s.exec(_write_statement(tuple(values)), params=params)).rowcount != 1:  # type: ignore[call-overload]
        raise OrderError(OrderErrorCode.CONFLICT, "订单刚被别人修改过，请刷新后重试")
    for key, value in values.items():
        set_committed_value(order, key, value)


_WRITES: dict[tuple[str, ...], Any] = {}


def _write_statement(columns: tuple[str, ...]) -> Any:
    """_write's UPDATE for these columns, built once and run with parameters (building it
    coerces every comparison and value, which costs more than running it)."""
    stmt = _WRITES.get(columns)
    if stmt is None:
        table = Order.__table__  # type: ignore[attr-defined]
        stmt = (update(table)
                .where(table.c.id == bindparam("w__id"), table.c.version == bindparam("w__version"))
                .values({name: bindparam(f"w_{name}") for name in columns}))
        if len(_WRITES) < 256:  # the hub's actions write a few dozen column sets
            _WRITES[columns] = stmt
    return stmt


async def _product(s: AsyncSession, sku: str, seen: dict[str, Product] | None = None) -> Product:
    product = await s.get(Product, sku)
    if product is None:
        raise OrderError(OrderErrorCode.PRODUCT_NOT_FOUND, f"目录里没有 {sku}", sku=sku)
    if seen is not None:
        seen[sku] = product
    return product


async def _new_line(s: AsyncSession, draft: DraftLine, tier: str, actor: Actor | None = None,
                    seen: dict[str, Product] | None = None) -> OrderLine:
    """A priced OrderLine (not yet attached to an order); unmatched SKUs stay unpriced.
    Gift, freight and service lines are the desk's (special_lines.manual_line).
    `seen` collects the products read."""
    if draft.line_type != LineType.MAIN:
        special_lines.check_may_add(actor, draft.line_type)
        product = await _product(s, draft.sku, seen) if draft.sku is not None else None
        return special_lines.manual_line(draft, product)
    if draft.sku is None:
        q = pricing.as_quantity(draft.quantity)
        return new_row(
            OrderLine, order_id=0, sku=None, name=draft.name or draft.raw or "", quantity=q,
            unit=draft.unit or "", base_quantity=q, base_unit=draft.unit or "",
            line_type=draft.line_type, counts_as_sales=draft.line_type != LineType.GIFT,
            raw=draft.raw,
        )
    product = await _product(s, draft.sku, seen)
    if not product.active:
        raise OrderError(OrderErrorCode.PRODUCT_INACTIVE, f"{product.sku} 已停售", sku=product.sku)
    priced = pricing.price_line(product, draft.quantity, draft.unit, tier, draft.line_type)
    return new_row(
        OrderLine, order_id=0, sku=product.sku, name=product.name, quantity=priced.quantity,
        unit=priced.unit, base_quantity=priced.base_quantity, base_unit=priced.base_unit,
        unit_price=priced.unit_price, amount=priced.amount, line_type=priced.line_type,
        counts_as_sales=priced.counts_as_sales, raw=draft.raw,
    )


def _check_fields(fields: Mapping[str, Any], role: Role | None = None) -> dict[str, Any]:
    allowed = ORDER_FIELDS - STAFF_FIELDS if role == Role.CUSTOMER else ORDER_FIELDS
    unknown = set(fields) - allowed
    if unknown:
        raise OrderError(
            OrderErrorCode.UNKNOWN_FIELD, f"不能修改这些字段：{', '.join(sorted(unknown))}",
            fields=sorted(unknown),
        )
    out = dict(fields)
    if isinstance(out.get("delivery_date"), str):
        try:
            out["delivery_date"] = dt.date.fromisoformat(out["delivery_date"])
        except ValueError:
            raise OrderError(
                OrderErrorCode.INVALID_FIELD, f"交货日期「{out['delivery_date']}」看不懂", field="delivery_date"
            ) from None
    return out


async def _hold_released(s: AsyncSession, order_id: int) -> bool:
    """True when a manager released the latest hold: the checks it overrode are skipped."""
    stmt = (
        select(OrderEvent.type)
        .where(OrderEvent.order_id == order_id, OrderEvent.type.in_([EventType.HELD, EventType.RELEASED]))
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    return (await s.exec(stmt)).first() == EventType.RELEASED


async def _blocking(
    s: AsyncSession, order: Order, customer: Customer, lines: Sequence[OrderLine], *, new: bool = False,
    products: Mapping[str, Product] | None = None,
) -> tuple[str, str] | None:
    """(rule name, reason) when hold rules (orders/risk.py) block the order, else None; each
    rule that fired is a `risk_hit` event naming it.

    The customer's row is locked first (FOR UPDATE on PostgreSQL) so two orders of one
    customer submitted at once are checked against credit one after the other, never
    both against the same open balance."""
    if not new and await _hold_released(s, order.id):
        return None
    if s.bind.dialect.name != "sqlite":  # SQLite has no row locks: its one writer already orders them
        await s.exec(select(Customer.id).where(Customer.id == customer.id).with_for_update())  # type: ignore[call-overload]
    hits = await checks.risk_hits(s, order, customer, lines, products=products)
    for hit in hits:
        add_event(s, order.id, EventType.RISK_HIT, Actor.system(f"rule:{hit.rule_id}"),
                  changes={"rule": hit.rule_id, "kind": hit.kind}, reason=hit.reason)
    if not hits:
        return None
    return "rule:" + "+".join(h.rule_id for h in hits), "；".join(h.reason for h in hits)


def line_text(line: OrderLine) -> str:
    """One line as an event's before/after shows it: 外六角螺栓 M6×20 5000个, 运费 ¥50.00."""
    return special_lines.describe(line)


async def _link_gifts(s: AsyncSession, new: Sequence[OrderLine], lines: Sequence[OrderLine]) -> None:
    """Point each hand-added gift at its main line (the one asked for, else special_lines.pick_parent)."""
    if not any(line.line_type == LineType.GIFT for line in new):
        return  # nothing to link (most orders): no flush
    main = [ln for ln in lines if ln.line_type == LineType.MAIN]
    for line in new:
        if line.line_type != LineType.GIFT:
            continue
        if line.parent_line_id is not None:
            parent = next((ln for ln in main if ln.id == line.parent_line_id), None)
            if parent is None:
                raise OrderError(OrderErrorCode.INVALID_FIELD, "赠品只能跟在一行商品后面", field="parent_line_id")
        else:
            parent = special_lines.pick_parent(line, main)
            if parent is None:
                raise OrderError(OrderErrorCode.MISSING_FIELDS, "订单还没有商品，不能只加赠品", missing=["items"])
            line.parent_line_id = parent.id
    await s.flush()


# --- side effects ------------------------------------------------------------------------


async def _notify_customer(
    s: AsyncSession, order: Order, customer: Customer, lines: Sequence[OrderLine], event: str, **extra: Any
) -> None:
    target = customer.openid or customer.mp_openid or ""
    payload = order_payload(event, order, lines, **extra)
    key = dedup_key(order.id, order.version, OutboxKind.NOTIFY_CUSTOMER)
    await enqueue(s, OutboxKind.NOTIFY_CUSTOMER, target, payload, key)


async def _alert_manager(
    s: AsyncSession, order: Order, lines: Sequence[OrderLine], event: str, reason: str
) -> None:
    """To the assigned rep's manager; an empty target means the managers' group robot."""
    target = ""
    rep = await s.get(SalesRep, order.rep_id) if order.rep_id is not None else None
    if rep is not None and rep.manager_id is not None:
        manager = await s.get(SalesRep, rep.manager_id)
        target = manager.wecom_userid if manager is not None else ""
    payload = rep_card_payload(event, order, lines, reason=reason, hold_reason=order.hold_reason)
    key = dedup_key(order.id, order.version, OutboxKind.ALERT_MANAGER)
    await enqueue(s, OutboxKind.ALERT_MANAGER, target, payload, key)


async def _notify_rep(
    s: AsyncSession, order: Order, lines: Sequence[OrderLine], event: str, **extra: Any
) -> None:
    """The assigned rep's card; an unassigned order alerts the managers instead."""
    rep = await s.get(SalesRep, order.rep_id) if order.rep_id is not None else None
    if rep is None:
        await _alert_manager(s, order, lines, event, "订单没有分配业务员")
        return
    payload = rep_card_payload(event, order, lines, **extra)
    key = dedup_key(order.id, order.version, OutboxKind.NOTIFY_REP, rep.wecom_userid)
    await enqueue(s, OutboxKind.NOTIFY_REP, rep.wecom_userid, payload, key)


# --- actions -----------------------------------------------------------------------------


async def _submit_checked(
    s: AsyncSession,
    order: Order,
    customer: Customer,
    lines: list[OrderLine],
    actor: Actor,
    assignment: Mapping[str, Any],
    source_message_id: int | None,
    *,
    new: bool = False,
    products: Mapping[str, Product] | None = None,
) -> OrderResult:
    """draft → pending, then → on_hold by the system when credit or stock blocks it.
    `new`: created in this transaction (no hold events to look up); `products`: the lines'
    products as this transaction read them."""
    from_status = order.status
    to = _next(order.status, Action.SUBMIT, actor.role)
    values: dict[str, Any] = {"status": to, **{k: v for k, v in assignment.items() if v is not None}}
    if values.get("rep_id") is None and order.rep_id is None and customer.rep_id is not None:
        values["rep_id"] = customer.rep_id
    changes = _diff(order, values)
    blocked = await _blocking(s, order, customer, lines, new=new, products=products)
    if blocked:
        values["status"] = _next(to, Action.HOLD, Role.SYSTEM)
        values["hold_reason"] = blocked[1]
    await _write(s, order, values)
    add_event(
        s, order.id, EventType.SUBMITTED, actor, from_status=from_status, to_status=to,
        changes=changes, source_message_id=source_message_id,
    )
    await _notify_customer(s, order, customer, lines, EventType.SUBMITTED)
    if blocked:
        rule, reason = blocked
        add_event(
            s, order.id, EventType.HELD, Actor.system(rule), from_status=to, to_status=order.status,
            changes={"hold_reason": [None, reason]}, reason=reason,
        )
        await _alert_manager(s, order, lines, EventType.HELD, reason)
    else:
        await _notify_rep(s, order, lines, "new_order")
    return OrderResult(order, lines)


async def create_order(
    db: DB,
    customer_id: int,
    lines: Sequence[DraftLine],
    actor: Actor,
    *,
    fields: Mapping[str, Any] | None = None,
    channel: str = "wechat",
    source_message_id: int | None = None,
    submit: bool = False,
    rep_id: int | None = None,
    routing_rule: str | None = None,
    confirm_due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    source_ip: str | None = None,
) -> OrderResult:
    """A new priced order: a draft, or (submit=True and nothing missing) a pending order.
    The price table (orders/repricing.py) sets its prices, discount, gifts and extra lines.

    The number SO{yyyymmdd}-{nnnn} is taken in the same transaction, so a failed create
    does not burn one. `result.missing` lists what a draft still needs.
    """
    async with unit_of_work(db) as s:
        customer = await s.get(Customer, customer_id)
        if customer is None:
            raise OrderError(OrderErrorCode.CUSTOMER_NOT_FOUND, f"客户 {customer_id} 不存在")
        assigned = rep_id if rep_id is not None else customer.rep_id
        if assigned is None and actor.role in (Role.REP, Role.MANAGER):
            assigned = actor.rep_id
        await check_access(s, actor, customer, assigned, customer_places(customer))
        values = _check_fields(fields or {}, actor.role)
        products: dict[str, Product] = {}
        new_lines = [await _new_line(s, draft, customer.tier, actor, products) for draft in lines]
        totals = pricing.order_totals(new_lines)

        order = new_row(
            Order, number=await next_order_number(s, now),
            customer_id=customer.id, channel=channel, status=OrderStatus.DRAFT.value,
            rep_id=assigned, routing_rule=routing_rule, confirm_due_at=confirm_due_at,
            subtotal=totals.subtotal, discount=totals.discount, total=totals.total,
            source_message_id=source_message_id, source_ip=source_ip, **values,
        )
        s.add(order)
        await s.flush()
        for line in new_lines:
            line.order_id = order.id
            s.add(line)
        await s.flush()
        await _link_gifts(s, new_lines, new_lines)
        priced = await repricing.reprice(s, order, customer, new_lines, now=now)
        new_lines = priced.lines
        order.subtotal, order.discount, order.total = priced.subtotal, priced.discount, priced.total
        order.promotions = priced.applied
        await s.flush()
        created: dict[str, Any] = {"total": [None, order.total], "lines": [None, len(new_lines)]}
        if priced.applied:
            created.update(discount=[None, order.discount], rules=[None, priced.applied])
        add_event(
            s, order.id, EventType.CREATED, actor, to_status=order.status, changes=created,
            source_message_id=source_message_id,
        )
        missing = missing_fields(order, new_lines)
        if submit and not missing:
            return await _submit_checked(s, order, customer, new_lines, actor, {}, source_message_id,
                                         products=products)
        return OrderResult(order, new_lines, missing, products)


async def submit(
    db: DB,
    order_id: int,
    actor: Actor,
    *,
    rep_id: int | None = None,
    routing_rule: str | None = None,
    confirm_due_at: dt.datetime | None = None,
    source_message_id: int | None = None,
    expected_version: int | None = None,
    created: OrderResult | None = None,
) -> OrderResult:
    """The customer confirms a complete draft: pending (assigned to `rep_id`, else the
    customer's own rep), or on_hold when credit or stock blocks it. MISSING_FIELDS lists
    what is still needed. `created`: the draft as create_order returned it in this same
    transaction (orders.place_order): nobody else can see it yet, so it is neither locked
    nor read again, and it has no hold a manager could have released."""
    async with unit_of_work(db) as s:
        if created is not None and created.order.id == order_id:
            order, lines = created.order, list(created.lines)
            customer = await check_order_access(s, actor, order)
            _next(order.status, Action.SUBMIT, actor.role)
        else:
            created = None
            order = await _lock_order(s, order_id)
            customer = await check_order_access(s, actor, order)
            _next(order.status, Action.SUBMIT, actor.role)
            _check_version(order, expected_version)
            lines = await _lines(s, order.id)
        missing = missing_fields(order, lines)
        if missing:
            raise OrderError(
                OrderErrorCode.MISSING_FIELDS, f"还缺：{'、'.join(missing)}", missing=missing
            )
        assignment = {"rep_id": rep_id, "routing_rule": routing_rule, "confirm_due_at": confirm_due_at}
        return await _submit_checked(s, order, customer, lines, actor, assignment, source_message_id,
                                     new=created is not None,
                                     products=created.products if created is not None else None)


async def _done_by(s: AsyncSession, order_id: int, source_message_id: int | None, *types: EventType) -> bool:
    """This inbound message already changed this order this way: an earlier attempt of the
    same outbox row committed the action, and its worker died before the row was finished
    (the rep's reply is written after the action). The action is then not tried again, and
    the caller answers as the first attempt would have, not "操作未成功" for a press that
    worked."""
    if source_message_id is None:
        return False
    stmt = select(OrderEvent.id).where(
        OrderEvent.order_id == order_id, OrderEvent.source_message_id == source_message_id,
        OrderEvent.type.in_(types)).limit(1)  # type: ignore[attr-defined]
    return (await s.exec(stmt)).first() is not None


async def confirm(
    db: DB, order_id: int, actor: Actor, *, source_message_id: int | None = None,
    expected_version: int | None = None,
) -> OrderResult:
    """The rep confirms: prices lock and stock is reserved (recorded in the event). When
    credit or stock blocks it the order goes on_hold instead, with an alert to the manager;
    a manager's release overrides those checks for the next confirmation."""
    async with unit_of_work(db) as s:
        order = await _lock_order(s, order_id)
        customer = await check_order_access(s, actor, order)
        if await _done_by(s, order.id, source_message_id, EventType.CONFIRMED, EventType.HELD):
            return OrderResult(order, await _lines(s, order.id))
        from_status = order.status
        to = _next(order.status, Action.CONFIRM, actor.role)
        _check_version(order, expected_version)
        lines = await _lines(s, order.id)
        blocked = await _blocking(s, order, customer, lines)
        if blocked:
            rule, reason = blocked
            held = _next(order.status, Action.HOLD, Role.SYSTEM)
            await _write(s, order, {"status": held, "hold_reason": reason})
            add_event(
                s, order.id, EventType.HELD, Actor.system(rule), from_status=from_status,
                to_status=held, changes={"hold_reason": [None, reason]},
                reason=f"{actor.id} 确认时被拦截：{reason}", source_message_id=source_message_id,
            )
            await _alert_manager(s, order, lines, EventType.HELD, reason)
            return OrderResult(order, lines)
        await _write(s, order, {"status": to, "hold_reason": None})
        reserved = await checks.reserve_stock(s, checks.stock_needs(lines))
        add_event(
            s, order.id, EventType.CONFIRMED, actor, from_status=from_status, to_status=to,
            changes={"status": [from_status, to], "stock": reserved},
            source_message_id=source_message_id,
        )
        await _notify_customer(s, order, customer, lines, EventType.CONFIRMED)
        await outbound.request_push(s, order, lines, EventType.CONFIRMED)
        return OrderResult(order, lines)


async def _transition(
    db: DB,
    order_id: int,
    action: Action,
    actor: Actor,
    event: EventType,
    *,
    values: Mapping[str, Any] | None = None,
    reason: str | None = None,
    source_message_id: int | None = None,
    notify: str = "customer",  # customer / rep / manager / none
    payload: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    reason_for: str | None = None,
) -> OrderResult:
    """The common shape of a status change: lock, check, write, event, outbox.
    `reason_for`: a person changing a placed order this way must say why (REASON_REQUIRED)."""
    async with unit_of_work(db) as s:
        order = await _lock_order(s, order_id)
        customer = await check_order_access(s, actor, order)
        if await _done_by(s, order.id, source_message_id, event):
            return OrderResult(order, await _lines(s, order.id))
        from_status = order.status
        to = _next(order.status, action, actor.role)
        _check_version(order, expected_version)
        if reason_for and from_status != OrderStatus.DRAFT and actor.role != Role.SYSTEM:
            reason = _need_reason(reason, reason_for)
        lines = await _lines(s, order.id)
        new_values = {"status": to, **(values or {})}
        changes: dict[str, Any] = _diff(order, new_values)
        if not changes:
            raise OrderError(OrderErrorCode.NOTHING_TO_CHANGE, "没有需要修改的内容")
        await _write(s, order, new_values)
        # Leaving `confirmed` for hold or cancel gives the reserved stock back.
        if from_status == OrderStatus.CONFIRMED and to in (OrderStatus.ON_HOLD, OrderStatus.CANCELLED):
            changes["stock"] = await checks.release_stock(s, checks.stock_needs(lines))
        if from_status == OrderStatus.CONFIRMED and to == OrderStatus.CANCELLED:
            await outbound.request_push(s, order, lines, EventType.CANCELLED)  # the WMS has it
        add_event(
            s, order.id, event, actor, from_status=from_status, to_status=to, changes=changes,
            reason=reason, source_message_id=source_message_id,
        )
        extra = {"reason": reason, **(payload or {})}
        if notify == "customer":
            await _notify_customer(s, order, customer, lines, event, **extra)
        elif notify == "rep":
            await _notify_rep(s, order, lines, event, **extra)
        elif notify == "manager":
            await _alert_manager(s, order, lines, event, reason or "")
        return OrderResult(order, lines)


def _need_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise OrderError(OrderErrorCode.REASON_REQUIRED, f"{what}需要说明原因")
    return reason.strip()


async def reject(db: DB, order_id: int, actor: Actor, reason: str, **kw: Any) -> OrderResult:
    """The rep declines (拒绝) a pending order, saying why; the customer is told."""
    reason = _need_reason(reason, "拒绝订单")
    return await _transition(db, order_id, Action.REJECT, actor, EventType.REJECTED, reason=reason, **kw)


async def hold(db: DB, order_id: int, actor: Actor, reason: str, **kw: Any) -> OrderResult:
    """A rule or a manager stops the order; managers are alerted. A confirmed order's
    reserved stock goes back."""
    reason = _need_reason(reason, "挂起订单")
    return await _transition(
        db, order_id, Action.HOLD, actor, EventType.HELD, values={"hold_reason": reason},
        reason=reason, notify="manager", **kw,
    )


async def release(db: DB, order_id: int, actor: Actor, reason: str | None = None, **kw: Any) -> OrderResult:
    """A manager overrides the hold (saying why): back to pending, and the next confirmation
    skips the credit and stock checks that held it."""
    return await _transition(
        db, order_id, Action.RELEASE, actor, EventType.RELEASED, values={"hold_reason": None},
        reason=reason, notify="rep", reason_for="放行订单", **kw,
    )


async def reassign(
    db: DB, order_id: int, actor: Actor, rep_id: int, reason: str | None = None,
    confirm_due_at: dt.datetime | None = None, **kw: Any,
) -> OrderResult:
    """Hand the order to another active rep (转交); the new rep gets the card."""
    async with unit_of_work(db) as s:
        rep = await s.get(SalesRep, rep_id)
        if rep is None or not rep.active:
            raise OrderError(OrderErrorCode.REP_NOT_FOUND, f"业务员 {rep_id} 不存在或已停用")
        values: dict[str, Any] = {"rep_id": rep_id}
        if confirm_due_at is not None:
            values["confirm_due_at"] = confirm_due_at
        return await _transition(
            s, order_id, Action.REASSIGN, actor, EventType.REASSIGNED, values=values,
            reason=reason, notify="rep", **kw,
        )


async def ship(db: DB, order_id: int, actor: Actor, carrier: str, waybill_no: str, **kw: Any) -> OrderResult:
    """A waybill is attached (again for a corrected one); the customer gets the tracking."""
    if not waybill_no or not waybill_no.strip():
        raise OrderError(OrderErrorCode.WAYBILL_REQUIRED, "发货需要运单号")
    values = {"carrier": (carrier or "").strip() or None, "waybill_no": waybill_no.strip()}
    return await _transition(
        db, order_id, Action.SHIP, actor, EventType.SHIPPED, values=values, payload=values, **kw,
    )


async def deliver(db: DB, order_id: int, actor: Actor, **kw: Any) -> OrderResult:
    """Receipt reported by the carrier, a hook or the customer; the rep is told. An order
    already paid in full closes at once (orders/receivables.py)."""
    async with unit_of_work(db) as s:
        result = await _transition(
            s, order_id, Action.DELIVER, actor, EventType.DELIVERED, values={"delivered_at": utcnow()},
            notify="rep", **kw,
        )
        return await close_if_settled(s, result)


async def close_if_settled(s: AsyncSession, result: OrderResult) -> OrderResult:
    """Delivered and paid: closed by the system (the payment hook and import call this too)."""
    if not await receivables.settled(s, result.order):
        return result
    return await _transition(s, result.order.id, Action.CLOSE, Actor.system("rule:paid"), EventType.CLOSED,
                             reason="已签收且已付清", notify="none")


async def close(db: DB, order_id: int, actor: Actor, reason: str | None = None, **kw: Any) -> OrderResult:
    """Paid and invoiced, or closed by a manager."""
    return await _transition(db, order_id, Action.CLOSE, actor, EventType.CLOSED, reason=reason, **kw)


async def cancel(db: DB, order_id: int, actor: Actor, reason: str | None = None, **kw: Any) -> OrderResult:
    """Cancelled by the customer (before shipping), the rep or a manager, saying why once the
    order is placed; the other side is told. A confirmed order's reserved stock goes back."""
    notify = "rep" if actor.role == Role.CUSTOMER else "customer"
    return await _transition(
        db, order_id, Action.CANCEL, actor, EventType.CANCELLED, reason=reason, notify=notify,
        reason_for="取消已提交的订单", **kw,
    )


def _as_price(value: Any) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise OrderError(OrderErrorCode.INVALID_PRICE, f"单价「{value}」不是数字") from None
    if not price.is_finite() or price < 0:
        raise OrderError(OrderErrorCode.INVALID_PRICE, f"单价不能为负（收到 {value}）")
    return price.quantize(pricing.UNIT_PRICE_STEP)


async def _check_price(
    s: AsyncSession, actor: Actor, customer: Customer, line: OrderLine, price: Decimal
) -> None:
    """Customers never set prices; a rep stays within their discount limit off list price."""
    if actor.role == Role.CUSTOMER or line.sku is None or not line.counts_as_sales:
        raise OrderError(OrderErrorCode.PRICE_CHANGE_FORBIDDEN, "不能修改这一行的价格", line_id=line.id)
    if actor.role != Role.REP:
        return
    rep = await s.get(SalesRep, actor.rep_id)
    limit = Decimal(rep.discount_limit) if rep is not None else Decimal(0)
    list_price = pricing.unit_price(await _product(s, line.sku), customer.tier)
    floor = pricing.lowest_price(list_price, limit)
    if price < floor:
        raise OrderError(
            OrderErrorCode.PRICE_BELOW_LIMIT,
            f"{line.sku} 最低只能给到 {floor} 元（目录价 {list_price}，折扣上限 {limit:%}）",
            line_id=line.id, floor=str(floor),
        )


async def edit(
    db: DB, order_id: int, actor: Actor, change: OrderEdit, *, reason: str | None = None,
    source_message_id: int | None = None, expected_version: int | None = None,
) -> OrderResult:
    """Change quantities, lines, delivery date, address or (staff only) prices (修改).

    Prices are locked once confirmed; quantity changes of a confirmed order move its stock
    reservation. The event lists every changed field and line as [before, after].
    """
    async with unit_of_work(db) as s:
        order = await _lock_order(s, order_id)
        customer = await check_order_access(s, actor, order)
        to = _next(order.status, Action.EDIT, actor.role)
        _check_version(order, expected_version)
        status = OrderStatus(order.status)
        if status != OrderStatus.DRAFT:
            reason = _need_reason(reason, "修改已提交的订单")
        lines = await _lines(s, order.id)
        by_id = {line.id: line for line in lines}
        # A gift the desk added goes with its main line.
        removed = set(change.remove_lines)
        removed |= {ln.id for ln in lines if ln.parent_line_id in removed and not repricing.generated(ln)}
        for line_id in (*change.quantities, *change.prices, *change.remove_lines,
                        *(d.parent_line_id for d in change.add_lines if d.parent_line_id is not None)):
            if line_id not in by_id:
                raise OrderError(OrderErrorCode.LINE_NOT_FOUND, f"订单里没有第 {line_id} 行", line_id=line_id)
        if change.prices and status in checks.RESERVING_STATUSES:
            raise OrderError(OrderErrorCode.PRICES_LOCKED, "订单已确认，价格已锁定")

        values = _check_fields(change.fields, actor.role)
        values = {k: v for k, v in values.items() if getattr(order, k) != v}
        changes: dict[str, Any] = {k: [getattr(order, k), v] for k, v in values.items()}
        before_needs = checks.stock_needs(lines)
        with s.no_autoflush:
            for line_id, quantity in change.quantities.items():
                line = by_id[line_id]
                q = pricing.as_quantity(quantity)
                if q == line.quantity:
                    continue
                base = q
                if line.sku is not None:
                    base = pricing.to_base_quantity(await _product(s, line.sku), q, line.unit)
                changes[f"line:{line_id}:quantity"] = [line.quantity, q]
                line.quantity, line.base_quantity = q, base
                line.amount = pricing.line_amount(line.unit_price, base) if line.counts_as_sales else line.amount
            for line_id, raw_price in change.prices.items():
                line, price = by_id[line_id], _as_price(raw_price)
                if price == line.unit_price:
                    continue
                await _check_price(s, actor, customer, line, price)
                changes[f"line:{line_id}:unit_price"] = [line.unit_price, price]
                line.unit_price, line.rule_id = price, repricing.MANUAL
                line.amount = pricing.line_amount(price, line.base_quantity)
            kept = [line for line in lines if line.id not in removed]
            for line_id in sorted(removed, key=lambda i: (by_id[i].parent_line_id is None, i)):
                line = by_id[line_id]
                changes[f"line:{line_id}"] = [line_text(line), None]
            added = [await _new_line(s, draft, customer.tier, actor) for draft in change.add_lines]
        if not changes and not added:
            raise OrderError(OrderErrorCode.NOTHING_TO_CHANGE, "没有需要修改的内容")

        kept = await repricing.drop_generated(s, kept)  # gift lines go before the lines they point at
        for line_id in sorted(removed, key=lambda i: (by_id[i].parent_line_id is None, i)):
            await s.delete(by_id[line_id])
            await s.flush()
        for line in added:
            line.order_id = order.id
            s.add(line)
        await s.flush()
        await _link_gifts(s, added, kept + added)
        for line in added:
            changes[f"line:{line.id}"] = [None, line_text(line)]
        priced = await repricing.reprice(
            s, order, customer, kept + added, lock_prices=status in checks.RESERVING_STATUSES, changed=values
        )
        after = priced.lines
        for name in ("total", "discount"):
            if getattr(priced, name) != getattr(order, name):
                changes[name] = [getattr(order, name), getattr(priced, name)]
        if priced.applied != (order.promotions or []):
            changes["rules"] = [order.promotions or [], priced.applied]
        await _write(s, order, {
            **values, "subtotal": priced.subtotal, "discount": priced.discount, "total": priced.total,
            "promotions": priced.applied, "status": to,
        })
        if status in checks.RESERVING_STATUSES:
            moved = await checks.move_stock(s, before_needs, checks.stock_needs(after))
            if moved:
                changes["stock"] = moved
        add_event(
            s, order.id, EventType.EDITED, actor, from_status=status, to_status=to,
            changes=changes, reason=reason, source_message_id=source_message_id,
        )
        if status == OrderStatus.CONFIRMED:
            await outbound.request_push(s, order, after, EventType.EDITED)  # the WMS has it
        if status != OrderStatus.DRAFT and set(changes) - STAFF_FIELDS:
            extra = {"changes": jsonable(changes), "reason": reason}
            if actor.role == Role.CUSTOMER:
                await _notify_rep(s, order, after, EventType.EDITED, **extra)
            else:
                await _notify_customer(s, order, customer, after, EventType.EDITED, **extra)
        return OrderResult(order, after, missing_fields(order, after) if status == OrderStatus.DRAFT else [])
