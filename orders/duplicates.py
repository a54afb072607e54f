"""Duplicate orders: one customer placing much the same order twice — typically once in chat
and once in the mini-program, or a rep entering what the customer already sent.

The decision is plain Python (`similarity`, `find_duplicates`): two orders are alike when most
of their products are the same and, for those products, the quantities are close. The hub
(orders/place.py) gathers the customer's recent orders — by customer, and by the order's phone
so that two customer records not yet merged are caught too — and records a `duplicate_suspected`
event naming the other order; the rep's card reads it (重复订单提醒, with a 合并 button).
Nothing is held or refused: two similar orders may both be wanted, the rep decides.

Settings: the `duplicates` section of orderbot/risk_rules.yaml (DuplicateRules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.events import EventType, add_event
from orders.models import Order, OrderEvent, OrderLine, as_utc, utcnow
from orders.pricing import LineType
from orders.status import OrderStatus

CHANNEL_LABELS = {"wechat": "公众号", "miniprogram": "小程序", "wecom": "企业微信", "api": "接口"}
# Orders that can still be a duplicate of a new one: placed and not cancelled.
CANDIDATE_STATUSES = tuple(s.value for s in OrderStatus if s not in (OrderStatus.DRAFT, OrderStatus.CANCELLED))
MAX_CANDIDATES = 50  # the most recent orders looked at; a customer with more in a window is a wholesaler's feed


class DuplicateRules(BaseModel):
    """When two orders of one customer count as the same order placed twice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    window_hours: float = Field(24, gt=0)  # only orders placed this long before the new one
    min_overlap: Decimal = Field(Decimal("0.6"), gt=0, le=1)  # share of products alike (of all products in both)
    quantity_tolerance: Decimal = Field(Decimal("0.2"), ge=0, le=1)  # a product is alike within ±20 % quantity
    match_phone: bool = True  # also orders of other customer records with the same phone


@dataclass(frozen=True)
class OrderShape:
    """What the comparison needs of one order: its products and base quantities."""

    order_id: int
    number: str
    channel: str
    created_at: dt.datetime
    quantities: Mapping[str, Decimal]


@dataclass(frozen=True)
class Match:
    order_id: int
    number: str
    channel: str
    score: Decimal  # share of products alike, 0..1

    @property
    def reason(self) -> str:
        return f"与 {self.number}（{CHANNEL_LABELS.get(self.channel, self.channel)}）相似，疑似重复下单"


def quantities_of(lines: Iterable[OrderLine]) -> dict[str, Decimal]:
    """Base quantity per SKU of the main lines (gifts, freight and service lines say nothing)."""
    out: dict[str, Decimal] = {}
    for line in lines:
        if line.sku and line.line_type == LineType.MAIN:
            out[line.sku] = out.get(line.sku, Decimal(0)) + Decimal(line.base_quantity)
    return out


def similarity(a: Mapping[str, Decimal], b: Mapping[str, Decimal], tolerance: Decimal) -> Decimal:
    """Share of all products in either order that are in both with quantities within `tolerance`."""
    products = set(a) | set(b)
    if not products:
        return Decimal(0)
    alike = 0
    for sku in set(a) & set(b):
        qa, qb = Decimal(a[sku]), Decimal(b[sku])
        if abs(qa - qb) <= tolerance * max(qa, qb):
            alike += 1
    return Decimal(alike) / Decimal(len(products))


def find_duplicates(new: OrderShape, earlier: Iterable[OrderShape], rules: DuplicateRules) -> list[Match]:
    """The earlier orders alike to `new` within the window, most alike (then newest) first."""
    if not rules.enabled or not new.quantities:
        return []
    since = as_utc(new.created_at) - dt.timedelta(hours=rules.window_hours)
    found = []
    for other in earlier:
        if other.order_id == new.order_id or as_utc(other.created_at) < since:
            continue
        score = similarity(new.quantities, other.quantities, rules.quantity_tolerance)
        if score >= rules.min_overlap:
            found.append((score, as_utc(other.created_at), Match(other.order_id, other.number, other.channel, score)))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [m for _, _, m in found]


# --- over the database (the caller's session and transaction) ------------------------------


async def candidates(session: AsyncSession, order: Order, rules: DuplicateRules) -> list[OrderShape]:
    """The customer's (and the phone's) orders placed within the window before `order`."""
    created = as_utc(order.created_at or utcnow())
    with_phone = bool(rules.match_phone and order.phone)
    rows = (await session.exec(_CANDIDATES[with_phone], params={  # type: ignore[call-overload]
        "d_customer": order.customer_id, "d_phone": order.phone if with_phone else None, "d_order": order.id,
        "d_since": created - dt.timedelta(hours=rules.window_hours),
    })).all()
    if not rows:
        return []
    lines = (await session.exec(_LINES_OF, params={"d_orders": [r[0] for r in rows]})).all()  # type: ignore[call-overload]
    by_order: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_order.setdefault(line.order_id, []).append(line)
    return [OrderShape(i, n, c, as_utc(t), quantities_of(by_order.get(i, []))) for i, n, c, t in rows]


def _candidates_query(with_phone: bool) -> Any:
    """Built once per variant and run with parameters (every order placed runs it)."""
    who = Order.customer_id == bindparam("d_customer")
    return (
        select(Order.id, Order.number, Order.channel, Order.created_at)
        .where(or_(who, Order.phone == bindparam("d_phone")) if with_phone else who,
               Order.id != bindparam("d_order"), col(Order.status).in_(CANDIDATE_STATUSES),
               Order.created_at >= bindparam("d_since"))
        .order_by(col(Order.created_at).desc())
        .limit(MAX_CANDIDATES)
    )


_CANDIDATES = {False: _candidates_query(False), True: _candidates_query(True)}
_LINES_OF = select(OrderLine).where(col(OrderLine.order_id).in_(bindparam("d_orders", expanding=True)))


_QUIET = "orders.duplicates.quiet"


@dataclass
class _Quiet:
    """Inside candidates_read_together: the customers and phones asked about that had no
    candidate order placed since `since` when the block began, less those the block's own
    orders have taken since."""

    since: dt.datetime
    customers: set[int]
    phones: set[str]


@asynccontextmanager
async def candidates_read_together(session: AsyncSession, orders: Iterable[tuple[int, str | None]],
                                   rules: DuplicateRules) -> AsyncIterator[None]:
    """For a block placing many orders in one transaction (a batch of confirmations), given
    each one's (customer id, phone): which customers and phones had no order a duplicate
    could be of, read once, so check_duplicates needs no read for an order of such a
    customer and phone. An order placed in the block makes its customer and phone count as
    busy for the orders after it (they read as usual and may find it). An order that went to
    another customer (a merge by phone) reads as usual. Nested blocks join the outer one."""
    pairs = list(orders)
    if not pairs or not rules.enabled or session.info.get(_QUIET) is not None:
        yield
        return
    since = utcnow() - dt.timedelta(hours=rules.window_hours)
    customers, phones = {c for c, _ in pairs}, {p for _, p in pairs if p}
    rows = (await session.exec(_BUSY, params={  # type: ignore[call-overload]
        "q_customers": sorted(customers), "q_phones": sorted(phones), "q_since": since})).all()
    session.info[_QUIET] = _Quiet(since, customers - {c for c, _ in rows}, phones - {p for _, p in rows if p})
    try:
        yield
    finally:
        session.info.pop(_QUIET, None)


def _calm_in_block(session: AsyncSession, order: Order, rules: DuplicateRules) -> bool:
    """True when candidates_read_together already knows `order` has no earlier order to be
    alike to; either way its customer and phone are busy for the block's later orders."""
    quiet: _Quiet | None = session.info.get(_QUIET)
    if quiet is None:
        return False
    created = as_utc(order.created_at or utcnow())
    calm = (order.customer_id in quiet.customers
            and (not (rules.match_phone and order.phone) or order.phone in quiet.phones)
            and created - dt.timedelta(hours=rules.window_hours) >= quiet.since)
    quiet.customers.discard(order.customer_id)
    if order.phone:
        quiet.phones.discard(order.phone)
    return calm


_BUSY = select(Order.customer_id, Order.phone).where(
    or_(col(Order.customer_id).in_(bindparam("q_customers", expanding=True)),
        col(Order.phone).in_(bindparam("q_phones", expanding=True))),
    col(Order.status).in_(CANDIDATE_STATUSES), Order.created_at >= bindparam("q_since"),
).distinct()


async def check_duplicates(
    session: AsyncSession, order: Order, lines: Sequence[OrderLine], rules: DuplicateRules,
) -> Match | None:
    """Look for an earlier order alike to `order`; record the closest as an internal
    `duplicate_suspected` event (the rep's card shows it). None when there is none."""
    calm = _calm_in_block(session, order, rules)
    if not rules.enabled or order.id is None:
        return None
    shape = OrderShape(order.id, order.number, order.channel, as_utc(order.created_at or utcnow()),
                       quantities_of(lines))
    earlier = [] if calm else await candidates(session, order, rules)
    matches = find_duplicates(shape, earlier, rules)
    if not matches:
        return None
    best = matches[0]
    add_event(
        session, order.id, EventType.DUPLICATE_SUSPECTED, Actor.system("rule:duplicates"),
        changes={"duplicate_of": best.number, "duplicate_order_id": best.order_id, "score": best.score,
                 "others": [m.number for m in matches[1:]]},
        reason=best.reason,
    )
    return best


async def suspected_duplicates(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, str]:
    """suspected_duplicate for many orders in two queries (a batch of rep cards): order id →
    the number of the order it was last flagged a duplicate of, while that one is not cancelled."""
    stmt = (
        select(OrderEvent.order_id, OrderEvent.changes)
        .where(col(OrderEvent.order_id).in_(order_ids), OrderEvent.type == EventType.DUPLICATE_SUSPECTED.value)
        .order_by(col(OrderEvent.id))
    )
    latest: dict[int, int] = {}
    for order_id, changes in (await session.exec(stmt)).all():
        if changes and changes.get("duplicate_order_id"):
            latest[order_id] = int(changes["duplicate_order_id"])  # the last one wins
        else:
            latest.pop(order_id, None)
    if not latest:
        return {}
    others = {o.id: o for o in (await session.exec(select(Order).where(col(Order.id).in_(set(latest.values()))))).all()}
    return {oid: others[d].number for oid, d in latest.items()
            if d in others and others[d].status != OrderStatus.CANCELLED.value}


async def suspected_duplicate(session: AsyncSession, order_id: int) -> str | None:
    """The order number this order was flagged as a duplicate of, while that order is still
    open to a merge (not cancelled); None otherwise. For the rep's card."""
    stmt = (
        select(OrderEvent.changes)
        .where(OrderEvent.order_id == order_id, OrderEvent.type == EventType.DUPLICATE_SUSPECTED.value)
        .order_by(col(OrderEvent.id).desc())
        .limit(1)
    )
    changes = (await session.exec(stmt)).first()
    if not changes or not changes.get("duplicate_order_id"):
        return None
    other = await session.get(Order, int(changes["duplicate_order_id"]))
    if other is None or other.status == OrderStatus.CANCELLED.value:
        return None
    return other.number
