"""Clients under test talk to an in-process stand-in; tokens live in a real store
(memory, and Redis when it is there), as in the two profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.clients import Clients, make_clients
from orderbot.settings import Settings
from orderbot.standin import StandinState
from orderbot.stores import KeyValueStore
from orderbot.stores_memory import MemoryStore
from orderbot.stores_redis import RedisStore
from tests.standin.fixtures import standin, standin_state, standin_url  # noqa: F401


@pytest.fixture
async def store(store_kind: str, request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    if store_kind == "redis":
        redis_url = request.getfixturevalue("redis_url")
        key_prefix = request.getfixturevalue("key_prefix")
        kv: KeyValueStore = RedisStore(redis_url, prefix=key_prefix)
    else:
        kv = MemoryStore()
    yield kv
    await kv.close()


@pytest.fixture
def settings(standin_url: str, standin_state: StandinState) -> Settings:  # noqa: F811
    """orderbot's settings for the apps the stand-in knows, pointed at the stand-in."""
    cfg = standin_state.config
    names = ("wechat_appid", "wechat_secret", "miniprogram_appid", "miniprogram_secret",
             "wecom_corpid", "wecom_agentid", "wecom_secret", "wecom_robot_key")
    return Settings(
        **{name: getattr(cfg, name) for name in names},
        wechat_api_base=standin_url,
        wecom_api_base=standin_url,
    )


@pytest.fixture
async def process(
    settings: Settings, store: KeyValueStore
) -> AsyncIterator[Callable[..., Clients]]:
    """Builds the clients one orderbot process would have; call it twice for two processes
    sharing the token store."""
    made: list[Clients] = []

    def make(**kw: object) -> Clients:
        clients = make_clients(settings, store, **kw)  # type: ignore[arg-type]
        made.append(clients)
        return clients

    yield make
    for clients in made:
        await clients.close()


@pytest.fixture
def clients(process: Callable[..., Clients]) -> Clients:
    return process()
