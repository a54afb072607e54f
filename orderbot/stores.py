"""What the service keeps outside the database: dedup keys, sessions, locks, token caches,
rate windows, and wake-up messages between processes.

Two implementations share this interface: in-process memory (embedded profile) and Redis
(production, several processes). Every key carries a TTL, so nothing grows forever.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orderbot.settings import Settings


class Subscription(Protocol):
    async def get(self, wait: float) -> str | None:
        """The next message, or None when none arrived within `wait` seconds."""
        ...


class KeyValueStore(Protocol):
    shared: bool  # True when every process sees the same keys (Redis), False in-process

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        """True when this call created the key (first delivery), False when it existed."""
        ...

    async def claim_many(self, keys: list[str], value: str, ttl: float) -> list[str | None]:
        """Set each absent key to `value`, in one round trip; per key, None when this call
        set it, else the value it already held."""
        ...

    async def set_many(self, items: dict[str, str], ttl: float) -> None:
        """Set every key, in one round trip."""
        ...

    async def delete(self, key: str) -> None: ...

    def lock(self, name: str, timeout: float = 30.0) -> AbstractAsyncContextManager[None]:
        """A mutual-exclusion lock shared by every process using the same store."""
        ...

    def lock_many(self, names: list[str], timeout: float = 30.0) -> AbstractAsyncContextManager[None]:
        """lock() on every name, held together; the same keys, so each excludes lock() on one."""
        ...

    async def publish(self, channel: str, message: str) -> None:
        """Send `message` to every current subscriber of `channel` (fire and forget)."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive what is published on `channel` while the context is open."""
        ...

    async def take_slot(self, name: str, limit: int, window: float, now: float) -> float | None:
        """A sliding rate window shared by every process using the store: record a use at
        `now` and return None when fewer than `limit` were recorded in the `window` seconds
        before it; else return the clock value when the oldest use leaves the window."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def make_store(settings: Settings, prefix: str = "") -> KeyValueStore:
    """Redis when ORDERBOT_REDIS_URL is set (production), else the in-process memory store."""
    if settings.redis_url:
        from orderbot.stores_redis import RedisStore

        return RedisStore(settings.redis_url, prefix=f"orderbot:{prefix}")
    from orderbot.stores_memory import MemoryStore

    return MemoryStore()
