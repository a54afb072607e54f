"""Typed application keys and the request helpers every stand-in route uses."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import ClientSession, web

from orderbot.standin.state import DATA_FORMAT_ERROR, ApiError, StandinState

STATE = web.AppKey("standin_state", StandinState)
HTTP = web.AppKey("standin_http", ClientSession)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body, else WeChat's 47001 data format error."""
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(DATA_FORMAT_ERROR, f"data format error: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(DATA_FORMAT_ERROR, "data format error: not a JSON object")
    return body


_dumps = functools.partial(json.dumps, ensure_ascii=False)


def readable_json(data: Any, status: int = 200) -> web.Response:
    """JSON with Chinese left readable, for what people look at (/__sent__, simulate)."""
    return web.json_response(data, status=status, dumps=_dumps)
