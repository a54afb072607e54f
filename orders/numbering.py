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
    `count` bumps the counter as usual. At the end the numbers not taken are given back, so
    no number is skipped. On SQLite the counter row stays this transaction's and on an error
    the caller's rollback gives everything back; on PostgreSQL see the module's docstring.
    Nested blocks join the outer one."""
    if count < 1 or session.info.get(_BLOCK) is not None:
        yield
        return
    own = dialect_name(session) == "postgresql" and session.bind is not None
    day = order_day(now)
    if own:
        async with AsyncSession(session.bind) as s, s.begin():
            last = await _bump(s, day, count)
    else:
        last = await _bump(session, day, count)
    left: deque[int] = deque(range(last - count + 1, last + 1))
    session.info[_BLOCK] = (day, left)
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        session.info.pop(_BLOCK, None)
        if own and (failed or left):  # the batch rolls back (none used) or left some unused
            async with AsyncSession(session.bind) as s, s.begin():
                await _give_back(s, day, last, last - count + 1 if failed else left[0])
    if not own and left:
        await _give_back(session, day, last, left[0])


async def _give_back(session: AsyncSession, day: str, last: int, first_unused: int) -> None:
    """Lower the day's counter below the unused top of a block, unless a number was taken since."""
    await session.exec(update(OrderCounter)  # type: ignore[call-overload]
                       .where(OrderCounter.day == day, OrderCounter.last == last)
                       .values(last=first_unused - 1).execution_options(synchronize_session=False))
