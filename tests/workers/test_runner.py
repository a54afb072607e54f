"""The worker loop: wake-ups, graceful stop, leases given back when cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update
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
    real = worker.claim_round

    async def flaky_round() -> list[Outbox]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")
        return await real()

    monkeypatch.setattr(worker, "claim_round", flaky_round)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)
    assert calls >= 2 and not task.done()
    worker.stop()
    await asyncio.wait_for(task, timeout=10)


async def test_heartbeat_only_after_rounds_that_worked(engine: AsyncEngine, make_worker, monkeypatch, tmp_path) -> None:
    beat = tmp_path / "alive"
    worker = make_worker(poll_interval=0.01, heartbeat_path=str(beat))
    real = worker.claim_round
    broken = True

    async def round_() -> list[Outbox]:
        if broken:
            raise ConnectionError("database down")
        return await real()

    monkeypatch.setattr(worker, "claim_round", round_)
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


async def _until(check, seconds: float = 4.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(("rounds", "before_release"), [
    (2, ["slow:1", "slow:2", "slow:3", "slow:4"]),  # the rows behind the hanging one go on
    (1, ["slow:1"]),  # one round at a time: nothing more is claimed while a row hangs
])
async def test_a_slow_send_holds_up_the_next_batch_only_with_one_round_at_a_time(
    engine: AsyncEngine, handlers: HandlerRegistry, make_worker, rounds: int, before_release: list[str]
) -> None:
    """While one row of the first batch hangs (a slow WeChat call), a worker with two rounds
    in flight claims and finishes the rows behind it instead of idling on it."""
    release = asyncio.Event()
    done: list[str] = []

    @handlers.register("slow")
    async def h(ctx, row: Outbox) -> None:
        if row.dedup_key == "slow:0":
            await release.wait()
        done.append(row.dedup_key or "")

    await _enqueue(engine, 5)
    worker = make_worker(batch_size=2, rounds_in_flight=rounds)
    task = asyncio.create_task(worker.run())
    await _until(lambda: len(done) >= len(before_release))
    await asyncio.sleep(0.3)  # and nothing more comes
    assert sorted(done) == before_release
    release.set()
    await _until(lambda: len(done) == 5)
    worker.stop()
    await asyncio.wait_for(task, timeout=10)
    assert sorted(done) == [f"slow:{i}" for i in range(5)]
    async with make_sessionmaker(engine)() as s:
        assert (await outbox.count_by_state(s))["done"] == 5


async def test_batches_of_a_kind_run_in_claim_order_when_rounds_overlap(
    engine: AsyncEngine, handlers: HandlerRegistry, make_worker
) -> None:
    """A batch kind (chat messages, replies) never runs two of its batches at once in one
    worker, and runs them in the order claimed, even when the first is the slow one."""
    log: list[tuple[str, list[str]]] = []
    running = 0
    most = 0

    async def batch(ctx, rows) -> dict[int, BaseException]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        keys = [r.dedup_key or "" for r in rows]
        log.append(("start", keys))
        await asyncio.sleep(0.2 if "seq:0" in keys else 0.0)
        log.append(("end", keys))
        running -= 1
        return {}

    @handlers.register("seq")
    async def one(ctx, row: Outbox) -> None:
        raise AssertionError("a batch kind must not run row by row")

    await _enqueue(engine, 6, kind="seq")
    worker = make_worker(grouped_batch_size=2, rounds_in_flight=3)
    worker.batch_handlers = {"seq": batch}
    task = asyncio.create_task(worker.run())
    await _until(lambda: len(log) == 6)
    worker.stop()
    await asyncio.wait_for(task, timeout=10)
    assert most == 1
    assert [keys for what, keys in log if what == "start"] == [["seq:0", "seq:1"], ["seq:2", "seq:3"], ["seq:4", "seq:5"]]
    async with make_sessionmaker(engine)() as s:
        assert (await outbox.count_by_state(s))["done"] == 6


async def test_a_round_claims_more_rows_of_batch_kinds_than_of_one_row_kinds(
    engine: AsyncEngine, handlers: HandlerRegistry, make_worker
) -> None:
    """Rows carried out a batch at a time cost little each, so a round takes many of them;
    rows run one at a time (an OCR job) stay capped at batch_size, so none outruns its lease."""
    @handlers.register("seq")
    async def one(ctx, row: Outbox) -> None: ...

    @handlers.register("slow")
    async def slow(ctx, row: Outbox) -> None: ...

    async def batch(ctx, rows) -> dict[int, BaseException]:
        return {}

    await _enqueue(engine, 7, kind="slow")
    await _enqueue(engine, 7, kind="seq")
    worker = make_worker(batch_size=2, grouped_batch_size=5)
    worker.batch_handlers = {"seq": batch}
    rows = await worker.claim_round()
    assert sorted(r.kind for r in rows) == ["seq"] * 5 + ["slow"] * 2
    assert worker.claimed_full(rows)
    await worker.carry_out(worker.plan(rows))
    assert await worker.run_once() == 4  # 2 seq left, 2 more slow
    left = await worker.claim_round()
    assert sorted(r.kind for r in left) == ["slow"] * 2 and not worker.claimed_full(left[:1])


async def test_due_replies_are_claimed_before_new_messages(engine: AsyncEngine, make_worker) -> None:
    """In a burst, a reply already due goes out before messages that arrived earlier are
    read: the first customers are answered while the rest of the burst is still read."""
    from orders.outbox import OutboxKind
    from workers.handlers import registry

    async with make_sessionmaker(engine)() as s, s.begin():
        for i in range(4):
            await outbox.enqueue(s, kind=OutboxKind.INBOUND, dedup_key=f"in:{i}")
        for i in range(2):
            await outbox.enqueue(s, kind=OutboxKind.NOTIFY_CUSTOMER, dedup_key=f"reply:{i}")
    worker = make_worker(grouped_batch_size=3)
    worker.handlers = registry  # the shipped kinds; the rows are only claimed here, not run
    worker.batch_handlers = {OutboxKind.INBOUND: None, OutboxKind.NOTIFY_CUSTOMER: None}
    rows = await worker.claim_round()
    assert sorted(r.dedup_key or "" for r in rows) == ["in:0", "reply:0", "reply:1"]


async def test_batch_kinds_are_claimed_oldest_first_across_kinds(engine: AsyncEngine, clock, make_worker) -> None:
    """Each kind is read on its own (so a long queue of one kind costs a claim nothing), and
    the batch is still the oldest due rows of all of them, deliveries ahead of new messages."""
    from orders.outbox import OutboxKind
    from workers.handlers import registry

    start = clock() - timedelta(minutes=10)
    async with make_sessionmaker(engine)() as s, s.begin():
        for i, kind in enumerate([OutboxKind.INBOUND, OutboxKind.WECOM_INBOUND] * 3):
            await outbox.enqueue(s, kind=kind, dedup_key=f"{kind}:{i}", not_before=start + timedelta(seconds=i))
        await outbox.enqueue(s, kind=OutboxKind.NOTIFY_REP, dedup_key="card:late", not_before=start + timedelta(minutes=5))
        await outbox.enqueue(s, kind=OutboxKind.NOTIFY_REP, dedup_key="card:later", not_before=clock() + timedelta(minutes=1))
    worker = make_worker(grouped_batch_size=4)
    worker.handlers = registry  # the shipped kinds; the rows are only claimed here, not run
    worker.batch_handlers = {k: None for k in (OutboxKind.INBOUND, OutboxKind.WECOM_INBOUND, OutboxKind.NOTIFY_REP)}
    rows = await worker.claim_round()
    assert [r.dedup_key for r in rows] == ["inbound:0", "wecom_inbound:1", "inbound:2", "card:late"]
    rows = await worker.claim_round()
    assert [r.dedup_key for r in rows] == ["wecom_inbound:3", "inbound:4", "wecom_inbound:5"]  # not due: card:later


async def test_the_whole_queue_is_walked_once_a_lease_period(engine: AsyncEngine, clock, make_worker) -> None:
    """Parking rows abandoned on their last attempt, and rows of a kind no handler knows, needs
    every due row read: a worker does it in its first round and then once a lease period,
    not in every round. Both still end up parked, with the reason."""
    from orders.outbox import OutboxKind
    from workers.handlers import registry

    worker = make_worker(lease_seconds=30, max_attempts=4)
    worker.handlers = registry
    worker.batch_handlers = {OutboxKind.INBOUND: None}
    async with make_sessionmaker(engine)() as s, s.begin():
        await outbox.enqueue(s, kind="no_such_kind", dedup_key="odd:1")
    [odd] = await worker.claim_round()  # the first round walks the queue
    assert odd.kind == "no_such_kind"
    await worker.carry_out(worker.plan([odd]))
    assert (await _row_of(engine, "odd:1")).state == "parked"

    async with make_sessionmaker(engine)() as s, s.begin():  # a worker died on its last attempt
        await outbox.enqueue(s, kind=OutboxKind.INBOUND, dedup_key="dead:1")
        await s.exec(update(Outbox).where(Outbox.dedup_key == "dead:1").values(  # type: ignore[call-overload]
            attempts=4, locked_by="gone", lease_until=clock() - timedelta(seconds=1)))
        await outbox.enqueue(s, kind="no_such_kind", dedup_key="odd:2")
    assert await worker.claim_round() == []  # within the lease period: neither is looked at
    assert (await _row_of(engine, "dead:1")).state == "pending"
    clock.advance(30)
    [odd2] = await worker.claim_round()
    assert odd2.dedup_key == "odd:2"
    dead = await _row_of(engine, "dead:1")
    assert dead.state == "parked" and "lease expired" in (dead.last_error or "")


async def test_many_rows_of_an_unknown_kind_are_walked_until_none_is_left(engine: AsyncEngine, make_worker) -> None:
    """Rows left by a kind that no longer has a handler (say, after an upgrade) are claimed, to
    be parked, a batch a round while they fill batches, not one batch a lease period."""
    from orders.outbox import OutboxKind
    from workers.handlers import registry

    await _enqueue(engine, 5, kind="retired_kind")
    worker = make_worker(batch_size=2, lease_seconds=30)
    worker.handlers = registry
    worker.batch_handlers = {OutboxKind.INBOUND: None}
    taken = [len(await worker.claim_round()) for _ in range(4)]  # the clock does not move
    assert taken == [2, 2, 1, 0]


async def _row_of(engine: AsyncEngine, key: str) -> Outbox:
    async with make_sessionmaker(engine)() as s:
        return (await s.exec(select(Outbox).where(Outbox.dedup_key == key))).one()


async def test_before_round_is_awaited_before_every_claim(engine: AsyncEngine, handlers: HandlerRegistry, make_worker) -> None:
    """The embedded worker waits for the web handlers (before_round) before it claims: held
    there, it claims nothing, however much is due."""
    done: list[str] = []

    @handlers.register("slow")
    async def h(ctx, row: Outbox) -> None:
        done.append(row.dedup_key or "")

    gate = asyncio.Event()
    waits = 0

    async def before_round() -> None:
        nonlocal waits
        waits += 1
        await gate.wait()

    await _enqueue(engine, 3)
    worker = make_worker(batch_size=2)
    worker.before_round = before_round
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.2)
    assert done == [] and waits == 1
    gate.set()
    await _until(lambda: len(done) == 3)
    worker.stop()
    await asyncio.wait_for(task, timeout=10)
    assert sorted(done) == ["slow:0", "slow:1", "slow:2"] and waits >= 2


def test_rounds_in_flight_comes_from_the_environment(monkeypatch) -> None:
    from orderbot.settings import Settings
    from workers.runner import WorkerConfig

    monkeypatch.delenv("ORDERBOT_OUTBOX_ROUNDS_IN_FLIGHT", raising=False)
    assert WorkerConfig.from_settings(Settings(_env_file=None)).rounds_in_flight == 2  # orderbot worker
    assert WorkerConfig.from_settings(Settings(_env_file=None), in_web_process=True).rounds_in_flight == 1
    monkeypatch.setenv("ORDERBOT_OUTBOX_ROUNDS_IN_FLIGHT", "3")
    assert WorkerConfig.from_settings(Settings(_env_file=None)).rounds_in_flight == 3
    assert WorkerConfig.from_settings(Settings(_env_file=None), in_web_process=True).rounds_in_flight == 3
    monkeypatch.setenv("ORDERBOT_OUTBOX_ROUNDS_IN_FLIGHT", "")  # empty, as in .env.example: the default
    assert WorkerConfig.from_settings(Settings(_env_file=None)).rounds_in_flight == 2
    monkeypatch.setenv("ORDERBOT_OUTBOX_ROUNDS_IN_FLIGHT", "0")
    with pytest.raises(ValueError, match="ROUNDS_IN_FLIGHT|rounds_in_flight"):
        Settings(_env_file=None)



def test_grouped_batch_size_comes_from_the_environment_and_bad_values_are_refused(monkeypatch) -> None:
    """100 rows a round of the batch kinds unless told; 0 or more than 1000 stops start-up
    with the variable named, rather than a worker that claims nothing or everything."""
    from orderbot.settings import Settings
    from workers.runner import WorkerConfig

    monkeypatch.delenv("ORDERBOT_OUTBOX_GROUPED_BATCH_SIZE", raising=False)
    assert WorkerConfig.from_settings(Settings(_env_file=None)).grouped_batch_size == 100
    monkeypatch.setenv("ORDERBOT_OUTBOX_GROUPED_BATCH_SIZE", "40")
    assert WorkerConfig.from_settings(Settings(_env_file=None), in_web_process=True).grouped_batch_size == 40
    for bad in ("0", "1001", "many"):
        monkeypatch.setenv("ORDERBOT_OUTBOX_GROUPED_BATCH_SIZE", bad)
        with pytest.raises(ValueError, match="GROUPED_BATCH_SIZE|grouped_batch_size"):
            Settings(_env_file=None)

def test_a_kind_without_a_handler_stops_start_up() -> None:
    from orderbot.jobs import MissingHandlers
    from orders.outbox import OutboxKind
    from workers.handlers import HANDLERS, build_registry

    assert set(build_registry().kinds()) >= set(OutboxKind)
    incomplete = {kind: fn for kind, fn in HANDLERS.items() if kind != OutboxKind.OCR_JOB}
    with pytest.raises(MissingHandlers, match="ocr_job"):
        build_registry(incomplete)
