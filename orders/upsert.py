"""INSERT … ON CONFLICT for whichever database the session talks to (SQLite or PostgreSQL).

Both dialects spell the statement the same way in SQLAlchemy, but it lives in two modules;
this picks the right one so callers stay backend-neutral.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An `insert(table)` that has `on_conflict_do_nothing/do_update` for this backend."""
    name = dialect_name(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for database dialect {name!r}")
