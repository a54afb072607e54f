"""The route table: each endpoint declared once, with its models, for aiohttp and OpenAPI alike.

`Endpoint.view()` wraps a handler so that it receives a `Call` with the authenticated
customer and the validated body/query already in place, and returns a model that is
serialised with its declared response model. The OpenAPI document (openapi.py) reads the
same table, so the documentation cannot drift from what the server validates.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from miniprogram_api.errors import ApiError, not_found, unauthorized
from miniprogram_api.services import MpServices, Principal, services_of


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    required: bool = False
    max_length: int = 255


@dataclass
class Call:
    """One request, validated: what a handler works with."""

    request: web.Request
    services: MpServices
    customer: Principal | None
    body: Any = None
    query: Any = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def me(self) -> Principal:
        assert self.customer is not None, "endpoint declared without auth"
        return self.customer


@dataclass(frozen=True)
class Reply:
    model: BaseModel
    status: int | None = None
    headers: dict[str, str] | None = None


HandlerFn = Callable[[Call], Awaitable[BaseModel | Reply]]
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # under /mp/v1, aiohttp syntax: /orders/{number}
    handler: HandlerFn
    summary: str
    tag: str
    response: type[BaseModel]
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses with the same body (a replay: 200)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    upload: bool = False  # multipart/form-data with a `file` part
    int_params: tuple[str, ...] = ()  # path parameters that are integers
    headers: tuple[Header, ...] = ()
    errors: tuple[int, ...] = ()

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        return getattr(self.handler, "__name__", "op")

    def view(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def view(request: web.Request) -> web.StreamResponse:
            services = services_of(request)
            customer = None
            if self.auth:
                customer = await services.sessions.resolve(_bearer(request))
                if customer is None:
                    raise unauthorized()
            params: dict[str, Any] = {}
            for name in self.path_params:
                raw = request.match_info[name]
                if name in self.int_params:
                    if not raw.isdigit() or len(raw) > 18:
                        raise not_found()
                    params[name] = int(raw)
                else:
                    params[name] = raw
            call = Call(request, services, customer, params=params)
            if self.query is not None:
                call.query = self.query.model_validate(dict(request.query))
            if self.body is not None:
                call.body = await _json_body(request, self.body)
            result = await self.handler(call)
            reply = result if isinstance(result, Reply) else Reply(result)
            data = self.response.model_validate(reply.model, from_attributes=True).model_dump(mode="json")
            return web.json_response(data, status=reply.status or self.status, headers=reply.headers)

        view.__name__ = self.operation_id
        return view


MAX_JSON_BODY = 64 * 1024  # the largest order (100 lines, an address, remarks) is under 20 KB


async def _json_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """The body validated as `model`: 413 payload_too_large past MAX_JSON_BODY (refused from
    Content-Length before reading when it is declared), 400 invalid_json when it is not JSON
    (or nests deeper than the parser allows), 422 for JSON that does not fit the model."""
    if (request.content_length or 0) > MAX_JSON_BODY:
        raise _too_large()
    raw = await request.read()
    if len(raw) > MAX_JSON_BODY:
        raise _too_large()
    if not raw.strip():  # an empty body is an empty object: all-optional endpoints accept it
        return model.model_validate({})
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] in ("json_invalid", "recursion_loop") for e in exc.errors()):
            raise ApiError(400, "invalid_json", "请求内容不是有效的 JSON") from None
        raise


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"请求内容不能超过 {MAX_JSON_BODY // 1024} KB")


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
