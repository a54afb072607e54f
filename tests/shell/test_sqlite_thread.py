"""The embedded profile's SQLite connection (orderbot/sqlite_thread.py) behind SQLAlchemy:
what the ORM relies on still holds, with one hand-off to SQLite's thread a statement."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot import sqlite_thread
from orderbot.db import make_engine


@pytest.fixture
async def lean(tmp_path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'lean.db'}")
    async with engine.begin() as c:
        await c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE NOT NULL)"))
    yield engine
    await engine.dispose()


async def test_a_file_database_goes_through_the_one_hand_off_connection(lean: AsyncEngine) -> None:
    async with lean.connect() as c:
        raw = await c.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite_thread.Connection)
        assert (await c.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await c.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_rows_ids_and_counts_come_back(lean: AsyncEngine) -> None:
    async with lean.begin() as c:
        first = await c.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert first.lastrowid == 1
        await c.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])  # executemany
        got = await c.execute(text("INSERT INTO t (v) VALUES ('d') RETURNING id, v"))
        assert got.all() == [(4, "d")]
        assert (await c.execute(text("UPDATE t SET v = v || '!' WHERE id > 2"))).rowcount == 2
    async with lean.connect() as c:
        rows = await c.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert rows.keys() == ["id", "v"]
        assert rows.all() == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!")]
        assert (await c.execute(text("SELECT v FROM t WHERE id = 99"))).first() is None


async def test_a_failed_statement_rolls_back_and_the_connection_keeps_working(lean: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with lean.begin() as c:
            await c.execute(text("INSERT INTO t (v) VALUES ('x')"))
            await c.execute(text("INSERT INTO t (v) VALUES ('x')"))  # UNIQUE
    with pytest.raises(OperationalError, match="no such table"):
        async with lean.connect() as c:
            await c.execute(text("SELECT * FROM missing"))
    async with lean.begin() as c:  # the first 'x' went with the rollback
        await c.execute(text("INSERT INTO t (v) VALUES ('x')"))
    async with lean.connect() as c:
        assert (await c.execute(text("SELECT count(*) FROM t"))).scalar() == 1


async def test_a_writer_waiting_for_the_lock_does_not_stop_the_event_loop(lean: AsyncEngine) -> None:
    """SQLite's busy wait happens on the connection's thread: while one transaction holds the
    write lock, a second writer waits, and the loop goes on serving everything else."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    try:
        async with lean.begin() as holder:
            await holder.execute(text("INSERT INTO t (v) VALUES ('held')"))

            async def second() -> float:
                started = time.perf_counter()
                async with lean.begin() as c:
                    await c.execute(text("INSERT INTO t (v) VALUES ('later')"))
                return time.perf_counter() - started

            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # blocked on the lock…
            assert ticks >= 10  # …while the loop kept running
        assert await asyncio.wait_for(waiting, 10) >= 0.25  # and it went through once released
    finally:
        tick_task.cancel()
    async with lean.connect() as c:
        assert (await c.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == ["held", "later"]


async def test_in_memory_and_uri_databases_keep_aiosqlite(tmp_path: Path) -> None:
    for url in ("sqlite+aiosqlite:///:memory:", f"sqlite+aiosqlite:///file:{tmp_path / 'u.db'}?uri=true"):
        engine = make_engine(url)
        try:
            async with engine.connect() as c:
                raw = await c.get_raw_connection()
                assert not isinstance(raw.driver_connection, sqlite_thread.Connection)
                assert (await c.execute(text("SELECT 1"))).scalar() == 1
        finally:
            await engine.dispose()
