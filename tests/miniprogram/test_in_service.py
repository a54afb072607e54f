"""The mini-program API as `orderbot serve` mounts it: create_app finds miniprogram_api.setup
and the sub-app takes its database, store and HTTP client from the service at startup."""

from __future__ import annotations

import uuid
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.standin.app import create_standin_app
from orderbot.standin.config import StandinConfig
from orderbot.standin.state import StandinState
from orderbot.stores_memory import MemoryStore
from service.app import create_app

from .conftest import APPID, REPS, SECRET, catalog_products
from .test_api import order_body


async def test_login_and_order_through_create_app(engine: AsyncEngine, shared_dir: Path) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add_all(catalog_products(shared_dir))
        s.add_all(type(r).model_validate(r.model_dump()) for r in REPS)
    state = StandinState(StandinConfig(miniprogram_appid=APPID, miniprogram_secret=SECRET))
    standin = TestServer(create_standin_app(state=state))
    await standin.start_server()
    settings = Settings(ORDERBOT_DATABASE_URL=str(engine.url), MINIPROGRAM_APPID=APPID,
                        MINIPROGRAM_SECRET=SECRET, WECHAT_API_BASE=str(standin.make_url("")).rstrip("/"))
    app = create_app(settings, engine=engine, store=MemoryStore(), start_worker=False,
                     features=("miniprogram_api",))
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        code = state.issue_login_code("svc-openid")
        token = (await (await client.post("/mp/v1/auth/login", json={"code": code})).json())["token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        resp = await client.post("/mp/v1/orders", json=order_body("广东省", "佛山市"), headers=headers)
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["status"] == "pending"
        doc = await (await client.get("/mp/v1/openapi.json")).json()
        assert "/mp/v1/orders" in doc["paths"]
        missing = await client.get("/mp/v1/orders/SO-NOPE", headers=headers)
        assert missing.status == 404 and (await missing.json())["code"] == "order_not_found"
    finally:
        await client.close()
        await standin.close()
