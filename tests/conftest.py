"""Shared fixtures: both profiles, one suite.

`db_url` / `engine` run a test against SQLite and PostgreSQL; `store_kind` against the
memory store and Redis. Under CI=true a missing PostgreSQL or Redis fails the run; elsewhere
those tests are skipped with a loud message.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import orders.models  # noqa: F401  (registers the tables)
from orderbot.db import make_engine, run_autocommit
from tests.shared_data import SHARED, SKIP_REASON, cases_for, shared_path

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = os.environ.get("ORDERBOT_TEST_PG_HOST", "127.0.0.1"), 5432
PG_ADMIN_URL = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/test"
REDIS_URL = os.environ.get("ORDERBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property tests explore new examples on developers' machines; CI replays a fixed sequence,
# so a red run always means a change, never the luck of the draw.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if IN_CI:
    hypothesis_settings.load_profile("ci")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Fail under CI, skip loudly elsewhere, when a real service is not there."""
    if _reachable(host, port):
        return
    msg = f"{name} at {host}:{port} is not reachable"
    if IN_CI:
        pytest.fail(f"{msg}; under CI=true it is mandatory", pytrace=False)
    warnings.warn(f"SKIPPING {name} tests: {msg}", stacklevel=2)
    pytest.skip(f"{name} not reachable ({host}:{port}); these tests run under CI=true")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, for tests that read its data; skips them when it is absent (see shared_data)."""
    return shared_path("")


@pytest.fixture(scope="session")
def catalog_csv() -> Path:
    """The shared fastener catalog (189 products) the labelled sets are written against."""
    return shared_path("eval/catalog.csv")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "shared_cases(argnames, rel, build): parametrize from a ../shared JSON file")
    if IN_CI and not SHARED.is_dir():
        pytest.exit(f"../shared not found at {SHARED}: under CI=true its labelled data and case "
                    "tables are mandatory (set ORDERBOT_SHARED_DIR, or clone beside shared/)",
                    returncode=4)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for mark in metafunc.definition.iter_markers("shared_cases"):
        argnames, rel, build = mark.args
        metafunc.parametrize(argnames, cases_for(argnames, rel, build))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and r.longrepr[2].endswith(SKIP_REASON)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped: they read labelled data and case tables from "
            f"../shared, which was not found at {SHARED}")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of our own on the PostgreSQL server for this test run, dropped at the end."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"orderbot_t_{uuid.uuid4().hex[:10]}"

    asyncio.run(run_autocommit(PG_ADMIN_URL, f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    asyncio.run(run_autocommit(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once per profile. Tables are not created here."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}"
    url = request.getfixturevalue("pg_database")
    asyncio.run(_reset_pg(url))
    return url


async def _reset_pg(url: str) -> None:
    eng = make_engine(url)
    try:
        async with eng.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await eng.dispose()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database with every table created."""
    eng = make_engine(db_url)
    async with eng.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    host, port = "127.0.0.1", 6379
    require_service("Redis", host, port)
    return REDIS_URL


@pytest.fixture
def key_prefix() -> str:
    """A namespace per test so parallel runs never see each other's Redis keys."""
    return f"orderbot-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return request.param
