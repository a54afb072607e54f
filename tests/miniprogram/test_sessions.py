"""Login sessions in both stores (memory and Redis): opaque tokens, kept only as hashes,
with the WeChat session_key beside them and never in what the client gets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from miniprogram_api.services import Principal, Sessions
from orderbot.stores import KeyValueStore


@pytest.fixture
async def store(store_kind: str, key_prefix: str, request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    if store_kind == "redis":
        from orderbot.stores_redis import RedisStore

        s: KeyValueStore = RedisStore(request.getfixturevalue("redis_url"), prefix=key_prefix)
    else:
        from orderbot.stores_memory import MemoryStore

        s = MemoryStore()
    yield s
    await s.close()


async def test_a_token_resolves_to_its_customer_until_closed(store: KeyValueStore) -> None:
    sessions = Sessions(store, ttl=60)
    token = await sessions.open(Principal(42, "mp-openid-42"), "c2Vzc2lvbl9rZXk=")
    assert await sessions.resolve(token) == Principal(42, "mp-openid-42")
    assert await store.get(token) is None  # the raw token is not a key
    assert await store.get("mp:session_key:mp-openid-42") == "c2Vzc2lvbl9rZXk="
    other = await sessions.open(Principal(43, "mp-openid-43"), "x")
    assert other != token and (await sessions.resolve(other)).customer_id == 43
    await sessions.close(token)
    assert await sessions.resolve(token) is None
    for bad in (None, "", "x" * 500, token + "x"):
        assert await sessions.resolve(bad) is None
