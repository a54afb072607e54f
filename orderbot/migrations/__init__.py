"""Database migrations (alembic), usable from the installed package and from any cwd.

The alembic scripts live beside this file; `alembic_config` points alembic at them by
absolute path, so no alembic.ini or working directory is needed (the project-root
alembic.ini exists only for developers who like the `alembic` command line).

- `upgrade(url_or_engine)`: bring a database to head (what `orderbot migrate` runs).
- `is_at_head(url_or_engine)` / `ensure_current(url_or_engine)`: what `orderbot serve` asks
  before starting; the latter raises MigrationRequired with a message saying what to run.
- `make_revision(message, url)`: autogenerate a new revision after changing the models.

Every function here is async and works inside a running event loop: alembic's synchronous
machinery runs on the engine's connection through `run_sync`.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).resolve().parent
# Modules whose SQLModel tables the migrations cover; add yours when you add tables elsewhere.
MODEL_MODULES = ("orders.models",)


class MigrationRequired(RuntimeError):
    """The database is not at the migration head this code expects."""


def target_metadata() -> MetaData:
    from sqlmodel import SQLModel

    for name in MODEL_MODULES:
        importlib.import_module(name)
    return SQLModel.metadata


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    cfg.set_main_option("path_separator", "os")
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


@asynccontextmanager
async def _engine(target: str | AsyncEngine) -> AsyncIterator[AsyncEngine]:
    if isinstance(target, AsyncEngine):
        yield target
        return
    from orderbot.db import make_engine

    engine = make_engine(target)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _run_alembic(target: str | AsyncEngine, fn: Callable[[Config], Any]) -> Any:
    """Run an alembic command on one connection of `target`, in one transaction."""
    async with _engine(target) as engine, engine.begin() as conn:

        def call(sync_conn: Connection) -> Any:
            cfg = alembic_config(engine.url.render_as_string(hide_password=False))
            cfg.attributes["connection"] = sync_conn
            return fn(cfg)

        return await conn.run_sync(call)


async def current_revisions(target: str | AsyncEngine) -> tuple[str, ...]:
    """The revisions the database is stamped with; () for an empty or unmigrated database."""
    async with _engine(target) as engine, engine.connect() as conn:
        return tuple(
            await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
        )


async def upgrade(target: str | AsyncEngine, revision: str = "head") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Upgrade to `revision`; returns (revisions before, revisions after)."""
    before = await current_revisions(target)
    await _run_alembic(target, lambda cfg: command.upgrade(cfg, revision))
    return before, await current_revisions(target)


async def is_at_head(target: str | AsyncEngine) -> bool:
    return set(await current_revisions(target)) == set(head_revisions())


async def ensure_current(target: str | AsyncEngine) -> None:
    """Raise MigrationRequired, naming both revisions and the fix, unless the DB is at head."""
    current, heads = await current_revisions(target), head_revisions()
    if set(current) == set(heads):
        return
    url = target.url if isinstance(target, AsyncEngine) else make_url(target)
    where = url.render_as_string(hide_password=True)
    raise MigrationRequired(
        f"database {where} is at migration {', '.join(current) or '(none: empty or never migrated)'}"
        f" but this orderbot needs {', '.join(heads)}; run `orderbot migrate` with the same "
        "ORDERBOT_DATABASE_URL"
    )


async def make_revision(message: str, target: str | AsyncEngine) -> Any:
    """Autogenerate a revision from the models against a database that is at head."""
    await ensure_current(target)
    return await _run_alembic(
        target, lambda cfg: command.revision(cfg, message=message, autogenerate=True)
    )
