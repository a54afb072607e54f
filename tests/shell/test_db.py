"""The SQLite engine's settings that the embedded profile's speed and safety rest on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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


async def test_sqlite_statements_keep_rows_counts_and_errors(tmp_path: Path) -> None:
    """The one-trip cursor (orderbot.db.OneTripCursor) still gives SQLAlchemy everything:
    returned rows, rowcount, executemany, and constraint errors as IntegrityError."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, n INT)"))
            await conn.execute(text("INSERT INTO t (k, n) VALUES (:k, :n)"), [{"k": f"k{i}", "n": i} for i in range(5)])
            updated = await conn.execute(text("UPDATE t SET n = n + 10 WHERE n >= 3"))
            back = (await conn.execute(text("INSERT INTO t (k, n) VALUES ('x', 99) RETURNING id, n"))).one()
            rows = (await conn.execute(text("SELECT k, n FROM t ORDER BY id"))).all()
        assert updated.rowcount == 2 and tuple(back) == (6, 99)
        assert [tuple(r) for r in rows] == [("k0", 0), ("k1", 1), ("k2", 2), ("k3", 13), ("k4", 14), ("x", 99)]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (k, n) VALUES ('x', 1)"))
        async with engine.connect() as conn:  # the failed transaction left nothing behind
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 6
    finally:
        await engine.dispose()
