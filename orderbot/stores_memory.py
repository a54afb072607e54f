"""The embedded profile's key-value store: one process, one event loop, no Redis.

Every operation completes without awaiting in between, so it is atomic with respect to
other coroutines on the loop (asyncio-safe). Expired keys are dropped lazily on access and
swept every `sweep_every` writes, so the dict does not grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

Clock = Callable[[], float]


class MemoryStore:
    """KeyValueStore in a dict; TTLs and lock leases follow `clock` (monotonic seconds)."""

    shared = False  # one process only: other processes (if any) never see these keys

    def __init__(self, *, clock: Clock = time.monotonic, sweep_every: int = 1000) -> None:
        self._clock = clock
        self._data: dict[str, tuple[str, float | None]] = {}
        self._locks: dict[str, tuple[str, float]] = {}  # name -> (token, lease expiry)
        self._released = asyncio.Condition()
        self._writes = 0
        self._sweep_every = sweep_every
        self._subscribers: dict[str, list[asyncio.Queue[str]]] = {}
        self._windows: dict[str, list[float]] = {}  # rate window name -> use times, oldest first

    def _alive(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is not None and item[1] is not None and item[1] <= self._clock():
            del self._data[key]
            return None
        return item

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            now = self._clock()
            for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
                del self._data[key]

    async def get(self, key: str) -> str | None:
        item = self._alive(key)
        return None if item is None else item[0]

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._data[key] = (value, self._expiry(ttl))
        self._wrote()

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        if self._alive(key) is not None:
            return False
        self._data[key] = (value, self._expiry(ttl))
        self._wrote()
        return True

    async def claim_many(self, keys: list[str], value: str, ttl: float) -> list[str | None]:
        out: list[str | None] = []
        for key in keys:
            item = self._alive(key)
            if item is None:
                self._data[key] = (value, self._expiry(ttl))
                self._wrote()
            out.append(None if item is None else item[0])
        return out

    async def set_many(self, items: dict[str, str], ttl: float) -> None:
        for key, value in items.items():
            self._data[key] = (value, self._expiry(ttl))
            self._wrote()

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def lock(
        self, name: str, timeout: float = 30.0, *, blocking_timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Hold `name` for at most `timeout` seconds (then another waiter may take it, as with
        Redis); wait at most `blocking_timeout` seconds to get it, else TimeoutError."""
        return self._hold(name, timeout, blocking_timeout)

    @asynccontextmanager
    async def _hold(
        self, name: str, lease: float, blocking_timeout: float | None
    ) -> AsyncIterator[None]:
        token = uuid.uuid4().hex
        deadline = None if blocking_timeout is None else time.monotonic() + blocking_timeout
        async with self._released:
            while True:
                held = self._locks.get(name)
                now = self._clock()
                if held is None or held[1] <= now:
                    self._locks[name] = (token, now + lease)
                    break
                wait = held[1] - now
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"lock {name!r} not acquired in {blocking_timeout}s")
                    wait = min(wait, left)
                try:
                    await asyncio.wait_for(self._released.wait(), timeout=min(wait, 1.0))
                except TimeoutError:
                    pass
        try:
            yield
        finally:
            async with self._released:
                if self._locks.get(name, ("",))[0] == token:
                    del self._locks[name]
                self._released.notify_all()

    def lock_many(self, names: list[str], timeout: float = 30.0) -> AbstractAsyncContextManager[None]:
        return self._hold_many(names, timeout)

    @asynccontextmanager
    async def _hold_many(self, names: list[str], lease: float) -> AsyncIterator[None]:
        """Each lock in sorted order (two holders of overlapping sets cannot deadlock)."""
        async with contextlib.AsyncExitStack() as held:
            for name in sorted(set(names)):
                await held.enter_async_context(self.lock(name, lease))
            yield

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._subscribers.get(channel, []):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_QueueSubscription]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers.setdefault(channel, []).append(queue)
        try:
            yield _QueueSubscription(queue)
        finally:
            self._subscribers[channel].remove(queue)

    async def take_slot(self, name: str, limit: int, window: float, now: float) -> float | None:
        uses = [t for t in self._windows.get(name, []) if t > now - window]
        if len(uses) >= limit:
            self._windows[name] = uses
            return uses[0] + window
        self._windows[name] = [*uses, now]
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
        self._locks.clear()
        self._windows.clear()


class _QueueSubscription:
    def __init__(self, queue: asyncio.Queue[str]) -> None:
        self._queue = queue

    async def get(self, wait: float) -> str | None:
        try:
            return await asyncio.wait_for(self._queue.get(), wait)
        except TimeoutError:
            return None
