"""An asyncio SQLite connection that costs one hand-off to its thread a statement.

SQLAlchemy's aiosqlite dialect drives an aiosqlite connection: every statement is four
round trips between the event loop and aiosqlite's thread (make a cursor, execute, fetch the
rows, close the cursor), each a future, a queue put and a loop wake-up. On the chat paths
(tens of small statements a message) those hand-offs cost more of the serve process's CPU
than SQLite itself. This connection has the same public face aiosqlite's has, as far as
the dialect uses it (cursor() with execute, executemany, fetch*, description, rowcount,
lastrowid; commit, rollback, close, create_function, stop), and is handed to SQLAlchemy
through create_async_engine's documented `async_creator` (orderbot/db.py). A statement is
one call on the thread: execute, then fetch every row (the dialect fetches them all anyway),
and the cursor is dropped there; fetch* and close then read what came back, without a
hand-off. Every sqlite3 call still happens on the connection's own thread, never on the
event loop: a statement waiting on SQLite's lock (busy_timeout) blocks that thread only.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

_STOP: Any = None


class _Worker:
    """The connection's thread: runs posted calls in order and hands each result back to
    the loop with one call_soon_threadsafe (no concurrent.futures machinery on the way)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite", daemon=True)
        self._thread.start()

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        future = self._loop.create_future()
        self._calls.put((future, fn, args))
        return future

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run without waiting for it (closing a connection that is being thrown away)."""
        self._calls.put((None, fn, args))

    def shutdown(self) -> None:
        self._calls.put(_STOP)

    def _run(self) -> None:
        while True:
            item = self._calls.get()
            if item is _STOP:
                return
            future, fn, args = item
            try:
                result, failed = fn(*args), False
            except BaseException as exc:  # noqa: BLE001 — handed to the awaiting task
                result, failed = exc, True
            if future is not None:
                try:
                    self._loop.call_soon_threadsafe(_settle, future, result, failed)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    return


def _settle(future: asyncio.Future[Any], result: Any, failed: bool) -> None:
    if future.done():  # the awaiting task was cancelled; the call ran all the same
        return
    if failed:
        future.set_exception(result)
    else:
        future.set_result(result)


class Connection:
    """One sqlite3 connection on one thread of its own (see the module's docstring)."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        self._path, self._kwargs = path, kwargs
        self._conn: sqlite3.Connection | None = None
        self._loop = asyncio.get_running_loop()
        self._pool = _Worker(self._loop)
        self._tx = _Queue(self)  # the dialect's isolation-level setter posts work here

    # -- running on the thread -----------------------------------------------------------

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._pool.call(fn, *args)

    async def connect(self) -> Connection:
        def open_() -> sqlite3.Connection:
            return sqlite3.connect(self._path, check_same_thread=False, **self._kwargs)

        self._conn = await self._call(open_)
        return self

    def __await__(self) -> Any:  # `await connect(...)`, as aiosqlite
        return self.connect().__await__()

    @property
    def _connection(self) -> sqlite3.Connection | None:  # the dialect asks "still open?"
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("Connection closed")
        return self._conn

    # -- what the dialect calls ------------------------------------------------------------

    def cursor(self) -> _CursorContext:
        return _CursorContext(Cursor(self))

    async def commit(self) -> None:
        await self._call(self._open().commit)

    async def rollback(self) -> None:
        await self._call(self._open().rollback)

    async def close(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            await self._call(conn.close)
        finally:
            self._pool.shutdown()

    def stop(self) -> None:
        """Close without waiting (the dialect's terminate, for an invalidated connection)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.submit(conn.close)
        self._pool.shutdown()

    async def create_function(self, name: str, num_params: int, func: Callable[..., Any],
                              deterministic: bool = False) -> None:
        conn = self._open()
        await self._call(lambda: conn.create_function(name, num_params, func, deterministic=deterministic))

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level


class _Queue:
    """What SQLAlchemy's isolation-level setter posts work to (aiosqlite's `_tx`)."""

    def __init__(self, owner: Connection) -> None:
        self._owner = owner

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, fn = item
        self._owner._pool._calls.put((future, fn, ()))


class _CursorContext:
    """`connection.cursor()` is used as `await cursor.__aenter__()` by the dialect."""

    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        await self._cursor.close()

    def __await__(self) -> Any:
        return self.__aenter__().__await__()


class Cursor:
    """The outcome of one statement: its rows, description, rowcount and lastrowid, read
    on the thread in the same call that ran it."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rows: list[Any] = []
        self._at = 0
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _took(self, outcome: tuple[list[Any], Any, int, int | None]) -> Cursor:
        self._rows, self.description, self.rowcount, self.lastrowid = outcome
        self._at = 0
        return self

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        conn = self._conn._open()
        return self._took(await self._conn._call(_run, conn, sql, parameters, False))

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Cursor:
        conn = self._conn._open()
        return self._took(await self._conn._call(_run, conn, sql, list(seq_of_parameters), True))

    async def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        out = self._rows[self._at:self._at + size]
        self._at += len(out)
        return out

    async def fetchall(self) -> list[Any]:
        out = self._rows[self._at:] if self._at else self._rows
        self._at = len(self._rows)
        return out

    async def close(self) -> None:
        self._rows, self._at = [], 0

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


def _run(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> tuple[list[Any], Any, int, int | None]:
    """On the thread: one statement (or one executemany), its rows and what the cursor says."""
    cur = conn.cursor()
    try:
        if many:
            cur.executemany(sql, parameters)
        elif parameters is None:
            cur.execute(sql)
        else:
            cur.execute(sql, parameters)
        rows = cur.fetchall() if cur.description is not None else []
        return rows, cur.description, cur.rowcount, cur.lastrowid
    finally:
        cur.close()


def connect(path: str, **kwargs: Any) -> Connection:
    """`await connect(path, timeout=30)`: like aiosqlite.connect (sqlite3.connect's keywords)."""
    return Connection(path, **kwargs)


__all__ = ["Connection", "Cursor", "connect"]
