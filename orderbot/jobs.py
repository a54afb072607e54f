"""What an outbox job is, in a module every layer may import: its context, its errors, the
handler registry, and `enqueue` (the one way to ask for a side effect).

A handler is `async def handler(ctx: JobContext, row: Outbox) -> None`. Raise TransientError
to retry later, PermanentError to park the row now. Delivery is at least once: make the
call itself idempotent (pass `row.dedup_key` to an API that dedups), or wrap it with
`once()` so the row's dedup_key is remembered in the store after success.

Handlers are not registered by importing modules: workers/handlers.py lists them all in one
table, and start-up fails when an OutboxKind has no handler (`HandlerRegistry.require`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orderbot.routing_rules import RulesFile, rules_file_from_settings
from orders.drafts import CatalogSource
from orders.models import Outbox
from orders.outbox import OutboxKind, enqueue, enqueue_many

if TYPE_CHECKING:
    import aiohttp
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession

    from orderbot.settings import Settings
    from orderbot.stores import KeyValueStore

__all__ = [
    "Handler", "HandlerRegistry", "JobContext", "MissingHandlers", "OutboxKind", "PermanentError",
    "BatchHandler", "TransientError", "enqueue", "enqueue_many", "once",
]

log = logging.getLogger(__name__)

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
    """What a handler may use; filled once per worker (as arq's ctx), shared by its deliveries.

    The routing table and the catalog are built here, once, from the settings and the
    database; `clients` (bot.clients.Clients) is made on first use by `bot.clients.clients_for`.
    `extra` is for what tests and benches inject (a fake push API, a limiter on their clock).
    """

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    store: KeyValueStore
    http: aiohttp.ClientSession | None
    worker_id: str
    rules: RulesFile = field(default=None)  # type: ignore[assignment]  # filled in __post_init__
    catalogs: CatalogSource = field(default=None)  # type: ignore[assignment]
    clients: Any = None  # bot.clients.Clients once made; closed by whoever made the context
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rules is None:
            self.rules = rules_file_from_settings(self.settings)
        if self.catalogs is None:
            self.catalogs = CatalogSource(self.sessionmaker)

    async def aclose(self) -> None:
        """Close what handlers opened through this context (the API clients)."""
        if self.clients is not None:
            await self.clients.close()
            self.clients = None


Handler = Callable[[JobContext, Outbox], Awaitable[None]]
# Many rows of one kind carried out together (one transaction, one query per table instead
# of per row). Returns the rows that failed, by row id, with why; every other row is done.
# Raising fails every row of the batch. Each row must stay safe to redeliver on its own.
BatchHandler = Callable[[JobContext, Sequence[Outbox]], Awaitable[Mapping[int, BaseException]]]


def once(fn: Handler) -> Handler:
    """`fn` run at most once per dedup_key: remembered in the store after success."""

    async def deliver_once(ctx: JobContext, row: Outbox) -> None:
        key = f"outbox:delivered:{row.dedup_key}"
        if await ctx.store.get(key) is not None:
            log.info("outbox row %s already delivered (dedup_key %s); skipped", row.id, row.dedup_key)
            return
        await fn(ctx, row)
        await ctx.store.set(key, str(row.id), ttl=ONCE_TTL)

    deliver_once.__name__ = getattr(fn, "__name__", "handler")
    return deliver_once


_once = once  # HandlerRegistry.register's `once` flag shadows the name


class MissingHandlers(RuntimeError):
    """Start-up refused: some outbox kinds would have no handler and their rows would park."""


class HandlerRegistry:
    """Outbox.kind -> handler."""

    def __init__(self, handlers: dict[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = {}
        for kind, fn in (handlers or {}).items():
            self.register(kind)(fn)

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

    def require(self, kinds: Iterable[str] = OutboxKind) -> None:
        """Raise MissingHandlers unless every kind has a handler (checked at start-up)."""
        missing = sorted(str(k) for k in kinds if str(k) not in self._handlers)
        if missing:
            raise MissingHandlers(f"no handler registered for outbox kinds: {', '.join(missing)}")
