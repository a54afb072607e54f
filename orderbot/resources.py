"""Opening and closing what a process talks to: database engine, key-value store, HTTP client.

The web app (cleanup_ctx) and `orderbot worker` use the same code, so both profiles get
the same pools and the same shutdown order. Anything passed in is borrowed, not closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import Settings
from orderbot.stores import KeyValueStore, make_store

log = logging.getLogger(__name__)

# Outbound calls to WeChat/WeCom: fail fast rather than hold a worker slot for minutes.
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


@dataclass
class Resources:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    store: KeyValueStore
    http: aiohttp.ClientSession


def rule_tables(settings: Settings) -> dict[str, Any]:
    """The price and hold tables every session of this process prices and holds by."""
    from orderbot.price_rules import price_rules_from_settings
    from orderbot.risk_rules import risk_rules_from_settings
    from orders.repricing import PRICE_RULES, RISK_RULES

    return {PRICE_RULES: price_rules_from_settings(settings), RISK_RULES: risk_rules_from_settings(settings)}


class open_resources:  # noqa: N801  (used as `async with open_resources(...)`)
    """Open what is not passed in; close only that, in reverse order.

    A class rather than an @asynccontextmanager generator: when a failed startup leaves the
    scope open, loop shutdown then has no nested generators to finalize out of order."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: AsyncEngine | None = None,
        store: KeyValueStore | None = None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self.settings = settings
        self._given = (engine, store, http)
        self._opened: Resources | None = None

    async def __aenter__(self) -> Resources:
        engine, store, http = self._given
        res = Resources(
            engine=engine or make_engine(self.settings.database_url),
            sessionmaker=None,  # type: ignore[arg-type]  (set just below)
            store=store or make_store(self.settings),
            http=http or aiohttp.ClientSession(timeout=HTTP_TIMEOUT),
        )
        res.sessionmaker = make_sessionmaker(res.engine, rule_tables(self.settings))
        self._opened = res
        return res

    async def __aexit__(self, *exc: object) -> None:
        res, (engine, store, http) = self._opened, self._given
        if res is None:
            return
        self._opened = None
        if http is None:
            await res.http.close()
        if store is None:
            await res.store.close()
        if engine is None:
            await res.engine.dispose()
