"""Outbox handlers: one `async def handler(ctx, row) -> None` per Outbox.kind.

    from workers.handlers import handler, TransientError

    @handler("cs_message")
    async def send_cs_message(ctx: JobContext, row: Outbox) -> None:
        ...  # raise TransientError to retry later, PermanentError to park the row now

Delivery is at least once: a worker that dies after the side effect but before the row is
marked done makes another worker run the handler again. Either make the call itself
idempotent (pass `row.dedup_key` to an API that dedups), or register with `once=True`: the
row's dedup_key is then remembered in the store after success and a redelivery is skipped.
Modules that register handlers are listed in HANDLER_MODULES so workers import them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orderbot.optional import import_if_present
from orders.models import Outbox

if TYPE_CHECKING:
    import aiohttp
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession

    from orderbot.settings import Settings
    from orderbot.stores import KeyValueStore

log = logging.getLogger(__name__)

# Modules whose import registers handlers (add yours here). Absent modules are skipped.
HANDLER_MODULES: tuple[str, ...] = (
    "bot.chat",  # inbound: the customer's WeChat conversation
    "workers.notify",  # notify_customer / notify_rep / alert_manager / card updates / digests
    "workers.ocr_jobs",  # OCR of uploaded images, when that module exists
    "board.digest",  # the managers' daily digest (self-scheduling)
    "workers.outbound",  # orders pushed to WMS / ERP
)

ONCE_TTL = 7 * 24 * 3600.0  # how long a delivered dedup_key is remembered


class TransientError(Exception):
    """Worth retrying (network error, rate limit, token expired). `retry_after` overrides
    the exponential backoff for this attempt, e.g. from a rate limit's reset time."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying cannot help (user unknown, consent missing): park the row at once."""


@dataclass
class JobContext:
    """What a handler may use; filled once per worker, shared by its deliveries."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    store: KeyValueStore
    http: aiohttp.ClientSession | None
    worker_id: str
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[JobContext, Outbox], Awaitable[None]]


class HandlerRegistry:
    """Outbox.kind -> handler. The module-level `registry` is the one workers use."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, *, once: bool = False) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            if kind in self._handlers:
                raise ValueError(f"a handler for outbox kind {kind!r} is already registered")
            self._handlers[kind] = _once(fn) if once else fn
            return fn

        return decorate

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._handlers)


def _once(fn: Handler) -> Handler:
    async def deliver_once(ctx: JobContext, row: Outbox) -> None:
        key = f"outbox:delivered:{row.dedup_key}"
        if await ctx.store.get(key) is not None:
            log.info("outbox row %s already delivered (dedup_key %s); skipped", row.id, row.dedup_key)
            return
        await fn(ctx, row)
        await ctx.store.set(key, str(row.id), ttl=ONCE_TTL)

    deliver_once.__name__ = getattr(fn, "__name__", "handler")
    return deliver_once


registry = HandlerRegistry()
handler = registry.register


def load_handler_modules(names: tuple[str, ...] = HANDLER_MODULES) -> list[str]:
    """Import every handler module that exists; returns the names imported."""
    return [name for name in names if import_if_present(name) is not None]
