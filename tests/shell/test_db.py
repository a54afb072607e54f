"""The SQLite engine's settings that the embedded profile's speed and safety rest on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from orderbot.db import make_engine


async def test_sqlite_file_commits_in_wal_without_an_fsync_each(tmp_path: Path) -> None:
    """WAL + synchronous=NORMAL (1): a commit survives the process dying, and a turn does not
    hold the one write lock across an fsync (FULL, 2, capped chat answers at ≈ 40/s)."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            sync = (await conn.execute(text("PRAGMA synchronous"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await engine.dispose()
    assert (mode, sync, fks) == ("wal", 1, 1)


@pytest.mark.postgres
async def test_postgres_connection_cut_while_resting_is_replaced_unseen(pg_database: str) -> None:
    """A pooled connection the server cut while it rested (restart, idle timeout) is checked
    on checkout and replaced: the next statement works, no error reaches the caller."""
    engine = make_engine(pg_database, idle_ping=0.05)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        killer = make_engine(pg_database)
        async with killer.connect() as conn:
            assert (await conn.execute(text(f"SELECT pg_terminate_backend({pid})"))).scalar()
        await killer.dispose()
        await asyncio.sleep(0.1)  # it rests longer than idle_ping
        async with engine.connect() as conn:
            again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        assert again != pid
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres_busy_connection_is_not_pinged_on_every_checkout(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection handed back a moment ago goes straight back to work: no BEGIN/;/ROLLBACK
    ping before each transaction (three round trips a checkout with pool_pre_ping); one that
    rested is pinged."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    pings: list[int] = []
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(1)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    for idle, expected in ((60.0, 0), (0.0, 4)):
        engine = make_engine(pg_database, idle_ping=idle)
        pings.clear()
        try:
            for _ in range(5):  # the first checkout connects: nothing to ping
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
        assert len(pings) == expected, idle
