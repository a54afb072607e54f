"""The mini-program API against a real database (both profiles), the WeChat stand-in served
in-process for jscode2session, the catalog from shared/eval and the shipped routing rules."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from miniprogram_api import setup
from miniprogram_api.services import MpServices
from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.standin.app import create_standin_app
from orderbot.standin.config import StandinConfig
from orderbot.standin.state import StandinState
from orderbot.stores_memory import MemoryStore
from orders.models import Product, SalesRep

APPID, SECRET = "wxmp0000000000test", "mp-secret-for-tests"

REPS = [
    SalesRep(id=1, wecom_userid="east-mgr", name="王经理", team="east", is_manager=True),
    SalesRep(id=2, wecom_userid="east-a", name="小李", team="east", manager_id=1),
    SalesRep(id=3, wecom_userid="south-a", name="小陈", team="south"),
    SalesRep(id=4, wecom_userid="ka-a", name="大客户甲", team="key-accounts"),
    SalesRep(id=5, wecom_userid="parts-a", name="汽配", team="auto-parts"),
    SalesRep(id=6, wecom_userid="online-a", name="线上", team="online"),
    SalesRep(id=7, wecom_userid="general-a", name="综合", team="general"),
]


def catalog_products(shared_dir: Path) -> list[Product]:
    with open(shared_dir / "eval" / "catalog.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Product(
            sku=r["sku"], name=r["name"], category=r["category"], spec=r["spec"], material=r["material"],
            unit=r["unit"], pack_unit=r["pack_unit"] or None,
            pack_size=int(float(r["pack_size"])) if r["pack_size"] else None,
            price=Decimal(r["price"]), aliases=[a for a in r["aliases"].split("|") if a],
            stock=10_000_000,
        )
        for r in rows
    ]


@dataclass
class Mp:
    client: TestClient
    standin: StandinState
    services: MpServices

    async def login(self, openid: str, unionid: str = "") -> str:
        code = self.standin.issue_login_code(openid, unionid)
        resp = await self.client.post("/mp/v1/auth/login", json={"code": code})
        assert resp.status in (200, 201), await resp.text()
        return (await resp.json())["token"]

    def auth(self, token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    async def run_ocr_job(self) -> None:
        """What a worker does with the one queued "ocr_job" row: the real handler, here."""
        from sqlmodel import select

        from orderbot.jobs import JobContext
        from orders.models import Outbox
        from orders.outbox import OutboxKind
        from workers.handlers import registry

        async with self.services.sessionmaker() as s:
            row = (await s.exec(select(Outbox).where(Outbox.kind == "ocr_job"))).one()
        ctx = JobContext(settings=self.services.settings, engine=None,  # type: ignore[arg-type]
                         sessionmaker=self.services.sessionmaker, store=self.services.store, http=None,
                         worker_id="test")
        try:
            await registry.get(OutboxKind.OCR_JOB)(ctx, row)
        finally:
            await ctx.aclose()


@pytest.fixture
async def mp(engine: AsyncEngine, shared_dir: Path) -> AsyncIterator[Mp]:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add_all(catalog_products(shared_dir))
        for rep in REPS:
            s.add(SalesRep.model_validate(rep.model_dump()))

    state = StandinState(StandinConfig(miniprogram_appid=APPID, miniprogram_secret=SECRET))
    standin = TestServer(create_standin_app(state=state))
    await standin.start_server()
    settings = Settings(
        ORDERBOT_DATABASE_URL=str(engine.url), MINIPROGRAM_APPID=APPID, MINIPROGRAM_SECRET=SECRET,
        WECHAT_API_BASE=str(standin.make_url("")).rstrip("/"),
    )
    services = MpServices(settings=settings, sessionmaker=sm, store=MemoryStore())
    app = web.Application()
    setup(app, services=services)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Mp(client, state, services)
    finally:
        await client.close()
        await standin.close()
        await services.store.close()


Login = Callable[[str], Awaitable[str]]


@asynccontextmanager
async def in_service(engine: AsyncEngine, shared_dir: Path, **env: str) -> AsyncIterator[tuple[TestClient, StandinState]]:
    """The API as `orderbot serve` mounts it (create_app, catalog and reps seeded), with
    extra settings by their environment names; yields the client and the stand-in's state."""
    from service.app import create_app

    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add_all(catalog_products(shared_dir))
        s.add_all(type(r).model_validate(r.model_dump()) for r in REPS)
    state = StandinState(StandinConfig(miniprogram_appid=APPID, miniprogram_secret=SECRET))
    standin = TestServer(create_standin_app(state=state))
    await standin.start_server()
    settings = Settings(ORDERBOT_DATABASE_URL=str(engine.url), MINIPROGRAM_APPID=APPID,
                        MINIPROGRAM_SECRET=SECRET, WECHAT_API_BASE=str(standin.make_url("")).rstrip("/"), **env)
    app = create_app(settings, engine=engine, store=MemoryStore(), start_worker=False, features=("miniprogram_api",))
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client, state
    finally:
        await client.close()
        await standin.close()
