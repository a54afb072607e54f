"""Outbox test helpers: a clock the test moves, a context, a handler registry per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.stores_memory import MemoryStore
from workers.handlers import HandlerRegistry, JobContext
from workers.runner import OutboxWorker, WorkerConfig


class FakeClock:
    def __init__(self) -> None:
        # An hour ahead of the real time: rows enqueued without a clock (due at the real
        # "now") are due for it however slowly a loaded machine inserts them.
        self.now = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def handlers() -> HandlerRegistry:
    return HandlerRegistry()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def make_worker(engine: AsyncEngine, clock: FakeClock, handlers: HandlerRegistry, store: MemoryStore):
    sm = make_sessionmaker(engine)

    def make(name: str = "w1", **config: object) -> OutboxWorker:
        ctx = JobContext(
            settings=Settings(_env_file=None), engine=engine, sessionmaker=sm, store=store, http=None, worker_id=name
        )
        cfg = WorkerConfig(**{"poll_interval": 0.01, "lease_seconds": 30, "max_attempts": 4, **config})
        return OutboxWorker(sm, ctx, config=cfg, handlers=handlers, clock=clock, rng=lambda: 1.0)

    return make
