"""The stand-in against orderbot's real /wechat/callback: what the stand-in signs and
encrypts, orderbot verifies, stores once, and acknowledges; WeChat's retries (same MsgId)
are stored once."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.standin import StandinState
from orderbot.stores_memory import MemoryStore
from orders.models import InboundMessage
from service.app import create_app


@pytest.fixture
async def orderbot_url(aiohttp_server, engine: AsyncEngine, db_url: str, standin_state: StandinState) -> str:
    cfg = standin_state.config
    settings = Settings(
        ORDERBOT_DATABASE_URL=db_url,
        WECHAT_APPID=cfg.wechat_appid,
        WECHAT_SECRET=cfg.wechat_secret,
        WECHAT_TOKEN=cfg.wechat_token,
        WECHAT_AES_KEY=cfg.wechat_aes_key,
    )
    app = create_app(
        settings, engine=engine, store=MemoryStore(), start_worker=False,
        features=("bot.wechat_callback",),
    )
    server = await aiohttp_server(app)
    url = str(server.make_url("/wechat/callback"))
    standin_state.config = cfg.with_(callback_url=url, callback_timeout=3.0)
    return url


async def stored(engine: AsyncEngine) -> list[InboundMessage]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.exec(select(InboundMessage))).all())


async def simulate(standin: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    resp = await standin.post("/__simulate__/wechat", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.mark.parametrize("mode", ["safe", "compatible"])
async def test_message_is_verified_stored_once_and_acknowledged(
    standin: TestClient, orderbot_url: str, engine: AsyncEngine, mode: str
) -> None:
    body = {"openid": "o-e2e", "text": "M8螺栓 5000个 明天送", "msgid": 880001, "mode": mode}
    first = await simulate(standin, body)
    again = await simulate(standin, body)  # WeChat's retry of the same MsgId
    assert first["delivered"] and again["delivered"]
    assert "user_saw" not in first  # orderbot answered in a way WeChat accepts
    rows = await stored(engine)
    assert [(r.channel, r.dedup_key, r.from_user, r.content) for r in rows] == [
        ("wechat", "880001", "o-e2e", "M8螺栓 5000个 明天送")
    ]


async def test_forged_signature_is_refused(
    standin: TestClient, standin_state: StandinState, orderbot_url: str, engine: AsyncEngine
) -> None:
    standin_state.config = standin_state.config.with_(wechat_token="not-the-token")
    result = await simulate(standin, {"openid": "o-forger", "text": "hi"})
    assert not result["delivered"] and result["attempts"][-1]["status"] == 403
    assert await stored(engine) == []


async def test_url_verification_passes(standin: TestClient, orderbot_url: str) -> None:
    result = await (await standin.post("/__simulate__/verify", json={"app": "wechat"})).json()
    assert result["verified"], result
