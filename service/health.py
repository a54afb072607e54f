"""/healthz (the process answers), /readyz (its database and Redis answer), /metrics.

Load balancers take a web replica out of rotation on a failing /readyz; /healthz stays
cheap and dependency-free so an orchestrator does not restart a replica for a DB outage.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from orderbot import appkeys, metrics
from orders import outbox

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _check_db(app: web.Application) -> str:
    async with asyncio.timeout(CHECK_TIMEOUT):
        async with app[appkeys.ENGINE].connect() as conn:
            await conn.execute(text("SELECT 1"))
    return "ok"


async def _check_store(app: web.Application) -> str:
    async with asyncio.timeout(CHECK_TIMEOUT):
        if not await app[appkeys.STORE].ping():
            raise ConnectionError("ping returned false")
    return "ok"


async def readyz(request: web.Request) -> web.Response:
    """200 when every configured dependency answers within CHECK_TIMEOUT, else 503."""
    app = request.app
    checks = {"database": _check_db(app)}
    if not app[appkeys.SETTINGS].embedded:
        checks["redis"] = _check_store(app)
    results = await asyncio.gather(*checks.values(), return_exceptions=True)
    report: dict[str, str] = {}
    for name, result in zip(checks, results, strict=True):
        if isinstance(result, BaseException):
            report[name] = f"fail: {type(result).__name__}: {result}"[:300]
            log.warning("readiness check failed", extra={"check": name, "error": report[name]})
        else:
            report[name] = result
    ok = all(v == "ok" for v in report.values())
    return web.json_response({"status": "ok" if ok else "fail", "checks": report}, status=200 if ok else 503)


async def metrics_view(request: web.Request) -> web.Response:
    """Prometheus text format; the outbox gauges are refreshed from the database first, so
    every replica reports them even when no worker runs in it."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            async with request.app[appkeys.SESSIONMAKER]() as session:
                counts = await outbox.count_by_state(session)
        metrics.OUTBOX_PENDING.set(counts[outbox.PENDING])
        metrics.OUTBOX_PARKED.set(counts[outbox.PARKED])
    except Exception as exc:  # a scrape must still answer when the database does not
        log.warning("outbox gauges not refreshed: %s", exc)
    for hook in request.app.get(appkeys.SCRAPE_HOOKS, []):
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await hook(request.app)
        except Exception as exc:  # noqa: BLE001 — one feature's gauges must not break the scrape
            log.warning("scrape hook %s failed: %s", getattr(hook, "__name__", hook), exc)
    body, content_type = metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
