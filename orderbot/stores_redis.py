"""The production profile's key-value store: Redis, shared by every web process and worker.

Keys are namespaced by `prefix` (tests give each run its own, since the Redis server is
shared). Locks are redis-py's distributed Lock: a token in a key with a TTL, released by a
Lua script only by its owner, so a crashed holder frees the lock after `timeout`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

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
        """SET NX then GET per key, pipelined (any Redis version; SET … NX GET needs 7.0)."""
        if not keys:
            return []
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.set(self._k(key), value, px=_ms(ttl), nx=True)
            pipe.get(self._k(key))
        replies = await pipe.execute()
        out: list[str | None] = []
        for created, held in zip(replies[::2], replies[1::2], strict=True):
            held = held.decode() if isinstance(held, bytes) else held
            out.append(None if created else held)
        return out

    async def set_many(self, items: dict[str, str], ttl: float) -> None:
        if not items:
            return
        pipe = self.client.pipeline(transaction=False)
        for key, value in items.items():
            pipe.set(self._k(key), value, px=_ms(ttl))
        await pipe.execute()

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

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
