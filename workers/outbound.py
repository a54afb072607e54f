"""Outbox handlers pushing orders to WMS / ERP: signed JSON webhooks, idempotent, retried.

`outbound_order` (written by the hub, orders/outbound.py) fans out into one `outbound_push`
row per system in ORDERBOT_OUTBOUND, keyed outbound:<system>:<number>:v<version>; each is
retried on its own with the worker's backoff. A call is

    POST <url>   Content-Type: application/json
    Idempotency-Key: SO20260302-0001:v3
    X-Orderbot-Timestamp: <unix seconds>
    X-Orderbot-Signature: hex HMAC-SHA256(secret, timestamp + body)   (bot.logistics_hook.sign)

2xx = accepted: the answer's id and status code (mapped through orders/status_mapping.json)
go into the push ledger, so a redelivered row is not sent again, and the mapped status moves
the order as `hook:<system>` (orders/external_status.py). 409 = already have it
(accepted). 401/403/404/405 = our configuration: parked. Other 4xx = rejected: the order is held with the refusal's reason, the row parked at once. 5xx, 429, timeouts and network errors are
retried; the last allowed attempt that fails alerts the managers and parks the row
(`orderbot pushes` lists it, `--requeue` sends it again).
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from importlib import resources
from typing import Any

import aiohttp
from sqlmodel import select

from bot.logistics_hook import SIG_HEADER, TS_HEADER, sign
from orderbot.jobs import JobContext, PermanentError, TransientError
from orders import external_status
from orders.errors import OrderError
from orders.models import Order, Outbox, PushDelivery
from orders.outbound import PUSH_KIND
from orders.outbox import enqueue
from orders.status_mapping import map_status
from orders.upsert import insert_for

log = logging.getLogger(__name__)

LEDGER_CHANNEL = "outbound"


@lru_cache(maxsize=1)
def _status_fields() -> dict[str, str]:
    data = json.loads(resources.files("orders").joinpath("status_mapping.json").read_text("utf-8"))
    return {k: v.get("field", "status") for k, v in data.items() if not k.startswith("_")}


def push_key(system: str, idempotency_key: str) -> str:
    return f"outbound:{system}:{idempotency_key}"


async def fan_out(ctx: JobContext, row: Outbox) -> None:
    """One push row per configured system, in one transaction."""
    try:
        systems = ctx.settings.outbound_systems()
    except ValueError as exc:
        raise PermanentError(str(exc)) from exc
    if not systems:
        return
    doc = row.payload
    async with ctx.sessionmaker() as s, s.begin():
        for system in systems:
            await enqueue(s, PUSH_KIND, system, doc, push_key(system, str(doc["idempotency_key"])))
    wake = ctx.extra.get("wake")
    if callable(wake):
        wake()


def _secret(ctx: JobContext) -> str:
    return ctx.settings.outbound_secret or ctx.settings.hook_secret


def signed_request(secret: str, doc: dict[str, Any], now: float) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ts = str(int(now))
    return body, {"Content-Type": "application/json", "Idempotency-Key": str(doc["idempotency_key"]),
                  TS_HEADER: ts, SIG_HEADER: sign(secret, ts, body)}


async def push(ctx: JobContext, row: Outbox) -> None:
    system, doc = row.target, row.payload
    async with ctx.sessionmaker() as s:
        if (await s.exec(select(PushDelivery.id).where(PushDelivery.dedup_key == row.dedup_key))).first():
            return  # accepted before; the worker died before marking the row done
    try:
        url = ctx.settings.outbound_systems().get(system)
        if url is None:
            raise PermanentError(f"system {system!r} is no longer in ORDERBOT_OUTBOUND")
        if not _secret(ctx):
            raise PermanentError("ORDERBOT_OUTBOUND_SECRET / ORDERBOT_HOOK_SECRET is not set")
        remote_id, label, code, answer = await _call(ctx, url, system, doc)
    except (TransientError, PermanentError) as exc:
        final = isinstance(exc, PermanentError) or row.attempts >= ctx.settings.outbox_max_attempts
        if isinstance(exc, Rejected) and doc.get("event") != "cancelled":
            # The other system refused the order itself: hold it, with its reason (the hold
            # alerts the managers); a refused cancellation leaves the order cancelled.
            await external_status.apply_rejection(ctx.sessionmaker, system, str(doc.get("order_number")),
                                                  exc.why)
        if final:
            await _alert(ctx, row, str(exc))
        raise
    if code is not None:  # the answer's status moves the order (as hook:<system>) before the ledger
        await external_status.apply_answer(ctx.sessionmaker, system, str(doc.get("order_number")), code, answer)
    async with ctx.sessionmaker() as s, s.begin():
        await s.exec(insert_for(s, PushDelivery).values(
            dedup_key=row.dedup_key, channel=LEDGER_CHANNEL, target=system, order_id=await _order_id(s, doc),
            text=f"{doc.get('event')} {doc.get('idempotency_key')} → {label}"[:500], remote_id=remote_id,
        ).on_conflict_do_nothing(index_elements=[PushDelivery.dedup_key]))


async def _order_id(s: Any, doc: dict[str, Any]) -> int | None:
    return (await s.exec(select(Order.id).where(Order.number == doc.get("order_number")))).first()


class Rejected(PermanentError):
    """The other system answered 4xx (not 409 / 429): it will not take this order as it is."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


async def _call(ctx: JobContext, url: str, system: str,
                doc: dict[str, Any]) -> tuple[str | None, str, Any, dict[str, Any]]:
    if ctx.http is None:
        raise TransientError("no HTTP client in this worker")
    body, headers = signed_request(_secret(ctx), doc, time.time())
    timeout = aiohttp.ClientTimeout(total=ctx.settings.outbound_timeout)
    try:
        async with ctx.http.post(url, data=body, headers=headers, timeout=timeout) as resp:
            text = await resp.text()
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{system}: {type(exc).__name__} {exc}") from exc
    if status == 409 or 200 <= status < 300:
        return _accepted(system, text)
    if status == 429 or status >= 500:
        raise TransientError(f"{system}: HTTP {status} {text[:200]}")
    if status in (401, 403, 404, 405):  # our signature, our URL: nothing wrong with the order
        raise PermanentError(f"{system} refused the call: HTTP {status} {text[:300]}")
    raise Rejected(f"{system} rejected {doc.get('idempotency_key')}: HTTP {status} {text[:300]}",
                   _reason(text) or f"HTTP {status}")


def _reason(text: str) -> str:
    """The refusal's own words when the answer is JSON with a reason/message/error field."""
    try:
        answer = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return text[:200]
    if isinstance(answer, dict):
        for key in ("reason", "message", "errmsg", "error"):
            if answer.get(key):
                return str(answer[key])[:200]
    return text[:200]


def _accepted(system: str, text: str) -> tuple[str | None, str, Any, dict[str, Any]]:
    """The other system's id and its status code, labelled through the status mapping."""
    try:
        answer = json.loads(text) if text else {}
    except json.JSONDecodeError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    remote_id = answer.get("id") or answer.get(f"{system}_id")
    code = answer.get(_status_fields().get(system, "status"))
    label = "accepted"
    if code is not None:
        try:
            mapped = map_status(system, code)
            label = f"{mapped.code} {mapped.label}（{mapped.status.label}）"
        except OrderError as exc:  # accepted all the same; the unmapped code is worth a look
            log.warning("outbound %s answered an unmapped status: %s", system, exc.message)
            label = f"{code} (unmapped)"
    return (str(remote_id) if remote_id is not None else None), label, code, answer


async def _alert(ctx: JobContext, row: Outbox, error: str) -> None:
    """The push failed for good: tell the managers (group robot, else each manager)."""
    doc = row.payload
    text = (f"订单 {doc.get('order_number')} 推送到 {row.target} 失败，已停止重试：{error[:300]}\n"
            f"处理后可用 orderbot pushes --requeue {row.id} 重新推送。")
    async with ctx.sessionmaker() as s, s.begin():
        await enqueue(s, "alert_manager", "", {"text": text, "type": "outbound_failed",
                                                "order_number": doc.get("order_number")},
                      f"alert:{row.dedup_key}")
