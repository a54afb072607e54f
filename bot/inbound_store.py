"""Writes batches of inbound messages, each with its outbox row, in one transaction.

The SQL is one function on a synchronous SQLAlchemy Connection, run two ways:

* PostgreSQL (and in-memory SQLite): on the app's async engine via `run_sync`;
* a SQLite file (the embedded profile): on one dedicated thread with the stdlib sqlite3
  driver. aiosqlite hops threads for every cursor, execute, fetch, close, commit and
  rollback — nine hops a batch — and on a busy two-core machine each hop waits for the
  scheduler; one hop per batch keeps acknowledgements fast. SQLite has one writer at a
  time anyway, so a single writer thread loses nothing.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.messages import InboundMsg
from orders.models import InboundMessage, Outbox, utcnow

MESSAGES, WORK = InboundMessage.__table__, Outbox.__table__


def dialect_insert(conn: Connection, table: Any) -> Any:
    """INSERT with ON CONFLICT support for this connection's database."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name](table)


def write_batch(
    conn: Connection, msgs: list[InboundMsg], *, channel: str, kind: str, now: datetime
) -> dict[str, int]:
    """Insert messages not stored yet and an outbox row for each: {dedup_key: new id}.

    Runs inside the caller's transaction. Keys already in the table (a retry) are skipped
    by ON CONFLICT DO NOTHING and get no outbox row; `msgs` must have distinct keys.
    """
    if not msgs:
        return {}
    rows = [
        {
            "channel": channel,
            "dedup_key": m.dedup_key,
            "from_user": m.openid,
            "msg_type": m.msg_type,
            "content": m.content,
            "raw": m.raw,
            "received_at": now,
            "state": "received",
        }
        for m in msgs
    ]
    insert_messages = (
        dialect_insert(conn, MESSAGES)
        .on_conflict_do_nothing(index_elements=["channel", "dedup_key"])
        .returning(MESSAGES.c.id, MESSAGES.c.dedup_key)
    )
    ids = {key: id_ for id_, key in conn.execute(insert_messages, rows).all()}
    if ids:
        targets = {m.dedup_key: m.openid for m in msgs}
        work = [
            {
                "kind": kind,
                "target": targets[key],
                "payload": {"message_id": id_},
                "dedup_key": f"{kind}:{id_}",
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for key, id_ in ids.items()
        ]
        insert_work = dialect_insert(conn, WORK).on_conflict_do_nothing(
            index_elements=["dedup_key"]
        )
        conn.execute(insert_work, work)
    return ids


def _sqlite_file_url(engine: AsyncEngine) -> str | None:
    """The sync-driver URL for a SQLite *file* database, else None."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if "mode=memory" in str(url):
        return None
    return url.set(drivername="sqlite").render_as_string(hide_password=False)


class BatchWriter:
    """Runs `write_batch` in one transaction per call, on the path suited to the database."""

    def __init__(
        self, engine: AsyncEngine, *, channel: str, kind: str, sqlite_synchronous: str = "NORMAL"
    ) -> None:
        self.engine = engine
        # SQLite WAL with synchronous=NORMAL: a commit survives the process dying (the
        # promise we make before acknowledging); only an OS crash or power cut can lose
        # the last commits. FULL adds an fsync per commit: 0.3 → 1.8 ms a batch here.
        if sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"not a SQLite synchronous level: {sqlite_synchronous}")
        self.sqlite_synchronous = sqlite_synchronous.upper()
        self.channel = channel
        self.kind = kind
        self._sync_url = _sqlite_file_url(engine)
        self._thread: ThreadPoolExecutor | None = None
        self._sync_engine: Engine | None = None

    async def write(self, msgs: list[InboundMsg]) -> dict[str, int]:
        now = utcnow()
        if self._sync_url is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(self._write, msgs, now)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbound-sqlite")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._write_on_thread, msgs, now)

    def _write(self, conn: Connection, msgs: list[InboundMsg], now: datetime) -> dict[str, int]:
        return write_batch(conn, msgs, channel=self.channel, kind=self.kind, now=now)

    def _write_on_thread(self, msgs: list[InboundMsg], now: datetime) -> dict[str, int]:
        if self._sync_engine is None:
            self._sync_engine = _sync_sqlite_engine(self._sync_url or "", self.sqlite_synchronous)
        with self._sync_engine.begin() as conn:
            return self._write(conn, msgs, now)

    async def close(self) -> None:
        if self._thread is None:
            return
        thread, self._thread = self._thread, None
        sync_engine, self._sync_engine = self._sync_engine, None
        if sync_engine is not None:
            await asyncio.get_running_loop().run_in_executor(thread, sync_engine.dispose)
        thread.shutdown(wait=True)


def _sync_sqlite_engine(url: str, synchronous: str) -> Engine:
    """orderbot.db.make_engine's pragmas, for the stdlib driver on one thread."""
    engine = create_engine(url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    return engine
