"""`orderbot pushes`: an operator sees the parked pushes and sends one again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import SQLModel, select

from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import get_settings
from orders.models import Outbox
from service.cli import main


async def _setup(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async with make_sessionmaker(engine)() as s, s.begin():
        s.add(Outbox(kind="notify_customer", target="oa_x", dedup_key="k1", state="parked", attempts=8,
                     last_error="permanent: errcode 40003: invalid openid"))
        s.add(Outbox(kind="notify_rep", target="rep_y", dedup_key="k2", state="done"))
    await engine.dispose()


async def _states(url: str) -> dict[str, str]:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as s:
        rows = {r.dedup_key: r.state for r in await s.exec(select(Outbox))}
    await engine.dispose()
    return rows


def test_parked_pushes_are_listed_and_can_be_requeued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    asyncio.run(_setup(url))
    monkeypatch.setenv("ORDERBOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["pushes"]) == 0
        out = capsys.readouterr().out
        assert "notify_customer\toa_x\tattempts=8" in out and "40003" in out and "1 parked push(es)" in out
        assert "rep_y" not in out
        assert main(["pushes", "--requeue", "1"]) == 0
        assert asyncio.run(_states(url)) == {"k1": "pending", "k2": "done"}
        assert main(["pushes", "--requeue", "2"]) == 1  # a delivered row is not requeued
    finally:
        get_settings.cache_clear()
