"""`orderbot serve` and `orderbot worker` as a user runs them, and the feature-module import rule."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlmodel import select

from orderbot.db import make_sessionmaker
from orderbot.migrations import upgrade
from orderbot.settings import get_settings
from orders import outbox
from orders.models import Outbox
from service.cli import main
from service.commands.serve import database_problem


@pytest.fixture
def env_db(monkeypatch: pytest.MonkeyPatch):
    def point_at(url: str) -> None:
        monkeypatch.setenv("ORDERBOT_DATABASE_URL", url)
        monkeypatch.delenv("ORDERBOT_REDIS_URL", raising=False)
        get_settings.cache_clear()

    yield point_at
    get_settings.cache_clear()


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, env_db, capsys: pytest.CaptureFixture[str]) -> None:
    env_db(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err and "orderbot migrate" in err


def test_worker_refuses_an_unreachable_database(env_db, capsys: pytest.CaptureFixture[str]) -> None:
    env_db("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")  # connection refused
    assert main(["worker", "--once"]) == 2
    assert "cannot reach the database" in capsys.readouterr().err


async def test_database_problem_until_migrated(db_url: str) -> None:
    problem = await database_problem(db_url)
    assert problem is not None and "orderbot migrate" in problem
    await upgrade(db_url)
    assert await database_problem(db_url) is None


def test_worker_once_delivers_what_is_due_and_exits(tmp_path: Path, env_db, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    env_db(url)

    async def prepare() -> None:
        from orderbot.db import make_engine

        eng = make_engine(url)
        await upgrade(eng)
        async with make_sessionmaker(eng)() as s, s.begin():
            await outbox.enqueue(s, kind="kind_nobody_handles", dedup_key="k1")
        await eng.dispose()

    async def state() -> str:
        from orderbot.db import make_engine

        eng = make_engine(url)
        async with make_sessionmaker(eng)() as s:
            row = (await s.exec(select(Outbox))).one()
        await eng.dispose()
        return row.state

    asyncio.run(prepare())
    assert main(["worker", "--once"]) == 0
    assert asyncio.run(state()) == "parked"  # no handler for that kind: parked, not lost

    capsys.readouterr()
    assert main(["worker", "--parked"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    parked = json.loads(line)
    assert parked["dedup_key"] == "k1" and "no handler" in parked["last_error"]

    assert main(["worker", "--requeue", str(parked["id"])]) == 0
    assert asyncio.run(state()) == "pending"
    assert main(["worker", "--requeue", str(parked["id"])]) == 1  # not parked any more


