"""What the mini-program API works with: database, store, HTTP client, clock, rules, catalog.

Collected in one `MpServices` per app so handlers name nothing global and tests can swap the
clock. Sessions live in the KeyValueStore under a hash of the token: the token itself is
never stored, and the WeChat session_key stays on the server, next to the session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.routing_rules import RulesFile
from orderbot.settings import Settings
from orderbot.stores import KeyValueStore
from orders.drafts import CatalogSource
from orders.models import utcnow

SESSION_TTL = 7 * 24 * 3600  # seconds a login lasts
_SESSION = "mp:session:"
_SESSION_KEY = "mp:session_key:"


@dataclass(frozen=True)
class Principal:
    """The logged-in customer."""

    customer_id: int
    openid: str


class Sessions:
    """Opaque bearer tokens with a TTL, kept in the shared store (memory or Redis)."""

    def __init__(self, store: KeyValueStore, ttl: int = SESSION_TTL) -> None:
        self.store, self.ttl = store, ttl

    @staticmethod
    def _key(token: str) -> str:
        return _SESSION + hashlib.sha256(token.encode()).hexdigest()

    async def open(self, who: Principal, session_key: str) -> str:
        token = secrets.token_urlsafe(32)
        value = json.dumps({"customer_id": who.customer_id, "openid": who.openid})
        await self.store.set(self._key(token), value, ttl=self.ttl)
        # WeChat's session_key decrypts the user's data later; it never leaves the server.
        await self.store.set(_SESSION_KEY + who.openid, session_key, ttl=self.ttl)
        return token

    async def resolve(self, token: str | None) -> Principal | None:
        if not token or len(token) > 200:
            return None
        raw = await self.store.get(self._key(token))
        if raw is None:
            return None
        data = json.loads(raw)
        return Principal(int(data["customer_id"]), str(data["openid"]))

    async def close(self, token: str) -> None:
        await self.store.delete(self._key(token))


@dataclass
class MpServices:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    store: KeyValueStore
    http: aiohttp.ClientSession | None = None
    clock: Callable[[], datetime] = utcnow
    rules: RulesFile = field(default_factory=RulesFile)
    catalog: CatalogSource = field(default_factory=CatalogSource)
    sessions: Sessions = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.store)


class ServicesHolder:
    """Filled at startup, once the main app has opened its engine, store and client."""

    services: MpServices | None = None


SERVICES = web.AppKey("mp_services", ServicesHolder)


def services_of(request: web.Request) -> MpServices:
    holder = request.config_dict[SERVICES]
    if holder.services is None:
        raise RuntimeError("mini-program API services were not set up (setup(app) then startup)")
    return holder.services
