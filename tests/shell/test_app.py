"""The service shell against the real app (aiohttp_client): health, readiness, metrics,
request ids, errors as JSON, and the in-process worker of the embedded profile."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot import appkeys
from orderbot.db import make_sessionmaker
from orderbot.logging import JsonFormatter
from orderbot.settings import Settings
from orderbot.stores_redis import RedisStore
from orders import outbox
from orders.errors import OrderError, OrderErrorCode
from orders.status import TransitionError
from service.app import FEATURES, create_app
from workers.handlers import registry

log = logging.getLogger("tests.shell")


def _settings(url: str, **kw: object) -> Settings:
    return Settings(_env_file=None, ORDERBOT_DATABASE_URL=url, **kw)  # a developer's .env must not leak in


@pytest.fixture
async def client(aiohttp_client, engine: AsyncEngine, db_url: str):
    app = create_app(_settings(db_url), engine=engine, start_worker=False, features=())
    return await aiohttp_client(app)


async def test_healthz_answers_with_a_fresh_request_id(client) -> None:
    r1 = await client.get("/healthz")
    r2 = await client.get("/healthz")
    assert r1.status == 200 and await r1.json() == {"status": "ok"}
    assert r1.headers["X-Request-Id"] and r1.headers["X-Request-Id"] != r2.headers["X-Request-Id"]


async def test_incoming_request_id_is_echoed_and_junk_is_replaced(client) -> None:
    r = await client.get("/healthz", headers={"X-Request-Id": "lb-7f3a-001"})
    assert r.headers["X-Request-Id"] == "lb-7f3a-001"
    r = await client.get("/healthz", headers={"X-Request-Id": "x" * 200})
    assert r.headers["X-Request-Id"] != "x" * 200 and len(r.headers["X-Request-Id"]) <= 64


async def test_every_request_is_seen_by_the_in_process_worker_gate(client) -> None:
    """The middleware stamps each request, so the embedded worker's next round waits for a gap."""
    from orderbot import appkeys

    activity = client.server.app[appkeys.WEB_ACTIVITY]
    assert activity.last == float("-inf")
    await client.get("/healthz")
    stamped = activity.last
    assert stamped > float("-inf")
    await client.get("/no-such-page")  # refused requests count too: the loop was busy with them
    assert activity.last > stamped


async def test_readyz_ok_when_database_answers(client) -> None:
    r = await client.get("/readyz")
    assert r.status == 200
    assert await r.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.parametrize(
    "bad_url",
    ["sqlite+aiosqlite:////nonexistent-dir/sub/x.db", "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"],
)
async def test_readyz_503_when_database_cannot_connect(aiohttp_client, bad_url: str) -> None:
    client = await aiohttp_client(create_app(_settings(bad_url), start_worker=False, features=()))
    r = await client.get("/readyz")
    assert r.status == 503
    body = await r.json()
    assert body["status"] == "fail" and body["checks"]["database"].startswith("fail")
    assert (await client.get("/healthz")).status == 200  # liveness does not depend on the DB
    # aiosqlite stops a failed connection's thread asynchronously; let it finish before
    # the test's event loop closes (else it warns about a closed loop).
    await asyncio.sleep(0.05)


@pytest.mark.redis
async def test_readyz_checks_redis_when_configured(aiohttp_client, tmp_path, redis_url: str, key_prefix: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    good = RedisStore(redis_url, prefix=key_prefix)
    client = await aiohttp_client(
        create_app(_settings(url, ORDERBOT_REDIS_URL=redis_url), store=good, start_worker=False, features=())
    )
    r = await client.get("/readyz")
    assert r.status == 200 and (await r.json())["checks"]["redis"] == "ok"
    await good.close()

    dead = "redis://127.0.0.1:1/0"
    client = await aiohttp_client(create_app(_settings(url, ORDERBOT_REDIS_URL=dead), start_worker=False, features=()))
    r = await client.get("/readyz")
    assert r.status == 503
    body = await r.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("fail")


async def test_metrics_in_prometheus_text_format(client, engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as s, s.begin():
        await outbox.enqueue(s, kind="robot", dedup_key=f"m:{uuid.uuid4()}")
        await outbox.enqueue(s, kind="robot", dedup_key=f"m:{uuid.uuid4()}")
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(await r.text())}
    requests = families["orderbot_http_requests"].samples
    assert any(s.labels.get("route") == "/healthz" and s.value >= 1 for s in requests)
    assert families["orderbot_outbox_pending"].samples[0].value == 2
    assert families["orderbot_outbox_parked"].samples[0].value == 0


def _error_app(db_url: str, engine: AsyncEngine) -> web.Application:
    app = create_app(_settings(db_url), engine=engine, start_worker=False, features=())

    class Body(BaseModel):
        qty: int

    async def transition(request: web.Request) -> web.Response:
        raise TransitionError("illegal_transition", "订单状态为「已发货」，不能修改")

    async def forbidden(request: web.Request) -> web.Response:
        raise TransitionError("role_forbidden", "customer 无权确认订单")

    async def missing(request: web.Request) -> web.Response:
        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, "订单不存在", order_id=42)

    async def invalid(request: web.Request) -> web.Response:
        Body.model_validate(await request.json())
        return web.json_response({})

    async def boom(request: web.Request) -> web.Response:
        log.info("about to fail")
        raise RuntimeError("secret detail that must not leak")

    app.router.add_post("/t/transition", transition)
    app.router.add_post("/t/forbidden", forbidden)
    app.router.add_get("/t/missing", missing)
    app.router.add_post("/t/invalid", invalid)
    app.router.add_get("/t/boom", boom)
    return app


async def test_errors_become_json_code_and_message(aiohttp_client, db_url: str, engine: AsyncEngine) -> None:
    client = await aiohttp_client(_error_app(db_url, engine))

    r = await client.post("/t/transition")
    assert r.status == 409
    assert await r.json() == {"code": "illegal_transition", "message": "订单状态为「已发货」，不能修改"}

    r = await client.post("/t/forbidden")
    assert r.status == 403 and (await r.json())["code"] == "role_forbidden"

    r = await client.get("/t/missing")
    assert r.status == 404
    assert await r.json() == {"code": "order_not_found", "message": "订单不存在", "order_id": 42}

    r = await client.post("/t/invalid", json={"qty": "many"})
    body = await r.json()
    assert r.status == 422 and body["code"] == "invalid_request" and body["errors"][0]["loc"] == ["qty"]

    r = await client.get("/no/such/path")
    assert r.status == 404 and (await r.json())["code"] == "not_found"

    r = await client.delete("/healthz")
    assert r.status == 405 and (await r.json())["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]
    assert r.headers["X-Request-Id"]


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above meanwhile, as orderbot's JSON lines."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buf
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_unexpected_error_is_500_json_logged_with_request_id(aiohttp_client, db_url: str, engine: AsyncEngine) -> None:
    with json_logs() as buf:
        client = await aiohttp_client(_error_app(db_url, engine))
        r = await client.get("/t/boom", headers={"X-Request-Id": "req-boom-1"})
    body = await r.json()
    assert r.status == 500
    assert body == {"code": "internal_error", "message": body["message"], "request_id": "req-boom-1"}
    assert "secret detail" not in json.dumps(body)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    mine = [ln for ln in lines if ln.get("request_id") == "req-boom-1"]
    msgs = {ln["msg"] for ln in mine}
    assert "about to fail" in msgs  # a handler's own log line carries the id
    assert any("secret detail" in ln.get("exc", "") for ln in mine)  # the stack is logged
    assert any(ln["msg"] == "GET /t/boom 500" for ln in mine)  # and the access line


async def test_embedded_profile_delivers_outbox_in_process(aiohttp_client, db_url: str, engine: AsyncEngine) -> None:
    kind = f"test_ping_{uuid.uuid4().hex[:8]}"
    delivered = asyncio.Event()
    seen: list[str] = []

    @registry.register(kind)
    async def ping(ctx, row) -> None:
        seen.append(row.target)
        delivered.set()

    settings = _settings(db_url, ORDERBOT_OUTBOX_POLL_INTERVAL=5.0)
    app = create_app(settings, engine=engine, features=())  # embedded: the worker starts by default
    client = await aiohttp_client(app)
    worker = app[appkeys.WORKER]
    async with make_sessionmaker(engine)() as s, s.begin():
        await outbox.enqueue(s, kind=kind, target="openid-1", dedup_key=f"{kind}:1")
    app[appkeys.WAKE_OUTBOX]()  # without it the row would wait for the 5 s poll
    await asyncio.wait_for(delivered.wait(), timeout=10)
    assert seen == ["openid-1"]
    await client.close()  # app cleanup stops the worker
    assert worker.stopping


async def test_production_profile_runs_no_worker_in_web_process(aiohttp_client, db_url: str, engine: AsyncEngine) -> None:
    settings = _settings(db_url, ORDERBOT_REDIS_URL="redis://127.0.0.1:6379/0")
    app = create_app(settings, engine=engine, store=None, features=())
    assert appkeys.WORKER not in app
    assert create_app(_settings(db_url), start_worker=False, features=()).get(appkeys.WORKER) is None


def test_existing_feature_routers_are_mounted(db_url: str) -> None:
    app = create_app(_settings(db_url), start_worker=False)
    paths = {r.canonical for r in app.router.resources()}
    assert {"/healthz", "/readyz", "/metrics"} <= paths
    assert "/wechat/callback" in paths  # bot.wechat_callback exists, so it is mounted
    assert "bot.wechat_callback" in FEATURES


async def test_answered_callbacks_are_not_access_logged_but_refusals_are(aiohttp_client) -> None:
    """An answered callback is on record as its inbound_message row; refusals need the log."""
    from orderbot import middlewares

    async def callback(request: web.Request) -> web.Response:
        ok = request.query.get("signature") == "good"
        return web.Response(text="success" if ok else "forbidden", status=200 if ok else 403)

    async def other(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(middlewares=[middlewares.request_context])
    app.router.add_post("/wechat/callback", callback)
    app.router.add_post("/t/other", other)
    with json_logs() as buf:
        client = await aiohttp_client(app)
        assert (await client.post("/wechat/callback?signature=good")).status == 200
        assert (await client.post("/wechat/callback?signature=bad")).status == 403
        assert (await client.post("/t/other")).status == 200
    access = [ln["msg"] for ln in map(json.loads, buf.getvalue().splitlines()) if ln["logger"] == "orderbot.http"]
    assert access == ["POST /wechat/callback 403", "POST /t/other 200"]
