"""The outbox worker loop: claim a batch, run the handlers, record what happened.

One `OutboxWorker` runs either inside the web process (embedded profile, started and
stopped by the app) or in `orderbot worker` processes (production, any number). Stopping
is graceful: the batch in hand is finished; rows claimed but not started are released.
Clock, sleep interval and randomness are injectable so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot import metrics
from orderbot.logging import request_id_var
from orderbot.settings import Settings
from orders import outbox
from orders.models import Outbox, utcnow
from workers.handlers import (
    BATCH_HANDLERS,
    DELIVER_FIRST,
    BatchHandler,
    HandlerRegistry,
    JobContext,
    PermanentError,
    TransientError,
    checked_registry,
    registry,
)

if TYPE_CHECKING:
    import aiohttp

    from orderbot.stores import KeyValueStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    max_attempts: int = 8
    poll_interval: float = 1.0
    lease_seconds: float = 60.0
    batch_size: int = 20  # rows of kinds run one row at a time, claimed per round
    grouped_batch_size: int = 100  # rows of kinds with a batch handler, claimed per round
    rounds_in_flight: int = 2  # batches carried out at once by one worker (1: one after another)
    backoff_base: float = 2.0
    backoff_max: float = 900.0
    gauge_interval: float = 15.0  # how often the pending/parked gauges are refreshed
    heartbeat_path: str | None = None  # touched after every round that worked (health check)

    @classmethod
    def from_settings(cls, s: Settings, *, in_web_process: bool = False) -> WorkerConfig:
        """`in_web_process`: the embedded worker, on the loop that acknowledges callbacks. It
        carries out one round at a time unless told otherwise: a second round in flight
        there took the web handlers' share of the loop (bench/intake.py: 0.13x -> 0.06x bare,
        p99 42 -> 148 ms) for no measurable gain in answers (bench/chat_e2e.py)."""
        rounds = s.outbox_rounds_in_flight or (1 if in_web_process else 2)
        return cls(
            max_attempts=s.outbox_max_attempts,
            poll_interval=s.outbox_poll_interval,
            lease_seconds=s.outbox_lease_seconds,
            batch_size=s.outbox_batch_size,
            grouped_batch_size=s.outbox_grouped_batch_size,
            rounds_in_flight=rounds,
            backoff_base=s.outbox_backoff_base,
            backoff_max=s.outbox_backoff_max,
        )

    @property
    def handler_timeout(self) -> float:
        """A handler must finish well inside its lease, or another worker would start too."""
        return self.lease_seconds / 2


DONE, RETRY, PARK = "done", "retry", "park"
MAX_ERROR_PAUSE = 30.0  # longest pause between rounds while the database keeps failing


@dataclass(frozen=True)
class Attempt:
    """What one attempt decided; written with the rest of its batch."""

    row: Outbox
    what: str  # DONE / RETRY / PARK
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Unit:
    """Rows run together: one row, or a batch kind's rows with its place in line."""

    rows: list[Outbox]
    after: asyncio.Future[None] | None = None  # the same kind's previous unit is over
    turn: asyncio.Future[None] | None = None  # set when this unit is over (batch kinds)


def make_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class OutboxWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        ctx: JobContext,
        *,
        config: WorkerConfig | None = None,
        handlers: HandlerRegistry = registry,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        before_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        # awaited before each claim in run(): the embedded worker lets the web handlers on its
        # loop go first (orderbot/activity.py)
        self.before_round = before_round
        # Kinds carried out a batch at a time: the shipped table with the shipped handlers;
        # a worker given its own handlers (tests) runs them one row at a time unless told.
        if batch_handlers is None:
            batch_handlers = BATCH_HANDLERS if handlers is registry else {}
        self.batch_handlers = dict(batch_handlers)
        self.ctx = ctx
        self.worker_id = ctx.worker_id
        self.config = config or WorkerConfig()
        self.handlers = handlers
        self.clock = clock
        self.rng = rng
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._gauges_at = float("-inf")
        self._swept_at: datetime | None = None  # the last round that walked the whole queue
        self._turns: dict[str, asyncio.Future[None]] = {}  # per batch kind: the last unit's end

    # -- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """Look for work now instead of at the next poll (call after committing a row)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the batch in hand, then leave run()."""
        self._stop.set()
        self._wake.set()

    @property
    def stop_event(self) -> asyncio.Event:
        return self._stop

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- one round -------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch, carry it out and record it; how many rows it claimed."""
        rows = await self.claim_round()
        if rows:
            await self.carry_out(self.plan(rows))
        return len(rows)

    @property
    def grouped_kinds(self) -> frozenset[str]:
        """Kinds carried out a batch at a time (one handler call for all their rows)."""
        return frozenset(k for k in self.batch_handlers if k in self.handlers.kinds())

    async def claim_round(self) -> list[Outbox]:
        """Lease the next batch of due rows to this worker: up to `grouped_batch_size` rows of
        the kinds carried out a batch at a time, and up to `batch_size` of the rest, each of
        which runs on its own (an OCR job takes a second). Due deliveries (DELIVER_FIRST) are
        claimed before new messages.

        Those claims read only the batch, kind by kind, however long the queue. What needs
        the whole queue walked runs once a lease period (and in a worker's first round):
        parking rows abandoned on their last attempt, and claiming rows of kinds this worker
        has no handler for, which attempt() then parks, so they are seen and not left waiting.
        """
        cfg, now = self.config, self.clock()
        grouped = self.grouped_kinds
        lease = {"worker_id": self.worker_id, "now": now, "lease_seconds": cfg.lease_seconds,
                 "max_attempts": cfg.max_attempts}
        sweep = self._swept_at is None or (now - self._swept_at).total_seconds() >= cfg.lease_seconds
        async with self.sessionmaker() as session, session.begin():
            if sweep:
                await outbox.park_abandoned(session, now=now, max_attempts=cfg.max_attempts)
            if not grouped:
                rows = await outbox.claim(session, limit=cfg.batch_size, **lease)
            else:
                rows = await outbox.claim(session, limit=cfg.grouped_batch_size, kinds=grouped,
                                          first=DELIVER_FIRST & grouped, **lease)
                handled = frozenset(self.handlers.kinds())
                if others := handled - grouped:
                    rows += await outbox.claim(session, limit=cfg.batch_size, kinds=others, **lease)
                if sweep:
                    unhandled = await outbox.claim(session, limit=cfg.batch_size, kinds=handled,
                                                   other_kinds=True, **lease)
                    rows += unhandled
                    sweep = len(unhandled) < cfg.batch_size  # a full batch: walk again next round
        if sweep:  # committed: the next walk is a lease period away (a failed one is retried)
            self._swept_at = now
        return rows

    def claimed_full(self, rows: Sequence[Outbox]) -> bool:
        """A claim came back full: more is due, claim again without waiting."""
        grouped = self.grouped_kinds
        n_grouped = sum(1 for r in rows if r.kind in grouped)
        return n_grouped >= self.config.grouped_batch_size or len(rows) - n_grouped >= self.config.batch_size

    def plan(self, rows: Sequence[Outbox]) -> list[Unit]:
        """Split a claimed batch into units: one a row, or all rows of a kind with a batch
        handler together. Synchronous on purpose: a batch unit takes its place behind the
        same kind's unit of the previous round here, in claim order, so with rounds
        overlapping (run()) a customer's messages are still read, and replies sent, in order."""
        groups: dict[str, list[Outbox]] = {}
        units: list[Unit] = []
        for row in rows:
            if row.kind in self.batch_handlers and row.kind in self.handlers.kinds():
                groups.setdefault(row.kind, []).append(row)
            else:
                units.append(Unit([row]))
        loop = asyncio.get_running_loop()
        for kind, group in groups.items():
            turn = loop.create_future()
            units.append(Unit(group, after=self._turns.get(kind), turn=turn))
            self._turns[kind] = turn
        return units

    async def carry_out(self, units: Sequence[Unit]) -> None:
        """Run a planned batch's units concurrently, then record every outcome in one
        transaction (one write per batch, not per row: SQLite has a single writer)."""
        tasks = [asyncio.create_task(self.attempt_many(u.rows, after=u.after, turn=u.turn)
                                     if u.turn is not None else self._one(u.rows[0])) for u in units]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            # Stopped mid-batch: keep what finished, hand back what did not.
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for u in units:  # a unit cancelled before it began still lets the next one go
                if u.turn is not None and not u.turn.done():
                    u.turn.set_result(None)
            finished = [a for t in tasks if t.done() and not t.cancelled() and t.exception() is None
                        for a in t.result()]
            interrupted = [row.id for unit, t in zip(units, tasks, strict=True) if t.cancelled() for row in unit.rows]
            await asyncio.shield(self._record(finished, release=[i for i in interrupted if i is not None]))
            raise
        await self._record([a for t in tasks for a in t.result()])

    async def _one(self, row: Outbox) -> list[Attempt]:
        return [await self.attempt(row)]

    async def attempt_many(self, rows: Sequence[Outbox], *, after: asyncio.Future[None] | None = None,
                           turn: asyncio.Future[None] | None = None) -> list[Attempt]:
        """Run one batch handler over rows of its kind; each row's outcome as attempt()'s.
        It starts once `after` (the previous unit of its kind) is over, and ends `turn`
        however it ends; the wait counts against the handler's time, so the batch still
        ends well inside its lease."""
        kind = rows[0].kind
        fn = self.batch_handlers[kind]
        token = request_id_var.set(f"outbox-batch-{rows[0].id}")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.handler_timeout):
                if after is not None and not after.done():
                    await asyncio.wait([after])  # not `await after`: being cancelled must not cancel it
                failures = await fn(self.ctx, rows)
        except Exception as exc:  # the whole batch failed: every row is retried (or parked)
            failures = {row.id or 0: exc for row in rows}
        finally:
            if turn is not None and not turn.done():
                turn.set_result(None)
            metrics.OUTBOX_SECONDS.labels(kind).observe(time.perf_counter() - started)
            request_id_var.reset(token)
        outcomes: list[Attempt] = []
        for row in rows:
            exc = failures.get(row.id or 0)
            if exc is None:
                metrics.OUTBOX_DELIVERED.labels(kind).inc()
                outcomes.append(Attempt(row, DONE))
            elif isinstance(exc, PermanentError):
                outcomes.append(self._parked(row, f"permanent: {exc}"))
            else:
                outcomes.append(self._failed(row, exc))
        return outcomes

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due (tests, `orderbot worker --once`)."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            total += n
            if n == 0:
                break
        return total

    async def attempt(self, row: Outbox) -> Attempt:
        """Run the row's handler once and say what should happen to the row."""
        token = request_id_var.set(f"outbox-{row.id}")
        started = time.perf_counter()
        fn = self.handlers.get(row.kind)
        try:
            if fn is None:
                raise PermanentError(f"no handler registered for outbox kind {row.kind!r}")
            async with asyncio.timeout(self.config.handler_timeout):
                await fn(self.ctx, row)
        except PermanentError as exc:
            return self._parked(row, f"permanent: {exc}")
        except Exception as exc:  # TransientError, timeouts, and bugs alike are retried
            return self._failed(row, exc)
        else:
            metrics.OUTBOX_DELIVERED.labels(row.kind).inc()
            log.info("outbox row delivered", extra={"kind": row.kind, "attempt": row.attempts})
            return Attempt(row, DONE)
        finally:
            metrics.OUTBOX_SECONDS.labels(row.kind).observe(time.perf_counter() - started)
            request_id_var.reset(token)

    def _failed(self, row: Outbox, exc: Exception) -> Attempt:
        error = f"{type(exc).__name__}: {exc}"
        if row.attempts >= self.config.max_attempts:
            return self._parked(row, f"gave up after {row.attempts} attempts: {error}")
        delay = outbox.backoff_delay(
            row.attempts, base=self.config.backoff_base, cap=self.config.backoff_max, rng=self.rng
        )
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            delay = exc.retry_after
        metrics.OUTBOX_FAILED.labels(row.kind, "retry").inc()
        log.warning(
            "outbox delivery failed; will retry",
            exc_info=not isinstance(exc, TransientError),
            extra={"kind": row.kind, "attempt": row.attempts, "retry_in_s": round(delay, 3), "error": error},
        )
        return Attempt(row, RETRY, error=error, retry_at=self.clock() + timedelta(seconds=delay))

    def _parked(self, row: Outbox, error: str) -> Attempt:
        metrics.OUTBOX_FAILED.labels(row.kind, "parked").inc()
        metrics.OUTBOX_PARKED.inc()
        log.error("outbox row parked", extra={"kind": row.kind, "attempt": row.attempts, "error": error})
        return Attempt(row, PARK, error=error)

    async def _record(self, outcomes: list[Attempt], *, release: list[int] | None = None) -> None:
        if not outcomes and not release:
            return
        wid = self.worker_id
        async with self.sessionmaker() as session, session.begin():
            done = [o.row.id for o in outcomes if o.what == DONE and o.row.id is not None]
            if done:
                await outbox.mark_done(session, done, now=self.clock())
            for o in outcomes:
                if o.what == RETRY and o.retry_at is not None:
                    await outbox.mark_retry(
                        session, o.row.id or 0, worker_id=wid, retry_at=o.retry_at, error=o.error or ""
                    )
                elif o.what == PARK:
                    await outbox.mark_parked(session, o.row.id or 0, worker_id=wid, error=o.error or "")
            if release:
                await outbox.release(session, release, worker_id=wid)

    async def refresh_gauges(self) -> None:
        async with self.sessionmaker() as session:
            counts = await outbox.count_by_state(session)
        metrics.OUTBOX_PENDING.set(counts[outbox.PENDING])
        metrics.OUTBOX_PARKED.set(counts[outbox.PARKED])

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until stop(). Up to `rounds_in_flight` batches are carried out at once: the
        next batch is claimed while the last one's slow units (a send, an OCR job) finish,
        so the loop does not idle on the slowest unit of a round. Claims go on straight away
        while batches come back full, else wait for wake(), a round ending, or the poll
        interval. A failing claim (database down) is logged and retried after a growing pause
        (up to MAX_ERROR_PAUSE); the heartbeat is touched only after claims that worked, so a
        health check sees a worker that cannot do its job. stop() finishes the batches in
        hand; cancelling hands their unstarted rows back."""
        log.info("outbox worker started", extra={"worker_id": self.worker_id})
        failures = 0
        in_flight: set[asyncio.Task[None]] = set()

        def ended(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self._wake.set()  # its handlers may have queued follow-ups (replies, cards)
            if not task.cancelled() and task.exception() is not None:
                log.error("outbox round could not be recorded; its leases will run out",
                          exc_info=task.exception())

        try:
            while not self.stopping:
                if len(in_flight) >= max(1, self.config.rounds_in_flight):
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                if self.before_round is not None:
                    await self.before_round()
                self._wake.clear()  # a wake() from here on is kept for the wait below
                pause = self.config.poll_interval
                rows: list[Outbox] = []
                try:
                    rows = await self.claim_round()
                    if rows:
                        task = asyncio.create_task(self.carry_out(self.plan(rows)), name="outbox-round")
                        in_flight.add(task)
                        task.add_done_callback(ended)
                    if time.monotonic() - self._gauges_at >= self.config.gauge_interval:
                        self._gauges_at = time.monotonic()
                        await self.refresh_gauges()
                    failures = 0
                    if self.config.heartbeat_path:
                        _touch(self.config.heartbeat_path)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failures += 1
                    pause = min(MAX_ERROR_PAUSE, self.config.poll_interval * 2**failures)
                    log.exception("outbox round failed", extra={"failures": failures, "pause_s": pause})
                if (rows and self.claimed_full(rows)) or self.stopping:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
            if in_flight:  # stopped: finish the batches in hand
                await asyncio.gather(*in_flight, return_exceptions=True)
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        log.info("outbox worker stopped", extra={"worker_id": self.worker_id})


def _touch(path: str) -> None:
    try:
        Path(path).touch()
    except OSError as exc:
        log.warning("cannot touch heartbeat file %s: %s", path, exc)


# -- running it ---------------------------------------------------------------------

SLA_INTERVAL = 60.0  # seconds between sweeps for overdue confirmations


async def run_worker_tasks(worker: OutboxWorker, *, sla_interval: float = SLA_INTERVAL) -> None:
    """Everything a worker does until worker.stop(): the outbox loop and, beside it, the
    SLA sweep (reminders, escalations), the held-order timer, the late-order scan and the
    daily overdue-receivables alert. Both are safe to run in many processes at once:
    claims are leased and the sweep's side effects are deduplicated outbox rows."""
    from workers.sla import run_sla_loop

    rules = worker.ctx.rules
    sla = asyncio.create_task(
        run_sla_loop(
            worker.sessionmaker, rules.current, interval=sla_interval, clock=worker.clock, stop=worker.stop_event
        ),
        name="sla-sweep",
    )
    from orderbot.risk_rules import risk_rules_from_settings
    from workers.hold_sla import run_hold_sla_loop
    from workers.late_orders import run_late_orders_loop
    from workers.overdue_alerts import run_overdue_alerts_loop

    risk_table = risk_rules_from_settings(worker.ctx.settings).current
    held = asyncio.create_task(
        run_hold_sla_loop(worker.sessionmaker, risk_table,
                          interval=sla_interval, clock=worker.clock, stop=worker.stop_event),
        name="hold-sla-sweep",
    )
    # Late deliveries (apology + new date) and the daily overdue-receivables alert: same
    # pattern, each row deduplicated, so any number of workers may run them.
    late = asyncio.create_task(
        run_late_orders_loop(worker.sessionmaker, risk_table, clock=worker.clock, stop=worker.stop_event),
        name="late-orders-scan",
    )
    overdue = asyncio.create_task(
        run_overdue_alerts_loop(worker.sessionmaker, risk_table, clock=worker.clock, stop=worker.stop_event),
        name="overdue-alerts",
    )
    # The reader's region tables take ~1 s of CPU to build: build them now, beside the loop,
    # not inside the first customer's turn (which would hold up a whole burst behind it).
    warm = asyncio.create_task(_warm_reading(), name="warm-reading")
    background = [sla, held, late, overdue, warm]
    if worker.ctx.store.shared:  # other processes publish wake-ups through the store
        from workers.wakeup import listen_for_wakeups

        background.append(asyncio.create_task(listen_for_wakeups(worker.ctx.store, worker), name="wakeups"))
    try:
        await worker.run()
    finally:
        worker.stop()
        for task in background:
            try:
                await asyncio.wait_for(task, timeout=5)
            except TimeoutError:
                log.warning("%s did not stop in time; cancelled", task.get_name())


async def _warm_reading() -> None:
    from nlp.regions import load_regions

    try:
        await asyncio.to_thread(load_regions)
    except Exception:  # the first message will say what is wrong, as it did before
        log.warning("could not load the region tables ahead of the first message", exc_info=True)


def start_in_process_worker(
    settings: Settings,
    *,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: KeyValueStore,
    http: aiohttp.ClientSession | None,
    before_round: Callable[[], Awaitable[None]] | None = None,
) -> tuple[OutboxWorker, asyncio.Task[None]]:
    """Build a worker over resources the caller owns and start it as a task (refused when an
    outbox kind has no handler). `before_round`: see OutboxWorker."""
    handlers = checked_registry()
    ctx = JobContext(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        store=store,
        http=http,
        worker_id=make_worker_id(),
    )
    worker = OutboxWorker(sessionmaker, ctx, config=WorkerConfig.from_settings(settings, in_web_process=True),
                          handlers=handlers, before_round=before_round)
    log.info("outbox handlers: %s", handlers.kinds())
    task = asyncio.create_task(run_worker_tasks(worker), name="outbox-worker")
    return worker, task
