"""Async engine and sessions for both profiles (SQLite file, or PostgreSQL via asyncpg)."""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _run_statement(conn: Any, operation: str, parameters: Any, many: bool) -> tuple[Any, int, Any, list[Any] | None]:
    """On aiosqlite's thread: one statement from cursor to close, all rows fetched."""
    cur: sqlite3.Cursor = conn._conn.cursor()
    try:
        if many:
            cur.executemany(operation, parameters)
        elif parameters is None:
            cur.execute(operation)
        else:
            cur.execute(operation, parameters)
        rows = cur.fetchall() if cur.description else None
        return cur.description, cur.rowcount, cur.lastrowid, rows
    finally:
        cur.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor makes four trips to aiosqlite's thread a statement
    (cursor, execute, fetchall, close), each a queue put, a thread wake-up and a loop wake-up;
    this one makes one. Rows are buffered as before (no server-side cursors on SQLite)."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount, self._lastrowid = -1, None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return None  # closed on the thread already

    def close(self) -> None:
        self._rows.clear()

    def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        try:
            desc, self._rowcount, self._lastrowid, rows = await_(
                self._connection._execute(_run_statement, self._connection, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description = desc
        self._rows = collections.deque(rows or ())

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._run(operation, seq_of_parameters, True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    """An engine tuned per backend: SQLite gets WAL, a busy timeout and foreign keys.

    SQLite files run WAL with synchronous=NORMAL, the durability the intake's own writer
    already promises (bot/inbound_store.py): a commit survives the process dying; only an
    OS crash or power cut can lose the last commits (and WAL keeps the file consistent).
    FULL would fsync every commit (≈ 4.5 ms on the bench machine) while holding SQLite's one
    write lock, and a chat message commits three to four times (bench/chat_e2e.py)."""
    if is_sqlite(url):
        kw.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_async_engine(url, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            if type(dbapi_conn) is AsyncAdapt_aiosqlite_connection:
                dbapi_conn.__class__ = OneTripConnection  # same slots: statements in one trip
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
