"""Outbox delivery throughput: rows per second through claim → handler → done.

With no-op handlers this measures the queue itself (claim, lease, bookkeeping); with a
20 ms handler (a WeChat API call's order of magnitude) it shows what batching and several
workers buy when the handler, not the database, is the bottleneck. SQLite and (when
reachable) PostgreSQL. The baseline of each group is one worker claiming one row at a time;
the other figures are ratios to it, measured in the same run.

    .venv/bin/python bench/outbox_throughput.py [--rows 400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages before bench/ (bench/board.py is not `board`)

from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import orders.models  # noqa: E402,F401  (registers the tables)
from orderbot.db import make_engine, make_sessionmaker  # noqa: E402
from orderbot.settings import Settings  # noqa: E402
from orderbot.stores_memory import MemoryStore  # noqa: E402
from orders import outbox  # noqa: E402
from workers.handlers import HandlerRegistry, JobContext  # noqa: E402
from workers.runner import OutboxWorker, WorkerConfig  # noqa: E402

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def _fresh(url: str) -> None:
    eng = make_engine(url)
    async with eng.begin() as conn:
        await conn.run_sync(SQLModel.metadata.drop_all)
        await conn.run_sync(SQLModel.metadata.create_all)
    await eng.dispose()


async def one_run(url: str, rows: int, workers: int, batch: int, latency: float) -> float:
    await _fresh(url)
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        for i in range(rows):
            await outbox.enqueue(s, kind="noop", dedup_key=f"b:{i}")
    handlers = HandlerRegistry()

    @handlers.register("noop")
    async def noop(ctx, row) -> None:
        if latency:
            await asyncio.sleep(latency)

    ctx = JobContext(Settings(), engine, sm, MemoryStore(), None, "bench")
    pool = [
        OutboxWorker(sm, ctx, config=WorkerConfig(batch_size=batch), handlers=handlers)
        for _ in range(workers)
    ]
    started = time.perf_counter()
    done = sum(await asyncio.gather(*(w.drain(max_rounds=100_000) for w in pool)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    assert done == rows, (done, rows)
    return rows / elapsed


async def pg_url() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    name = f"orderbot_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_pg(url: str) -> None:
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    await admin.dispose()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cases = [("baseline: 1 worker, 1 row/claim", 1, 1), ("1 worker, 20 rows/claim", 1, 20),
             ("4 workers, 20 rows/claim", 4, 20)]
    latencies = [0.0, 0.02]
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")]
        pg = await pg_url()
        if pg:
            targets.append(("postgresql", pg))
        try:
            for label, url in targets:
                for latency in latencies:
                    base = None
                    for name, workers, batch in cases:
                        runs = [await one_run(url, args.rows, workers, batch, latency) for _ in range(args.repeat)]
                        med = statistics.median(runs)
                        base = base or med
                        print(f"{label:10} handler {latency * 1000:2.0f} ms  {name:32} median {med:6.0f} rows/s"
                              f"  x{med / base:4.1f}  (runs: {', '.join(f'{r:.0f}' for r in runs)})")
        finally:
            if pg:
                await drop_pg(pg)


if __name__ == "__main__":
    asyncio.run(main())
