"""CPU per ORM statement on the embedded profile's SQLite engine, with and without the
one-trip cursor (orderbot.db.OneTripCursor), interleaved round by round.

    .venv/bin/python bench/sqlite_statement.py [--rounds 4] [--tasks 16] [--per-task 100]

Each round: a fresh SQLite file with 100 customers; `--tasks` coroutines at once each open
a session `--per-task` times and run a SELECT by openid and a get by id in it (what a chat
turn does most). Prints the median process CPU µs per statement (session open/close
included) of each variant and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection  # noqa: E402
from sqlmodel import SQLModel, select  # noqa: E402

import orderbot.db as db  # noqa: E402
from orders.models import Customer  # noqa: E402


async def one(path: str, one_trip: bool, tasks: int, per_task: int) -> float:
    """CPU µs per statement over one fresh database."""
    chosen = db.OneTripConnection
    if not one_trip:  # SQLAlchemy's own adapter: four thread trips a statement
        db.OneTripConnection = AsyncAdapt_aiosqlite_connection  # type: ignore[misc]
    engine = db.make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        sm = db.make_sessionmaker(engine)
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        async with sm() as s, s.begin():
            s.add_all([Customer(openid=f"o{i}") for i in range(100)])

        async def task(k: int) -> None:
            for i in range(per_task):
                async with sm() as s:
                    (await s.exec(select(Customer).where(Customer.openid == f"o{(i * 7 + k) % 100}"))).first()
                    await s.get(Customer, i % 100 + 1)

        t0 = time.process_time()
        await asyncio.gather(*(task(k) for k in range(tasks)))
        return (time.process_time() - t0) / (tasks * per_task * 2) * 1e6
    finally:
        await engine.dispose()
        db.OneTripConnection = chosen  # type: ignore[misc]


async def main(rounds: int, tasks: int, per_task: int) -> None:
    cpu: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for one_trip in (False, True):
                cpu[one_trip].append(await one(f"{tmp}/r{r}-{one_trip}.db", one_trip, tasks, per_task))
    stock, trip = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(f"SQLAlchemy's aiosqlite cursor: {stock:6.0f} µs CPU a statement (rounds: {[round(x) for x in cpu[False]]})")
    print(f"one-trip cursor:               {trip:6.0f} µs CPU a statement (rounds: {[round(x) for x in cpu[True]]})")
    print(f"one-trip / stock: {trip / stock:.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--tasks", type=int, default=16)
    p.add_argument("--per-task", type=int, default=100)
    a = p.parse_args()
    asyncio.run(main(a.rounds, a.tasks, a.per_task))
