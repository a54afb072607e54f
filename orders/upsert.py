"""INSERT … ON CONFLICT for whichever database the session talks to (SQLite or PostgreSQL).

Both dialects spell the statement the same way in SQLAlchemy, but it lives in two modules;
this picks the right one so callers stay backend-neutral.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An `insert(table)` that has `on_conflict_do_nothing/do_update` for this backend."""
    return insert_for_dialect(dialect_name(session), table)


def insert_for_dialect(name: str, table: Any) -> Any:
    """insert_for by the dialect's name ("postgresql" or "sqlite")."""
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for database dialect {name!r}")


def once_per_database(build: Callable[[str], Any]) -> Callable[[AsyncSession], Any]:
    """A statement built once per database kind and run with bound parameters (rows as
    executemany or multi-row VALUES): building a statement (every value and comparison
    coerced) costs more CPU than the database takes to run it, on paths every message or order
    takes. `build` gets the dialect's name (insert_for_dialect)."""
    built: dict[str, Any] = {}

    def statement(session: AsyncSession) -> Any:
        name = dialect_name(session)
        if name not in built:
            built[name] = build(name)
        return built[name]

    return statement


def insert_skipping(table: Any, unique: Sequence[str],
                    returning: str | Sequence[str] | None = None) -> Callable[[AsyncSession], Any]:
    """INSERT … ON CONFLICT (`unique`) DO NOTHING [RETURNING `returning`] into a Core table,
    once per database (once_per_database): rows whose key exists are skipped."""
    columns = [returning] if isinstance(returning, str) else list(returning or [])

    def build(dialect: str) -> Any:
        stmt = insert_for_dialect(dialect, table).on_conflict_do_nothing(index_elements=[table.c[name] for name in unique])
        return stmt.returning(*(table.c[name] for name in columns)) if columns else stmt

    return once_per_database(build)
