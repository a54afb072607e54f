"""Async engine and sessions for both profiles (SQLite file, or PostgreSQL via asyncpg)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    """An engine tuned per backend: SQLite gets WAL, a busy timeout and foreign keys.

    SQLite files run WAL with synchronous=NORMAL, the durability the intake's own writer
    already promises (bot/inbound_store.py): a commit survives the process dying; only an
    OS crash or power cut can lose the last commits (and WAL keeps the file consistent).
    FULL would fsync every commit (≈ 4.5 ms on the bench machine) while holding SQLite's one
    write lock, and a chat message commits three to four times (bench/chat_e2e.py)."""
    if is_sqlite(url):
        kw.setdefault("connect_args", {}).setdefault("timeout", 30)
        path = _file_path(url)
        if path is not None and "async_creator" not in kw:
            # one hand-off to SQLite's thread a statement instead of aiosqlite's four
            # (orderbot/sqlite_thread.py); same file, same pragmas below
            from orderbot import sqlite_thread

            timeout = kw["connect_args"]["timeout"]
            kw["async_creator"] = lambda: sqlite_thread.connect(path, timeout=timeout)
        engine = create_async_engine(url, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    idle_ping = kw.pop("idle_ping", IDLE_PING)
    engine = create_async_engine(url, **kw)
    if not kw.get("pool_pre_ping"):
        ping_when_idle(engine, idle_ping)
    return engine


IDLE_PING = 2.0  # seconds a pooled connection may rest before it is checked on checkout


def ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """SQLAlchemy's pool_pre_ping, only for connections that rested `idle` seconds or more.

    asyncpg's ping is three round trips (BEGIN, ";", ROLLBACK) on every checkout, and a
    worker checks a connection out several times a batch. A connection just handed back
    was working a moment ago; one that rested may have been cut (server restart, idle
    timeout, pg_terminate_backend) and is replaced before anyone uses it. A connection cut
    within the last `idle` seconds fails its next statement instead: SQLAlchemy then
    invalidates the pool, and that transaction is retried (outbox) or answered 503
    (callbacks, which WeChat delivers again), as any statement cut mid-flight is."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_rested(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < idle:
            return  # new (just connected) or busy a moment ago
        try:
            dbapi_conn.ping()
        except Exception as error:  # the pool drops it and checks out another
            raise exc.DisconnectionError(str(error)) from error


def _file_path(url: str) -> str | None:
    """The file a plain SQLite URL names; None for in-memory databases and URLs with options."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.query or not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return parsed.database


async def run_autocommit(url: str, sql: str) -> None:
    """One statement outside any transaction (CREATE / DROP DATABASE), on a throwaway engine."""
    from sqlalchemy import text

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def make_sessionmaker(engine: AsyncEngine, info: dict[str, Any] | None = None) -> async_sessionmaker[AsyncSession]:
    """`info` reaches every session (session.info): the hub finds its rule tables there."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, info=info or {})
