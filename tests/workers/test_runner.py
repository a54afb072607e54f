"""The worker loop: wake-ups, graceful stop, leases given back when cancelled."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from orderbot.db import make_sessionmaker
from orders import outbox
from orders.models import Outbox
from workers.handlers import HandlerRegistry


async def _enqueue(engine: AsyncEngine, n: int, kind: str = "slow") -> None:
    async with make_sessionmaker(engine)() as s, s.begin():
        for i in range(n):
            await outbox.enqueue(s, kind=kind, dedup_key=f"{kind}:{i}")


async def test_wake_skips_the_poll_wait_and_stop_ends_the_loop(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    got = asyncio.Event()

    @handlers.register("slow")
    async def h(ctx, row: Outbox) -> None:
        got.set()

    worker = make_worker(poll_interval=30.0)  # without wake() the row would wait 30 s
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.05)  # the worker is idle, waiting
    await _enqueue(engine, 1)
    worker.wake()
    await asyncio.wait_for(got.wait(), timeout=10)
    worker.stop()
    await asyncio.wait_for(task, timeout=10)


async def test_stop_finishes_the_batch_in_hand(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    await _enqueue(engine, 3)
    started = asyncio.Event()
    finished: list[int] = []

    @handlers.register("slow")
    async def h(ctx, row: Outbox) -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.append(row.id)

    worker = make_worker(batch_size=3)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), timeout=10)
    worker.stop()
    await asyncio.wait_for(task, timeout=10)
    assert len(finished) == 3
    async with make_sessionmaker(engine)() as s:
        assert (await outbox.count_by_state(s))["done"] == 3


async def test_cancelled_worker_gives_back_unstarted_rows(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    await _enqueue(engine, 2)
    started = asyncio.Event()
    hang = True

    @handlers.register("slow")
    async def h(ctx, row: Outbox) -> None:
        started.set()
        if hang:
            await asyncio.sleep(10)

    worker = make_worker(batch_size=2)
    task = asyncio.create_task(worker.run_once())
    await asyncio.wait_for(started.wait(), timeout=10)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    async with make_sessionmaker(engine)() as s:
        rows = (await s.exec(select(Outbox))).all()
    # Cancelled mid-handler: the leases are released at once, not left to run out,
    # and the interrupted attempt is not counted.
    assert [(r.state, r.locked_by, r.attempts) for r in rows] == [("pending", None, 0)] * 2
    hang = False
    assert await make_worker("w2").run_once() == 2  # claimable again at once


async def test_a_failing_round_does_not_kill_the_loop(engine: AsyncEngine, handlers: HandlerRegistry, make_worker, monkeypatch) -> None:
    worker = make_worker(poll_interval=0.01)
    calls = 0
    real = worker.run_once

    async def flaky_round() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")
        return await real()

    monkeypatch.setattr(worker, "run_once", flaky_round)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)
    assert calls >= 2 and not task.done()
    worker.stop()
    await asyncio.wait_for(task, timeout=10)


async def test_heartbeat_only_after_rounds_that_worked(engine: AsyncEngine, make_worker, monkeypatch, tmp_path) -> None:
    beat = tmp_path / "alive"
    worker = make_worker(poll_interval=0.01, heartbeat_path=str(beat))
    real = worker.run_once
    broken = True

    async def round_() -> int:
        if broken:
            raise ConnectionError("database down")
        return await real()

    monkeypatch.setattr(worker, "run_once", round_)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)
    assert not beat.exists()  # failing rounds: the health check must see it
    broken = False
    for _ in range(100):
        if beat.exists():
            break
        await asyncio.sleep(0.05)
    assert beat.exists()
    worker.stop()
    await asyncio.wait_for(task, timeout=10)


def test_a_kind_without_a_handler_stops_start_up() -> None:
    from orderbot.jobs import MissingHandlers
    from orders.outbox import OutboxKind
    from workers.handlers import HANDLERS, build_registry

    assert set(build_registry().kinds()) >= set(OutboxKind)
    incomplete = {kind: fn for kind, fn in HANDLERS.items() if kind != OutboxKind.OCR_JOB}
    with pytest.raises(MissingHandlers, match="ocr_job"):
        build_registry(incomplete)
