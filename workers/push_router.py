"""Which channel a push takes, and the bookkeeping that makes a retried push harmless.

Customers: a customer-service message while the 48-hour window since their last message is
open and its 5-message budget lasts; else a one-time subscribe message if they granted a
consent we have not used; else a template message. If WeChat disagrees with our books
(45015 window closed, 45047 budget spent, 43101 no consent) the next channel is tried at once.

Managers: an app message to a named manager; alerts for nobody in particular go to the WeCom
group robot (20 messages a minute, a sliding window shared through the key-value store by
every process) with the overflow folded into one digest.

Every send is recorded in `PushDelivery` under the outbox row's dedup key before the row is
acknowledged, so a row delivered again (a worker killed after sending) is not sent twice.
The narrow gap left — a worker dying between WeChat's answer and that record — is closed for
template messages by WeChat itself (`client_msg_id` = the dedup key); a customer-service or
WeCom text may then arrive twice, which is the at-least-once promise.
Errors: WeChat's transient codes raise `PushRetry` (a TransientError: the worker retries with
backoff), the rest `PushFailed` (a PermanentError: parked, and a manager hears of it).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.stores import KeyValueStore
from orders.models import Customer, InboundMessage, PushDelivery, SubscribeConsent, as_utc
from orders.upsert import insert_for
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


async def load_window(session: AsyncSession, openid: str, dedup_key: str = "") -> tuple[datetime | None, int, str | None]:
    """(the customer's last message, customer-service messages we sent since, and the channel
    `dedup_key` was already delivered by, if it was), in one round trip."""
    last = (
        select(func.max(InboundMessage.received_at))
        .where(InboundMessage.channel == "wechat", InboundMessage.from_user == openid)
        .scalar_subquery()
    )
    sent = (
        select(func.count(PushDelivery.id))
        .where(PushDelivery.target == openid, PushDelivery.channel == Channel.CS.value,
               PushDelivery.sent_at >= last)
        .scalar_subquery()
    )
    done = select(PushDelivery.channel).where(PushDelivery.dedup_key == dedup_key).scalar_subquery()
    row = (await session.exec(select(last, sent, done))).one()
    return row[0], int(row[1] or 0), row[2]


@dataclass(frozen=True)
class Windows:
    """load_windows' answer for a batch of pushes."""

    last_inbound: dict[str, datetime]  # openid → the customer's last message
    cs_sent: dict[str, int]  # openid → customer-service messages we sent since it
    delivered: dict[str, str]  # dedup key → the channel it already went out by


async def load_windows(session: AsyncSession, openids: Sequence[str], dedup_keys: Sequence[str]) -> Windows:
    """load_window for a whole batch: the 48-hour windows of every openid in ONE query
    (grouped), plus one query for which of the keys were delivered already."""
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
                   PushDelivery.sent_at >= last.c.at)
            .correlate(last)
            .scalar_subquery()
        )
        for openid, at, n in (await session.exec(select(last.c.openid, last.c.at, count))).all():
            if at is not None:
                windows[openid] = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
                sent[openid] = int(n or 0)
    delivered: dict[str, str] = {}
    if dedup_keys:
        rows = await session.exec(select(PushDelivery.dedup_key, PushDelivery.channel)
                                  .where(col(PushDelivery.dedup_key).in_(dedup_keys)))
        delivered = {k: c for k, c in rows.all()}
    return Windows(windows, sent, delivered)


@dataclass(frozen=True)
class Delivery:
    """One ledger row for record_many."""

    dedup_key: str
    channel: Channel
    target: str
    text: str = ""
    order_id: int | None = None
    remote_id: str | None = None


async def record_many(session: AsyncSession, deliveries: Sequence[Delivery], now: datetime | None = None) -> int:
    """record() for a batch in ONE insert (keys recorded already are skipped) and one commit."""
    if not deliveries:
        return 0
    at = now or utcnow()
    stmt = insert_for(session, PushDelivery).values([
        {"dedup_key": d.dedup_key, "channel": d.channel.value, "target": d.target, "text": d.text[:2000],
         "order_id": d.order_id, "remote_id": d.remote_id, "sent_at": at}
        for d in deliveries
    ]).on_conflict_do_nothing(index_elements=[PushDelivery.dedup_key])
    n = int((await session.exec(stmt)).rowcount or 0)
    await session.commit()
    return n


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
    stmt = select(PushDelivery).where(PushDelivery.dedup_key == dedup_key)
    return (await session.exec(stmt)).one_or_none()


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
    """Write the ledger row and commit. False when the key was recorded already (a race)."""
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
        last, sent, done_by = await load_window(session, push.openid, dedup_key)
    else:
        last, sent = None, 0
        done = await already_delivered(session, dedup_key)
        done_by = done.channel if done is not None else None
    if done_by is not None:
        return Channel(done_by)
    if push.openid:
        if Channel.CS in plan_customer(Reach(last, sent, 0), now, can_subscribe=False):
            answer = await _attempt(api, Channel.CS, push, closed)
            if answer is not None:
                await record(session, dedup_key, Channel.CS, target, text=push.text, order_id=push.order_id, now=now)
                return Channel.CS
    mp_openid = push.mp_openid
    if mp_openid is None and push.customer_id is not None and push.subscribe_template_id:
        mp_openid = (await session.exec(select(Customer.mp_openid).where(Customer.id == push.customer_id))).one_or_none()
    if mp_openid and push.subscribe_template_id:
        if await load_consents(session, mp_openid, push.subscribe_template_id) > 0:
            answer = await _attempt(api, Channel.SUBSCRIBE, replace(push, mp_openid=mp_openid), closed)
            await _use_consent(session, mp_openid, push.subscribe_template_id, all_of_them=answer is None)
            if answer is not None:
                await record(session, dedup_key, Channel.SUBSCRIBE, target, text=push.text,
                             order_id=push.order_id, remote_id=_msgid(answer), now=now)
                return Channel.SUBSCRIBE
            await session.commit()
    if push.openid:
        answer = await _attempt(api, Channel.TEMPLATE, push, closed)
        if answer is not None:
            await record(session, dedup_key, Channel.TEMPLATE, target, text=push.text, order_id=push.order_id,
                         remote_id=_msgid(answer), now=now)
            return Channel.TEMPLATE
    raise PushFailed(f"no channel reaches {target}: {', '.join(closed) or 'none'}")


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
    if await already_delivered(session, dedup_key) is not None:
        return {}
    try:
        answer = await api.send_wecom(body)
    except Exception as exc:  # noqa: BLE001
        raise classify(exc) from exc
    remote = answer.get("response_code") or answer.get("msgid")
    await record(session, dedup_key, channel, str(body.get("touser", "")), text=text, order_id=order_id,
                 remote_id=str(remote) if remote else None)
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
    if await already_delivered(session, dedup_key) is not None:
        return RobotOutcome(True)
    slot = await limiter.try_slot(robot_key)
    if not slot.granted:
        await record(session, dedup_key, Channel.DIGEST_PENDING, robot_key, text=text, order_id=order_id)
        return RobotOutcome(False, slot.wait, slot.free_at)
    try:
        await api.send_robot(robot_key, robot_text(text))
    except Exception as exc:  # noqa: BLE001
        if errcode_of(exc) in RATE_LIMITED:  # another sender used the minute: fold it in
            await record(session, dedup_key, Channel.DIGEST_PENDING, robot_key, text=text, order_id=order_id)
            return RobotOutcome(False, 60.0, limiter.clock() + 60.0)
        raise classify(exc) from exc
    await record(session, dedup_key, Channel.ROBOT, robot_key, text=text, order_id=order_id)
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
