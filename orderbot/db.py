"""Async engine and sessions for both profiles (SQLite file, or PostgreSQL via asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
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
    kw.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kw)


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
