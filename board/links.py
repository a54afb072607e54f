"""One-time board links, sent in WeCom when a manager types 看板.

Kept apart from the web code so the WeCom command handler (bot/) can issue a link without
importing the board's views: only the key-value store is shared. A link is good once, for
LINK_TTL seconds; opening it starts a board session for the member it was issued to.
"""

from __future__ import annotations

import secrets

from orderbot.settings import Settings
from orderbot.stores import KeyValueStore

LINK_TTL = 15 * 60.0
LINK_PATH = "/board/link"


def board_base_url(settings: Settings) -> str:
    """Where people open the service (ORDERBOT_PUBLIC_URL); the local default otherwise."""
    return settings.public_url.rstrip("/") or "http://127.0.0.1:8080"


def _key(token: str) -> str:
    return f"board:link:{token}"


async def issue_link(store: KeyValueStore, userid: str, base_url: str) -> str:
    """A fresh single-use URL that logs `userid` in to the board."""
    token = secrets.token_urlsafe(24)
    await store.set(_key(token), userid, ttl=LINK_TTL)
    return f"{base_url.rstrip('/')}{LINK_PATH}?t={token}"


async def redeem_link(store: KeyValueStore, token: str) -> str | None:
    """The userid the link was issued to, the first time only; None for a used, expired or
    made-up link. Two clicks at once: `set_if_absent` lets exactly one of them through."""
    if not token or len(token) > 100:
        return None
    userid = await store.get(_key(token))
    if userid is None or not await store.set_if_absent(f"{_key(token)}:used", "1", ttl=LINK_TTL):
        return None
    await store.delete(_key(token))
    return userid
