"""The stand-in server: one aiohttp app answering WeChat, mini-program and WeCom API paths.

`create_standin_app(config)` is what tests run in-process (aiohttp test server, no fixed
port); `orderbot standin` serves the same app on a port.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from orderbot.standin import control, faults, simulate, wechat_api, wecom_api, wecom_oauth, wms
from orderbot.standin.config import StandinConfig
from orderbot.standin.keys import HTTP, STATE
from orderbot.standin.state import ApiError, StandinState

log = logging.getLogger("orderbot.standin")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """WeChat answers errors with HTTP 200 and {"errcode", "errmsg"}; so do we, in one place."""
    try:
        return await handler(request)
    except ApiError as exc:
        log.info("%s %s -> %s %s", request.method, request.path, exc.errcode, exc.errmsg)
        state = request.app[STATE]
        state.errors.append(
            {"at": state.now(), "path": request.path, "errcode": exc.errcode, "errmsg": exc.errmsg,
             "body": (await request.read())[:2000].decode("utf-8", "replace")}
        )
        return web.json_response({"errcode": exc.errcode, "errmsg": exc.errmsg})


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


def create_standin_app(
    config: StandinConfig | None = None, *, state: StandinState | None = None
) -> web.Application:
    """A fresh stand-in; pass `state` to inspect or steer it from a test."""
    app = web.Application(middlewares=[faults.inject, api_errors])
    app[STATE] = state or StandinState(config or StandinConfig.from_env())
    app[faults.PLAN] = faults.FaultPlan()  # off until POST /__faults__
    app.cleanup_ctx.append(_http_client)
    for module in (wechat_api, wecom_api, wecom_oauth, wms, control, simulate, faults):
        app.add_routes(module.routes)
    return app
