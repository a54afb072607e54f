"""A customer chatting with the Official Account, end to end: the stand-in signs and encrypts
WeChat callbacks (wechatpy's crypto), the real app stores them, the real outbox worker runs
the conversation and pushes replies back to the stand-in, where the test reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.db import make_sessionmaker
from orderbot.resources import rule_tables
from orderbot.settings import Settings
from orderbot.standin import StandinState, create_standin_app
from orderbot.standin.state import WECHAT, WECOM
from orderbot.standin.testing import config_for_tests
from orderbot.stores_memory import MemoryStore
from orders.catalog_import import parse_catalog
from orders.models import Order, Product, SalesRep
from service.app import create_app
from service.commands.import_catalog import upsert_products
from tests.shared_data import shared_path
from workers.handlers import JobContext
from workers.runner import OutboxWorker, WorkerConfig

REP = "lihua"


@dataclass
class Chat:
    standin: TestClient
    state: StandinState
    sm: async_sessionmaker[AsyncSession]
    worker: OutboxWorker
    callback_url: str = ""
    msgid: int = 1000

    async def say(self, openid: str, text: str, *, msgid: int | None = None, times: int = 1) -> list[str]:
        """The customer sends `text` (WeChat delivering it `times` times); returns the new replies."""
        before = len(self.state.sent)
        if msgid is None:
            self.msgid += 1
            msgid = self.msgid
        for _ in range(times):
            resp = await self.standin.post("/__simulate__/wechat", json={"openid": openid, "text": text, "msgid": msgid})
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["delivered"]
        await self.worker.drain()
        return self.texts_since(before, openid)

    async def send(self, openid: str, body: dict[str, Any]) -> list[str]:
        before = len(self.state.sent)
        resp = await self.standin.post("/__simulate__/wechat", json={"openid": openid, **body})
        assert resp.status == 200, await resp.text()
        await self.worker.drain()
        return self.texts_since(before, openid)

    def texts_since(self, index: int, openid: str) -> list[str]:
        return [e["payload"]["text"]["content"] for e in self.state.sent[index:]
                if e["api"] == "custom_send" and e["to"] == openid]

    def cards_to(self, userid: str) -> list[dict[str, Any]]:
        return [e for e in self.state.sent if e["api"] == "wecom_send" and userid in e["to"]
                and e["msgtype"] == "template_card"]

    async def orders(self) -> list[Order]:
        async with self.sm() as s:
            return list((await s.exec(select(Order).order_by(Order.id))).all())


@pytest.fixture
async def chat(engine: AsyncEngine, aiohttp_client: Callable[..., Any], aiohttp_server: Any) -> AsyncIterator[Chat]:
    state = StandinState(config_for_tests(callback_timeout=5.0))
    standin = await aiohttp_client(create_standin_app(state=state))
    base = str(standin.make_url("")).rstrip("/")
    cfg = state.config
    settings = Settings(
        WECHAT_APPID=cfg.wechat_appid, WECHAT_SECRET=cfg.wechat_secret, WECHAT_TOKEN=cfg.wechat_token,
        WECHAT_AES_KEY=cfg.wechat_aes_key, WECOM_CORPID=cfg.wecom_corpid, WECOM_AGENTID=cfg.wecom_agentid,
        WECOM_SECRET=cfg.wecom_secret, WECOM_TOKEN=cfg.wecom_token, WECOM_AES_KEY=cfg.wecom_aes_key,
        WECHAT_API_BASE=base, WECOM_API_BASE=base,
    )
    store = MemoryStore()
    app = create_app(settings, engine=engine, store=store, start_worker=False, features=("bot.wechat_callback",))
    server = await aiohttp_server(app)
    state.config = cfg.with_(callback_url=str(server.make_url("/wechat/callback")))

    await upsert_products(engine, parse_catalog(shared_path("eval/catalog.csv").read_text(encoding="utf-8").splitlines()).rows, progress=False)
    sm = make_sessionmaker(engine, rule_tables(settings))  # the worker prices and holds as in production
    async with sm() as s, s.begin():
        await s.exec(update(Product).values(stock=1_000_000))  # type: ignore[call-overload]
        s.add(SalesRep(wecom_userid=REP, name="李华", team="east", regions=["江苏省", "浙江省", "上海市"],
                       discount_limit=Decimal("0.03")))
        s.add(SalesRep(wecom_userid="xuming", name="徐明", team="general"))
    state.register_user(WECOM, REP)
    state.register_user(WECOM, "xuming")

    async with aiohttp.ClientSession() as http:
        ctx = JobContext(settings=settings, engine=engine, sessionmaker=sm, store=store, http=http,
                         worker_id="chat-test")
        worker = OutboxWorker(sm, ctx, rng=lambda: 0.0,
                              config=WorkerConfig(max_attempts=3, backoff_base=0.0, backoff_max=0.0))
        yield Chat(standin, state, sm, worker, callback_url=str(server.make_url("/wechat/callback")))
        await ctx.aclose()


def register(chat: Chat, openid: str) -> None:
    chat.state.register_user(WECHAT, openid)
