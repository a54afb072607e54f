"""POST /hooks/logistics: a carrier or WMS reports waybills and tracking events.

Authentication: `X-Orderbot-Timestamp` (Unix seconds) and `X-Orderbot-Signature`, the hex
HMAC-SHA256 under ORDERBOT_HOOK_SECRET of the timestamp immediately followed by the raw
body (`f"{timestamp}".encode() + body`). A timestamp more than five minutes away from our
clock is refused (a captured request cannot be replayed later); so is a bad signature (401).
Every refusal is {"ok": false, "code", "message"}: 401 missing_signature / bad_timestamp /
stale_timestamp / bad_signature, 413 body_too_large, 400 invalid_json / no_events /
invalid_event / control_characters (a C0 control other than tab and newline, or DEL, in any
field: PostgreSQL cannot store NUL, and terminals and chat clients mangle the rest).

Body: one event, or {"events": [...]}; each event
    {"system": "wms", "code": "shipped", "order_number": "SO20260302-0001",
     "event_id": "E123", "carrier": "顺丰速运", "waybill_no": "SF1234567890",
     "description": "已从常州发出", "occurred_at": "2026-03-03T10:00:00+08:00"}
`code` is the system's own status, mapped through the hub's table (orders/status_mapping.py)
to a move (ship, deliver, hold) carried out by the hub as `hook:<system>`; an informational
code moves nothing. Every event with a description is pushed to the customer as tracking.
Each event is remembered by (system, event_id) — or by its content when it has no id — so a
repeated event changes nothing and pushes nothing: the answer says `duplicate`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.jobs import OutboxKind, enqueue
from orders import actions
from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.models import InboundMessage, Order, utcnow
from orders.notifications import order_payload
from orders.status import Action, OrderStatus, TransitionError
from orders.status_mapping import action_for, map_status
from orders.upsert import insert_for

log = logging.getLogger(__name__)

PATH = "/hooks/logistics"
CHANNEL = "logistics"
MAX_SKEW = 300.0  # seconds
MAX_BODY = 256 * 1024
TS_HEADER, SIG_HEADER = "X-Orderbot-Timestamp", "X-Orderbot-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a sender puts in X-Orderbot-Signature."""
    return hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()


class HookRefused(Exception):
    """A hook answered 4xx before anything is stored; `code` is for the sender's program."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
    if not secret:
        raise HookRefused(503, "not_configured", "ORDERBOT_HOOK_SECRET is not configured")
    if not timestamp or not signature:
        raise HookRefused(401, "missing_signature", "missing signature headers")
    try:
        ts = float(timestamp)
    except ValueError:
        ts = math.nan
    if not math.isfinite(ts):  # "nan" would never be stale: a replay forever
        raise HookRefused(401, "bad_timestamp", "bad timestamp")
    if abs(now - ts) > MAX_SKEW:
        raise HookRefused(401, "stale_timestamp", "stale timestamp")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip().lower()):
        raise HookRefused(401, "bad_signature", "bad signature")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIELDS = ("system", "code", "status", "order_number", "order_no", "event_id", "carrier", "waybill_no",
           "description", "occurred_at")


def _check_fields(data: dict[str, Any]) -> None:
    """Scalars only, and no control characters, in the fields we read."""
    for name in _FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str | int | float):
            raise HookRefused(400, "invalid_event", f"{name} must be a string")
        if isinstance(value, str) and _CONTROL.search(value):
            raise HookRefused(400, "control_characters", f"{name} contains control characters")


@dataclass(frozen=True)
class TrackingEvent:
    system: str
    code: str
    order_number: str
    event_id: str
    carrier: str | None
    waybill_no: str | None
    description: str | None
    occurred_at: str | None

    @classmethod
    def from_json(cls, data: Any) -> TrackingEvent:
        if not isinstance(data, dict):
            raise HookRefused(400, "invalid_event", "each event must be an object")
        _check_fields(data)
        number = str(data.get("order_number") or data.get("order_no") or "").strip()
        code = str(data.get("code") if data.get("code") is not None else data.get("status") or "").strip()
        if not number or not code:
            raise HookRefused(400, "invalid_event", "order_number and code are required")
        fields = {
            "system": str(data.get("system") or "wms").strip(),
            "code": code,
            "order_number": number,
            "carrier": _opt(data.get("carrier")),
            "waybill_no": _opt(data.get("waybill_no")),
            "description": _opt(data.get("description")),
            "occurred_at": _opt(data.get("occurred_at")),
        }
        event_id = _opt(data.get("event_id"))
        if event_id is None:  # no id: the event's content is its identity
            event_id = "h:" + hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]
        return cls(event_id=event_id, **fields)  # type: ignore[arg-type]

    @property
    def dedup_key(self) -> str:
        return f"{self.system}:{self.event_id}"


def _opt(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


async def _remember(sm: async_sessionmaker[AsyncSession], ev: TrackingEvent, raw: str) -> tuple[int, str]:
    """Store the event once: (its row id, "new" / "unfinished" / "handled"). An event seen
    before but never marked handled — its sender's connection or our database went away
    half-way — is finished now rather than answered `duplicate` with its push never sent."""
    new = await _insert(sm, ev, raw)
    if new is not None:
        return new, "new"
    async with sm() as s:
        row = (await s.exec(select(InboundMessage).where(
            InboundMessage.channel == CHANNEL, InboundMessage.dedup_key == ev.dedup_key))).one()
        assert row.id is not None
        return row.id, "handled" if row.state == "handled" else "unfinished"


async def _insert(sm: async_sessionmaker[AsyncSession], ev: TrackingEvent, raw: str) -> int | None:
    """Store the event once; None when it was seen before."""
    async with sm() as s, s.begin():
        stmt = (
            insert_for(s, InboundMessage)
            .values(channel=CHANNEL, dedup_key=ev.dedup_key, from_user=ev.system, msg_type="tracking",
                    content=ev.code, raw=raw, received_at=utcnow(), state="received")
            .on_conflict_do_nothing(index_elements=["channel", "dedup_key"])
            .returning(InboundMessage.id)
        )
        return (await s.exec(stmt)).scalar_one_or_none()


async def apply_event(sm: async_sessionmaker[AsyncSession], ev: TrackingEvent, raw: str) -> dict[str, Any]:
    """One event: remember it, move the order through the hub, push tracking to the customer."""
    mapped = map_status(ev.system, ev.code)  # unknown system / code: a coded OrderError
    async with sm() as s:
        order = (await s.exec(select(Order).where(Order.number == ev.order_number))).one_or_none()
    if order is None or order.id is None:
        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, f"订单 {ev.order_number} 不存在")
    message_id, seen = await _remember(sm, ev, raw)
    if seen == "handled":
        return {"event_id": ev.event_id, "order": ev.order_number, "duplicate": True, "status": order.status}
    try:
        moved = await _apply_moves(sm, order, mapped, ev, message_id)
    except Exception:
        await _forget(sm, message_id)  # not applied: the sender's retry must not look like a repeat
        raise
    async with sm() as s, s.begin():
        current = await s.get(Order, order.id)
        assert current is not None
        # On a resumed event the move may have happened the first time: judge by where the
        # order stands. The push's dedup key (the event) keeps it to one either way.
        resumed = seen == "unfinished"
        delivered = "deliver" in moved or (resumed and mapped.status is OrderStatus.DELIVERED
                                           and current.status == OrderStatus.DELIVERED.value)
        shipped = "ship" in moved or (resumed and mapped.status is OrderStatus.SHIPPED and bool(ev.waybill_no))
        if delivered:
            await _push_customer(s, current, ev, "delivered")
        elif ev.description and not shipped:
            await _push_customer(s, current, ev, "tracking")
        row = await s.get(InboundMessage, message_id)
        if row is not None:
            row.state, row.handled_at = "handled", utcnow()
            s.add(row)
        status = current.status
    return {"event_id": ev.event_id, "order": ev.order_number, "duplicate": False, "moved": moved, "status": status}


async def _forget(sm: async_sessionmaker[AsyncSession], message_id: int) -> None:
    async with sm() as s, s.begin():
        row = await s.get(InboundMessage, message_id)
        if row is not None:
            await s.delete(row)


async def _apply_moves(sm: async_sessionmaker[AsyncSession], order: Order, mapped: Any, ev: TrackingEvent,
                       message_id: int) -> list[str]:
    assert order.id is not None
    actor = Actor.system(f"hook:{ev.system}")
    moved: list[str] = []
    waybill_new = bool(ev.waybill_no) and ev.waybill_no != order.waybill_no
    action = action_for(order.status, mapped)
    # A carrier's first scan may come as "in transit" with the waybill: that ships the order.
    if action is None and waybill_new and order.status == OrderStatus.CONFIRMED.value and mapped.status in (
        OrderStatus.SHIPPED, OrderStatus.DELIVERED
    ):
        action = Action.SHIP
    elif action is None and waybill_new and order.status == OrderStatus.SHIPPED.value:
        action = Action.SHIP  # a corrected or additional waybill
    if action is Action.DELIVER and order.status == OrderStatus.CONFIRMED.value and ev.waybill_no:
        await actions.ship(sm, order.id, actor, ev.carrier or "", ev.waybill_no, source_message_id=message_id)
        moved.append("ship")
    if action is not None:
        await _move(sm, order.id, action, actor, ev, message_id)
        moved.append(action.value)
    return moved


async def _move(sm: async_sessionmaker[AsyncSession], order_id: int, action: Action, actor: Actor,
                ev: TrackingEvent, message_id: int) -> None:
    if action is Action.SHIP:
        if not ev.waybill_no:
            raise OrderError(OrderErrorCode.WAYBILL_REQUIRED, "发货事件缺少运单号")
        await actions.ship(sm, order_id, actor, ev.carrier or "", ev.waybill_no, source_message_id=message_id)
    elif action is Action.DELIVER:
        await actions.deliver(sm, order_id, actor, source_message_id=message_id)
    elif action is Action.HOLD:
        await actions.hold(sm, order_id, actor, ev.description or f"{ev.system} {ev.code}", source_message_id=message_id)
    elif action is Action.CANCEL:
        await actions.cancel(sm, order_id, actor, ev.description, source_message_id=message_id)
    elif action is Action.CLOSE:
        await actions.close(sm, order_id, actor, ev.description, source_message_id=message_id)
    elif action is Action.CONFIRM:
        await actions.confirm(sm, order_id, actor, source_message_id=message_id)
    else:
        raise OrderError(OrderErrorCode.ILLEGAL_TRANSITION, f"物流事件不能{action.label}此订单")


async def _push_customer(s: AsyncSession, order: Order, ev: TrackingEvent, event: str) -> None:
    """Tracking (or the delivery) for the customer, once per hook event."""
    from orders.models import Customer, OrderLine

    customer = await s.get(Customer, order.customer_id)
    target = (customer.openid or customer.mp_openid or "") if customer else ""
    lines = list(await s.exec(select(OrderLine).where(OrderLine.order_id == order.id)))
    payload = order_payload(event, order, lines, tracking=ev.description, carrier=order.carrier,
                            waybill_no=order.waybill_no)
    await enqueue(s, kind=OutboxKind.NOTIFY_CUSTOMER, target=target, payload=payload,
                        dedup_key=f"{event}:{ev.dedup_key}")


class LogisticsHook:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], secret: str, *,
                 clock: Callable[[], float] = time.time, on_change: Callable[[], None] | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.secret = secret
        self.clock = clock
        self.on_change = on_change

    async def receive(self, request: web.Request) -> web.Response:
        try:
            items = await signed_items(request, self.secret, self.clock(), "events")
            events = [TrackingEvent.from_json(item) for item in items]
        except HookRefused as exc:
            return refusal_response("logistics", exc)
        results: list[dict[str, Any]] = []
        for ev, item in zip(events, items, strict=True):
            try:
                results.append(await apply_event(self.sessionmaker, ev, json.dumps(item, ensure_ascii=False)))
            except (OrderError, TransitionError) as exc:
                code = exc.code.value if isinstance(exc, OrderError) else exc.code
                results.append({"event_id": ev.event_id, "order": ev.order_number, "error": code,
                                "message": exc.message})
            except Exception:  # the database went away: the sender retries, nothing is half-done
                log.exception("logistics event %s not applied; the sender will retry", ev.dedup_key)
                return web.json_response({"ok": False, "code": "try_again", "message": "storage unavailable",
                                          "results": results}, status=503)
        if self.on_change is not None:
            self.on_change()
        return results_response(results)


async def signed_items(request: web.Request, secret: str, now: float, plural: str) -> list[Any]:
    """The verified body's items: `{plural: [...]}` or one object (HookRefused otherwise).
    Shared by every signed hook (logistics, payment)."""
    if (request.content_length or 0) > MAX_BODY:  # refused before it is read
        raise HookRefused(413, "body_too_large", "body too large")
    body = await request.read()
    if len(body) > MAX_BODY:
        raise HookRefused(413, "body_too_large", "body too large")
    verify(secret, request.headers.get(TS_HEADER), request.headers.get(SIG_HEADER), body, now)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise HookRefused(400, "invalid_json", "body is not JSON") from None
    items = data.get(plural) if isinstance(data, dict) and plural in data else [data]
    if not isinstance(items, list) or not items:
        raise HookRefused(400, f"no_{plural}", f"no {plural}")
    return items


def refusal_response(hook: str, exc: HookRefused) -> web.Response:
    """A refused hook call: the code for the sender's program, the message for its people."""
    log.info("%s hook refused: %s %s", hook, exc.code, exc.message)
    return web.json_response({"ok": False, "code": exc.code, "message": exc.message, "error": exc.message},
                             status=exc.status)


def results_response(results: list[dict[str, Any]]) -> web.Response:
    """200 when every item went through, 422 for one failed item, 207 for a mixed batch."""
    ok = all("error" not in r for r in results)
    status = 200 if ok else (422 if len(results) == 1 else 207)
    return web.json_response({"ok": ok, "results": results}, status=status)


def mount_hook(app: web.Application, path: str, key: web.AppKey[Any], hook: Any, factory: Callable[..., Any]) -> None:
    """Route POST `path` to app[key].receive; unless `hook` is given it is built at startup
    as factory(sessionmaker, ORDERBOT_HOOK_SECRET, on_change=wake the outbox)."""
    if hook is not None:
        app[key] = hook
    else:
        async def build(app: web.Application) -> None:
            if key in app:
                return
            from orderbot import appkeys

            app[key] = factory(app[appkeys.SESSIONMAKER], app[appkeys.SETTINGS].hook_secret,
                               on_change=app.get(appkeys.WAKE_OUTBOX))

        app.on_startup.append(build)

    async def receive(request: web.Request) -> web.Response:
        return await request.app[key].receive(request)

    app.router.add_post(path, receive)


HOOK = web.AppKey("logistics_hook", LogisticsHook)


def setup(app: web.Application, hook: LogisticsHook | None = None) -> None:
    """Route POST /hooks/logistics; the hook is built at startup from the app's keys unless given."""
    mount_hook(app, PATH, HOOK, hook, LogisticsHook)
