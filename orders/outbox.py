"""The outbox: side effects written in the transaction of the change causing them, and the
table worked as a queue by the delivery worker (workers/runner.py).

Writing: a rolled-back action leaves no row behind. `enqueue` is idempotent on `dedup_key`:
a retried action, or an event seen twice, writes one row, so keys must be deterministic
(see `dedup_key`). Every kind is an OutboxKind.

Working the queue (claim, mark_done / mark_retry / mark_parked, release, requeue):

Claiming is safe with any number of workers on either backend:

* PostgreSQL: the candidate rows are selected `FOR UPDATE SKIP LOCKED`, so concurrent
  claimers take disjoint rows without waiting on each other.
* SQLite (no SKIP LOCKED): the claim is ONE `UPDATE ... WHERE id IN (the chosen rows)
  RETURNING`; SQLite runs writers one at a time, so the rows chosen are still claimable
  when they are leased.

A claim reads only its batch, however long the queue (kind by kind over
ix_outbox_kind_claim; bench/outbox_claim.py): after an outage the rows waiting do not slow
every round down.

A claim is a lease (`locked_by`, `lease_until`) committed at once, not a transaction held
during delivery: a worker that dies leaves a lease that simply runs out, and another worker
claims the row again (at least once). Every claim counts as an attempt, so a row that kills
its worker every time is still parked after `max_attempts`.

All times come from the caller's clock (UTC-aware), never from the database, so tests can
move time. These functions take a session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    union_all,
    update,
)
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import Outbox, as_utc, utcnow
from orders.upsert import dialect_name, insert_for, insert_skipping, once_per_database


class OutboxKind(StrEnum):
    """Every kind of outbox row; each has exactly one handler (workers/handlers.py, checked
    at start-up). The payload each kind carries is described beside it."""

    # Carry out a stored message: {"message_id"} (bot/intake.py → bot/chat.py, bot/wecom_commands.py)
    INBOUND = "inbound"  # a customer's WeChat message: the conversation
    WECOM_INBOUND = "wecom_inbound"  # a rep's WeCom message or card press
    # Tell people: orders/notifications.py payloads ({"event", "order_id", "number", …}),
    # a conversation's {"type": "chat_reply", "text"} / {"type": "text", "texts": […]},
    # or the SLA sweep's {"type", "text"}.
    NOTIFY_CUSTOMER = "notify_customer"  # to the customer (WeChat)
    NOTIFY_REP = "notify_rep"  # card with buttons, or texts, to a rep (WeCom)
    ALERT_MANAGER = "alert_manager"  # holds, escalations, parked pushes (WeCom app or robot)
    WECOM_CARD_UPDATE = "wecom_card_update"  # {"order_id", "userid", "response_code", "outcome", …}
    ROBOT_DIGEST = "robot_digest"  # {"robot_key"}: alerts folded while the robot was rate-limited
    OCR_JOB = "ocr_job"  # {"job_id"}: read an image into a draft (ocr/), chat and mini-program
    BOARD_DIGEST = "board_digest"  # {"day"}: yesterday's desk digest to every manager (board/digest.py)
    COEI_SURVEY = "coei_survey"  # {"month"}: ask that month's COEI sample (workers/coei_survey.py, monthly)
    # Orders passed on to the WMS / ERP (orders/outbound.py): the order document of one version,
    # then one row per configured system with the signed webhook to call.
    OUTBOUND_ORDER = "outbound_order"
    OUTBOUND_PUSH = "outbound_push"


def dedup_key(order_id: int, version: int, kind: str, target: str = "") -> str:
    """The key of one side effect of one order version: same change, same key."""
    key = f"order:{order_id}:v{version}:{kind}"
    return f"{key}:{target}" if target else key


async def enqueue(
    session: AsyncSession,
    kind: str,
    target: str = "",
    payload: dict[str, Any] | None = None,
    dedup_key: str = "",
    *,
    not_before: datetime | None = None,
) -> bool:
    """Add an outbox row in the caller's transaction; True when new, False when a row with
    this dedup_key already exists (a retried request enqueues nothing twice). The one way
    anything in orderbot asks for a side effect."""
    if not dedup_key:
        raise ValueError("an outbox row needs a dedup_key: a retry must carry the same one")
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:  # inside written_together(): one insert at its end
        deferred.append({"kind": kind, "target": target, "payload": payload, "dedup_key": dedup_key,
                         "not_before": not_before})
        return True
    stmt = (
        insert_for(session, Outbox)
        .values(
            kind=kind,
            target=target or "",
            payload=payload or {},
            dedup_key=dedup_key,
            state="pending",
            attempts=0,
            next_attempt_at=not_before or utcnow(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[Outbox.dedup_key])
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)


_DEFERRED = "orders.outbox.deferred"


@asynccontextmanager
async def written_together(session: AsyncSession) -> AsyncIterator[None]:
    """The rows enqueued inside the block are written at its end in ONE insert (enqueue_many),
    in the order they were enqueued, still in the caller's transaction (many orders placed in
    one transaction: two rows each). `enqueue` then answers True without knowing whether a
    row with its key exists: for callers that do not look at the answer. On an error nothing
    is written (the caller rolls back). Nested blocks join the outer one."""
    if session.info.get(_DEFERRED) is not None:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_DEFERRED] = rows
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    await enqueue_many(session, rows)


async def enqueue_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """`enqueue` for many rows in ONE statement (a conversation batch's replies): each row is
    {"kind", "target", "payload", "dedup_key", optional "not_before"}; rows whose dedup_key
    exists already are skipped. Returns how many were new."""
    if not rows:
        return 0
    now = utcnow()
    values = []
    for row in rows:
        if not row.get("dedup_key"):
            raise ValueError("an outbox row needs a dedup_key: a retry must carry the same one")
        values.append({
            "kind": str(row["kind"]), "target": row.get("target") or "", "payload": row.get("payload") or {},
            "dedup_key": row["dedup_key"], "state": "pending", "attempts": 0,
            "next_attempt_at": row.get("not_before") or now, "created_at": now,
        })
    result = await session.exec(_enqueue_statement(session), params=values)  # type: ignore[call-overload]
    return len(result.all())


# enqueue_many's rows; RETURNING the new ones tells how many were new on both databases
_enqueue_statement = insert_skipping(Outbox.__table__, ["dedup_key"], returning="id")  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the queue

PENDING, DONE, PARKED = "pending", "done", "parked"
MAX_ERROR_CHARS = 2000


def _claimable() -> Any:
    """Due, and no lease held (or it ran out) at :q_now."""
    now = bindparam("q_now")
    return and_(
        Outbox.state == PENDING,
        Outbox.next_attempt_at <= now,
        or_(Outbox.lease_until.is_(None), Outbox.lease_until <= now),
    )


async def claim(
    session: AsyncSession,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    lease_seconds: float,
    max_attempts: int,
    kinds: Collection[str] = (),
    other_kinds: bool = False,
    first: Collection[str] = (),
) -> list[Outbox]:
    """Lease up to `limit` due rows to `worker_id` (attempts + 1). Commit right after.
    With `kinds`, only rows of those kinds (`other_kinds`: only rows of any other kind);
    due rows of the `first` kinds (among `kinds`) are taken before the others.

    With `kinds` (and not `other_kinds`) the claim reads at most `limit` rows of each kind,
    in order, from ix_outbox_kind_claim, however many rows are waiting: after an outage or
    in a burst, a claim costs the batch, not the backlog. `other_kinds` still walks every due
    row of the named kinds to find the others; the worker runs it only now and then."""
    params = {"q_now": now, "q_max": max_attempts, "q_limit": limit, "q_worker": worker_id,
              "q_lease": now + timedelta(seconds=lease_seconds)}
    if kinds and other_kinds:
        params["q_kinds"] = sorted(kinds)
        stmt = _claim_other_kinds(session)
    elif kinds:
        stmt = _claim_by_kind(dialect_name(session), frozenset(kinds), frozenset(first) & frozenset(kinds))
    else:
        stmt = _claim_statement(session)
    rows = list((await session.exec(stmt, params=params)).scalars().all())  # type: ignore[call-overload]
    return sorted(rows, key=lambda r: (as_utc(r.next_attempt_at), r.id or 0))


def _build_claim(dialect: str, which: Any = None) -> Any:
    """claim's UPDATE … RETURNING over all kinds, or those `which` selects (built once per
    database: every worker poll runs it)."""
    candidates = (
        select(Outbox.id)
        .where(_claimable(), Outbox.attempts < bindparam("q_max"), *([which] if which is not None else []))
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(bindparam("q_limit", type_=Integer))
        .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite renders nothing
    )
    return _lease(dialect, candidates)


def _lease(dialect: str, candidates: Any) -> Any:
    """The UPDATE … RETURNING that leases the rows `candidates` (a SELECT of ids) picks.

    PostgreSQL: a CTE runs the locking SELECT once (as `id IN (subquery)` PostgreSQL may
    re-run it per row and ignore the LIMIT), and the rows are then found by primary key
    alone. FOR UPDATE has already re-checked each locked row against the WHERE (a row
    another worker leased meanwhile is skipped or fails it); repeating the conditions here
    let the planner, before the table's statistics catch up with a burst, drive the join
    from every due row and scan the CTE once each: 35 ms for 2,000 rows.
    SQLite: one statement under the write lock, so nothing changes between choosing the rows
    and leasing them; repeated there, the conditions made it walk every due row too."""
    if dialect == "postgresql":
        chosen = candidates.cte("chosen")
        picked: Any = Outbox.id == chosen.c.id
    else:
        picked = Outbox.id.in_(candidates)
    return (
        update(Outbox)
        .where(picked)
        .values(locked_by=bindparam("q_worker"), lease_until=bindparam("q_lease"), attempts=Outbox.attempts + 1)
        .returning(Outbox)
        .execution_options(synchronize_session=False)
    )


def _build_claim_by_kind(dialect: str, kinds: frozenset[str], first: frozenset[str]) -> Any:
    """claim's UPDATE … RETURNING for rows of `kinds`, `first` kinds ahead: one ordered,
    limited read of ix_outbox_kind_claim per kind (each locked SKIP LOCKED on PostgreSQL),
    merged by (first, next_attempt_at, id) and cut to the limit. One `kind IN (…) ORDER BY
    …` instead sorts every due row of those kinds: with 20,000 messages waiting, 10–36 ms a
    claim on PostgreSQL against well under a millisecond this way (bench/outbox_claim.py)."""
    limit = bindparam("q_limit", type_=Integer)
    arms = []
    for kind in sorted(kinds):
        arm = (
            select(Outbox.id, literal_column("0" if kind in first else "1", Integer).label("pri"),
                   Outbox.next_attempt_at)
            .where(Outbox.kind == literal(kind, String), _claimable(), Outbox.attempts < bindparam("q_max"))
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite renders nothing
            .subquery()
        )
        arms.append(select(arm.c.id, arm.c.pri, arm.c.next_attempt_at))
    merged = union_all(*arms).subquery() if len(arms) > 1 else arms[0].subquery()
    candidates = select(merged.c.id).order_by(merged.c.pri, merged.c.next_attempt_at, merged.c.id).limit(limit)
    return _lease(dialect, candidates)


# Built once per database and set of kinds: a worker claims the same sets every round.
_claim_by_kind = cache(_build_claim_by_kind)


_claim_statement = once_per_database(_build_claim)
_claim_other_kinds = once_per_database(
    lambda dialect: _build_claim(dialect, Outbox.kind.not_in(bindparam("q_kinds", expanding=True))))


async def park_abandoned(session: AsyncSession, *, now: datetime, max_attempts: int) -> int:
    """Park rows whose last allowed attempt's lease ran out (the worker died on them)."""
    result = await session.exec(_PARK_ABANDONED, params={  # type: ignore[call-overload]
        "q_now": now, "q_max": max_attempts, "q_note": f" [lease expired after {max_attempts} attempts]"})
    return result.rowcount or 0


_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_PARK_ABANDONED = (  # built once: every worker poll runs it
    update(_OUTBOX)
    .where(_claimable(), _OUTBOX.c.attempts >= bindparam("q_max"))
    .values(state=PARKED, lease_until=None, locked_by=None,
            last_error=func.coalesce(_OUTBOX.c.last_error, "") + bindparam("q_note", type_=String))
)


async def mark_done(session: AsyncSession, row_ids: list[int], *, now: datetime) -> int:
    """Delivered. Applies even if our lease ran out meanwhile: the effect has happened."""
    return (await session.exec(_MARK_DONE, params={"q_ids": row_ids, "q_now": now})).rowcount or 0  # type: ignore[call-overload]


_MARK_DONE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("q_ids", expanding=True)), _OUTBOX.c.state == PENDING)
    .values(state=DONE, done_at=bindparam("q_now"), lease_until=None, locked_by=None)
)


async def mark_retry(
    session: AsyncSession, row_id: int, *, worker_id: str, retry_at: datetime, error: str
) -> bool:
    """Failed for now: due again at `retry_at`. No-op if another worker holds the row now."""
    stmt = (
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.state == PENDING, Outbox.locked_by == worker_id)
        .values(
            next_attempt_at=retry_at,
            lease_until=None,
            locked_by=None,
            last_error=error[:MAX_ERROR_CHARS],
        )
        .execution_options(synchronize_session=False)
    )
    return bool((await session.exec(stmt)).rowcount)


async def mark_parked(session: AsyncSession, row_id: int, *, worker_id: str, error: str) -> bool:
    """Failed for good: kept, visible in list_parked(), until a person requeues it."""
    stmt = (
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.state == PENDING, Outbox.locked_by == worker_id)
        .values(state=PARKED, lease_until=None, locked_by=None, last_error=error[:MAX_ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )
    return bool((await session.exec(stmt)).rowcount)


async def release(session: AsyncSession, row_ids: list[int], *, worker_id: str) -> int:
    """Give back leases not worked on (graceful shutdown); the attempt is not counted."""
    if not row_ids:
        return 0
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.state == PENDING, Outbox.locked_by == worker_id)
        .values(lease_until=None, locked_by=None, attempts=Outbox.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return (await session.exec(stmt)).rowcount or 0


async def list_parked(session: AsyncSession, *, kind: str | None = None, limit: int = 100) -> list[Outbox]:
    """Parked rows, oldest first: what a person has to look at."""
    stmt = select(Outbox).where(Outbox.state == PARKED).order_by(Outbox.id).limit(limit)
    if kind is not None:
        stmt = stmt.where(Outbox.kind == kind)
    return list((await session.exec(stmt)).all())


async def requeue(session: AsyncSession, row_id: int, *, now: datetime | None = None) -> bool:
    """Send a parked row again from scratch (after the cause was fixed)."""
    stmt = (
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.state == PARKED)
        .values(state=PENDING, attempts=0, next_attempt_at=now or utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.exec(stmt)).rowcount)


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.exec(select(Outbox.state, func.count()).group_by(Outbox.state))
    counts = {PENDING: 0, DONE: 0, PARKED: 0}
    counts.update({state: n for state, n in rows.all()})
    return counts


def backoff_delay(
    attempts: int, *, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Seconds before the next try after `attempts` failures: base·2^(n-1), capped, then
    "equal jitter" (between half and all of it) so failing rows do not retry in lockstep."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng() * ceiling / 2
