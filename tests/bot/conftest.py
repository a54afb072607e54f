"""Fixtures for the WeChat callback: a real aiohttp app on a real socket, a database, a store.

`embedded` tests use SQLite + the memory store; `PROFILES` parametrizes a test over both
profiles (SQLite + memory, PostgreSQL + Redis) through the shared `db_url` / `store_kind`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, func, select

from bot.intake import Intake
from bot.wechat_callback import WeChatCallback, setup
from bot.wechat_crypto import CallbackCrypto, Mode
from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import Settings
from orderbot.stores import KeyValueStore, make_store
from orders.models import InboundMessage, Outbox

PROFILES = pytest.mark.parametrize(
    ("db_url", "store_kind"),
    [
        pytest.param("sqlite", "memory", id="embedded"),
        pytest.param(
            "postgres", "redis", id="production", marks=[pytest.mark.postgres, pytest.mark.redis]
        ),
    ],
    indirect=True,
)

ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The embedded profile's database, for tests that need only one profile."""
    eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}")
    async with eng.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
async def store(
    store_kind: str, key_prefix: str, request: pytest.FixtureRequest
) -> AsyncIterator[KeyValueStore]:
    """The store of the profile under test; Redis keys live under this test's own prefix."""
    if store_kind == "redis":
        settings = Settings(redis_url=request.getfixturevalue("redis_url"))
        kv = make_store(settings, prefix=key_prefix)
    else:
        kv = make_store(Settings(redis_url=None))
    yield kv
    if store_kind == "redis":
        client = kv.client  # type: ignore[attr-defined]
        keys = [k async for k in client.scan_iter(match=f"{kv.prefix}*", count=1000)]  # type: ignore[attr-defined]
        if keys:
            await client.delete(*keys)
    await kv.close()


def build_app(
    engine: AsyncEngine, store: KeyValueStore | None, crypto: CallbackCrypto, **callback: Any
) -> web.Application:
    app = web.Application()
    setup(app, WeChatCallback(crypto, Intake(make_sessionmaker(engine), store), **callback))
    return app


@pytest.fixture
def embedded_client(aiohttp_client, sqlite_engine: AsyncEngine) -> ClientFactory:
    """A client factory on the embedded profile: `await embedded_client(token=..., ...)`."""

    async def factory(
        token: str, aes_key: str = "", app_id: str = "", mode: Mode | str | None = None,
        **callback: Any,
    ) -> TestClient:
        crypto = CallbackCrypto(token, aes_key, app_id, Mode(mode) if mode else None)
        from orderbot.stores_memory import MemoryStore

        return await aiohttp_client(build_app(sqlite_engine, MemoryStore(), crypto, **callback))

    return factory


async def count_rows(engine: AsyncEngine) -> tuple[int, int]:
    """(stored inbound messages, outbox rows of kind inbound)."""
    sm = make_sessionmaker(engine)
    async with sm() as session:
        messages = (await session.exec(select(func.count()).select_from(InboundMessage))).one()
        outbox = (
            await session.exec(
                select(func.count()).select_from(Outbox).where(Outbox.kind == "inbound")
            )
        ).one()
    return int(messages), int(outbox)


async def stored_messages(engine: AsyncEngine) -> list[InboundMessage]:
    sm = make_sessionmaker(engine)
    async with sm() as session:
        return list((await session.exec(select(InboundMessage).order_by(InboundMessage.id))).all())
