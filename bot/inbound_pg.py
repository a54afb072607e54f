"""Batches of inbound messages on PostgreSQL: one statement, one round trip a batch.

The messages and their outbox rows go in ONE statement — a data-modifying CTE, which
PostgreSQL runs atomically in one implicit transaction — over arrays (unnest), prepared
once per connection by asyncpg. Through the pooled SQLAlchemy engine the same batch costs
six round trips (pre-ping, BEGIN, two INSERTs, COMMIT, the pool's reset) and rebuilds and
compiles its statements every time; that, not the database, was what an acknowledgement
cost on the production profile.

The writer owns one asyncpg connection, opened on first use from the engine's URL and
dropped after any error (the batch fails, the callbacks answer 503, WeChat retries, the
next batch reconnects).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from bot.messages import InboundMsg
from orders.models import InboundMessage, Outbox

MESSAGES, WORK = InboundMessage.__table__.name, Outbox.__table__.name

# Keys arrive sorted (Intake._insert_many) and unnest keeps their order, so concurrent
# batches from several processes take their row locks in the same order: no deadlocks.
BATCH_SQL = f"""
WITH m AS (
    INSERT INTO {MESSAGES} (channel, dedup_key, from_user, msg_type, content, raw, received_at, state)
    SELECT $1::varchar, k, u, t, c, r, $2::timestamptz, 'received'
    FROM unnest($3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[])
        AS x(k, u, t, c, r)
    ON CONFLICT (channel, dedup_key) DO NOTHING
    RETURNING id, dedup_key, from_user
), w AS (
    INSERT INTO {WORK} (kind, target, payload, dedup_key, state, attempts, next_attempt_at, created_at)
    SELECT $8::varchar, from_user, json_build_object('message_id', id), $8::varchar || ':' || id,
           'pending', 0, $2::timestamptz, $2::timestamptz
    FROM m
    ON CONFLICT (dedup_key) DO NOTHING
)
SELECT id, dedup_key FROM m
"""


def asyncpg_dsn(url: URL) -> str:
    """The engine's URL as asyncpg takes it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresWriter:
    """Writes one batch per call, messages and outbox rows in one statement."""

    def __init__(self, url: URL, *, channel: str, kind: str) -> None:
        self.dsn = asyncpg_dsn(url)
        self.channel, self.kind = channel, kind
        self._conn: Any = None  # asyncpg.Connection

    async def write(self, msgs: list[InboundMsg], now: datetime) -> dict[str, int]:
        """Same contract as `inbound_store.write_batch`: {dedup_key: id} of the new ones."""
        if not msgs:
            return {}
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self.dsn)
        try:
            rows = await self._conn.fetch(
                BATCH_SQL,
                self.channel,
                now,
                [m.dedup_key for m in msgs],
                [m.openid for m in msgs],
                [m.msg_type for m in msgs],
                [m.content for m in msgs],
                [m.raw for m in msgs],
                self.kind,
            )
        except BaseException:
            await self.close()  # a broken or half-used connection is never reused
            raise
        return {row["dedup_key"]: row["id"] for row in rows}

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=5)
            except Exception:
                conn.terminate()
