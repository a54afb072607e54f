"""Which channel a push takes, and the bookkeeping that makes a retried push harmless.

Customers: a customer-service message while the 48-hour window since their last message is
open and its 5-message budget lasts; else a one-time subscribe message if they granted a
consent we have not used; else a template message. If WeChat disagrees with our books
(45015 window closed, 45047 budget spent, 43101 no consent) the next channel is tried at once.

Managers: an app message to a named manager; alerts for nobody in particular go to the WeCom
group robot (20 messages a minute, a sliding window shared through the key-value store by
every process) with the overflow folded into one digest.

Every send goes through the send ledger (`PushDelivery`, one row per outbox dedup key): the
row is written `sending` and committed in its own short transaction *before* the call, and
set `sent` (or `failed` on a definite refusal, `unsure` on a timeout) after it. A row found
`sent` is not sent again (a worker killed after recording). A row found still `sending` is a
call whose worker died mid-flight (or one that timed out: `unsure`): WeChat may or may not
have it, so it is sent once more and the repeat is counted (`repeats` on the row and
`orderbot_push_repeats_total{kind,cause}`) — at most one repeat per interrupted call.
Where the platform dedups, the repeat is harmless: template messages carry `client_msg_id`
(the dedup key; WeChat keeps one per openid for 10 minutes) and WeCom message/send carries
`enable_duplicate_check` (the same request JSON within the interval is delivered once). A
customer-service text or a robot message has no such key: that repeat may reach the person
twice, and is the one counted where it matters.
Errors: WeChat's transient codes raise `PushRetry` (a TransientError: the worker retries with
backoff), the rest `PushFailed` (a PermanentError: parked, and a manager hears of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import String, bindparam, delete, func, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.metrics import PUSH_REPEATS
from orderbot.stores import KeyValueStore
from orders.models import Customer, InboundMessage, PushDelivery, SubscribeConsent, as_utc
from orders.upsert import insert_skipping
from workers.handlers import PermanentError, TransientError

CS_WINDOW = timedelta(hours=48)
CS_BUDGET = 5  # customer-service messages per window (45047 past it)
ROBOT_PER_MINUTE = 20  # WeCom group robot (45009 past it)
DIGEST_MAX_BYTES = 2000  # a robot text is capped at 2048 bytes of UTF-8 (a Chinese character is 3)

# WeChat / WeCom errcodes, by what they mean for a push.
CS_CLOSED = frozenset({45015, 45047})  # window closed / budget spent: use the next channel
NO_CONSENT = frozenset({43101})  # subscribe consent used up or refused
RATE_LIMITED = frozenset({45009, 45011, 45033})  # frequency limits: wait and retry
TRANSIENT = frozenset({-1, 40001, 40014, 42001, 45009, 45011, 45033, 50001})


class Channel(StrEnum):
    CS = "cs"  # customer-service message (客服消息)
    SUBSCRIBE = "subscribe"  # one-time subscribe message (订阅消息)
    TEMPLATE = "template"  # template message (模板消息)
    WECOM_APP = "wecom_app"  # WeCom app message to a member
    WECOM_CARD = "wecom_card"  # WeCom template_card to a rep
    CARD_UPDATE = "card_update"  # update_template_card after a button press
    ROBOT = "robot"  # WeCom group robot
    DIGEST_PENDING = "digest_pending"  # an alert waiting for the next robot digest
    DIGESTED = "digested"  # an alert that went out inside a digest


class Ledger(StrEnum):
    """The states of a send-ledger row (`PushDelivery.state`)."""

    SENDING = "sending"  # written and committed before the call; still here = the call's worker died
    SENT = "sent"  # the platform accepted it (also digest bookkeeping rows)
    FAILED = "failed"  # the platform refused it with an errcode: nothing was delivered
    UNSURE = "unsure"  # no answer (timeout, connection cut): it may have been delivered


# A call with an unknown outcome before this one: sending again may repeat it.
IN_DOUBT = frozenset({Ledger.SENDING.value, Ledger.UNSURE.value})


class PushRetry(TransientError):
    """Try the same row again later (network trouble, busy, rate limit, stale token)."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message, retry_after=delay)
        self.delay = delay


class PushFailed(PermanentError):
    """This row will never go through as it is: park it where a person can see it."""


class PushApi(Protocol):
    """The outbound calls a push needs; bot/clients provide them (the stand-in in tests).

    Each returns WeChat's JSON answer on errcode 0 and raises an exception carrying
    `errcode` otherwise (or a plain exception for network failures).
    """

    async def send_cs_text(self, openid: str, text: str) -> dict[str, Any]: ...

    async def send_subscribe(self, openid: str, template_id: str, data: dict[str, Any], page: str | None) -> dict[str, Any]: ...

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None, client_msg_id: str = ""
    ) -> dict[str, Any]: ...

    async def send_wecom(self, body: dict[str, Any]) -> dict[str, Any]: ...

    async def update_wecom_card(self, body: dict[str, Any]) -> dict[str, Any]: ...

    async def send_robot(self, key: str, body: dict[str, Any]) -> dict[str, Any]: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def errcode_of(exc: BaseException) -> int | None:
    code = getattr(exc, "errcode", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def classify(exc: BaseException) -> PushRetry | PushFailed:
    """WeChat's error → retry or park. No errcode means the network: retry."""
    code = errcode_of(exc)
    transient_flag = getattr(exc, "transient", None)
    if code is None or code in TRANSIENT or transient_flag is True:
        return PushRetry(f"{type(exc).__name__}: {exc}", delay=60.0 if code in RATE_LIMITED else None)
    return PushFailed(f"errcode {code}: {getattr(exc, 'errmsg', exc)}")


# ---------------------------------------------------------------- customers


@dataclass(frozen=True)
class Reach:
    """What we know about reaching one customer right now."""

    last_inbound_at: datetime | None
    cs_sent_in_window: int
    consents: int  # unused one-time subscribe consents for the template we would use


def window_open(reach: Reach, now: datetime) -> bool:
    return reach.last_inbound_at is not None and now - as_utc(reach.last_inbound_at) < CS_WINDOW


def plan_customer(reach: Reach, now: datetime, *, can_subscribe: bool = True, has_oa: bool = True) -> list[Channel]:
    """Channels to try, in order. Pure, so the 48-hour and budget rules are tested alone."""
    plan: list[Channel] = []
    if has_oa and window_open(reach, now) and reach.cs_sent_in_window < CS_BUDGET:
        plan.append(Channel.CS)
    if can_subscribe and reach.consents > 0:
        plan.append(Channel.SUBSCRIBE)
    if has_oa:
        plan.append(Channel.TEMPLATE)
    return plan


@dataclass(frozen=True)
class CustomerPush:
    """One message for a customer, in the shapes every channel needs."""

    openid: str
    text: str  # customer-service message text
    template_id: str  # template message
    data: dict[str, Any]  # template / subscribe fields: {"thing1": {"value": "..."}}
    subscribe_template_id: str | None = None
    mp_openid: str | None = None  # mini-program openid: subscribe messages go there
    subscribe_data: dict[str, Any] | None = None  # subscribe fields, when they differ from `data`
    url: str | None = None
    page: str | None = None
    order_id: int | None = None
    customer_id: int | None = None  # to look the mini-program openid up only when it is needed
    client_msg_id: str = ""  # WeChat drops a template message repeating this id (10 minutes)


async def load_window(
    session: AsyncSession, openid: str, dedup_key: str = ""
) -> tuple[datetime | None, int, str | None, str | None]:
    """(the customer's last message, customer-service messages we sent since, the channel
    `dedup_key` was last tried on and its ledger state), in one round trip."""
    last = (
        select(func.max(InboundMessage.received_at))
        .where(InboundMessage.channel == "wechat", InboundMessage.from_user == openid)
        .scalar_subquery()
    )
    sent = (
        select(func.count(PushDelivery.id))
        .where(PushDelivery.target == openid, PushDelivery.channel == Channel.CS.value,
               PushDelivery.sent_at >= last, PushDelivery.state != Ledger.FAILED.value)
        .scalar_subquery()
    )
    done = select(PushDelivery.channel).where(PushDelivery.dedup_key == dedup_key).scalar_subquery()
    state = select(PushDelivery.state).where(PushDelivery.dedup_key == dedup_key).scalar_subquery()
    row = (await session.exec(select(last, sent, done, state))).one()
    return row[0], int(row[1] or 0), row[2], row[3]


@dataclass(frozen=True)
class Windows:
    """load_windows' answer for a batch of pushes."""

    last_inbound: dict[str, datetime]  # openid → the customer's last message
    cs_sent: dict[str, int]  # openid → customer-service messages we sent since it
    ledger: dict[str, str]  # dedup key → its ledger state (sent / sending / unsure / failed)

    def delivered(self, dedup_key: str) -> bool:
        return self.ledger.get(dedup_key) == Ledger.SENT.value


async def load_windows(session: AsyncSession, openids: Sequence[str], dedup_keys: Sequence[str]) -> Windows:
    """load_window for a whole batch: the 48-hour windows of every openid in ONE query
    (grouped), plus one query for the keys' ledger states."""
    windows: dict[str, datetime] = {}
    sent: dict[str, int] = {}
    if openids:
        last = (
            select(InboundMessage.from_user.label("openid"),  # type: ignore[attr-defined]
                   func.max(InboundMessage.received_at).label("at"))
            .where(InboundMessage.channel == "wechat", col(InboundMessage.from_user).in_(openids))
            .group_by(InboundMessage.from_user)
            .subquery()
        )
        count = (
            select(func.count(PushDelivery.id))
            .where(PushDelivery.target == last.c.openid, PushDelivery.channel == Channel.CS.value,
                   PushDelivery.sent_at >= last.c.at, PushDelivery.state != Ledger.FAILED.value)
            .correlate(last)
            .scalar_subquery()
        )
        for openid, at, n in (await session.exec(select(last.c.openid, last.c.at, count))).all():
            if at is not None:
                windows[openid] = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
                sent[openid] = int(n or 0)
    ledger: dict[str, str] = {}
    if dedup_keys:
        rows = await session.exec(select(PushDelivery.dedup_key, PushDelivery.state)
                                  .where(col(PushDelivery.dedup_key).in_(dedup_keys)))
        ledger = {k: st for k, st in rows.all()}
    return Windows(windows, sent, ledger)


@dataclass(frozen=True)
class Delivery:
    """One ledger row of a batch (begin_many)."""

    dedup_key: str
    channel: Channel
    target: str
    text: str = ""
    order_id: int | None = None


async def begin_many(session: AsyncSession, deliveries: Sequence[Delivery], now: datetime | None = None) -> set[str]:
    """begin_send for a batch of first attempts: their `sending` rows in ONE insert and one
    commit, before any call. Returns the keys written; a key already in the ledger (another
    worker has it, or an earlier attempt) is left out, for the caller to send one at a time."""
    if not deliveries:
        return set()
    at = now or utcnow()
    rows = [{"dedup_key": d.dedup_key, "channel": d.channel.value, "target": d.target, "text": d.text[:2000],
             "order_id": d.order_id, "sent_at": at, "state": Ledger.SENDING.value, "attempts": 1, "repeats": 0}
            for d in deliveries]
    result = await session.exec(_begin_statement(session), params=rows)  # type: ignore[call-overload]
    written = {k for (k,) in result.all()}
    await session.commit()
    return written


# begin_many's rows; RETURNING the keys written (those already in the ledger are skipped)
_begin_statement = insert_skipping(PushDelivery.__table__, ["dedup_key"], returning="dedup_key")  # type: ignore[attr-defined]


async def finish_many(session: AsyncSession, sent: Sequence[str], unsent: Sequence[str],
                      now: datetime | None = None, remote_ids: Mapping[str, str] | None = None) -> None:
    """After a batch's calls: the keys that went out become `sent` (one update; `remote_ids`:
    the msgid / response_code each call returned, as finish_send keeps it); the `sending`
    rows of calls never made (the queue stopped before them) are removed, so their retry is a
    first attempt, not a counted repeat."""
    stmts: list[Any] = []
    if sent and remote_ids:  # one prepared UPDATE run for every key (a CASE of the keys would
        at = now or utcnow()  # be a new statement, compiled and parsed again, every batch)
        stmts.append((_FINISH_SENT, [{"f_key": key, "f_state": Ledger.SENT.value, "f_at": at,
                                      "f_rid": remote_ids.get(key)} for key in sent]))
    elif sent:
        stmts.append(update(PushDelivery).where(col(PushDelivery.dedup_key).in_(sent))
                     .values(state=Ledger.SENT.value, sent_at=now or utcnow()))
    if unsent:
        stmts.append(delete(PushDelivery).where(col(PushDelivery.dedup_key).in_(unsent),
                                                PushDelivery.state == Ledger.SENDING.value))
    await _commit_twice(session, stmts)


_LEDGER = PushDelivery.__table__  # type: ignore[attr-defined]
_FINISH_SENT = (update(_LEDGER).where(_LEDGER.c.dedup_key == bindparam("f_key"))
                .values(state=bindparam("f_state"), sent_at=bindparam("f_at"),
                        remote_id=func.coalesce(bindparam("f_rid", type_=String), _LEDGER.c.remote_id)))


async def load_consents(session: AsyncSession, mp_openid: str, template_id: str) -> int:
    stmt = select(SubscribeConsent.remaining).where(
        SubscribeConsent.openid == mp_openid, SubscribeConsent.template_id == template_id
    )
    return int((await session.exec(stmt)).one_or_none() or 0)


async def grant_consent(session: AsyncSession, openid: str, template_id: str, count: int = 1) -> None:
    """Record one-time subscribe consents of a mini-program user (`openid` is the mp openid),
    as the mini-program reports them after wx.requestSubscribeMessage."""
    row = (
        await session.exec(
            select(SubscribeConsent).where(
                SubscribeConsent.openid == openid, SubscribeConsent.template_id == template_id
            )
        )
    ).one_or_none()
    if row is None:
        session.add(SubscribeConsent(openid=openid, template_id=template_id, remaining=count))
    else:
        row.remaining += count
        row.updated_at = utcnow()
        session.add(row)


async def _use_consent(session: AsyncSession, openid: str, template_id: str, *, all_of_them: bool = False) -> None:
    row = (
        await session.exec(
            select(SubscribeConsent).where(
                SubscribeConsent.openid == openid, SubscribeConsent.template_id == template_id
            )
        )
    ).one_or_none()
    if row is not None:
        row.remaining = 0 if all_of_them else max(row.remaining - 1, 0)
        row.updated_at = utcnow()
        session.add(row)


async def already_delivered(session: AsyncSession, dedup_key: str) -> PushDelivery | None:
    """The ledger row of a push that went out (state `sent`); None when it still has to."""
    row = await ledger_row(session, dedup_key)
    return row if row is not None and row.state == Ledger.SENT.value else None


async def ledger_row(session: AsyncSession, dedup_key: str) -> PushDelivery | None:
    stmt = select(PushDelivery).where(PushDelivery.dedup_key == dedup_key).execution_options(populate_existing=True)
    return (await session.exec(stmt)).one_or_none()


def outcome_unknown(exc: BaseException) -> bool:
    """No errcode and no HTTP answer (a timeout, a cut connection): the platform may have
    delivered it. An errcode or an HTTP status means it answered, and refused."""
    if isinstance(exc, PermanentError):
        return False
    return errcode_of(exc) is None and getattr(exc, "status", None) is None


async def begin_send(
    session: AsyncSession,
    dedup_key: str,
    channel: Channel,
    target: str,
    *,
    prior: str | None,
    text: str = "",
    order_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Write the ledger row `sending` and commit it, before the call. `prior` is the row's
    state as last read (None: no row). True when an earlier call's outcome is unknown, so
    this one may repeat it: counted on the row and in `orderbot_push_repeats_total`."""
    repeat = prior in IN_DOUBT
    if prior is None:
        session.add(PushDelivery(dedup_key=dedup_key, channel=channel.value, target=target, text=text[:2000],
                                 order_id=order_id, state=Ledger.SENDING.value, attempts=1, repeats=0,
                                 sent_at=now or utcnow()))
        try:
            await session.commit()
        except IntegrityError as exc:  # another worker holds this key right now
            await session.rollback()
            raise PushRetry(f"{dedup_key} is being sent by another worker", delay=5.0) from exc
        return False
    cause = "crash" if prior == Ledger.SENDING.value else "timeout"
    values: dict[str, Any] = {"state": Ledger.SENDING.value, "channel": channel.value, "target": target,
                              "attempts": PushDelivery.attempts + 1}
    if repeat:
        values |= {"repeats": PushDelivery.repeats + 1, "repeat_cause": cause}
    await session.exec(  # type: ignore[call-overload]
        update(PushDelivery).where(PushDelivery.dedup_key == dedup_key).values(**values)
    )
    await session.commit()
    if repeat:
        PUSH_REPEATS.labels(channel.value, cause).inc()
    return repeat


async def finish_send(
    session: AsyncSession, dedup_key: str, channel: Channel, *, remote_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """The call was accepted: the ledger row becomes `sent` (what later attempts skip on)."""
    stmt = (update(PushDelivery).where(PushDelivery.dedup_key == dedup_key)
            .values(state=Ledger.SENT.value, channel=channel.value, remote_id=remote_id, sent_at=now or utcnow()))
    await _commit_twice(session, [stmt])


async def _commit_twice(session: AsyncSession, stmts: Sequence[Any]) -> None:
    """Finish ledger rows, tried twice: a connection cut right here (PostgreSQL restarted, a
    pooled connection terminated) would otherwise leave rows `sending` and turn done sends
    into repeats. Not worth a disk flush on PostgreSQL: should it lose this commit, the rows
    are found `sending` and counted as repeats — the safe side. The `sending` mark before
    the call stays a durable commit."""
    for attempt in (1, 2):
        try:
            if session.bind.dialect.name == "postgresql":
                await session.exec(sql_text("SET LOCAL synchronous_commit TO OFF"))  # type: ignore[call-overload]
            for stmt in stmts:  # a statement, or (statement, rows of parameters): executemany
                if isinstance(stmt, tuple):
                    await session.exec(stmt[0], params=stmt[1])  # type: ignore[call-overload]
                else:
                    await session.exec(stmt)
            await session.commit()
            return
        except DBAPIError:
            await session.rollback()
            if attempt == 2:
                raise


async def fail_send(session: AsyncSession, dedup_key: str, exc: BaseException) -> None:
    """The call did not go through: `failed` on a refusal, `unsure` when it may have."""
    state = Ledger.UNSURE if outcome_unknown(exc) else Ledger.FAILED
    try:
        await session.exec(  # type: ignore[call-overload]
            update(PushDelivery).where(PushDelivery.dedup_key == dedup_key).values(state=state.value)
        )
        await session.commit()
    except Exception:  # noqa: BLE001 — the row stays `sending`: the retry counts it as in doubt, as it is
        await session.rollback()


async def ledgered_call(
    session: AsyncSession,
    dedup_key: str,
    channel: Channel,
    target: str,
    call: Callable[[], Awaitable[dict[str, Any]]],
    *,
    prior: str | None,
    text: str = "",
    order_id: int | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """begin_send → the call → `fail_send` on an error (re-raised). Returns (the answer, whether
    it may repeat an earlier call); the caller finishes the row once it knows the channel."""
    repeat = await begin_send(session, dedup_key, channel, target, prior=prior, text=text,
                              order_id=order_id, now=now)
    try:
        answer = await call()
    except Exception as exc:
        await fail_send(session, dedup_key, exc)
        raise
    except asyncio.CancelledError:  # the worker's handler timeout cut the call off: unknown outcome
        await _cut_off(session, dedup_key)
        raise
    return answer, repeat


async def _cut_off(session: AsyncSession, dedup_key: str) -> None:
    """Mark a call cancelled mid-flight `unsure` (a timeout, not a crash), briefly: a
    cancelled task must not linger; if this fails the row stays `sending`, still in doubt."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        async with asyncio.timeout(2.0):
            await fail_send(session, dedup_key, TimeoutError("cancelled mid-call"))


async def record(
    session: AsyncSession,
    dedup_key: str,
    channel: Channel,
    target: str,
    *,
    text: str = "",
    order_id: int | None = None,
    remote_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Write a `sent` ledger row (or finish the key's `sending` one) and commit. False when the
    key was recorded `sent` already (a race)."""
    existing = await ledger_row(session, dedup_key)
    if existing is not None:
        if existing.state == Ledger.SENT.value:
            return False
        existing.state, existing.channel, existing.target = Ledger.SENT.value, channel.value, target
        existing.text, existing.order_id, existing.remote_id = text[:2000], order_id, remote_id
        existing.sent_at = now or utcnow()
        session.add(existing)
        await session.commit()
        return True
    session.add(
        PushDelivery(
            dedup_key=dedup_key,
            channel=channel.value,
            target=target,
            text=text[:2000],
            order_id=order_id,
            remote_id=remote_id,
            sent_at=now or utcnow(),
        )
    )
    try:
        await session.commit()
        return True
    except IntegrityError:
        await session.rollback()
        return False


async def push_to_customer(
    session: AsyncSession, api: PushApi, push: CustomerPush, dedup_key: str, now: datetime | None = None
) -> Channel:
    """Deliver one customer message through the best open channel; returns the channel used.

    The channels are tried in `plan_customer`'s order, each looked up only when the one before
    it is closed (most pushes go out as customer-service messages after one query).
    Idempotent per dedup_key: a second call after a recorded delivery sends nothing.
    """
    now = now or utcnow()
    closed: list[str] = []
    target = push.openid or push.mp_openid or ""
    if not push.client_msg_id:
        push = replace(push, client_msg_id=client_msg_id(dedup_key))
    if push.openid:
        last, sent, tried_on, prior = await load_window(session, push.openid, dedup_key)
    else:
        last, sent = None, 0
        row = await ledger_row(session, dedup_key)
        tried_on, prior = (row.channel, row.state) if row is not None else (None, None)
    if prior == Ledger.SENT.value and tried_on is not None:
        return Channel(tried_on)
    kw: dict[str, Any] = {"text": push.text, "order_id": push.order_id, "now": now}
    if push.openid:
        if Channel.CS in plan_customer(Reach(last, sent, 0), now, can_subscribe=False):
            answer, prior = await _ledgered_attempt(session, api, Channel.CS, push, closed, dedup_key, target,
                                                    prior, **kw)
            if answer is not None:
                await finish_send(session, dedup_key, Channel.CS, now=now)
                return Channel.CS
    mp_openid = push.mp_openid
    if mp_openid is None and push.customer_id is not None and push.subscribe_template_id:
        mp_openid = (await session.exec(select(Customer.mp_openid).where(Customer.id == push.customer_id))).one_or_none()
    if mp_openid and push.subscribe_template_id:
        if await load_consents(session, mp_openid, push.subscribe_template_id) > 0:
            answer, prior = await _ledgered_attempt(session, api, Channel.SUBSCRIBE, replace(push, mp_openid=mp_openid),
                                                    closed, dedup_key, target, prior, **kw)
            await _use_consent(session, mp_openid, push.subscribe_template_id, all_of_them=answer is None)
            if answer is not None:
                await finish_send(session, dedup_key, Channel.SUBSCRIBE, remote_id=_msgid(answer), now=now)
                return Channel.SUBSCRIBE
            await session.commit()
    if push.openid:
        answer, prior = await _ledgered_attempt(session, api, Channel.TEMPLATE, push, closed, dedup_key, target,
                                                prior, **kw)
        if answer is not None:
            await finish_send(session, dedup_key, Channel.TEMPLATE, remote_id=_msgid(answer), now=now)
            return Channel.TEMPLATE
    raise PushFailed(f"no channel reaches {target}: {', '.join(closed) or 'none'}")


async def _ledgered_attempt(
    session: AsyncSession, api: PushApi, channel: Channel, push: CustomerPush, closed: list[str], dedup_key: str,
    target: str, prior: str | None, *, text: str, order_id: int | None, now: datetime,
) -> tuple[dict[str, Any] | None, str | None]:
    """One channel through the ledger: (WeChat's answer or None when the channel is closed,
    the ledger state the next channel starts from)."""
    await begin_send(session, dedup_key, channel, target, prior=prior, text=text, order_id=order_id, now=now)
    try:
        answer = await _attempt(api, channel, push, closed)
    except Exception as exc:
        await fail_send(session, dedup_key, exc.__cause__ or exc)
        raise
    except asyncio.CancelledError:
        await _cut_off(session, dedup_key)
        raise
    if answer is None:  # refused with a closed-channel errcode: nothing was delivered
        await fail_send(session, dedup_key, PushFailed("channel closed"))
        return None, Ledger.FAILED.value
    return answer, Ledger.SENDING.value


def client_msg_id(dedup_key: str) -> str:
    """The outbox row's dedup key as WeChat's anti-reentry id (hashed when long)."""
    return dedup_key if len(dedup_key) <= 64 else hashlib.sha1(dedup_key.encode()).hexdigest()


def _msgid(answer: dict[str, Any]) -> str | None:
    msgid = answer.get("msgid") if isinstance(answer, dict) else None
    return str(msgid) if msgid else None


async def _attempt(api: PushApi, channel: Channel, push: CustomerPush, closed: list[str]) -> dict[str, Any] | None:
    """WeChat's answer, or None when this channel is closed for this customer (try the next)."""
    try:
        return await _send_customer(api, channel, push)
    except Exception as exc:  # noqa: BLE001 — classified below
        code = errcode_of(exc)
        if (channel is Channel.CS and code in CS_CLOSED) or (channel is Channel.SUBSCRIBE and code in NO_CONSENT):
            closed.append(f"{channel.value}:{code}")
            return None
        raise classify(exc) from exc


async def _send_customer(api: PushApi, channel: Channel, push: CustomerPush) -> dict[str, Any]:
    if channel is Channel.CS:
        return await api.send_cs_text(push.openid, push.text)
    if channel is Channel.SUBSCRIBE:
        return await api.send_subscribe(
            push.mp_openid or "", push.subscribe_template_id or "", push.subscribe_data or push.data, push.page
        )
    return await api.send_template(push.openid, push.template_id, push.data, push.url, push.client_msg_id)


# ---------------------------------------------------------------- reps (WeCom app)


async def push_to_member(
    session: AsyncSession,
    api: PushApi,
    body: dict[str, Any],
    dedup_key: str,
    *,
    channel: Channel = Channel.WECOM_APP,
    order_id: int | None = None,
    text: str = "",
) -> dict[str, Any]:
    """message/send to WeCom members (text or template_card), once per dedup_key.

    Returns WeCom's answer (a card's `response_code` is in it); {} when already delivered.
    """
    row = await ledger_row(session, dedup_key)
    if row is not None and row.state == Ledger.SENT.value:
        return {}
    try:
        answer, _ = await ledgered_call(session, dedup_key, channel, str(body.get("touser", "")),
                                        lambda: api.send_wecom(body), prior=row.state if row else None,
                                        text=text, order_id=order_id)
    except Exception as exc:  # noqa: BLE001
        raise classify(exc) from exc
    remote = answer.get("response_code") or answer.get("msgid")
    await finish_send(session, dedup_key, channel, remote_id=str(remote) if remote else None)
    return answer


# ---------------------------------------------------------------- managers (group robot)


@dataclass
class RobotLimiter:
    """A sliding 60-second window of robot sends, shared by every process through the store."""

    store: KeyValueStore
    per_minute: int = ROBOT_PER_MINUTE
    window: float = 60.0
    clock: Callable[[], float] = field(default=time.time)

    async def acquire(self, key: str) -> float:
        """0.0 when a send slot was taken now; else the seconds until one frees up."""
        return (await self.try_slot(key)).wait

    async def try_slot(self, key: str) -> Slot:
        now = self.clock()
        free_at = await self.store.take_slot(f"robot-window:{key}", self.per_minute, self.window, now)
        if free_at is None:
            return Slot(True, 0.0, now)
        return Slot(False, max(0.05, free_at - now), free_at)


@dataclass(frozen=True)
class Slot:
    granted: bool
    wait: float  # seconds until a slot frees (0 when granted)
    free_at: float  # the clock value when it frees: the same for every alert of a full window


def robot_text(content: str, mentioned: Sequence[str] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {"msgtype": "text", "text": {"content": content}}
    if mentioned:
        body["text"]["mentioned_list"] = list(mentioned)
    return body


def digest_text(alerts: Sequence[str]) -> str:
    """One robot message for many alerts, cut to fit WeCom's size limit (in bytes)."""
    lines: list[str] = [f"【告警汇总】过去一分钟共 {len(alerts)} 条："]
    size = len(lines[0].encode())
    for i, alert in enumerate(alerts, 1):
        line = f"{i}. {alert}"
        tail = f"……另有 {len(alerts) - i + 1} 条，请在后台查看"
        if size + len(line.encode()) + len(tail.encode()) + 2 > DIGEST_MAX_BYTES:
            lines.append(tail)
            break
        lines.append(line)
        size += len(line.encode()) + 1
    return "\n".join(lines)


@dataclass(frozen=True)
class RobotOutcome:
    sent: bool  # False: folded into the next digest
    wait: float = 0.0  # when folded: seconds until a slot frees
    free_at: float = 0.0  # when folded: names the digest that will carry it


async def alert_via_robot(
    session: AsyncSession,
    api: PushApi,
    limiter: RobotLimiter,
    robot_key: str,
    text: str,
    dedup_key: str,
    order_id: int | None = None,
) -> RobotOutcome:
    """Send one alert through the robot, or park it for the digest when the minute is full."""
    row = await ledger_row(session, dedup_key)
    if row is not None and row.state == Ledger.SENT.value:
        return RobotOutcome(True)
    slot = await limiter.try_slot(robot_key)
    if not slot.granted:
        await record(session, dedup_key, Channel.DIGEST_PENDING, robot_key, text=text, order_id=order_id)
        return RobotOutcome(False, slot.wait, slot.free_at)
    try:
        await ledgered_call(session, dedup_key, Channel.ROBOT, robot_key,
                            lambda: api.send_robot(robot_key, robot_text(text)),
                            prior=row.state if row else None, text=text, order_id=order_id)
    except Exception as exc:  # noqa: BLE001
        if errcode_of(exc) in RATE_LIMITED:  # another sender used the minute: fold it in
            await record(session, dedup_key, Channel.DIGEST_PENDING, robot_key, text=text, order_id=order_id)
            return RobotOutcome(False, 60.0, limiter.clock() + 60.0)
        raise classify(exc) from exc
    await finish_send(session, dedup_key, Channel.ROBOT)
    return RobotOutcome(True)


async def pending_digest(session: AsyncSession, robot_key: str) -> int:
    stmt = select(func.count(PushDelivery.id)).where(
        PushDelivery.target == robot_key, PushDelivery.channel == Channel.DIGEST_PENDING.value
    )
    return int((await session.exec(stmt)).one())


async def send_digest(session: AsyncSession, api: PushApi, limiter: RobotLimiter, robot_key: str) -> int:
    """Send every alert waiting for this robot as one message; returns how many it held."""
    stmt = (
        select(PushDelivery)
        .where(PushDelivery.target == robot_key, PushDelivery.channel == Channel.DIGEST_PENDING.value)
        .order_by(PushDelivery.id)
    )
    waiting = list(await session.exec(stmt))
    if not waiting:
        return 0
    wait = await limiter.acquire(robot_key)
    if wait > 0:
        raise PushRetry("robot minute still full", delay=wait)
    try:
        await api.send_robot(robot_key, robot_text(digest_text([w.text for w in waiting])))
    except Exception as exc:  # noqa: BLE001
        raise classify(exc) from exc
    await session.exec(  # type: ignore[call-overload]
        update(PushDelivery)
        .where(PushDelivery.id.in_([w.id for w in waiting]))  # type: ignore[union-attr]
        .values(channel=Channel.DIGESTED.value)
    )
    await session.commit()
    return len(waiting)
