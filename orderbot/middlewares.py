"""The middleware every request goes through, and the one place errors become answers.

`request_context`: takes or makes the request id, puts it in the log context and the
X-Request-Id response header, turns exceptions into answers (`answer_for`), logs one
access line (DEBUG for health checks and for answered WeChat/WeCom callbacks, which the
inbound_message table records) and records metrics. One middleware, not two: each layer
costs every request a coroutine and aiohttp's wrapper.
`answer_for`: exceptions as JSON {code, message}: order-hub refusals
(orders.errors.OrderError, orders.status.TransitionError) with their status, validation
errors as 422, aiohttp's HTTP errors, and anything else as a logged 500.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from orderbot import appkeys, metrics
from orderbot.logging import new_request_id, request_id_var
from orders.errors import OrderError
from orders.status import TransitionError

log = logging.getLogger("orderbot.http")

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Answered callbacks are each already on record as an inbound_message row (with its time and
# MsgId) and in the request metrics; a log line apiece would cost a fifth of the intake's
# throughput in a burst. Refusals and failures are still logged at INFO.
_RECORDED_PATHS = frozenset({"/wechat/callback", "/wecom/callback"})
_DEBUG_WHEN_OK = _QUIET_PATHS | _RECORDED_PATHS
_TRANSITION_STATUS = {"illegal_transition": 409, "role_forbidden": 403}


def error_response(status: int, code: str, message: str, **details: Any) -> web.Response:
    body = {"code": code, "message": message, **details}
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))


def _http_code(exc: web.HTTPException) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (exc.reason or f"http {exc.status}").lower()).strip("_")


_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The labelled counter and histogram of one (method, route, status), looked up once:
    prometheus_client's labels() validates and locks on every call, on every request."""
    key = (method, route, status)
    found = _SERIES.get(key)
    if found is None:
        found = (
            metrics.HTTP_REQUESTS.labels(method, route, str(status)),
            metrics.HTTP_LATENCY.labels(method, route),
        )
        if len(_SERIES) < 1000:  # odd methods from scanners must not grow it without end
            _SERIES[key] = found
    return found


@web.middleware
async def request_context(request: web.Request, handler: Any) -> web.StreamResponse:
    activity = request.config_dict.get(appkeys.WEB_ACTIVITY)
    if activity is not None:
        activity.seen()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    rid = incoming if incoming and _VALID_ID.match(incoming) else new_request_id()
    token = request_id_var.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        try:
            response = await handler(request)
        except Exception as exc:
            answer = answer_for(request, exc)
            if answer is None:
                raise
            response = answer
        status = response.status
        response.headers[REQUEST_ID_HEADER] = rid
        return response
    except web.HTTPException as exc:  # redirects and the like pass through untouched
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = rid
        raise
    finally:
        elapsed = time.perf_counter() - started
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        count, latency = _series(request.method, route, status)
        count.inc()
        latency.observe(elapsed)
        path = request.path
        level = logging.DEBUG if path in _DEBUG_WHEN_OK and status < 400 else logging.INFO
        if log.isEnabledFor(level):
            log.log(
                level,
                "%s %s %s",
                request.method,
                path,
                status,
                extra={"status": status, "ms": round(elapsed * 1000, 1), "remote": request.remote},
            )
        request_id_var.reset(token)


def answer_for(request: web.Request, exc: Exception) -> web.StreamResponse | None:
    """The JSON answer for an exception a handler raised; None lets it propagate (redirects,
    HTTP errors that already carry JSON). Call it inside the `except`: a 500 logs the stack."""
    if isinstance(exc, web.HTTPException):
        if exc.status < 400 or exc.content_type == "application/json":
            return None
        message = exc.text if exc.text and exc.text != f"{exc.status}: {exc.reason}" else exc.reason
        response = error_response(exc.status, _http_code(exc), message)
        for name, value in exc.headers.items():  # e.g. Allow on 405
            if name.lower() not in {"content-type", "content-length"}:
                response.headers[name] = value
        return response
    if isinstance(exc, TransitionError):
        return error_response(_TRANSITION_STATUS.get(exc.code, 409), exc.code, exc.message)
    if isinstance(exc, OrderError):
        body = exc.as_dict()
        return error_response(exc.http_status, body.pop("code"), body.pop("message"), **body)
    if isinstance(exc, ValidationError):
        errs = exc.errors(include_url=False, include_context=False, include_input=False)
        return error_response(422, "invalid_request", "请求内容不符合要求", errors=errs)
    log.exception("unhandled error in %s %s", request.method, request.path)
    return error_response(500, "internal_error", "服务器内部错误，请稍后再试", request_id=request_id_var.get())
