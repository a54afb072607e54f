"""The production profile's key-value store: Redis, shared by every web process and worker.

Keys are namespaced by `prefix` (tests give each run its own, since the Redis server is
shared). Locks are redis-py's distributed Lock: a token in a key with a TTL, released by a
Lua script only by its owner, so a crashed holder frees the lock after `timeout`.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import LockError, LockNotOwnedError

log = logging.getLogger(__name__)


class RedisStore:
    """KeyValueStore on redis-py asyncio. Owns (and closes) the client it builds from a URL."""

    shared = True

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = "orderbot:",
        client: aioredis.Redis | None = None,
        lock_poll: float = 0.01,
    ) -> None:
        if client is None and url is None:
            raise ValueError("RedisStore needs a url or a client")
        self._owns_client = client is None
        self.client: aioredis.Redis = client or aioredis.Redis.from_url(
            url, decode_responses=True, health_check_interval=30
        )
        self.prefix = prefix
        self._lock_poll = lock_poll
        # A batch of keys in one command each way (redis-py sends EVALSHA, loading the
        # script when the server does not know it). The keys of one call must share a
        # hash slot on Redis Cluster; on one Redis server they are free.
        self._claim = self.client.register_script(_CLAIM)
        self._set_many = self.client.register_script(_SET_MANY)
        self._take_slot = self.client.register_script(_TAKE_SLOT)
        self._unlock = self.client.register_script(_UNLOCK)

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        value = await self.client.get(self._k(key))
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.client.set(self._k(key), value, px=_ms(ttl) if ttl is not None else None)

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self.client.set(self._k(key), value, px=_ms(ttl), nx=True))

    async def claim_many(self, keys: list[str], value: str, ttl: float) -> list[str | None]:
        """One script call for the whole batch: SET NX, else GET, per key."""
        if not keys:
            return []
        found = await self._claim(keys=[self._k(k) for k in keys], args=[value, _ms(ttl)])
        return [None if held is None else _text(held) for held in found]

    async def set_many(self, items: dict[str, str], ttl: float) -> None:
        if items:
            await self._set_many(keys=[self._k(k) for k in items], args=[_ms(ttl), *items.values()])

    async def delete(self, key: str) -> None:
        await self.client.delete(self._k(key))

    def lock(
        self, name: str, timeout: float = 30.0, *, blocking_timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Hold `name` across processes for at most `timeout` seconds; wait at most
        `blocking_timeout` seconds (None: forever) to get it, else TimeoutError."""
        return self._hold(name, timeout, blocking_timeout)

    @asynccontextmanager
    async def _hold(
        self, name: str, lease: float, blocking_timeout: float | None
    ) -> AsyncIterator[None]:
        lock = self.client.lock(
            self._k(f"lock:{name}"),
            timeout=lease,
            sleep=self._lock_poll,
            blocking_timeout=blocking_timeout,
        )
        if not await lock.acquire():
            raise TimeoutError(f"lock {name!r} not acquired in {blocking_timeout}s")
        try:
            yield
        finally:
            try:
                await lock.release()
            except (LockNotOwnedError, LockError):
                # The lease ran out while we worked: someone else may hold it now.
                log.warning("lock %s expired before release (held longer than %ss)", name, lease)

    def lock_many(self, names: list[str], timeout: float = 30.0) -> AbstractAsyncContextManager[None]:
        return self._hold_many(names, timeout)

    @asynccontextmanager
    async def _hold_many(self, names: list[str], lease: float) -> AsyncIterator[None]:
        """Every lock in one round trip when all are free (a pipeline of SET NX PX on the key
        and lease lock() uses), released in one script call. When any is taken, the ones got
        are given back and each is waited for in sorted order, as lock() one by one: two
        holders of overlapping sets never wait on each other in a circle."""
        keys = sorted(set(names))
        if not keys:
            yield
            return
        token = uuid.uuid4().hex
        full = [self._k(f"lock:{name}") for name in keys]
        async with self.client.pipeline(transaction=False) as pipe:
            for key in full:
                pipe.set(key, token, px=_ms(lease), nx=True)
            got = await pipe.execute()
        if all(got):
            try:
                yield
            finally:
                await self._release_locks(full, token, lease)
            return
        await self._unlock(keys=[k for k, ok in zip(full, got, strict=True) if ok], args=[token])
        async with contextlib.AsyncExitStack() as held:
            for name in keys:
                await held.enter_async_context(self.lock(name, lease))
            yield

    async def _release_locks(self, keys: list[str], token: str, lease: float) -> None:
        released = await self._unlock(keys=keys, args=[token])
        if int(released) != len(keys):  # a lease ran out while we worked: someone may hold it now
            log.warning("%d of %d locks expired before release (held longer than %ss)",
                        len(keys) - int(released), len(keys), lease)

    async def publish(self, channel: str, message: str) -> None:
        await self.client.publish(self._k(channel), message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_PubSubSubscription]:
        async with self.client.pubsub() as pubsub:
            await pubsub.subscribe(self._k(channel))
            await pubsub.get_message(timeout=1.0)  # the confirmation: subscribed from here on
            yield _PubSubSubscription(pubsub)

    async def take_slot(self, name: str, limit: int, window: float, now: float) -> float | None:
        """One script call: drop uses older than the window, then take a slot or say when
        one frees (a sorted set of use times per window name)."""
        free_at = await self._take_slot(keys=[self._k(f"window:{name}")],
                                        args=[now, window, limit, uuid.uuid4().hex, _ms(window * 2)])
        return None if free_at is None else float(_text(free_at))

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()


# Delete each key still holding this owner's token (lock_many's release, one call for all).
_UNLOCK = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
"""

_CLAIM = """
local out = {}
for i, key in ipairs(KEYS) do
    if redis.call('SET', key, ARGV[1], 'PX', ARGV[2], 'NX') then
        out[i] = false
    else
        out[i] = redis.call('GET', key)
    end
end
return out
"""
_SET_MANY = """
for i, key in ipairs(KEYS) do
    redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS
"""


_TAKE_SLOT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return tostring(tonumber(oldest[2]) + window)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return false
"""


class _PubSubSubscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def get(self, wait: float) -> str | None:
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:  # skips (un)subscribe confirmations
            msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if msg is not None:
                return _text(msg["data"])
        return None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
