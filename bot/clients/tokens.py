"""Access tokens, cached with their expiry in the shared KeyValueStore.

One refresher at a time across every process: a caller that finds no token takes the
store's lock (Redis lock in production), looks again, and only then fetches, so a hundred
concurrent callers cause one fetch. A call that fails with 40001 / 42001 / 40014 drops the
stale token (only if it is still the cached one: another process may already have stored
a fresh one) and is retried exactly once with a fresh token.

Each process also keeps the token it last saw for a few seconds (`local_for`), so a burst
of pushes does not read the store once a call: the store's copy expires five minutes
before the token does (`cache_ttl`), far more than the memo lives, and a token error
drops the memo with the store's copy.

WeChat clients fetch with /cgi-bin/stable_token by default: unlike /cgi-bin/token it does
not invalidate the token other processes (or other deployments) are using.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.clients.errors import WeChatAPIError
from bot.clients.http import HTTPClient
from orderbot.stores import KeyValueStore

T = TypeVar("T")
Fetch = Callable[[], Awaitable[tuple[str, float]]]  # -> (token, expires_in seconds)


def cache_ttl(expires_in: float) -> float:
    """Keep a token a little less than it lives: 5 minutes less, or a tenth for short TTLs."""
    return max(1.0, expires_in - min(300.0, expires_in / 10))


class AccessTokens:
    """The access token of one app, shared by every process through `store`."""

    def __init__(
        self,
        store: KeyValueStore,
        key: str,
        fetch: Fetch,
        *,
        lock_timeout: float = 30.0,
        local_for: float = 15.0,
    ) -> None:
        self.store = store
        self.key = key
        self._fetch = fetch
        self._lock_timeout = lock_timeout
        self._local = asyncio.Lock()  # one waiter per process on the shared lock
        self._local_for = local_for
        self._memo: tuple[str, float] | None = None  # (token, monotonic deadline)
        self.fetches = 0

    def _remember(self, token: str, ttl: float | None = None) -> str:
        keep = self._local_for if ttl is None else min(self._local_for, ttl)
        self._memo = (token, time.monotonic() + keep)
        return token

    async def get(self) -> str:
        if self._memo is not None and time.monotonic() < self._memo[1]:
            return self._memo[0]
        token = await self.store.get(self.key)
        if token:
            return self._remember(token)
        async with self._local:
            token = await self.store.get(self.key)
            if token:
                return self._remember(token)
            async with self.store.lock(f"{self.key}:refresh", timeout=self._lock_timeout):
                token = await self.store.get(self.key)
                if token:
                    return self._remember(token)
                token, expires_in = await self._fetch()
                self.fetches += 1
                ttl = cache_ttl(expires_in)
                await self.store.set(self.key, token, ttl=ttl)
                return self._remember(token, ttl)

    async def invalidate(self, stale: str) -> None:
        """Forget `stale` here, and in the store unless another process has replaced it."""
        if self._memo is not None and self._memo[0] == stale:
            self._memo = None
        if await self.store.get(self.key) == stale:
            await self.store.delete(self.key)

    async def call(self, fn: Callable[[str], Awaitable[T]]) -> T:
        """Run `fn(token)`; after a token error, once more with a fresh token."""
        token = await self.get()
        try:
            return await fn(token)
        except WeChatAPIError as exc:
            if not exc.token_error:
                raise
            await self.invalidate(token)
        return await fn(await self.get())


def wechat_fetcher(
    http: HTTPClient, appid: str, secret: str, *, stable: bool = True
) -> Fetch:
    """Fetch an Official Account / mini-program token (stable_token unless told otherwise)."""

    async def fetch() -> tuple[str, float]:
        if stable:
            body = await http.call(
                "POST",
                "/cgi-bin/stable_token",
                json_body={"grant_type": "client_credential", "appid": appid, "secret": secret},
            )
        else:
            body = await http.call(
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": appid, "secret": secret},
            )
        return str(body["access_token"]), float(body.get("expires_in", 7200))

    return fetch


def wecom_fetcher(http: HTTPClient, corpid: str, secret: str) -> Fetch:
    async def fetch() -> tuple[str, float]:
        body = await http.call(
            "GET", "/cgi-bin/gettoken", params={"corpid": corpid, "corpsecret": secret}
        )
        return str(body["access_token"]), float(body.get("expires_in", 7200))

    return fetch
