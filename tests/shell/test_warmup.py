"""The warm-up `orderbot serve` and `orderbot worker` run before their first round."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.db import make_engine, make_sessionmaker
from orderbot.warmup import SAMPLE, settle_heap, warm_reader, warm_up
from orders.drafts import CatalogSource, today_in_china
from tests.orders.hub_factories import build_world


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector's state as the test found it, whatever settle_heap did."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_warm_reader_builds_the_index_and_reads_the_sample(engine: AsyncEngine) -> None:
    world = await build_world(engine)
    catalogs = CatalogSource(world.sm)
    assert await warm_reader(catalogs) is True
    # the index was built from the product table before any customer wrote
    assert sorted(catalogs.products) == ["HB-M6X20-304", "NUT-M6-ZN", "WASH-M6"]
    reader = await catalogs.reader(today_in_china())
    assert [(item["quantity"], item["unit"]) for item in reader.extract(SAMPLE)["items"]] == [(5000, "个")]


async def test_warm_reader_without_a_database_warns_and_lets_the_service_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, collector: None,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/not-migrated.db")  # no tables at all
    sm: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
    try:
        assert await warm_reader(CatalogSource(sm)) is False
        assert "warm-up skipped" in caplog.text
        await warm_up(CatalogSource(sm))  # does not raise: the service starts, reads on first use
    finally:
        await engine.dispose()


def test_settle_heap_freezes_what_is_alive_and_collects_the_young_less_often(collector: None) -> None:
    gc.unfreeze()
    before = gc.get_freeze_count()
    settle_heap(young=12_345)
    assert gc.get_freeze_count() > before
    assert gc.get_threshold()[0] == 12_345
    # cyclic garbage made after the freeze is still collected
    class Node:
        other: object

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2
