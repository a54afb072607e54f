"""Migrations: an empty database upgrades to head on both backends, and the migrated
schema is exactly what the models describe (alembic's autogenerate comparison is empty)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from orderbot import migrations
from orderbot.db import make_engine


async def test_empty_database_is_refused_until_migrated(db_url: str) -> None:
    assert not await migrations.is_at_head(db_url)
    with pytest.raises(migrations.MigrationRequired) as err:
        await migrations.ensure_current(db_url)
    assert "orderbot migrate" in str(err.value)

    before, after = await migrations.upgrade(db_url)

    assert before == () and set(after) == set(migrations.head_revisions())
    assert await migrations.is_at_head(db_url)
    await migrations.ensure_current(db_url)  # no error now
    assert await migrations.upgrade(db_url) == (after, after)  # a second run changes nothing


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    await migrations.upgrade(db_url)
    metadata = migrations.target_metadata()
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    assert set(metadata.tables) <= tables
    assert diff == [], f"models changed without a migration: run `orderbot migrate --make MSG`\n{diff}"
