"""Alembic environment: runs on a connection handed over by orderbot.migrations, or opens
its own async engine from ORDERBOT_DATABASE_URL when run through the `alembic` command."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from orderbot.migrations import target_metadata

config = context.config
metadata = target_metadata()


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return url
    from orderbot.settings import get_settings

    return get_settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs via table copies
        compare_type=True,
    )


def run_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    from orderbot.db import make_engine

    engine = make_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    run_on(config.attributes["connection"])
else:
    asyncio.run(run_async())
