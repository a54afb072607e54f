"""One suite for both KeyValueStore implementations (memory and Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from orderbot.settings import Settings
from orderbot.stores import KeyValueStore, make_store
from orderbot.stores_memory import MemoryStore
from orderbot.stores_redis import RedisStore


def _new_store(kind: str, key_prefix: str, redis_url: str | None) -> KeyValueStore:
    if kind == "memory":
        return MemoryStore()
    return RedisStore(redis_url, prefix=key_prefix)


@pytest.fixture
async def store(store_kind: str, key_prefix: str, request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    url = request.getfixturevalue("redis_url") if store_kind == "redis" else None
    s = _new_store(store_kind, key_prefix, url)
    yield s
    if isinstance(s, RedisStore):
        keys = [k async for k in s.client.scan_iter(match=key_prefix + "*")]
        if keys:
            await s.client.delete(*keys)
    await s.close()


async def test_set_get_delete(store: KeyValueStore) -> None:
    assert await store.get("a") is None
    await store.set("a", "1")
    assert await store.get("a") == "1"
    await store.set("a", "2", ttl=60)
    assert await store.get("a") == "2"
    await store.delete("a")
    assert await store.get("a") is None
    assert await store.ping() is True


async def test_ttl_expiry(store: KeyValueStore) -> None:
    await store.set("short", "x", ttl=0.1)
    assert await store.set_if_absent("dedup", "y", ttl=0.1) is True
    await store.set("long", "z", ttl=30)
    assert await store.get("short") == "x"
    await asyncio.sleep(0.15)
    assert await store.get("short") is None
    assert await store.get("long") == "z"
    # An expired dedup key counts as absent again.
    assert await store.set_if_absent("dedup", "y2", ttl=5) is True


async def test_set_if_absent_one_winner_among_100(store: KeyValueStore) -> None:
    results = await asyncio.gather(*(store.set_if_absent("msg:42", str(i), ttl=10) for i in range(100)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await store.get("msg:42") == str(winner)


async def test_claim_many_claims_the_absent_and_reports_the_held(store: KeyValueStore) -> None:
    await store.set("held", "stored:7", ttl=30)
    assert await store.claim_many(["new", "held", "new2"], "pending", ttl=30) == [None, "stored:7", None]
    assert [await store.get(k) for k in ("new", "held", "new2")] == ["pending", "stored:7", "pending"]
    # A second claim of the same keys finds them held.
    assert await store.claim_many(["new"], "pending", ttl=30) == ["pending"]
    assert await store.claim_many([], "pending", ttl=30) == []


async def test_claim_many_one_winner_per_key_among_concurrent_claims(store: KeyValueStore) -> None:
    results = await asyncio.gather(*(store.claim_many(["k1", "k2"], str(i), ttl=10) for i in range(20)))
    for pos, key in enumerate(["k1", "k2"]):
        winners = [i for i, r in enumerate(results) if r[pos] is None]
        assert len(winners) == 1
        assert await store.get(key) == str(winners[0])


async def test_set_many_with_ttl(store: KeyValueStore) -> None:
    await store.set_many({"a": "1", "b": "2"}, ttl=0.1)
    assert [await store.get("a"), await store.get("b")] == ["1", "2"]
    await asyncio.sleep(0.15)
    assert await store.get("a") is None


async def test_lock_mutual_exclusion(store: KeyValueStore) -> None:
    inside = 0
    most = 0
    order: list[int] = []

    async def worker(i: int) -> None:
        nonlocal inside, most
        async with store.lock("customer:7", timeout=5):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.005)
            order.append(i)
            inside -= 1

    await asyncio.wait_for(asyncio.gather(*(worker(i) for i in range(10))), timeout=10)
    assert most == 1
    assert sorted(order) == list(range(10))


async def test_lock_many_excludes_single_locks_and_overlapping_sets(store: KeyValueStore) -> None:
    """A batch's customers locked together: a one-customer lock on any of them waits, and two
    batches sharing customers (taken in any order) both finish, one after the other."""
    inside: set[str] = set()
    clashes = 0

    async def hold(names: list[str]) -> None:
        nonlocal clashes
        async with store.lock_many(names, timeout=5):
            if inside & set(names):
                clashes += 1
            inside.update(names)
            await asyncio.sleep(0.01)
            inside.difference_update(names)

    async def single(name: str) -> None:
        async with store.lock(name, timeout=5):
            if name in inside:
                nonlocal clashes
                clashes += 1
            inside.add(name)
            await asyncio.sleep(0.005)
            inside.discard(name)

    await asyncio.wait_for(asyncio.gather(
        hold(["a", "b", "c"]), hold(["c", "b"]), hold(["d", "a"]), hold(["b", "a", "d"]),
        single("b"), single("d"), hold([]),
    ), timeout=10)
    assert clashes == 0
    # everything was released: each lock is free at once
    async with store.lock_many(["a", "b", "c", "d"], timeout=5):
        pass
    async with store.lock("a", timeout=5):
        pass


async def test_lock_many_waits_for_a_held_lock_and_gives_back_what_it_took(store: KeyValueStore) -> None:
    held = store.lock("y", timeout=5)
    await held.__aenter__()
    waiting = asyncio.create_task(_enter_and_leave(store, ["x", "y", "z"]))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    # while it waits for y, it holds none of the locks after y in order: z is free
    async with store.lock("z", timeout=5, blocking_timeout=1.0):
        pass
    await held.__aexit__(None, None, None)
    await asyncio.wait_for(waiting, timeout=5)


async def _enter_and_leave(store: KeyValueStore, names: list[str]) -> None:
    async with store.lock_many(names, timeout=5):
        pass


async def test_lock_excludes_across_store_instances(store_kind: str, key_prefix: str, request: pytest.FixtureRequest) -> None:
    """Two processes are two store objects on the same server: the lock must hold across them."""
    if store_kind == "memory":
        pytest.skip("the memory store is one process by definition")
    url = request.getfixturevalue("redis_url")
    a, b = RedisStore(url, prefix=key_prefix), RedisStore(url, prefix=key_prefix)
    try:
        async with a.lock("order:1", timeout=5):
            with pytest.raises(TimeoutError):
                async with b.lock("order:1", timeout=5, blocking_timeout=0.1):
                    pass
        async with b.lock("order:1", timeout=5, blocking_timeout=0.1):
            pass
    finally:
        await a.close()
        await b.close()


async def test_lock_lease_expires_when_holder_never_releases(store: KeyValueStore) -> None:
    """A holder that dies keeps the lock only for `timeout` seconds."""
    stuck = store.lock("job", timeout=0.1)
    await stuck.__aenter__()  # never exited: the holder "died"
    with pytest.raises(TimeoutError):
        async with store.lock("job", timeout=5, blocking_timeout=0.03):
            pass
    async with store.lock("job", timeout=5, blocking_timeout=1.0):
        pass


async def test_rate_window_gives_limit_slots_then_says_when_one_frees(store: KeyValueStore) -> None:
    """The robot's 20-a-minute window, the same on both stores (and shared across processes)."""
    t0 = 1_000_000.0
    for i in range(3):
        assert await store.take_slot("w", 3, 60.0, t0 + i) is None
    assert await store.take_slot("w", 3, 60.0, t0 + 10) == t0 + 60  # the oldest use leaves then
    assert await store.take_slot("other", 3, 60.0, t0 + 10) is None  # windows are per name
    assert await store.take_slot("w", 3, 60.0, t0 + 60.5) is None  # one slot free again
    assert await store.take_slot("w", 3, 60.0, t0 + 60.6) == t0 + 61


async def test_published_messages_reach_subscribers_only(store: KeyValueStore) -> None:
    async with store.subscribe("ch") as subscription:
        await store.publish("ch", "1")
        await store.publish("elsewhere", "2")
        assert await subscription.get(2.0) == "1"
        assert await subscription.get(0.2) is None
    await store.publish("ch", "3")  # nobody listening: dropped, no error


def test_make_store_picks_profile(key_prefix: str) -> None:
    assert isinstance(make_store(Settings(_env_file=None, ORDERBOT_REDIS_URL=None)), MemoryStore)
    redis_store = make_store(Settings(_env_file=None, ORDERBOT_REDIS_URL="redis://127.0.0.1:6379/0"), prefix="x:")
    assert isinstance(redis_store, RedisStore)
    assert redis_store.prefix == "orderbot:x:"


async def test_memory_ttl_follows_injected_clock() -> None:
    now = [1000.0]
    s = MemoryStore(clock=lambda: now[0], sweep_every=1)
    await s.set("k", "v", ttl=10)
    now[0] += 9.9
    assert await s.get("k") == "v"
    now[0] += 0.2
    assert await s.get("k") is None
    await s.set("gone", "v", ttl=1)
    now[0] += 2
    await s.set("other", "v")  # a write sweeps expired keys
    assert "gone" not in s._data
