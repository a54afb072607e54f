"""Writes batches of inbound messages, each with its outbox row, in one transaction.

Two paths, the same two inserts (ON CONFLICT DO NOTHING on the tables' unique keys):

* PostgreSQL: `bot.inbound_pg.PostgresWriter`, both inserts in one statement, one round
  trip a batch, on a connection of its own;
* in-memory SQLite (tests): `write_batch` on the app's async engine via `run_sync`,
  statements built by SQLAlchemy;
* a SQLite file (the embedded profile): `SqliteFileWriter`, its own stdlib sqlite3
  connection, used on the event loop while the write lock is free (else on a thread),
  with the column types' own bind processors: one multi-row INSERT … RETURNING for the
  messages and one executemany for their outbox rows. aiosqlite hops threads for every
  cursor, execute, fetch, close, commit and rollback — nine hops a batch — and
  SQLAlchemy's per-execute bookkeeping costs more CPU than the inserts; two prepared
  statements a batch is what keeps acknowledgements cheap. SQLite has one writer at a
  time anyway.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbound_pg import PostgresWriter
from bot.messages import InboundMsg
from orders.models import InboundMessage, Outbox, utcnow

log = logging.getLogger(__name__)

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


def _sqlite_file_path(engine: AsyncEngine) -> str | None:
    """The file of a SQLite *file* database, else None (PostgreSQL, in-memory SQLite)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.query or url.database.startswith("file:"):
        return None  # URI options (mode=memory, …): leave those to the async engine
    return url.database


class WriteLockBusy(Exception):
    """A non-waiting writer found SQLite's write lock taken; nothing was written."""


class SqliteFileWriter:
    """Batches into a SQLite file on its own sqlite3 connection (one thread per instance).

    WAL with synchronous=NORMAL: a commit survives the process dying (the promise made
    before acknowledging); only an OS crash or power cut can lose the last commits. FULL
    adds an fsync per commit (0.3 → 1.8 ms a batch on a busy machine here).

    `wait=False` makes a writer that never blocks its thread: BEGIN IMMEDIATE with no
    busy timeout takes the write lock at once or raises WriteLockBusy, and it leaves WAL
    checkpoints (which fsync) to others. That one may run on the event loop.
    """

    _MESSAGE_COLUMNS = (
        "channel", "dedup_key", "from_user", "msg_type", "content", "raw", "received_at", "state",
    )  # fmt: skip
    _WORK_COLUMNS = (
        "kind", "target", "payload", "dedup_key", "state", "attempts", "next_attempt_at", "created_at",
    )  # fmt: skip

    def __init__(
        self,
        path: str,
        *,
        channel: str,
        kind: str,
        synchronous: str = "NORMAL",
        wait: bool = True,
    ) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"not a SQLite synchronous level: {synchronous}")
        self.path, self.channel, self.kind, self.wait = path, channel, kind, wait
        self.synchronous = synchronous.upper()
        self._conn: sqlite3.Connection | None = None
        dialect = sqlite.dialect(paramstyle="named")
        _, self.complete = _compile(
            sqlite.insert(MESSAGES)
            .values({c: bindparam(c, type_=MESSAGES.c[c].type) for c in self._MESSAGE_COLUMNS})
            .on_conflict_do_nothing(index_elements=["channel", "dedup_key"])
            .returning(MESSAGES.c.id),
            dialect,
        )
        self._insert_messages: dict[int, str] = {}  # batch size -> one multi-row INSERT
        self._insert_work, work_complete = _compile(
            sqlite.insert(WORK)
            .values({c: bindparam(c, type_=WORK.c[c].type) for c in self._WORK_COLUMNS})
            .on_conflict_do_nothing(index_elements=["dedup_key"]),
            dialect,
        )
        # False when a column gained a Python-side default these statements would not fill
        # (a model change): BatchWriter then uses the SQLAlchemy path instead.
        self.complete = self.complete and work_complete
        self._time = _processor(MESSAGES.c.received_at, dialect)
        self._json = _processor(WORK.c.payload, dialect)

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            timeout = 30 if self.wait else 0
            conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, cached_statements=512
            )
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={timeout * 1000}")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            if not self.wait:
                conn.execute("PRAGMA wal_autocheckpoint=0")
            else:
                conn.execute("PRAGMA journal_mode=WAL")
            self._conn = conn
        return self._conn

    def write(self, msgs: list[InboundMsg], now: datetime) -> dict[str, int]:
        """Same contract as `write_batch`, in a transaction of its own."""
        if not msgs:
            return {}
        conn = self._connect()
        at = self._time(now)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not self.wait and _busy(exc):
                raise WriteLockBusy(str(exc)) from exc
            raise
        try:
            params: list[Any] = []
            for m in msgs:
                params += (self.channel, m.dedup_key, m.openid, m.msg_type, m.content, m.raw, at, "received")  # _MESSAGE_COLUMNS
            rows = conn.execute(self._messages_statement(len(msgs)), params).fetchall()
            ids: dict[str, int] = {key: id_ for id_, key in rows}
            targets = {m.dedup_key: m.openid for m in msgs}
            conn.executemany(
                self._insert_work,
                [
                    {
                        "kind": self.kind,
                        "target": targets[key],
                        "payload": self._json({"message_id": id_}),
                        "dedup_key": f"{self.kind}:{id_}",
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": at,
                        "created_at": at,
                    }
                    for key, id_ in ids.items()
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return ids

    def _messages_statement(self, n: int) -> str:
        """INSERT of `n` messages in one statement (SQLite then parses, plans and steps once
        a batch), returning (id, dedup_key) of the rows that were not there yet."""
        sql = self._insert_messages.get(n)
        if sql is None:
            row = "(" + ", ".join("?" * len(self._MESSAGE_COLUMNS)) + ")"
            sql = self._insert_messages[n] = (
                f"INSERT INTO {MESSAGES.name} ({', '.join(self._MESSAGE_COLUMNS)}) "
                f"VALUES {', '.join([row] * n)} "
                "ON CONFLICT (channel, dedup_key) DO NOTHING RETURNING id, dedup_key"
            )
        return sql

    def checkpoint(self) -> None:
        """Copy the WAL back into the database file without waiting for readers."""
        self._connect().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _compile(stmt: Any, dialect: Any) -> tuple[str, bool]:
    """SQL text, and whether our parameters are all it needs (no Python-side defaults)."""
    compiled = stmt.compile(dialect=dialect)
    return str(compiled), not compiled.insert_prefetch


def _processor(column: Any, dialect: Any) -> Callable[[Any], Any]:
    """How SQLAlchemy itself would store a value of this column (same text format)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


class BatchWriter:
    """Writes one batch per call in one transaction, on the path suited to the database.

    PostgreSQL (asyncpg): one statement on the writer's own connection (bot/inbound_pg.py).

    SQLite file: on the event loop when the write lock is free (a batch is tens of
    microseconds a message: no lock wait, no fsync, no checkpoint — cheaper than any
    thread hop, and no GIL ping-pong with a writer thread), else on the writer thread,
    which may wait for the lock. The thread also runs a passive WAL checkpoint every
    `checkpoint_every` loop-side commits, so the WAL stays small even when nothing
    else in the process writes.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        channel: str,
        kind: str,
        sqlite_synchronous: str = "NORMAL",
        checkpoint_every: int = 500,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.kind = kind
        self.checkpoint_every = checkpoint_every
        path = _sqlite_file_path(engine)
        self._on_loop: SqliteFileWriter | None = None
        self._on_thread: SqliteFileWriter | None = None
        if path and not SqliteFileWriter(path, channel=channel, kind=kind).complete:
            log.warning("inbound tables have new Python-side defaults: using the slower path")
            path = None
        if path:
            kw: dict[str, Any] = {
                "channel": channel,
                "kind": kind,
                "synchronous": sqlite_synchronous,
            }
            self._on_loop = SqliteFileWriter(path, wait=False, **kw)
            self._on_thread = SqliteFileWriter(path, **kw)
        self._postgres: PostgresWriter | None = None
        if engine.url.get_backend_name() == "postgresql" and engine.url.get_driver_name() == "asyncpg":
            self._postgres = PostgresWriter(engine.url, channel=channel, kind=kind)
        self._thread: ThreadPoolExecutor | None = None
        self._since_checkpoint = 0
        self._checkpointing: asyncio.Future[None] | None = None

    async def write(self, msgs: list[InboundMsg]) -> dict[str, int]:
        now = utcnow()
        if self._postgres is not None:
            return await self._postgres.write(msgs, now)
        if self._on_loop is None or self._on_thread is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(self._write, msgs, now)
        try:
            ids = self._on_loop.write(msgs, now)
        except WriteLockBusy:
            return await self._run_on_thread(self._on_thread.write, msgs, now)
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.checkpoint_every and (
            self._checkpointing is None or self._checkpointing.done()
        ):
            self._since_checkpoint = 0
            self._checkpointing = asyncio.ensure_future(
                self._run_on_thread(self._on_thread.checkpoint)
            )
        return ids

    def _write(self, conn: Connection, msgs: list[InboundMsg], now: datetime) -> dict[str, int]:
        return write_batch(conn, msgs, channel=self.channel, kind=self.kind, now=now)

    async def _run_on_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbound-sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def close(self) -> None:
        if self._postgres is not None:
            await self._postgres.close()
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        if self._on_loop is not None:
            self._on_loop.close()
        if self._thread is not None and self._on_thread is not None:
            thread, self._thread = self._thread, None
            await asyncio.get_running_loop().run_in_executor(thread, self._on_thread.close)
            thread.shutdown(wait=True)
