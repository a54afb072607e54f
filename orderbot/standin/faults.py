"""`/__faults__`: make the stand-in's API paths fail on purpose, for fault-injection runs.

    POST /__faults__ {"rate": 0.2, "kinds": ["5xx", "timeout", "busy", "rate_limit"],
                      "paths": ["/cgi-bin/message/"], "hang_seconds": 12, "seed": 1}
    GET /__faults__      the plan and what was injected, by kind and by path
    DELETE /__faults__   back to normal

Each call to an API path (never a `/__…__` control path) that starts with one of `paths`
(default: all) fails with probability `rate`, as one of `kinds` picked at random:
  5xx         HTTP 502 from a broken gateway, before the request is handled (nothing sent);
  timeout     the answer never comes in time: hang `hang_seconds` (longer than orderbot's
              client timeout), then 504, nothing sent;
  busy        WeChat's {"errcode": -1, "errmsg": "system error"};
  rate_limit  WeChat's 45009 "api freq out of limit" (45011 for /cgi-bin/webhook/);
  lost_answer the call is handled (the message is delivered and recorded) and then the
              answer is lost: hang, then 504. The caller cannot tell this from `timeout`, so
              a retry sends the message twice unless the API dedups (opt-in: not in the default kinds).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from orderbot.standin.keys import json_body, readable_json

routes = web.RouteTableDef()
KINDS = ("5xx", "timeout", "busy", "rate_limit", "lost_answer")
DEFAULT_KINDS = ("5xx", "timeout", "busy", "rate_limit")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FaultPlan:
    rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_KINDS
    paths: tuple[str, ...] = ()
    hang_seconds: float = 12.0
    rng: random.Random = field(default_factory=random.Random)
    injected: Counter[str] = field(default_factory=Counter)
    by_path: Counter[str] = field(default_factory=Counter)

    def pick(self, path: str) -> str | None:
        """The fault for this call, or None to answer normally."""
        if self.rate <= 0 or path.startswith("/__") or (self.paths and not path.startswith(self.paths)):
            return None
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        self.injected[kind] += 1
        self.by_path[f"{path} {kind}"] += 1
        return kind

    def as_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "kinds": list(self.kinds), "paths": list(self.paths),
                "hang_seconds": self.hang_seconds, "injected": dict(self.injected),
                "by_path": dict(self.by_path)}


PLAN = web.AppKey("standin_faults", FaultPlan)


def _errcode(path: str, kind: str) -> web.Response:
    if kind == "busy":
        return web.json_response({"errcode": -1, "errmsg": "system error"})
    code = 45011 if path.startswith("/cgi-bin/webhook/") else 45009
    return web.json_response({"errcode": code, "errmsg": "api freq out of limit"})


@web.middleware
async def inject(request: web.Request, handler: Handler) -> web.StreamResponse:
    plan = request.app.get(PLAN)
    kind = plan.pick(request.path) if plan is not None else None
    if kind is None:
        return await handler(request)
    if kind == "5xx":
        return web.Response(status=502, text="bad gateway (injected)")
    if kind in ("busy", "rate_limit"):
        return _errcode(request.path, kind)
    if kind == "lost_answer":
        await handler(request)  # delivered and recorded; the answer goes nowhere
    await asyncio.sleep(plan.hang_seconds)  # type: ignore[union-attr]
    return web.Response(status=504, text="gateway timeout (injected)")


@routes.get("/__faults__")
async def show(request: web.Request) -> web.Response:
    return readable_json(request.app[PLAN].as_json())


@routes.post("/__faults__")
async def set_plan(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        rate = float(body.get("rate", 0.0))
        hang = float(body.get("hang_seconds", 12.0))
    except (TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text="rate and hang_seconds must be numbers") from exc
    kinds = tuple(body.get("kinds") or DEFAULT_KINDS)
    unknown = set(kinds) - set(KINDS)
    if not 0 <= rate <= 1 or unknown:
        raise web.HTTPBadRequest(text=f"rate must be within 0..1; kinds among {list(KINDS)}")
    plan = request.app[PLAN]
    plan.rate, plan.kinds, plan.hang_seconds = rate, kinds, hang
    plan.paths = tuple(str(p) for p in body.get("paths") or ())
    if body.get("seed") is not None:
        plan.rng.seed(body["seed"])
    return readable_json(plan.as_json())


@routes.delete("/__faults__")
async def clear(request: web.Request) -> web.Response:
    plan = request.app[PLAN]
    plan.rate = 0.0
    return readable_json(plan.as_json())
