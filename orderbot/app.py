"""The aiohttp application: one factory for tests, `orderbot serve` and the demo.

Feature modules add their routes through a `setup(app)` function; this module knows them by
name (FEATURES) and leaves them alone otherwise. Shared things are reached via the typed keys
in orderbot.appkeys. In the embedded profile (no Redis) the outbox worker runs inside this
process, started and stopped with the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot import appkeys, health, middlewares
from orderbot.optional import import_if_present
from orderbot.resources import open_resources
from orderbot.settings import Settings, get_settings
from orderbot.stores import KeyValueStore
from workers.runner import start_in_process_worker
from workers.wakeup import make_waker

log = logging.getLogger(__name__)

# Modules whose `setup(app)` adds routes. A module that does not exist yet is skipped;
# one that exists but fails to import raises.
FEATURES: tuple[str, ...] = (
    "bot.wechat_callback",
    "bot.wecom_callback",
    "miniprogram_api",
    "bot.logistics_hook",
    "board",
)

MAX_BODY = 20 * 1024 * 1024  # photos of order forms from the mini-program
WORKER_GRACE = 10.0  # seconds the in-process worker gets to finish its batch at shutdown


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    store: KeyValueStore | None = None,
    http: aiohttp.ClientSession | None = None,
    start_worker: bool | None = None,
    features: Sequence[str] = FEATURES,
) -> web.Application:
    """The web app. Passed-in engine/store/http are borrowed (not closed at shutdown).
    `start_worker`: run the outbox worker in-process; default: in the embedded profile.
    `features`: the router modules to mount (tests of the shell alone pass ())."""
    settings = settings or get_settings()
    app = web.Application(
        middlewares=[middlewares.request_context], client_max_size=MAX_BODY
    )
    app[appkeys.SETTINGS] = settings

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
    for name in features:
        module = import_if_present(name)
        setup = getattr(module, "setup", None)
        if setup is None:
            log.debug("feature %s not present; its routes are not served", name)
            continue
        setup(app)
    return app


async def _in_process_worker(app: web.Application) -> AsyncIterator[None]:
    """Embedded profile: deliver the outbox from this process; stop cleanly at shutdown."""
    worker, task = start_in_process_worker(
        app[appkeys.SETTINGS],
        engine=app[appkeys.ENGINE],
        sessionmaker=app[appkeys.SESSIONMAKER],
        store=app[appkeys.STORE],
        http=app[appkeys.HTTP],
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
