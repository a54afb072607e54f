"""POST /hooks/payment: a bank or payment gateway reports money received.

Signed exactly like /hooks/logistics (the same verification code, bot/logistics_hook.py):
`X-Orderbot-Timestamp` (Unix seconds) and `X-Orderbot-Signature`, hex HMAC-SHA256 under
ORDERBOT_HOOK_SECRET of the timestamp followed by the raw body; stale or bad → 401.

Body: one payment, or {"payments": [...]}; each
    {"reference": "BANK-20260302-001", "amount": "1250.00", "order_number": "SO20260302-0001",
     "customer": "恒锐五金", "paid_at": "2026-03-02T10:00:00+08:00", "note": "网银"}
recorded by orders.payments (as `orderbot import-payments` does): matched to the order, a
delivered order paid in full is closed; the same reference twice is recorded once (`duplicate`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logistics_hook import (
    HookRefused,
    mount_hook,
    refusal_response,
    results_response,
    signed_items,
)
from orders.errors import OrderError
from orders.payments import PaymentError, PaymentIn, record_payment

log = logging.getLogger(__name__)

PATH = "/hooks/payment"


def _payment(data: Any) -> PaymentIn:
    if not isinstance(data, dict):
        raise HookRefused(400, "invalid_payment", "each payment must be an object")
    if not data.get("reference") or data.get("amount") in (None, ""):
        raise HookRefused(400, "invalid_payment", "reference and amount are required")
    return PaymentIn(
        reference=str(data["reference"]), amount=str(data["amount"]), customer=str(data.get("customer") or ""),
        order=str(data.get("order_number") or data.get("order") or ""), paid_at=data.get("paid_at") or None,
        note=data.get("note") or None,
    )


class PaymentHook:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], secret: str, *,
                 clock: Callable[[], float] = time.time, on_change: Callable[[], None] | None = None) -> None:
        self.sessionmaker, self.secret, self.clock, self.on_change = sessionmaker, secret, clock, on_change

    async def receive(self, request: web.Request) -> web.Response:
        try:
            payments = [_payment(item) for item in await signed_items(request, self.secret, self.clock(), "payments")]
        except HookRefused as exc:
            return refusal_response("payment", exc)
        results: list[dict[str, Any]] = []
        for p in payments:
            try:
                async with self.sessionmaker() as s, s.begin():
                    done = await record_payment(s, p, source="hook")
                results.append({"reference": p.reference, "order": done.order_number, "closed": done.closed,
                                "result": "recorded" if done.new else "duplicate"})
            except (PaymentError, OrderError) as exc:
                results.append({"reference": p.reference, "error": str(exc)})
        if self.on_change is not None:
            self.on_change()
        return results_response(results)


HOOK = web.AppKey("payment_hook", PaymentHook)


def setup(app: web.Application, hook: PaymentHook | None = None) -> None:
    """Route POST /hooks/payment; the hook is built at startup from the app's keys unless given."""
    mount_hook(app, PATH, HOOK, hook, PaymentHook)
