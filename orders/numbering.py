"""Readable order numbers, SO{yyyymmdd}-{nnnn}, counted per Asia/Shanghai day.

The counter is bumped with one atomic INSERT … ON CONFLICT DO UPDATE … RETURNING inside
the caller's transaction: on PostgreSQL the conflicting row is locked until commit, on
SQLite the statement takes the database write lock. Two concurrent orders can therefore
never get the same number, and a rolled-back order gives its number back.

Many orders placed in one transaction (a batch of chat confirmations) take their numbers in
one bump (`numbers_together`); the ones left unused go back before the commit, so the day's
numbers still have no gaps. On PostgreSQL that bump is its own short transaction, committed
at once: holding the day's counter row for a whole batch would make every other worker's batch
wait for it (two workers placed 1.3x slower with it held, bench/chat_e2e.py). The numbers a
batch does not use, or all of them when it fails, go back in the same way, as long as no one
has taken a number since; only then (a batch failing while another worker placed orders) can
a gap appear.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import OrderCounter, as_utc
from orders.upsert import dialect_name, insert_for

# China has had no daylight saving time since 1991, so a fixed offset is exact.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def order_day(now: datetime | None = None) -> str:
    """The Shanghai calendar day of `now` (UTC if naive) as yyyymmdd."""
    now = as_utc(now or datetime.now(UTC))
    return now.astimezone(SHANGHAI).strftime("%Y%m%d")


def format_number(day: str, seq: int) -> str:
    return f"SO{day}-{seq:04d}"


async def _bump(session: AsyncSession, day: str, by: int) -> int:
    """The counter after adding `by`; the caller's transaction holds the row from here on."""
    stmt = insert_for(session, OrderCounter).values(day=day, last=by)
    stmt = stmt.on_conflict_do_update(
        index_elements=[OrderCounter.day], set_={"last": OrderCounter.last + by}
    ).returning(OrderCounter.last)
    return int((await session.exec(stmt)).scalar_one())


_BLOCK = "orders.numbering.block"


async def next_order_number(session: AsyncSession, now: datetime | None = None) -> str:
    """Take the next number of the day; the caller's transaction holds the counter row."""
    day = order_day(now)
    block: tuple[str, deque[int]] | None = session.info.get(_BLOCK)
    if block is not None and block[0] == day and block[1]:
        return format_number(day, block[1].popleft())
    return format_number(day, await _bump(session, day, 1))


@asynccontextmanager
async def numbers_together(session: AsyncSession, count: int, now: datetime | None = None) -> AsyncIterator[None]:
    """Up to `count` orders of `now`'s day created inside the block take their numbers from
    ONE counter bump, in order; an order of another day (a batch across midnight) or beyond
    `count` bumps the counter as usual. At the end the numbers not taken are given back
    (the counter row is still this transaction's), so no number is skipped. On an error
    nothing is given back: the caller rolls the whole transaction back. Nested blocks join
    the outer one."""
    if count < 1 or session.info.get(_BLOCK) is not None:
        yield
        return
    if dialect_name(session) == "postgresql" and session.bind is not None:
        async with _block_of_its_own(session, count, now):
            yield
        return
    day = order_day(now)
    last = await _bump(session, day, count)
    left: deque[int] = deque(range(last - count + 1, last + 1))
    session.info[_BLOCK] = (day, left)
    try:
        yield
    finally:
        session.info.pop(_BLOCK, None)
    if left:  # the top of the block was not used: lower the counter back below it
        await session.exec(update(OrderCounter)  # type: ignore[call-overload]
                           .where(OrderCounter.day == day, OrderCounter.last == last)
                           .values(last=left[0] - 1).execution_options(synchronize_session=False))


@asynccontextmanager
async def _block_of_its_own(session: AsyncSession, count: int, now: datetime | None) -> AsyncIterator[None]:
    """numbers_together on PostgreSQL: the block taken, and given back, in short transactions
    of their own (see the module's docstring), not held by the batch's transaction."""
    day = order_day(now)
    async with AsyncSession(session.bind) as own, own.begin():
        last = await _bump(own, day, count)
    left: deque[int] = deque(range(last - count + 1, last + 1))
    session.info[_BLOCK] = (day, left)
    try:
        yield
    except BaseException:
        left = deque(range(last - count + 1, last + 1))  # the batch rolls back: none was used
        raise
    finally:
        session.info.pop(_BLOCK, None)
        if left:  # lower the counter below the unused top, unless someone took a number since
            async with AsyncSession(session.bind) as own, own.begin():
                await own.exec(update(OrderCounter)  # type: ignore[call-overload]
                               .where(OrderCounter.day == day, OrderCounter.last == last)
                               .values(last=left[0] - 1).execution_options(synchronize_session=False))
