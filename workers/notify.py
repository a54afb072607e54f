"""Outbox handlers that tell people things: customers, reps and managers.

Payloads come from orders/notifications.py (`event`, `order_id`, `number`, `status_label`,
`total`, `lines`, extras such as `carrier` / `waybill_no` / `reason`) or from the SLA sweep
(`type` + `text`). Each handler renders Chinese text and hands it to workers/push_router,
which picks the channel and keeps the ledger that makes a redelivered row harmless.

A row that fails for good is parked by the worker; before that happens the handler writes
one `alert_manager` row about it (deduplicated by the parked row's key), so a lost push is
seen by a person, and counts it in `orderbot_push_parked_total`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from prometheus_client import Counter
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import cards
from orderbot.jobs import JobContext, OutboxKind, PermanentError, enqueue
from orderbot.metrics import REGISTRY
from orders.models import Customer, Order, Outbox, SalesRep
from orders.money import money
from orders.notifications import load_rep_card_payload
from orders.status import OrderStatus
from workers import push_router as router

log = logging.getLogger(__name__)

PUSH_SENT = Counter("orderbot_push_sent_total", "Pushes delivered, by channel.", ["channel"], registry=REGISTRY)
PUSH_PARKED = Counter(
    "orderbot_push_parked_total", "Pushes given up on (parked for a person), by outbox kind.", ["kind"],
    registry=REGISTRY,
)

KIND_CUSTOMER, KIND_REP, KIND_MANAGER = OutboxKind.NOTIFY_CUSTOMER, OutboxKind.NOTIFY_REP, OutboxKind.ALERT_MANAGER
KIND_CARD_UPDATE, KIND_DIGEST = OutboxKind.WECOM_CARD_UPDATE, OutboxKind.ROBOT_DIGEST
ALERT_DEDUP_TTL = 3600.0  # the same alert topic reaches managers once an hour at most

HOLD_EVENTS = {"held", "on_hold", "hold"}  # a manager gets a card to release or cancel the order
# Events that (re)present a pending order to its rep as a card with buttons.
CARD_EVENTS = {"order_card", "submitted", "pending", "routed", "reassigned", "released", "new_order", "edited"}


# ---------------------------------------------------------------- texts (pure)


def customer_text(payload: dict[str, Any]) -> str:
    """What the customer reads in chat for one order event."""
    if payload.get("text"):
        return str(payload["text"])
    text = _customer_text(payload)
    event = str(payload.get("event") or payload.get("type") or "")
    if payload.get("promotions") and event in {"confirmed", "submitted", "pending", "edited"}:
        text += "\n已享优惠：" + "；".join(payload["promotions"])
    return text


def _customer_text(payload: dict[str, Any]) -> str:
    event = str(payload.get("event") or payload.get("type") or "")
    no = payload.get("number", "")
    reason = payload.get("reason")
    if event == "confirmed":
        date = payload.get("delivery_date")
        tail = f"，预计 {date} 送达" if date else ""
        return f"您的订单 {no} 已确认，合计 {money(payload.get('total'))}{tail}。感谢惠顾！"
    if event in {"held", "on_hold", "hold"}:
        return f"您的订单 {no} 需要进一步审核，暂时挂起，业务员会尽快与您联系。"
    if event in {"released"}:
        return f"您的订单 {no} 已通过审核，正在等待业务员确认。"
    if event == "shipped":
        carrier = payload.get("carrier") or "物流"
        waybill = payload.get("waybill_no") or ""
        return f"您的订单 {no} 已发货：{carrier} 运单号 {waybill}。"
    if event == "tracking":
        return f"您的订单 {no} 物流更新：{payload.get('tracking') or payload.get('description') or ''}"
    if event == "delivered":
        return f"您的订单 {no} 已签收，感谢您的信任！如有问题请直接回复。"
    if event in {"cancelled", "rejected"}:
        why = f"，原因：{reason}" if reason else ""
        return f"很抱歉，您的订单 {no} 已取消{why}。如有疑问请直接回复。"
    if event in {"submitted", "pending"}:
        return f"已收到您的订单 {no}，合计 {money(payload.get('total'))}，正在等待业务员确认。"
    if event == "edited":
        changes = payload.get("changes") or {}
        moved = [f"新增 {after}" if before is None else f"删除 {before}" for key, (before, after)
                 in changes.items() if key.startswith("line:") and key.count(":") == 1 and (before is None) != (after is None)]
        what = f"：{'；'.join(moved)}" if moved else ""
        why = f"（{reason}）" if reason else ""
        return f"您的订单 {no} 已修改{why}{what}，当前合计 {money(payload.get('total'))}。"
    label = payload.get("status_label") or ""
    return f"您的订单 {no} 状态更新：{label}".rstrip("：")


def template_data(payload: dict[str, Any], text: str) -> dict[str, Any]:
    """Template message fields (first / keyword1..3 / remark) for the order-status template."""
    return {
        "first": {"value": "订单状态更新"},
        "keyword1": {"value": str(payload.get("number", ""))},
        "keyword2": {"value": str(payload.get("status_label") or "")},
        "keyword3": {"value": text[:200]},
        "remark": {"value": "回复消息可直接联系业务员"},
    }


def subscribe_data(payload: dict[str, Any], text: str) -> dict[str, Any]:
    """Subscribe message fields: thing values are capped at 20 characters by WeChat."""
    return {
        "character_string1": {"value": str(payload.get("number", ""))[:32]},
        "phrase2": {"value": str(payload.get("status_label") or "")[:5]},
        "thing3": {"value": text[:20]},
    }


def rep_text(payload: dict[str, Any]) -> str:
    """What a rep reads about one of their orders when no card is due."""
    if payload.get("text"):
        return str(payload["text"])
    event = str(payload.get("event") or payload.get("type") or "")
    no = payload.get("number", "")
    reason = payload.get("reason")
    if event == "delivered":
        return f"订单 {no} 已签收。"
    if event == "cancelled":
        return f"客户取消了订单 {no}" + (f"，原因：{reason}" if reason else "") + "。"
    if event == "edited":
        return f"客户修改了订单 {no}，当前合计 {money(payload.get('total'))}，状态：{payload.get('status_label', '')}。"
    if event in {"reassigned", "released", "new_order", "order_card"}:
        return f"订单 {no} 当前状态：{payload.get('status_label', '')}。"
    return manager_text(payload)


def manager_text(payload: dict[str, Any]) -> str:
    if payload.get("text"):
        return str(payload["text"])
    kind = str(payload.get("type") or payload.get("event") or "")
    no = payload.get("number", "")
    reason = payload.get("reason") or payload.get("hold_reason") or ""
    if kind in {"held", "on_hold", "hold"}:
        return f"【订单挂起】{no}：{reason or '规则拦截'}，金额 {money(payload.get('total'))}，请处理"
    if kind == "push_parked":
        return f"【推送失败】{payload.get('kind')} → {payload.get('target')}：{payload.get('error', '')[:120]}"
    return f"【提醒】订单 {no} {payload.get('status_label', '')} {reason}".strip()


def card_data(payload: dict[str, Any], customer: Customer | None = None, by: str | None = None) -> cards.OrderCardData:
    lines = tuple(
        cards.CardLine(
            name=str(line.get("name") or line.get("sku") or ""),
            quantity=Decimal(str(line.get("quantity") or 0)),
            unit=str(line.get("unit") or ""),
            amount=Decimal(str(line["amount"])) if line.get("amount") is not None else None,
            line_type=str(line.get("line_type") or ("gift" if line.get("gift") else "main")),
        )
        for line in payload.get("lines") or []
    )
    due = payload.get("delivery_date")
    return cards.OrderCardData(
        number=str(payload.get("number", "")),
        customer=(customer.name if customer else "") or payload.get("contact") or "客户",
        company=customer.company if customer else None,
        lines=lines,
        total=Decimal(str(payload.get("total") or 0)),
        delivery_date=date.fromisoformat(due) if isinstance(due, str) and due else None,
        phone=payload.get("phone"),
        address=payload.get("address") or None,
        rush=bool(payload.get("rush")),
        version=int(payload.get("version") or 1),
        on_behalf_of=by or payload.get("on_behalf_of"),
        promotions=tuple(payload.get("promotions") or ()),
        duplicate_of=payload.get("duplicate_of") or None,
        remarks=payload.get("remarks") or None,
        rep_remarks=payload.get("rep_remarks") or None,
        actions=tuple(payload["actions"]) if isinstance(payload.get("actions"), list) else None,
    )


# ---------------------------------------------------------------- reading the hub


async def card_payload(session: AsyncSession, order_id: int, event: str) -> dict[str, Any]:
    """The rep-card payload of the order as it is now (orders.notifications.load_rep_card_payload)."""
    payload = await load_rep_card_payload(session, order_id, event)
    if payload is None:
        raise PermanentError(f"order {order_id} not found")
    return payload


async def _customer(session: AsyncSession, customer_id: Any) -> Customer | None:
    return await session.get(Customer, int(customer_id)) if customer_id else None


# ---------------------------------------------------------------- wiring


def push_api(ctx: JobContext) -> router.PushApi:
    """The outbound API: injected by tests and the bench (ctx.extra["push_api"]), else built
    from bot/clients over the worker's HTTP session."""
    api = ctx.extra.get("push_api")
    if api is None:
        from workers.push_clients import ClientsPushApi

        api = ClientsPushApi.from_context(ctx)
        ctx.extra["push_api"] = api
    return api


def limiter(ctx: JobContext) -> router.RobotLimiter:
    lim = ctx.extra.get("robot_limiter")
    if lim is None:
        lim = ctx.extra["robot_limiter"] = router.RobotLimiter(ctx.store)
    return lim


Fn = Callable[[JobContext, Outbox], Awaitable[None]]


def watched(fn: Fn) -> Fn:
    """A handler whose permanent failures (and last failed attempt) alert a manager."""

    async def run(ctx: JobContext, row: Outbox) -> None:
        try:
            await fn(ctx, row)
        except PermanentError as exc:
            await _parked(ctx, row, str(exc))
            raise
        except Exception as exc:  # the worker retries these, and parks after the last attempt
            if row.attempts >= ctx.settings.outbox_max_attempts:
                await _parked(ctx, row, f"{type(exc).__name__}: {exc}")
            raise

    run.__name__ = fn.__name__
    return run


async def _parked(ctx: JobContext, row: Outbox, error: str) -> None:
    PUSH_PARKED.labels(row.kind).inc()
    log.warning("push parked: %s %s → %s: %s", row.kind, row.dedup_key, row.target, error)
    if row.kind == KIND_MANAGER:
        return  # an alert about a failed alert would loop
    payload = {"type": "push_parked", "kind": row.kind, "target": row.target, "error": error,
               "order_id": row.payload.get("order_id"), "number": row.payload.get("number")}
    async with ctx.sessionmaker() as session:
        await enqueue(session, kind=KIND_MANAGER, dedup_key=f"alert:parked:{row.dedup_key}",
                            payload=payload, target="")
        await session.commit()


parked_alert = _parked  # for the batch handler (workers/notify_batch.py)


# ---------------------------------------------------------------- customers


@watched
async def notify_customer(ctx: JobContext, row: Outbox) -> None:
    payload = row.payload
    async with ctx.sessionmaker() as session:
        # The hub's target is the OA openid, or the mini-program openid of a customer without
        # one: the customer row says which is which.
        customer = await _customer(session, payload.get("customer_id"))
        openid = (customer.openid or "") if customer else row.target
        mp_openid = customer.mp_openid if customer else None
        if not openid and not mp_openid:
            # A customer a rep entered by phone has no WeChat to push to: their rep is their
            # channel. Nothing failed, so nothing is parked.
            log.info("customer %s has no WeChat identity; %s not pushed", payload.get("customer_id"), row.dedup_key)
            return
        text = customer_text(payload)
        push = router.CustomerPush(
            openid=openid, text=text, template_id=ctx.settings.template_order_status,
            data=template_data(payload, text), subscribe_template_id=ctx.settings.subscribe_order_status,
            mp_openid=mp_openid, subscribe_data=subscribe_data(payload, text), order_id=payload.get("order_id"),
        )
        channel = await router.push_to_customer(session, push_api(ctx), push, row.dedup_key)
    PUSH_SENT.labels(channel.value).inc()


# ---------------------------------------------------------------- reps


def _agentid(ctx: JobContext) -> str:
    return ctx.settings.wecom_agentid


TEXT_MAX_BYTES = 2048  # WeCom cuts a text message's content here


def fit_bytes(text: str, limit: int = TEXT_MAX_BYTES) -> str:
    """`text` cut on a character boundary to at most `limit` bytes of UTF-8, marked with …."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def text_body(userid: str, agentid: str, text: str, dedup_seconds: int = 0) -> dict[str, Any]:
    """message/send body for a text; with `dedup_seconds` WeCom shows the same request once
    within that many seconds (enable_duplicate_check), which makes a re-send harmless."""
    body: dict[str, Any] = {"touser": userid, "msgtype": "text",
                            "agentid": int(agentid) if agentid.isdigit() else agentid,
                            "text": {"content": fit_bytes(text)}}
    if dedup_seconds > 0:
        body |= {"enable_duplicate_check": 1, "duplicate_check_interval": dedup_seconds}
    return body


def _text(ctx: JobContext, userid: str, text: str) -> dict[str, Any]:
    return text_body(userid, _agentid(ctx), text, ctx.settings.wecom_text_dedup_seconds)


@watched
async def notify_rep(ctx: JobContext, row: Outbox) -> None:
    """A pending order becomes a template_card; reminders and replies are plain text."""
    payload = dict(row.payload)
    kind = str(payload.get("event") or payload.get("type") or "")
    async with ctx.sessionmaker() as session:
        userid = row.target
        if not userid and payload.get("order_id"):
            order = await session.get(Order, int(payload["order_id"]))
            rep = await session.get(SalesRep, order.rep_id) if order and order.rep_id else None
            userid = rep.wecom_userid if rep else ""
        if not userid:
            raise PermanentError("no rep to notify")
        order = await session.get(Order, int(payload["order_id"])) if payload.get("order_id") else None
        if kind in CARD_EVENTS and order is not None and order.status == OrderStatus.PENDING.value:
            # Fresh from the database: the card shows the order as it is now, with its version.
            payload = {**await card_payload(session, int(payload["order_id"]), kind),
                       **{k: v for k, v in payload.items() if k == "on_behalf_of"}}
            customer = await _customer(session, payload.get("customer_id"))
            # The task_id follows the row: a redelivered card is the same card, which WeCom's
            # duplicate check (cards.send_body) drops instead of showing it twice.
            card = cards.order_card(card_data(payload, customer),
                                    nonce=hashlib.sha1(row.dedup_key.encode()).hexdigest()[:8])
            body = cards.send_body(userid, _agentid(ctx), card)
            await router.push_to_member(session, push_api(ctx), body, row.dedup_key,
                                        channel=router.Channel.WECOM_CARD, order_id=payload.get("order_id"),
                                        text=f"card {payload.get('number')}")
            PUSH_SENT.labels(router.Channel.WECOM_CARD.value).inc()
            return
        # Several texts (a conversation's answers) go in order; each part has its own ledger
        # key, so a retry after a partial failure sends only what is missing.
        texts = [str(t) for t in payload["texts"]] if payload.get("texts") else [rep_text(payload)]
        for i, text in enumerate(texts):
            key = row.dedup_key if len(texts) == 1 else f"{row.dedup_key}#{i}"
            await router.push_to_member(session, push_api(ctx), _text(ctx, userid, text),
                                        key, order_id=payload.get("order_id"), text=text)
            PUSH_SENT.labels(router.Channel.WECOM_APP.value).inc()


INVALID_RESPONSE_CODE = 40078  # spent, or older than 72 hours


class ExpiredCard(Exception):
    """The card's response_code is past its 72 hours by our own clock: do not even try."""


def _issued_at(value: Any) -> datetime:
    """The callback's CreateTime (when WeCom issued the code); unknown means now."""
    try:
        return datetime.fromtimestamp(int(value), UTC) if value else router.utcnow()
    except (TypeError, ValueError, OverflowError):
        return router.utcnow()


@watched
async def update_card(ctx: JobContext, row: Outbox) -> None:
    """Replace the rep's card with its outcome. A spent or expired response_code cannot update
    the card any more (40078): the rep gets the outcome as a text instead."""
    p = row.payload
    async with ctx.sessionmaker() as session:
        ledger = await router.ledger_row(session, row.dedup_key)
        prior = ledger.state if ledger is not None else None
        if prior == router.Ledger.SENT.value:
            return
        payload = await card_payload(session, int(p["order_id"]), "card_update")
        customer = await _customer(session, payload.get("customer_id"))
        data = card_data(payload, customer)
        buttons = cards.HOLD_BUTTONS if p.get("card") == "hold" else None  # None: the rep's, from the payload
        card = cards.outcome_card(data, str(p.get("outcome") or payload.get("status")), by=p.get("by"),
                                  note=p.get("note"), buttons=buttons)
        body = cards.update_body([p["userid"]], _agentid(ctx), str(p["response_code"]), card)
        ticket = cards.ResponseCodeTicket(str(p["response_code"]), _issued_at(p.get("issued_at")))
        channel = router.Channel.CARD_UPDATE
        kw: dict[str, Any] = {"text": str(p.get("outcome")), "order_id": p.get("order_id")}
        # An earlier attempt already fell back to the text (below): do not spend the code again.
        fallback = ledger is not None and ledger.channel == router.Channel.WECOM_APP.value
        try:
            if fallback or ticket.expired(router.utcnow()):
                raise ExpiredCard
            await router.ledgered_call(session, row.dedup_key, channel, p["userid"],
                                       lambda: push_api(ctx).update_wecom_card(body), prior=prior, **kw)
        except Exception as exc:  # noqa: BLE001
            if not isinstance(exc, ExpiredCard) and router.errcode_of(exc) != INVALID_RESPONSE_CODE:
                raise router.classify(exc) from exc
            if prior in router.IN_DOUBT and not isinstance(exc, ExpiredCard):
                # Our own earlier call spent the code (its worker died, or its answer was lost):
                # the card shows the outcome already. Done: not a failure, and no extra text.
                log.info("card update %s: response_code already spent by our interrupted call", row.dedup_key)
            else:
                label = cards.OUTCOME_TEXT.get(str(p.get("outcome")), str(p.get("outcome")))
                text = f"订单 {data.number} {label}（卡片已过期，无法更新）"
                channel = router.Channel.WECOM_APP
                now_row = await router.ledger_row(session, row.dedup_key)
                try:
                    await router.ledgered_call(session, row.dedup_key, channel, p["userid"],
                                               lambda: push_api(ctx).send_wecom(_text(ctx, p["userid"], text)),
                                               prior=now_row.state if now_row is not None else None, **kw)
                except Exception as exc2:  # noqa: BLE001
                    raise router.classify(exc2) from exc2
        await router.finish_send(session, row.dedup_key, channel, remote_id=str(p["response_code"]))
    PUSH_SENT.labels(channel.value).inc()


# ---------------------------------------------------------------- managers


async def _managers(session: AsyncSession) -> list[str]:
    rows = await session.exec(select(SalesRep.wecom_userid).where(SalesRep.is_manager, SalesRep.active))
    return list(rows.all())


@watched
async def alert_manager(ctx: JobContext, row: Outbox) -> None:
    """Holds, SLA breaches and parked pushes. A named manager (the row's target) gets a card
    for an order still on hold (放行 / 取消订单), else an app message; an alert for nobody in
    particular goes to the managers' group robot (20 a minute, the rest together in one
    digest), or to every manager when there is no robot. The same topic alerts once an hour."""
    payload = row.payload
    text = manager_text(payload)
    topic = str(payload.get("dedup") or _topic(payload, text, row.dedup_key))
    first = await ctx.store.set_if_absent(f"alert-topic:{topic}", row.dedup_key, ttl=ALERT_DEDUP_TTL)
    if not first and await ctx.store.get(f"alert-topic:{topic}") != row.dedup_key:
        log.info("alert %s already sent within the hour; skipped", topic)
        return
    robot_key = ctx.settings.wecom_robot_key
    async with ctx.sessionmaker() as session:
        if robot_key and not row.target:
            outcome = await router.alert_via_robot(session, push_api(ctx), limiter(ctx), robot_key, text,
                                                   row.dedup_key, order_id=payload.get("order_id"))
            if not outcome.sent:
                await _schedule_digest(session, robot_key, outcome.free_at, outcome.wait)
                PUSH_SENT.labels(router.Channel.DIGEST_PENDING.value).inc()
            else:
                PUSH_SENT.labels(router.Channel.ROBOT.value).inc()
            return
        if row.target and str(payload.get("event") or payload.get("type")) in HOLD_EVENTS and payload.get("order_id"):
            order = await session.get(Order, int(payload["order_id"]))
            if order is not None and order.status == OrderStatus.ON_HOLD.value:
                # The manager's own card: 放行 / 取消订单 in one tap.
                fresh = await card_payload(session, order.id or 0, "held")
                card = cards.hold_card(card_data(fresh, await _customer(session, fresh.get("customer_id"))),
                                       order.hold_reason or str(payload.get("reason") or ""),
                                       nonce=hashlib.sha1(row.dedup_key.encode()).hexdigest()[:8])
                await router.push_to_member(session, push_api(ctx), cards.send_body(row.target, _agentid(ctx), card),
                                            row.dedup_key, channel=router.Channel.WECOM_CARD,
                                            order_id=order.id, text=text)
                PUSH_SENT.labels(router.Channel.WECOM_CARD.value).inc()
                return
        userids = [row.target] if row.target else await _managers(session)
        if not userids:
            raise PermanentError("no manager to alert and no group robot configured")
        body = _text(ctx, "|".join(userids), text)
        await router.push_to_member(session, push_api(ctx), body, row.dedup_key,
                                    order_id=payload.get("order_id"), text=text)
    PUSH_SENT.labels(router.Channel.WECOM_APP.value).inc()


def _topic(payload: dict[str, Any], text: str, fallback: str) -> str:
    """Same kind, same order, same words: the same alert."""
    kind = payload.get("type") or payload.get("event") or "alert"
    subject = payload.get("order_id") or fallback
    return f"{kind}:{subject}:{hashlib.sha1(text.encode()).hexdigest()[:12]}"


async def _schedule_digest(session: AsyncSession, robot_key: str, free_at: float, wait: float) -> None:
    """One digest row per full minute: every alert folded while the window is full names the
    same moment the window frees up, so they all share one row."""
    await enqueue(
        session, kind=KIND_DIGEST, dedup_key=f"robot_digest:{robot_key}:{int(free_at * 1000)}",
        target=robot_key, payload={"robot_key": robot_key},
        not_before=router.utcnow() + timedelta(seconds=wait),
    )
    await session.commit()


@watched
async def robot_digest(ctx: JobContext, row: Outbox) -> None:
    """Everything folded so far in one message; alerts folded meanwhile get a digest of their own."""
    key = row.payload.get("robot_key") or row.target
    async with ctx.sessionmaker() as session:
        n = await router.send_digest(session, push_api(ctx), limiter(ctx), key)
        if n and await router.pending_digest(session, key):
            await enqueue(session, kind=KIND_DIGEST, dedup_key=f"robot_digest:{key}:after:{row.id}",
                                target=key, payload={"robot_key": key},
                                not_before=router.utcnow() + timedelta(seconds=60))
            await session.commit()
    if n:
        PUSH_SENT.labels(router.Channel.ROBOT.value).inc()

