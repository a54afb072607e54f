"""`orderbot worker`: deliver the outbox (and run the SLA sweep) until SIGTERM/SIGINT.

Any number of these may run against one PostgreSQL database: rows are claimed with leases,
so each is delivered by one worker at a time, and a killed worker's rows come back after
their lease. On a signal the current batch is finished before the process exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sys

from orderbot.settings import Settings, get_settings

log = logging.getLogger("orderbot.worker")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once", action="store_true", help="deliver what is due now, then exit (cron, debugging)"
    )
    parser.add_argument(
        "--heartbeat", metavar="FILE", help="touch FILE after every polling round (health checks)"
    )
    parser.add_argument(
        "--parked", action="store_true", help="list parked outbox rows as JSON lines, then exit"
    )
    parser.add_argument(
        "--requeue", metavar="ID", type=int, action="append",
        help="send a parked row again from scratch (repeatable), then exit",
    )


async def parked_report(settings: Settings, requeue: list[int] | None) -> int:
    """Print parked rows (one JSON object a line) or requeue the given ones."""
    from orderbot.db import make_engine, make_sessionmaker
    from orders import outbox

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if requeue:
                missing = [i for i in requeue if not await outbox.requeue(session, i)]
                for i in missing:
                    print(f"row {i} is not parked; left alone", file=sys.stderr)
                return 1 if missing else 0
            for row in await outbox.list_parked(session, limit=10_000):
                print(json.dumps({
                    "id": row.id, "kind": row.kind, "target": row.target, "dedup_key": row.dedup_key,
                    "attempts": row.attempts, "last_error": row.last_error,
                    "created_at": str(row.created_at), "payload": row.payload,
                }, ensure_ascii=False, default=str))
            return 0
    finally:
        await engine.dispose()


async def main(settings: Settings, *, once: bool = False, heartbeat: str | None = None) -> int:
    from orderbot.resources import open_resources
    from orderbot.warmup import warm_up
    from workers.handlers import JobContext, checked_registry
    from workers.runner import OutboxWorker, WorkerConfig, make_worker_id, run_worker_tasks

    registry = checked_registry()  # refuses to start when an outbox kind has no handler
    async with open_resources(settings) as res:
        ctx = JobContext(
            settings=settings,
            engine=res.engine,
            sessionmaker=res.sessionmaker,
            store=res.store,
            http=res.http,
            worker_id=make_worker_id(),
        )
        await warm_up(ctx.catalogs)  # before the first round: the reader ready, the heap settled
        config = dataclasses.replace(WorkerConfig.from_settings(settings), heartbeat_path=heartbeat)
        worker = OutboxWorker(res.sessionmaker, ctx, config=config, handlers=registry)
        log.info("worker %s: handlers %s", ctx.worker_id, registry.kinds())
        try:
            if once:
                n = await worker.drain()
                log.info("delivered %s row(s)", n)
                return 0
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, worker.stop)
            await run_worker_tasks(worker)
        finally:
            await ctx.aclose()
    return 0


def run(args: argparse.Namespace) -> int:
    from orderbot.event_loop import choose_event_loop
    from orderbot.logging import setup_logging
    from service.commands.serve import refuse_if_unmigrated

    settings = get_settings()
    setup_logging(settings.log_level)
    refused = refuse_if_unmigrated("worker")
    if refused is not None:
        return refused
    if args.parked or args.requeue:
        return asyncio.run(parked_report(settings, args.requeue))
    choose_event_loop(settings.event_loop)
    return asyncio.run(main(settings, once=args.once, heartbeat=args.heartbeat))
