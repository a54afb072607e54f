"""Store-then-acknowledge for inbound callbacks, with WeChat's retries dropped.

WeChat gives a callback 5 seconds and then delivers it again, up to three times, to
whichever of our processes the load balancer picks. The invariant: a message is in the
database, with an outbox row asking for its slow work, before we answer `success` —
written in ONE transaction, so a crash can leave neither a message without its work nor
work without its message. Duplicates are dropped in two places:

* the store, when it is shared between processes (Redis in production; see
  `dedup_store`), remembers keys already stored: a retry arriving after the first
  delivery committed is dropped there, with no database work (the store is asked once
  per batch, in one round trip, and told once per batch what was stored);
* the database's unique (channel, dedup_key) is the final word: concurrent deliveries
  racing past the store both reach the INSERT … ON CONFLICT DO NOTHING, and one loses.

The store holds "pending" while a delivery is in flight and "stored:<id>" once committed;
only "stored" short-circuits, so a process dying mid-delivery never makes a retry drop a
message that was not saved. A store outage degrades to database-only dedup, not errors.

Writes are group-committed: callbacks arriving together share one transaction
(bot/inbound_store.py) — the writer lets the ones already being read join before it
commits — and each request still waits for its own commit before it is acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.inbound_store import BatchWriter
from bot.messages import InboundMsg
from orderbot.stores import KeyValueStore
from orders.outbox import OutboxKind

log = logging.getLogger(__name__)

INBOUND_KIND = OutboxKind.INBOUND  # "handle this stored message" (the conversation)
PENDING, STORED = "pending", "stored:"


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: int | None  # the new InboundMessage.id; None for a duplicate
    duplicate: bool


def dedup_store(store: KeyValueStore | None) -> KeyValueStore | None:
    """The store an app's intake should consult: only one shared between processes.

    With one process (the embedded profile) the database's unique key already drops every
    retry for the price of one skipped INSERT in a batch; an in-process dict in front of it
    only adds three lookups to every callback.
    """
    return store if store is not None and getattr(store, "shared", False) else None


class Intake:
    """Stores each inbound message once, with its outbox row, before it is acknowledged."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: KeyValueStore | None = None,
        *,
        channel: str = "wechat",
        kind: str = INBOUND_KIND,
        remember_for: float = 2 * 86400.0,
        pending_for: float = 30.0,
        max_batch: int = 200,
        gather_rounds: int = 2,
        gather_for: float = 0.002,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.store = store
        self.channel = channel
        self.kind = kind  # Outbox.kind of the work each stored message asks for
        self.remember_for = remember_for  # WeChat retries within ~15 s; keep keys 2 days
        self.pending_for = pending_for
        self.max_batch = max_batch
        self.gather_rounds = gather_rounds
        self.gather_for = gather_for
        self.wake = wake  # appkeys.WAKE_OUTBOX: tell the worker new rows are committed
        self._queue: list[tuple[InboundMsg, asyncio.Future[Accepted]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._batch_writer: BatchWriter | None = None

    def _key(self, msg: InboundMsg) -> str:
        return f"inbound:{self.channel}:{msg.dedup_key}"

    async def accept(self, msg: InboundMsg) -> Accepted:
        """Store `msg` and queue its handling, or recognise it as a retry. Idempotent.

        Raises only on database failure; the caller then answers 5xx so WeChat retries.
        """
        return await self._group_commit(msg)

    async def _already_stored(self, keys: list[str]) -> set[str]:
        """Claim `keys` as pending in the store, one round trip for the batch; the keys it
        says an earlier delivery already committed (only "stored" counts: a "pending" left
        by a delivery still in flight, or one that died, is written and the database
        decides)."""
        if self.store is None or not keys:
            return set()
        try:
            found = await self.store.claim_many(keys, PENDING, self.pending_for)
        except Exception:  # the store is an optimisation; the database still dedups
            log.warning("dedup store unavailable; falling back to the database", exc_info=True)
            return set()
        return {key for key, value in zip(keys, found, strict=True) if value and value.startswith(STORED)}

    async def _remember(self, stored: dict[str, int | None]) -> None:
        """These keys are now in the database: later retries can stop at the store."""
        if self.store is None or not stored:
            return
        try:
            await self.store.set_many(
                {key: f"{STORED}{message_id or ''}" for key, message_id in stored.items()},
                self.remember_for,
            )
        except Exception:
            log.warning("dedup store unavailable; keys not remembered", exc_info=True)

    async def _group_commit(self, msg: InboundMsg) -> Accepted:
        """Queue `msg` for the writer and wait until its transaction has committed.

        One writer task per Intake handles whatever queued up while the previous batch
        ran — one store round trip to drop retries, one transaction, one round trip to
        remember the keys: under load many messages share each (and, on SQLite, no two
        transactions ever wait on each other's lock), while a lone message is written at
        once. Each caller still returns only after its own rows committed.
        """
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._queue.append((msg, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        return await future  # if the request is cancelled, the batch is written all the same

    async def _gather(self) -> None:
        """Let callbacks already being read join the batch before it is written.

        A commit costs the same for one message or twenty, so the writer waits while the
        queue keeps growing: it yields to the event loop until `gather_rounds` turns in a
        row add nothing, the batch is full, or `gather_for` seconds have passed. A lone
        message waits only those few idle turns (microseconds); under load the batches
        grow and the cost of each acknowledgement drops.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.gather_for
        quiet = 0
        while quiet < self.gather_rounds and len(self._queue) < self.max_batch:
            size = len(self._queue)
            await asyncio.sleep(0)
            quiet = quiet + 1 if len(self._queue) == size else 0
            if loop.time() >= deadline:
                break

    async def _write_queued(self) -> None:
        while self._queue:
            await self._gather()
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            keys = {m.dedup_key: self._key(m) for m, _ in batch}
            try:
                done = await self._already_stored(list(dict.fromkeys(keys.values())))
                fresh = [m for m, _ in batch if keys[m.dedup_key] not in done]
                ids = await self._insert_many(fresh)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if ids and self.wake is not None:
                self.wake()
            first: set[str] = set()
            for m, future in batch:  # a retry in the same batch as its original: duplicate
                new = m.dedup_key not in first and keys[m.dedup_key] not in done
                first.add(m.dedup_key)
                message_id = ids.get(m.dedup_key) if new else None
                if not future.done():
                    future.set_result(Accepted(message_id=message_id, duplicate=message_id is None))
            # Either way the keys written are in the database now (new, or there already).
            await self._remember({keys[m.dedup_key]: ids.get(m.dedup_key) for m in fresh})

    async def _insert_many(self, msgs: list[InboundMsg]) -> dict[str, int]:
        """Messages and their outbox rows in one transaction: {dedup_key: id} of the new ones."""
        # One row per key, in key order: concurrent batches in other processes then take
        # their row locks in the same order and cannot deadlock (PostgreSQL would abort one).
        unique = sorted({m.dedup_key: m for m in msgs}.values(), key=lambda m: m.dedup_key)
        if not unique:
            return {}
        if self._batch_writer is None:
            self._batch_writer = BatchWriter(self._engine(), channel=self.channel, kind=self.kind)
        return await self._batch_writer.write(unique)

    def _engine(self) -> AsyncEngine:
        engine = self.sessionmaker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("Intake needs a sessionmaker bound to an AsyncEngine")
        return engine

    async def close(self) -> None:
        """Let queued messages finish, then release the writer's thread and connection."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._batch_writer is not None:
            await self._batch_writer.close()
