"""Readable order numbers, SO{yyyymmdd}-{nnnn}, counted per Asia/Shanghai day.

The counter is bumped with one atomic INSERT … ON CONFLICT DO UPDATE … RETURNING inside
the caller's transaction: on PostgreSQL the conflicting row is locked until commit, on
SQLite the statement takes the database write lock. Two concurrent orders can therefore
never get the same number, and a rolled-back order gives its number back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import OrderCounter, as_utc
from orders.upsert import insert_for

# China has had no daylight saving time since 1991, so a fixed offset is exact.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def order_day(now: datetime | None = None) -> str:
    """The Shanghai calendar day of `now` (UTC if naive) as yyyymmdd."""
    now = as_utc(now or datetime.now(UTC))
    return now.astimezone(SHANGHAI).strftime("%Y%m%d")


def format_number(day: str, seq: int) -> str:
    return f"SO{day}-{seq:04d}"


async def next_order_number(session: AsyncSession, now: datetime | None = None) -> str:
    """Take the next number of the day; the caller's transaction holds the counter row."""
    day = order_day(now)
    stmt = insert_for(session, OrderCounter).values(day=day, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[OrderCounter.day], set_={"last": OrderCounter.last + 1}
    ).returning(OrderCounter.last)
    seq = (await session.exec(stmt)).scalar_one()
    return format_number(day, seq)
