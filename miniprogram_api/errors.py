"""One error shape for the whole mini-program API: {"code", "message"} with a Chinese message.

Handlers raise `ApiError` (or let the hub's OrderError / TransitionError through); the
middleware turns every failure into that shape with the right status, in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from orders.errors import OrderError
from orders.status import TransitionError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


def unauthorized(message: str = "请先登录") -> ApiError:
    return ApiError(401, "unauthorized", message)


def not_found(what: str = "资源", code: str = "not_found") -> ApiError:
    """Also what another customer's object looks like: it does not exist for them."""
    return ApiError(404, code, f"{what}不存在")


def error_response(status: int, code: str, message: str, **details: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **details}, status=status)


def _validation_message(exc: ValidationError) -> tuple[str, list[dict[str, Any]]]:
    fields = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "error": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    names = "、".join(dict.fromkeys(f["field"] for f in fields))
    return f"请求参数有误：{names}", fields


_HTTP_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "接口不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, **exc.details)
    except ValidationError as exc:
        message, fields = _validation_message(exc)
        return error_response(422, "validation_error", message, errors=fields)
    except OrderError as exc:
        return error_response(exc.http_status, exc.code.value, exc.message)
    except TransitionError as exc:
        status = 403 if exc.code == "role_forbidden" else 409
        return error_response(status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, message = _HTTP_CODES.get(exc.status, ("http_error", exc.reason or "请求失败"))
        return error_response(exc.status, code, message)
    except Exception:
        log.exception("mini-program API %s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "服务器开小差了，请稍后再试")
