"""The SQLite engine's settings that the embedded profile's speed and safety rest on."""

from __future__ import annotations

from pathlib import Path

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
