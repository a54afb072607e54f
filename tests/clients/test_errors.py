"""Errors are sorted by what the caller should do: retry later, fall back, or give up."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from bot.clients import HTTPClient, TransportError, WeChatAPIError


@pytest.mark.parametrize(
    ("errcode", "transient", "channel_closed", "token_error"),
    [
        (-1, True, False, False),  # system busy
        (45009, True, False, False),  # rate limit
        (40001, False, False, True),
        (42001, False, False, True),
        (40014, False, False, True),
        (40003, False, True, False),  # unknown user
        (43101, False, True, False),  # no subscribe consent
        (45015, False, True, False),  # out of the 48 h window
        (45047, False, True, False),  # window budget spent
        (40125, False, False, False),  # wrong secret: fix the config
    ],
)
def test_classification(errcode: int, transient: bool, channel_closed: bool, token_error: bool) -> None:
    err = WeChatAPIError(errcode, "msg", api="/x")
    assert (err.transient, err.channel_closed, err.token_error) == (transient, channel_closed, token_error)
    assert str(errcode) in str(err)


@pytest.fixture
async def flaky(aiohttp_server) -> HTTPClient:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async def bad_gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>bad gateway</html>")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404, text="nope")

    async def busy(request: web.Request) -> web.Response:
        return web.json_response({"errcode": -1, "errmsg": "system error"})

    app = web.Application()
    for path, handler in {"/slow": slow, "/502": bad_gateway, "/html": html, "/404": not_found, "/busy": busy}.items():
        app.router.add_get(path, handler)
    server = await aiohttp_server(app)
    client = HTTPClient(str(server.make_url("")), timeout=aiohttp.ClientTimeout(total=0.3))
    yield client
    await client.close()


async def test_timeouts_and_bad_gateways_are_transient(flaky: HTTPClient) -> None:
    for path in ("/slow", "/502", "/html"):
        with pytest.raises(TransportError) as info:
            await flaky.call("GET", path)
        assert info.value.transient, path
    with pytest.raises(TransportError) as info:
        await flaky.call("GET", "/404")
    assert not info.value.transient and info.value.status == 404
    with pytest.raises(WeChatAPIError) as err:
        await flaky.call("GET", "/busy")
    assert err.value.errcode == -1 and err.value.transient


async def test_refused_connection_is_transient() -> None:
    async with HTTPClient("http://127.0.0.1:9", timeout=aiohttp.ClientTimeout(total=1)) as client:
        with pytest.raises(TransportError) as info:
            await client.call("GET", "/cgi-bin/token")
    assert info.value.transient and info.value.status is None
