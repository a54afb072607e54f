"""Outbox rows enqueued inside written_together() land in one insert at the block's end:
in the order they were enqueued, a key already there (or repeated) once, nothing on an error."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from orderbot.db import make_sessionmaker
from orders.models import Outbox
from orders.outbox import enqueue, written_together


async def keys(sm) -> list[str]:  # type: ignore[no-untyped-def]
    async with sm() as s:
        return [r.dedup_key for r in (await s.exec(select(Outbox).order_by(col(Outbox.id)))).all()]


async def test_rows_written_together_keep_their_order_and_their_keys(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        await enqueue(s, "notify_rep", "rep", {"n": 0}, "k0")
    async with sm() as s, s.begin():
        async with written_together(s):
            for key in ("k2", "k0", "k1", "k2"):
                await enqueue(s, "notify_rep", "rep", {"k": key}, key)
            assert await keys(sm) == ["k0"]  # nothing written before the block ends
    assert await keys(sm) == ["k0", "k2", "k1"]


async def test_nothing_is_written_when_the_block_fails(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with sm() as s, s.begin(), written_together(s):
            await enqueue(s, "notify_rep", "rep", {}, "k9")
            raise RuntimeError("refused")
    assert await keys(sm) == []
