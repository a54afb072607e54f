"""Statements built once per database (orders/upsert.py): the build runs once however many
sessions use it, and insert_skipping skips existing keys and returns the new rows only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot.db import make_sessionmaker
from orders.models import IdempotencyRecord, utcnow
from orders.upsert import insert_for_dialect, insert_skipping, once_per_database

TABLE: Any = IdempotencyRecord.__table__  # type: ignore[attr-defined]


async def test_built_once_and_existing_keys_skipped(engine: AsyncEngine) -> None:
    built: list[str] = []

    def build(dialect: str) -> Any:
        built.append(dialect)
        return insert_for_dialect(dialect, TABLE)

    plain = once_per_database(build)
    claim = insert_skipping(TABLE, ["scope", "key"], returning="key")
    sm = make_sessionmaker(engine)
    row = {"scope": "wechat:o_a", "request_hash": None, "created_at": utcnow()}
    async with sm() as s, s.begin():
        await s.exec(plain(s), params={**row, "key": "msg:1"})  # type: ignore[call-overload]
        first = (await s.exec(claim(s), params=[{**row, "key": k} for k in ("msg:1", "msg:2", "msg:3")])).all()  # type: ignore[call-overload]
    async with sm() as s, s.begin():
        assert plain(s) is plain(s)
        again = (await s.exec(claim(s), params=[{**row, "key": "msg:3"}, {**row, "key": "msg:4"}])).all()  # type: ignore[call-overload]
    assert sorted(k for (k,) in first) == ["msg:2", "msg:3"] and [k for (k,) in again] == ["msg:4"]
    assert built == [engine.dialect.name]
