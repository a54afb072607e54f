"""One orderbot process against an in-process stand-in: the real clients, outbox worker,
handlers, WeCom callback and logistics hook, on a real database (both profiles).

`world.drain()` runs the outbox worker until nothing is due; `world.advance(s)` moves every
clock the push path reads (the worker's, the robot window's, the stand-in's) together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logistics_hook import LogisticsHook
from bot.logistics_hook import setup as setup_hook
from bot.wecom_callback import WeComCallback, crypto_from_settings, wecom_intake
from bot.wecom_callback import setup as setup_wecom
from orderbot.db import make_sessionmaker
from orderbot.resources import rule_tables
from orderbot.settings import Settings
from orderbot.standin import StandinState, create_standin_app
from orderbot.standin.state import MINIPROGRAM, WECHAT, WECOM, Window
from orderbot.standin.testing import config_for_tests
from orderbot.stores_memory import MemoryStore
from orders import actions
from orders.actors import Actor
from orders.models import (
    Customer,
    InboundMessage,
    Order,
    Outbox,
    Product,
    PushDelivery,
    SalesRep,
    utcnow,
)
from workers import push_router
from workers.handlers import JobContext
from workers.runner import OutboxWorker, WorkerConfig

HOOK_SECRET = "hook-secret-for-tests"
REP_ID, MANAGER_ID, OTHER_REP_ID = "zhangsan", "boss_wang", "lisi"
CUSTOMER_OPENID, CUSTOMER_MP_OPENID = "oa_customer_0001", "mp_customer_0001"


class Clock:
    """UTC now plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return utcnow() + timedelta(seconds=self.offset)

    def epoch(self) -> float:
        return time.time() + self.offset


@dataclass
class World:
    engine: AsyncEngine
    sm: async_sessionmaker[AsyncSession]
    settings: Settings
    standin: StandinState
    standin_client: TestClient
    app_client: TestClient
    ctx: JobContext
    worker: OutboxWorker
    clock: Clock
    ids: dict[str, int] = field(default_factory=dict)

    async def drain(self) -> int:
        return await self.worker.drain()

    def advance(self, seconds: float) -> None:
        self.clock.offset += seconds
        self.standin.clock.advance(seconds)

    def sent(self, api: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        out = [e for e in self.standin.sent if api is None or e["api"] == api]
        if to is not None:
            out = [e for e in out if e["to"] == to or (isinstance(e["to"], list) and to in e["to"])]
        return out

    async def outbox(self, **where: Any) -> list[Outbox]:
        async with self.sm() as s:
            stmt = select(Outbox).order_by(Outbox.id)
            for k, v in where.items():
                stmt = stmt.where(getattr(Outbox, k) == v)
            return list(await s.exec(stmt))

    async def ledger(self, **where: Any) -> list[PushDelivery]:
        async with self.sm() as s:
            stmt = select(PushDelivery).order_by(PushDelivery.id)
            for k, v in where.items():
                stmt = stmt.where(getattr(PushDelivery, k) == v)
            return list(await s.exec(stmt))

    async def order(self, order_id: int) -> Order:
        async with self.sm() as s:
            order = await s.get(Order, order_id)
            assert order is not None
            return order

    # -- scenes ------------------------------------------------------------------------

    async def customer_wrote(self, openid: str = CUSTOMER_OPENID, hours_ago: float = 0.0) -> None:
        """The customer messaged the Official Account: our intake row and the stand-in's window."""
        at = self.clock.now() - timedelta(hours=hours_ago)
        async with self.sm() as s, s.begin():
            s.add(InboundMessage(channel="wechat", dedup_key=f"m{at.timestamp()}{openid}", from_user=openid,
                                 msg_type="text", content="在吗", received_at=at))
        self.standin.windows[openid] = Window(self.standin.now() - hours_ago * 3600)

    async def place_order(self, quantity: int = 100, **fields: Any) -> int:
        """The customer submits a complete order: pending, assigned to the rep."""
        result = await submit_order(self.sm, self.ids["customer"], quantity, **fields)
        assert result.order.id is not None
        return result.order.id

    async def signed_hook(self, payload: dict[str, Any], *, secret: str = HOOK_SECRET,
                          timestamp: float | None = None) -> aiohttp.ClientResponse:
        body = json.dumps(payload, ensure_ascii=False).encode()
        ts = str(int(timestamp if timestamp is not None else time.time()))
        sig = hmac.new(secret.encode(), ts.encode() + body, hashlib.sha256).hexdigest()
        return await self.app_client.post(
            "/hooks/logistics", data=body,
            headers={"X-Orderbot-Timestamp": ts, "X-Orderbot-Signature": sig,
                     "Content-Type": "application/json"},
        )


async def submit_order(sm: async_sessionmaker[AsyncSession], customer_id: int, quantity: int = 100,
                       **fields: Any) -> actions.OrderResult:
    """The seeded customer submits a complete order of HB-M6X20-304 (held beyond its stock)."""
    values = {"contact": "张工", "phone": "13812345678", "province": "江苏省", "city": "常州市",
              "district": "武进区", "address_detail": "湖塘镇长虹路88号",
              "delivery_date": date.today() + timedelta(days=7), **fields}
    return await actions.create_order(
        sm, customer_id, [actions.DraftLine("HB-M6X20-304", quantity)],
        Actor.customer(customer_id, CUSTOMER_OPENID), fields=values, submit=True,
    )


async def seed(sm: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sm() as s, s.begin():
        boss = SalesRep(wecom_userid=MANAGER_ID, name="王经理", is_manager=True, regions=["江苏省"])
        s.add(boss)
        await s.flush()
        rep = SalesRep(wecom_userid=REP_ID, name="张三", manager_id=boss.id, regions=["江苏省"],
                       discount_limit=Decimal("0.05"))
        other = SalesRep(wecom_userid=OTHER_REP_ID, name="李四", manager_id=boss.id, regions=["江苏省"])
        s.add_all([rep, other])
        await s.flush()
        customer = Customer(name="张工", company="常州恒锐五金有限公司", phones=["13812345678"],
                            openid=CUSTOMER_OPENID, mp_openid=CUSTOMER_MP_OPENID, province="江苏省",
                            city="常州市", rep_id=rep.id)
        s.add(customer)
        s.add(Product(sku="HB-M6X20-304", name="外六角螺栓 M6×20 304不锈钢", category="螺栓",
                      spec="M6×20", material="304", unit="个", price=Decimal("0.35"), stock=100000))
        s.add(Product(sku="NUT-M8-Zn", name="六角螺母 M8 镀锌", category="螺母", spec="M8",
                      material="碳钢镀锌", unit="个", price=Decimal("0.05"), stock=100000))
        await s.flush()
        assert boss.id and rep.id and other.id and customer.id
        return {"manager": boss.id, "rep": rep.id, "other_rep": other.id, "customer": customer.id}


def settings_for(standin_url: str, **overrides: Any) -> Settings:
    cfg = config_for_tests()
    values: dict[str, Any] = dict(
        wechat_appid=cfg.wechat_appid, wechat_secret=cfg.wechat_secret,
        miniprogram_appid=cfg.miniprogram_appid, miniprogram_secret=cfg.miniprogram_secret,
        wecom_corpid=cfg.wecom_corpid, wecom_agentid=cfg.wecom_agentid, wecom_secret=cfg.wecom_secret,
        wecom_token=cfg.wecom_token, wecom_aes_key=cfg.wecom_aes_key, wecom_robot_key="",
        wechat_api_base=standin_url, wecom_api_base=standin_url, hook_secret=HOOK_SECRET,
        outbox_max_attempts=4,
    )
    values.update(overrides)
    return Settings(**values)


async def make_world(
    engine: AsyncEngine,
    aiohttp_client: Callable[..., Any],
    *,
    robot: bool = False,
    standin_overrides: dict[str, Any] | None = None,
    store: Any = None,
) -> AsyncIterator[World]:
    state = StandinState(config_for_tests(**(standin_overrides or {})))
    standin_client = await aiohttp_client(create_standin_app(state=state))
    url = str(standin_client.make_url("")).rstrip("/")
    settings = settings_for(url, wecom_robot_key=state.config.wecom_robot_key if robot else "")
    sm = make_sessionmaker(engine, rule_tables(settings))  # prices and holds as in production
    store = store or MemoryStore()
    clock = Clock()
    async with aiohttp.ClientSession() as http:
        ctx = JobContext(settings=settings, engine=engine, sessionmaker=sm, store=store, http=http,
                         worker_id="test-worker")
        ctx.extra["robot_limiter"] = push_router.RobotLimiter(store, clock=clock.epoch)
        worker = OutboxWorker(
            sm, ctx, clock=clock.now, rng=lambda: 0.0,
            config=WorkerConfig(max_attempts=4, backoff_base=1.0, backoff_max=30.0, lease_seconds=60.0),
        )
        app = web.Application()
        setup_wecom(app, WeComCallback(crypto_from_settings(settings), wecom_intake(sm, store)))
        setup_hook(app, LogisticsHook(sm, HOOK_SECRET, clock=clock.epoch))
        app_client = await aiohttp_client(app)
        ids = await seed(sm)
        for openid in (CUSTOMER_OPENID,):
            state.register_user(WECHAT, openid)
        state.register_user(MINIPROGRAM, CUSTOMER_MP_OPENID)
        for userid in (REP_ID, MANAGER_ID, OTHER_REP_ID):
            state.register_user(WECOM, userid)
        world = World(engine, sm, settings, state, standin_client, app_client, ctx, worker, clock, ids)
        yield world
        await ctx.aclose()


async def profile_store(engine: AsyncEngine, request: pytest.FixtureRequest) -> Any:
    """The two profiles: SQLite with the memory store, PostgreSQL with Redis (own key prefix)."""
    if engine.dialect.name != "postgresql":
        return MemoryStore()
    from orderbot.stores_redis import RedisStore

    return RedisStore(request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("key_prefix"))


async def _cleanup(store: Any) -> None:
    client = getattr(store, "client", None)
    if client is not None:  # Redis: only this test's keys, never flushdb (the server is shared)
        keys = [k async for k in client.scan_iter(match=f"{store.prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    await store.close()


@pytest.fixture
async def world(engine: AsyncEngine, aiohttp_client: Callable[..., Any],
                request: pytest.FixtureRequest) -> AsyncIterator[World]:
    store = await profile_store(engine, request)
    async for w in make_world(engine, aiohttp_client, store=store):
        yield w
    await _cleanup(store)


@pytest.fixture
async def embedded_world(tmp_path, aiohttp_client: Callable[..., Any]) -> AsyncIterator[World]:
    """The embedded profile only (SQLite): for the many command-level tests, whose database
    behaviour the two-profile tests already cover."""
    from sqlmodel import SQLModel

    from orderbot.db import make_engine

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async for w in make_world(engine, aiohttp_client):
        yield w
    await engine.dispose()


@pytest.fixture
async def robot_world(engine: AsyncEngine, aiohttp_client: Callable[..., Any],
                      request: pytest.FixtureRequest) -> AsyncIterator[World]:
    store = await profile_store(engine, request)
    async for w in make_world(engine, aiohttp_client, robot=True, store=store):
        yield w
    await _cleanup(store)
