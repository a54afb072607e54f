"""The outbox as a queue, on SQLite and PostgreSQL: claims, retries, parking, leases."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from orderbot import metrics
from orderbot.db import make_sessionmaker
from orders import outbox
from orders.models import Outbox
from workers.handlers import HandlerRegistry, PermanentError, TransientError


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the worker catches it."""


async def _enqueue(engine: AsyncEngine, n: int, kind: str = "cs_message", start: int = 0) -> None:
    async with make_sessionmaker(engine)() as s, s.begin():
        for i in range(start, start + n):
            await outbox.enqueue(s, kind=kind, dedup_key=f"{kind}:{i}", target=f"openid-{i}", payload={"i": i})


async def _row(engine: AsyncEngine, dedup_key: str) -> Outbox:
    async with make_sessionmaker(engine)() as s:
        return (await s.exec(select(Outbox).where(Outbox.dedup_key == dedup_key))).one()


async def test_enqueue_is_idempotent_by_dedup_key(engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as s, s.begin():
        assert await outbox.enqueue(s, kind="robot", dedup_key="order:1:alert", payload={"a": 1})
        assert not await outbox.enqueue(s, kind="robot", dedup_key="order:1:alert", payload={"a": 2})
    async with make_sessionmaker(engine)() as s:
        assert (await outbox.count_by_state(s))["pending"] == 1


async def test_concurrent_claims_are_disjoint(engine: AsyncEngine, clock) -> None:
    await _enqueue(engine, 60)
    sm = make_sessionmaker(engine)

    async def claim_as(worker: str) -> list[int]:
        async with sm() as s, s.begin():
            rows = await outbox.claim(
                s, worker_id=worker, now=clock(), limit=10, lease_seconds=30, max_attempts=5
            )
        return [r.id for r in rows]

    batches = await asyncio.gather(*(claim_as(f"w{i}") for i in range(8)))
    assert all(len(b) <= 10 for b in batches)  # the limit holds (PostgreSQL once ignored it)
    claimed = [i for b in batches for i in b]
    assert len(claimed) == 60
    assert len(set(claimed)) == 60
    # Nothing is left to claim while the leases run.
    assert await claim_as("late") == []


async def test_several_workers_deliver_each_row_exactly_once(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    await _enqueue(engine, 50)
    seen: Counter[str] = Counter()
    by_worker: set[str] = set()
    overlap = asyncio.Event()

    @handlers.register("cs_message")
    async def send(ctx, row: Outbox) -> None:
        seen[row.dedup_key] += 1
        by_worker.add(ctx.worker_id)
        if len(by_worker) >= 2:
            overlap.set()
        # The first batch waits (at most 1 s) until another worker delivers too, so the
        # workers really do run side by side instead of one draining everything.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(overlap.wait(), 1.0)

    workers = [make_worker(f"w{i}", batch_size=7) for i in range(4)]
    delivered = await asyncio.gather(*(w.drain() for w in workers))
    assert sum(delivered) == 50
    assert len(seen) == 50 and set(seen.values()) == {1}
    assert len(by_worker) >= 2
    async with make_sessionmaker(engine)() as s:
        assert await outbox.count_by_state(s) == {"pending": 0, "done": 50, "parked": 0}


async def test_failing_handler_backs_off_then_parks(engine: AsyncEngine, handlers: HandlerRegistry, make_worker, clock) -> None:
    await _enqueue(engine, 1, kind="template_message")
    calls = 0

    @handlers.register("template_message")
    async def flaky(ctx, row: Outbox) -> None:
        nonlocal calls
        calls += 1
        raise TransientError("45009 api freq out of limit")

    worker = make_worker(max_attempts=4, backoff_base=2.0, backoff_max=100.0)
    delays = []
    for _ in range(3):
        assert await worker.run_once() == 1
        row = await _row(engine, "template_message:0")
        assert row.state == "pending"
        wait = (outbox.as_utc(row.next_attempt_at) - clock()).total_seconds()
        delays.append(wait)
        assert await worker.run_once() == 0  # not due yet: no busy retry loop
        clock.advance(wait)
    assert delays == [2.0, 4.0, 8.0]  # rng pinned to 1.0: the top of each jitter window
    parked_before = metrics.OUTBOX_PARKED._value.get()
    assert await worker.run_once() == 1  # fourth and last attempt
    assert calls == 4
    row = await _row(engine, "template_message:0")
    assert row.state == "parked" and row.attempts == 4
    assert "45009" in (row.last_error or "")
    async with make_sessionmaker(engine)() as s:
        parked = await outbox.list_parked(s)
    assert [r.dedup_key for r in parked] == ["template_message:0"]
    assert metrics.OUTBOX_PARKED._value.get() == parked_before + 1
    clock.advance(10_000)
    assert await worker.run_once() == 0  # parked rows are never retried on their own
    async with make_sessionmaker(engine)() as s, s.begin():
        assert await outbox.requeue(s, row.id)
    assert await worker.run_once() == 1 and calls == 5


async def test_permanent_error_and_unknown_kind_park_at_once(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    await _enqueue(engine, 1, kind="subscribe_message")
    await _enqueue(engine, 1, kind="no_such_kind")

    @handlers.register("subscribe_message")
    async def no_consent(ctx, row: Outbox) -> None:
        raise PermanentError("43101 user refuse to accept the msg")

    assert await make_worker().drain() == 2
    async with make_sessionmaker(engine)() as s:
        parked = {r.kind: r for r in await outbox.list_parked(s)}
    assert set(parked) == {"subscribe_message", "no_such_kind"}
    assert parked["subscribe_message"].attempts == 1
    assert "43101" in parked["subscribe_message"].last_error
    assert "no handler" in parked["no_such_kind"].last_error


async def test_backoff_has_jitter_and_a_cap() -> None:
    lo = [outbox.backoff_delay(n, base=2, cap=60, rng=lambda: 0.0) for n in range(1, 9)]
    hi = [outbox.backoff_delay(n, base=2, cap=60, rng=lambda: 1.0) for n in range(1, 9)]
    assert hi == [2, 4, 8, 16, 32, 60, 60, 60]
    assert lo == [h / 2 for h in hi]


async def test_dead_worker_lease_expires_and_another_delivers(engine: AsyncEngine, handlers: HandlerRegistry, make_worker, clock) -> None:
    await _enqueue(engine, 3, kind="wecom_card")
    delivered: list[str] = []

    @handlers.register("wecom_card")
    async def card(ctx, row: Outbox) -> None:
        delivered.append(row.dedup_key)

    # Worker A claims the rows and dies before delivering anything.
    async with make_sessionmaker(engine)() as s, s.begin():
        taken = await outbox.claim(s, worker_id="A", now=clock(), limit=10, lease_seconds=30, max_attempts=4)
    assert len(taken) == 3
    b = make_worker("B", lease_seconds=30)
    assert await b.run_once() == 0  # A's leases still run
    clock.advance(31)
    assert await b.run_once() == 3
    assert sorted(delivered) == ["wecom_card:0", "wecom_card:1", "wecom_card:2"]
    row = await _row(engine, "wecom_card:1")
    assert row.state == "done" and row.attempts == 2


async def test_once_handler_is_not_repeated_after_a_crash_before_done(engine: AsyncEngine, handlers: HandlerRegistry, make_worker, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """At-least-once delivery + a dedup_key-keyed handler = the customer gets one message."""
    await _enqueue(engine, 1)
    sent: list[str] = []

    @handlers.register("cs_message", once=True)
    async def send(ctx, row: Outbox) -> None:
        sent.append(row.target)

    crashing = make_worker("A")

    async def crash(*a, **kw):
        raise WorkerKilled("between the API call and marking the row done")

    monkeypatch.setattr(outbox, "mark_done", crash)
    with pytest.raises(WorkerKilled):
        await crashing.run_once()
    monkeypatch.undo()
    assert sent == ["openid-0"]
    row = await _row(engine, "cs_message:0")
    assert row.state == "pending" and row.locked_by == "A"

    clock.advance(31)
    assert await make_worker("B").run_once() == 1
    assert sent == ["openid-0"]  # redelivered, but the handler skipped the duplicate
    assert (await _row(engine, "cs_message:0")).state == "done"


async def test_worker_dying_on_every_attempt_is_parked(engine: AsyncEngine, handlers: HandlerRegistry, clock) -> None:
    """A poison row that kills its worker each time still ends up parked, not looping."""
    await _enqueue(engine, 1)
    sm = make_sessionmaker(engine)
    for _ in range(3):
        async with sm() as s, s.begin():
            assert len(await outbox.claim(s, worker_id="X", now=clock(), limit=5, lease_seconds=10, max_attempts=3)) == 1
        clock.advance(11)
    async with sm() as s, s.begin():
        assert await outbox.claim(s, worker_id="X", now=clock(), limit=5, lease_seconds=10, max_attempts=3) == []
        assert await outbox.park_abandoned(s, now=clock(), max_attempts=3) == 1
    async with sm() as s:
        [row] = await outbox.list_parked(s)
    assert "lease expired" in row.last_error


async def test_delayed_row_waits_for_not_before(engine: AsyncEngine, handlers: HandlerRegistry, make_worker, clock) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        await outbox.enqueue(s, kind="reminder", dedup_key="order:9:remind", not_before=clock() + timedelta(minutes=30))
    got = []

    @handlers.register("reminder")
    async def remind(ctx, row: Outbox) -> None:
        got.append(row.id)

    w = make_worker()
    assert await w.run_once() == 0
    clock.advance(1800)
    assert await w.run_once() == 1 and len(got) == 1


async def test_enqueue_many_writes_new_rows_once(engine: AsyncEngine) -> None:
    rows = [{"kind": "cs_message", "target": f"o{i}", "payload": {"i": i}, "dedup_key": f"reply:{i}"}
            for i in range(3)]
    async with make_sessionmaker(engine)() as s, s.begin():
        assert await outbox.enqueue_many(s, rows) == 3
    async with make_sessionmaker(engine)() as s, s.begin():  # a retried batch, one row more
        assert await outbox.enqueue_many(s, [*rows, {**rows[0], "dedup_key": "reply:3"}]) == 1
    async with make_sessionmaker(engine)() as s:
        assert (await outbox.count_by_state(s))["pending"] == 4
        assert (await _row(engine, "reply:1")).payload == {"i": 1}


async def test_batch_handler_outcomes_per_row(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    # a kind carried out a batch at a time: one row fails for now, one for good, one works
    seen: list[list[int]] = []

    async def one(ctx, row) -> None:  # pragma: no cover - the batch handler is used instead
        raise AssertionError("row handler called")

    async def many(ctx, rows):
        seen.append([r.payload["i"] for r in rows])
        return {rows[0].id: TransientError("busy"), rows[1].id: PermanentError("gone")}

    handlers.register("cs_message")(one)
    await _enqueue(engine, 3)
    worker = make_worker()
    worker.batch_handlers["cs_message"] = many
    assert await worker.run_once() == 3
    assert seen == [[0, 1, 2]]  # all three in one call, in order
    states = [(await _row(engine, f"cs_message:{i}")).state for i in range(3)]
    assert states == ["pending", "parked", "done"]
