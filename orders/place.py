"""Placing an order: the one use case every intake calls (WeChat chat, the mini-program, a
rep's forwarded inquiry in WeCom).

One call, inside the caller's transaction, does four things that must not drift apart:
1. claims the request's idempotency key (scope + key, unique in the database) — a
   redelivered message or a retried HTTP request gets the first order back, never a second;
2. creates the priced order (orders.actions.create_order);
3. looks for an earlier order of the same customer (or phone) alike to this one
   (orders/duplicates.py): a `duplicate_suspected` event the rep's card warns with;
4. routes it (orders.assignment.submit_routed: the rep, the rule, the confirmation
   deadline that drives SLA reminders, and the internal `routed` event);
5. records the order on the idempotency row.
A refusal (OrderError, IdempotencyConflict) leaves nothing behind once the caller rolls back.

A caller placing many orders in one transaction (bot/chat.py, a batch of confirmations) wraps
them in `claimed_together`, `recorded_together` and `duplicates_read_together`: the same steps,
with the keys claimed, the keys named and the earlier orders looked for once for the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import bindparam, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import actions, duplicates, risk
from orders.actors import Actor
from orders.assignment import RoutingSnapshot, submit_routed
from orders.errors import OrderError, OrderErrorCode
from orders.models import IdempotencyRecord, Order, utcnow
from orders.repricing import RISK_RULES, table_from
from orders.routing import RuleSet
from orders.upsert import insert_skipping


@dataclass(frozen=True)
class Idempotency:
    """Who asked (`scope`, e.g. "wechat:<openid>") and which request (`key`, e.g. the
    message id or an Idempotency-Key header); `request_hash` tells a retry from a different
    request reusing the key."""

    scope: str
    key: str
    request_hash: str | None = None


class IdempotencyConflict(Exception):
    """The key was used before for a different request ("reused"), or its first request has
    not finished ("in_progress")."""

    def __init__(self, reason: Literal["reused", "in_progress"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Placed:
    order: Order
    replayed: bool = False  # True: this request was seen before; `order` is the first one
    missing: list[str] = field(default_factory=list)  # only with keep_incomplete: a draft


async def place_order(
    session: AsyncSession,
    idempotency: Idempotency,
    *,
    customer_id: int,
    lines: Sequence[actions.DraftLine],
    actor: Actor,
    channel: str,
    rules: RuleSet,
    fields: Mapping[str, Any] | None = None,
    source_message_id: int | None = None,
    keep_incomplete: bool = False,
    own_rep_id: int | None = None,
    now: dt.datetime | None = None,
    source_ip: str | None = None,
    routing: RoutingSnapshot | None = None,
) -> Placed:
    """Create, route and submit one order, at most once per idempotency key.

    `session` must be in a transaction; the caller commits (or rolls back on an error).
    An order that still lacks something raises MISSING_FIELDS, unless `keep_incomplete`:
    then it stays a draft (a rep completes it later) and `Placed.missing` says what is missing.
    `own_rep_id`: the rep who takes the order when the customer has no rep of their own.
    `source_ip`: the client's address, kept on the order for the per-IP hold rule.
    `routing`: the reps and team load, when the caller places several orders in this one
    transaction (orders.assignment.RoutingSnapshot).
    """
    now = now or utcnow()
    claimed = session.info.get(_CLAIMED)
    if claimed is not None and (idempotency.scope, idempotency.key) in claimed:
        record_id = claimed.pop((idempotency.scope, idempotency.key))  # claimed_together() took it
    else:
        record_id = (await session.exec(_claim(session), params=_claim_row(idempotency, now))).scalar_one_or_none()  # type: ignore[call-overload]
    if record_id is None:  # claimed before: a retry (or a different request reusing the key)
        record = (await session.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.scope == idempotency.scope, IdempotencyRecord.key == idempotency.key,
        ).execution_options(populate_existing=True))).one()
        if idempotency.request_hash is not None and record.request_hash != idempotency.request_hash:
            raise IdempotencyConflict("reused")
        order = await session.get(Order, record.order_id) if record.order_id is not None else None
        if order is None:
            raise IdempotencyConflict("in_progress")
        return Placed(order, replayed=True)
    created = await actions.create_order(
        session, customer_id, lines, actor, fields=fields, channel=channel,
        source_message_id=source_message_id, now=now, source_ip=source_ip,
    )
    if created.missing:
        if not keep_incomplete:
            raise OrderError(OrderErrorCode.MISSING_FIELDS, f"还缺：{'、'.join(created.missing)}",
                             missing=created.missing)
        await _record_order(session, record_id, created.order.id)
        return Placed(created.order, missing=list(created.missing))
    assert created.order.id is not None
    table: risk.RiskTable = table_from(session, RISK_RULES, risk.DEFAULT_TABLE)
    await duplicates.check_duplicates(session, created.order, created.lines, table.duplicates)
    result = await submit_routed(session, created.order.id, actor, rules, now=now,
                                 source_message_id=source_message_id, own_rep_id=own_rep_id,
                                 created=created, snapshot=routing)
    await _record_order(session, record_id, result.order.id)
    return Placed(result.order)


async def _record_order(session: AsyncSession, record_id: int, order_id: int | None) -> None:
    """The idempotency row claimed above now names its order (one UPDATE, no read; inside
    recorded_together(), one UPDATE run for the batch at its end)."""
    params = {"i_id": record_id, "i_order": order_id}
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.append(params)
    else:
        await session.exec(_RECORD_ORDER, params=params)  # type: ignore[call-overload]


_DEFERRED = "orders.place.recorded"


@asynccontextmanager
async def duplicates_read_together(session: AsyncSession,
                                   orders: Sequence[tuple[int, str | None]]) -> AsyncIterator[None]:
    """orders.duplicates.candidates_read_together with the duplicate rules in force: the
    earlier orders of a batch's (customer id, phone) pairs looked for in one read."""
    table: risk.RiskTable = table_from(session, RISK_RULES, risk.DEFAULT_TABLE)
    async with duplicates.candidates_read_together(session, orders, table.duplicates):
        yield


@asynccontextmanager
async def recorded_together(session: AsyncSession) -> AsyncIterator[None]:
    """Orders placed inside the block name their idempotency rows at its end, in ONE
    executemany, still in the caller's transaction (a batch of confirmations placed in one
    transaction). Until then a retry of one of those keys in the same block finds its row
    "in_progress" and the block fails, which the caller rolls back and places one at a time.
    Nested blocks join the outer one."""
    if session.info.get(_DEFERRED) is not None:
        yield
        return
    records: list[dict[str, Any]] = []
    session.info[_DEFERRED] = records
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    if records:
        await session.exec(_RECORD_ORDER, params=records)  # type: ignore[call-overload]


def _claim_row(idempotency: Idempotency, now: dt.datetime) -> dict[str, Any]:
    return {"scope": idempotency.scope, "key": idempotency.key, "request_hash": idempotency.request_hash,
            "created_at": now}


_CLAIMED = "orders.place.claimed"


@asynccontextmanager
async def claimed_together(session: AsyncSession, keys: Sequence[tuple[Idempotency, dt.datetime]]) -> AsyncIterator[None]:
    """A batch's idempotency keys (each with its request's time) claimed in ONE insert when
    the block begins, in the caller's transaction; place_order inside the block takes its
    key's claim from there. A key claimed before the block is not among them, so its
    place_order reads the first order back as usual; a key asked twice gets its claim once.
    Nested blocks join the outer one."""
    if not keys or session.info.get(_CLAIMED) is not None:
        yield
        return
    rows = (await session.exec(_claim_many(session), params=[_claim_row(i, at) for i, at in keys])).all()  # type: ignore[call-overload]
    session.info[_CLAIMED] = {(scope, key): record_id for record_id, scope, key in rows}
    try:
        yield
    finally:
        session.info.pop(_CLAIMED, None)


# INSERT the key unless it exists, RETURNING the new row's id (None: claimed before)
_claim = insert_skipping(IdempotencyRecord.__table__, ["scope", "key"], returning="id")  # type: ignore[attr-defined]
_claim_many = insert_skipping(IdempotencyRecord.__table__, ["scope", "key"], returning=["id", "scope", "key"])  # type: ignore[attr-defined]


_RECORD_TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_RECORD_ORDER = (update(_RECORD_TABLE).where(_RECORD_TABLE.c.id == bindparam("i_id"))
                 .values(order_id=bindparam("i_order")))
