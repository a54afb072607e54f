"""The aiohttp application: one factory for tests, `orderbot serve` and the demo.

Feature modules add their routes through a `setup(app)` function, listed in FEATURES (imported
here, so a broken or misspelt feature fails at start-up). Shared things are reached via the
typed keys in orderbot.appkeys. In the embedded profile (no Redis) the outbox worker runs inside this
process, started and stopped with the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

import board
import miniprogram_api
from bot import logistics_hook, payment_hook, wechat_callback, wecom_callback
from orderbot import appkeys, middlewares
from orderbot.activity import WebActivity
from orderbot.resources import open_resources
from orderbot.settings import Settings, get_settings
from orderbot.stores import KeyValueStore
from service import health
from workers import coei_survey
from workers.runner import start_in_process_worker
from workers.wakeup import make_waker

log = logging.getLogger(__name__)

# Every feature's `setup(app)`, by the name tests use to mount some of them.
FEATURES: dict[str, Callable[[web.Application], None]] = {
    "bot.wechat_callback": wechat_callback.setup,
    "bot.wecom_callback": wecom_callback.setup,
    "miniprogram_api": miniprogram_api.setup,
    "bot.logistics_hook": logistics_hook.setup,
    "bot.payment_hook": payment_hook.setup,
    "board": board.setup,
}

MAX_BODY = 20 * 1024 * 1024  # photos of order forms from the mini-program
WORKER_GRACE = 10.0  # seconds the in-process worker gets to finish its batch at shutdown


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    store: KeyValueStore | None = None,
    http: aiohttp.ClientSession | None = None,
    start_worker: bool | None = None,
    features: Sequence[str] = tuple(FEATURES),
) -> web.Application:
    """The web app. Passed-in engine/store/http are borrowed (not closed at shutdown).
    `start_worker`: run the outbox worker in-process; default: in the embedded profile.
    `features`: the FEATURES to mount (tests of the shell alone pass ()); an unknown name
    is a ValueError."""
    settings = settings or get_settings()
    app = web.Application(
        middlewares=[middlewares.request_context], client_max_size=MAX_BODY
    )
    app[appkeys.SETTINGS] = settings
    app[appkeys.WEB_ACTIVITY] = WebActivity()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with open_resources(settings, engine=engine, store=store, http=http) as res:
            app[appkeys.ENGINE] = res.engine
            app[appkeys.SESSIONMAKER] = res.sessionmaker
            app[appkeys.STORE] = res.store
            app[appkeys.HTTP] = res.http
            app[appkeys.WAKE_OUTBOX], publisher = make_waker(res.store)
            yield
            if publisher is not None:
                await publisher.aclose()

    app.cleanup_ctx.append(resources)
    if settings.embedded if start_worker is None else start_worker:
        app.cleanup_ctx.append(_in_process_worker)

    health.setup(app)
    unknown = [name for name in features if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown features {unknown}; known: {sorted(FEATURES)}")
    for name in features:
        FEATURES[name](app)
    if "board" in features:  # the managers' reporting: with the daily digest, the monthly COEI survey
        app.on_startup.append(_schedule_coei)
    return app


async def _schedule_coei(app: web.Application) -> None:
    """This month's COEI survey row (workers/coei_survey.py); idempotent across replicas."""
    try:
        await coei_survey.ensure_scheduled(app[appkeys.SESSIONMAKER], app[appkeys.SETTINGS])
    except Exception:  # noqa: BLE001 — a bad ORDERBOT_COEI_AT must not stop the service
        log.exception("COEI survey not scheduled")


async def _in_process_worker(app: web.Application) -> AsyncIterator[None]:
    """Embedded profile: deliver the outbox from this process; stop cleanly at shutdown."""
    worker, task = start_in_process_worker(
        app[appkeys.SETTINGS],
        engine=app[appkeys.ENGINE],
        sessionmaker=app[appkeys.SESSIONMAKER],
        store=app[appkeys.STORE],
        http=app[appkeys.HTTP],
        before_round=app[appkeys.WEB_ACTIVITY].quiet,  # callbacks acknowledged first
    )
    app[appkeys.WORKER] = worker
    app[appkeys.WAKE_OUTBOX] = worker.wake
    yield
    worker.stop()
    try:
        await asyncio.wait_for(task, WORKER_GRACE)
    except TimeoutError:
        log.warning("in-process worker did not stop within %ss; cancelled", WORKER_GRACE)
    except Exception:
        log.exception("in-process worker failed")
    await worker.ctx.aclose()
