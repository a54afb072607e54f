"""A worker's claim with a queue behind it: milliseconds a round against the backlog.

After an outage, or in a burst, thousands of rows wait in the outbox. A worker claims up to
a batch each round; what a round costs should not grow with the rows still waiting. This
fills a fresh database with N due rows (the shipped kinds: nearly all `inbound`, every 200th
an `ocr_job`), builds a worker with the shipped handlers (so the batch kinds are claimed
as `orderbot worker` claims them) and times its `claim_round()`: the first round (which
also walks the whole queue: abandoned rows, kinds without a handler) and the median of the
next ones. SQLite file and PostgreSQL (a database created beside --postgres and dropped).

    .venv/bin/python bench/outbox_claim.py [--backlog 2000,20000,100000] [--rounds 10]

Run it in a clean clone of an earlier commit for the baseline beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages before bench/ (bench/board.py is not `board`)

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import orders.models  # noqa: E402,F401  (registers the tables)
from orderbot.db import make_engine, make_sessionmaker, run_autocommit  # noqa: E402
from orderbot.settings import Settings  # noqa: E402
from orderbot.stores_memory import MemoryStore  # noqa: E402
from orders.models import Outbox, utcnow  # noqa: E402
from workers.handlers import JobContext, registry  # noqa: E402
from workers.runner import OutboxWorker, WorkerConfig  # noqa: E402


async def fill(url: str, n: int) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
            due = utcnow() - timedelta(minutes=1)
            for start in range(0, n, 5000):
                await conn.execute(insert(Outbox.__table__), [  # type: ignore[attr-defined]
                    {"kind": "ocr_job" if i % 200 == 0 else "inbound", "target": f"o_{i % 500}",
                     "payload": {"message_id": i}, "dedup_key": f"bench:{i}", "state": "pending",
                     "attempts": 0, "next_attempt_at": due, "created_at": due}
                    for i in range(start, min(n, start + 5000))])
    finally:
        await engine.dispose()


async def time_rounds(url: str, rounds: int) -> tuple[float, float, float]:
    """(first round ms, median ms of the next rounds, rows a round)."""
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    ctx = JobContext(settings=Settings(_env_file=None), engine=engine, sessionmaker=sm,
                     store=MemoryStore(), http=None, worker_id="bench")
    worker = OutboxWorker(sm, ctx, config=WorkerConfig(), handlers=registry)
    try:
        times, claimed = [], []
        for _ in range(rounds + 1):
            t0 = time.perf_counter()
            rows = await worker.claim_round()
            times.append((time.perf_counter() - t0) * 1000)
            claimed.append(len(rows))
    finally:
        await engine.dispose()
    return times[0], statistics.median(times[1:]), statistics.median(claimed[1:])


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def _sizes(text: str) -> list[int]:
    """--backlog 2000,20000: at least one size, each a whole number ≥ 1."""
    sizes = [_positive(x.strip()) for x in text.split(",") if x.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one backlog size, e.g. 2000,20000")
    return sizes


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backlog", type=_sizes, default="2000,20000,100000", help="rows waiting, comma-separated")
    p.add_argument("--rounds", type=_positive, default=10)
    p.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
                   help="a PostgreSQL database the bench may CREATE DATABASE beside ('' to skip)")
    args = p.parse_args()
    sizes: list[int] = args.backlog
    print(f"{'backend':<12}{'backlog':>9}{'first round ms':>16}{'next rounds ms':>16}{'rows a round':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for backend in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{Path(tmp) / f'claim-{n}.db'}"
                else:
                    name = f"orderbot_claim_{uuid.uuid4().hex[:8]}"
                    await run_autocommit(args.postgres, f'CREATE DATABASE "{name}"')
                    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
                try:
                    await fill(url, n)
                    first, rest, per_round = await time_rounds(url, args.rounds)
                finally:
                    if backend == "postgresql":
                        await run_autocommit(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                print(f"{backend:<12}{n:>9}{first:>16.1f}{rest:>16.2f}{per_round:>14.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
