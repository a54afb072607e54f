"""Readable order numbers: per Shanghai day, unique under concurrency on both databases."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot.db import make_sessionmaker
from orders import actions
from orders.numbering import next_order_number, numbers_together, order_day
from tests.orders.hub_factories import build_world


def test_day_is_the_shanghai_calendar_day() -> None:
    assert order_day(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) == "20260301"
    assert order_day(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)) == "20260302"  # midnight in Shanghai


async def test_numbers_count_per_day(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    day1, day2 = datetime(2026, 3, 2, 1, tzinfo=UTC), datetime(2026, 3, 3, 1, tzinfo=UTC)
    async with sm() as s, s.begin():
        got = [await next_order_number(s, day1), await next_order_number(s, day1), await next_order_number(s, day2)]
    assert got == ["SO20260302-0001", "SO20260302-0002", "SO20260303-0001"]


async def test_rolled_back_order_gives_its_number_back(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    day = datetime(2026, 3, 2, 1, tzinfo=UTC)
    async with sm() as s:
        async with s.begin():
            await next_order_number(s, day)
            await s.rollback()
    async with sm() as s, s.begin():
        assert await next_order_number(s, day) == "SO20260302-0001"


async def test_concurrent_orders_get_unique_consecutive_numbers(engine: AsyncEngine) -> None:
    # given a customer, when 12 orders are created at once, each in its own session
    world = await build_world(engine)
    now = datetime(2026, 3, 2, 1, tzinfo=UTC)
    results = await asyncio.gather(
        *(
            actions.create_order(
                world.sm, world.customer.id, [actions.DraftLine("HB-M6X20-304", 1, "盒")],
                world.as_customer, now=now,
            )
            for _ in range(12)
        )
    )
    # then every number is distinct and the day's sequence has no gap
    numbers = sorted(r.order.number for r in results)
    assert numbers == [f"SO20260302-{i:04d}" for i in range(1, 13)]
    assert all(re.fullmatch(r"SO\d{8}-\d{4}", n) for n in numbers)


async def test_a_batch_takes_its_numbers_in_one_block_and_leaves_no_gap(engine: AsyncEngine) -> None:
    # given a batch of five confirmations placed in one transaction, of which only three make
    # an order (two were placed before), one of them just after midnight in Shanghai
    sm = make_sessionmaker(engine)
    day, next_day = datetime(2026, 3, 2, 1, tzinfo=UTC), datetime(2026, 3, 2, 16, 5, tzinfo=UTC)
    async with sm() as s, s.begin():
        assert await next_order_number(s, day) == "SO20260302-0001"
    async with sm() as s, s.begin():
        async with numbers_together(s, 5, day):
            got = [await next_order_number(s, day), await next_order_number(s, next_day),
                   await next_order_number(s, day)]
    # then the orders are numbered in order, the one of the next day counts on that day
    assert got == ["SO20260302-0002", "SO20260303-0001", "SO20260302-0003"]
    # and the numbers the batch did not use are the next ones handed out
    async with sm() as s, s.begin():
        assert await next_order_number(s, day) == "SO20260302-0004"
        assert await next_order_number(s, next_day) == "SO20260303-0002"


async def test_a_batch_that_fails_gives_its_whole_block_back(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    day = datetime(2026, 3, 2, 1, tzinfo=UTC)
    async with sm() as s:
        try:
            async with s.begin(), numbers_together(s, 8, day):
                await next_order_number(s, day)
                raise RuntimeError("the third order of the batch was refused")
        except RuntimeError:
            pass
    async with sm() as s, s.begin():
        assert await next_order_number(s, day) == "SO20260302-0001"


async def test_a_batch_in_progress_does_not_hold_up_another_workers_numbers(engine: AsyncEngine) -> None:
    """On PostgreSQL (several workers) a batch's block is taken in a transaction of its own:
    while the batch's orders are still being placed, another worker gets its number at once.
    On SQLite (one writer, one process) the block stays in the batch's transaction."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps the block in the batch's transaction (one writer)")
    sm = make_sessionmaker(engine)
    day = datetime(2026, 3, 2, 1, tzinfo=UTC)
    async with sm() as batch, batch.begin():
        async with numbers_together(batch, 5, day):
            first = await next_order_number(batch, day)
            async with sm() as other, other.begin():  # would wait for the batch's commit before
                elsewhere = await asyncio.wait_for(next_order_number(other, day), timeout=5)
            second = await next_order_number(batch, day)
    assert (first, second, elsewhere) == ("SO20260302-0001", "SO20260302-0002", "SO20260302-0006")
    # the batch's three unused numbers could not go back (0006 was taken since): a gap, no clash
    async with sm() as s, s.begin():
        assert await next_order_number(s, day) == "SO20260302-0007"


async def test_a_failed_batch_on_postgres_gives_its_block_back_unless_taken_over(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps the block in the batch's transaction (one writer)")
    sm = make_sessionmaker(engine)
    day = datetime(2026, 3, 2, 1, tzinfo=UTC)
    async with sm() as s:
        try:
            async with s.begin(), numbers_together(s, 4, day):
                assert await next_order_number(s, day) == "SO20260302-0001"
                async with sm() as other, other.begin():
                    assert await next_order_number(other, day) == "SO20260302-0005"
                raise RuntimeError("refused")
        except RuntimeError:
            pass
    async with sm() as s, s.begin():  # 0001-0004 are lost (a gap), 0005 stands, no number twice
        assert await next_order_number(s, day) == "SO20260302-0006"
