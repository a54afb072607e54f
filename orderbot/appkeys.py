"""Typed keys for what the app holds, so feature modules reach it without string keys.

    from orderbot import appkeys
    sm = request.app[appkeys.SESSIONMAKER]

SETTINGS is set when the app is created; the others are opened at startup (cleanup_ctx)
and are therefore present in every request handler and in `on_startup` hooks. WORKER is
present only when the outbox worker runs in this process (embedded profile).
WAKE_OUTBOX is always present.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.activity import WebActivity
from orderbot.settings import Settings
from orderbot.stores import KeyValueStore


class InProcessWorker(Protocol):
    """The outbox worker running in this process (workers.runner.OutboxWorker)."""

    def wake(self) -> None: ...

    def stop(self) -> None: ...


SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
STORE = web.AppKey("store", KeyValueStore)
HTTP = web.AppKey("http", aiohttp.ClientSession)
WORKER = web.AppKey("worker", InProcessWorker)
# Call after committing outbox rows: wakes the in-process worker, or (production) publishes
# a wake-up to every `orderbot worker` through Redis. Never fails; polling is the fallback.
WAKE_OUTBOX = web.AppKey("wake_outbox", Callable[[], None])
# Stamped by the middleware on every request; the in-process worker waits for a quiet moment
# before each round (orderbot/activity.py). Present in every app.
WEB_ACTIVITY = web.AppKey("web_activity", WebActivity)
# Feature modules append `async (app) -> None` here to refresh their gauges before each
# /metrics scrape (the board's desk metrics); a failing one is logged, the scrape still answers.
SCRAPE_HOOKS = web.AppKey("scrape_hooks", list[Callable[[web.Application], Awaitable[None]]])
