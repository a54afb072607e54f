"""Latency of the order hub's actions, beside a bare one-row transaction on the same database.

    .venv/bin/python bench/hub.py [--orders 100] [--concurrency 8] [--pg URL]

For SQLite (a temp file) and, when reachable, PostgreSQL (a throw-away database created on
the server given by --pg and dropped afterwards), it runs:
- baseline: INSERT one outbox row and commit (the cheapest write transaction there is);
- create+submit, confirm, ship: each action alone, one after the other (`--orders` times);
- concurrent confirms: `--concurrency` confirmations of DIFFERENT orders at once
  (throughput), and of the SAME order at once (must give exactly one transition).

Prints medians and p95 in ms and each action's ratio to the baseline median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, text  # noqa: E402
from sqlmodel import SQLModel, select  # noqa: E402

import orders.models  # noqa: E402,F401
from orderbot.db import make_engine, make_sessionmaker  # noqa: E402
from orders import actions  # noqa: E402
from orders.actors import Actor  # noqa: E402
from orders.errors import OrderError  # noqa: E402
from orders.models import Customer, OrderEvent, Outbox, Product, SalesRep  # noqa: E402
from orders.outbox import enqueue  # noqa: E402

FIELDS = {"phone": "13812345678", "province": "江苏省", "city": "常州市",
          "address_detail": "湖塘镇长虹路88号", "delivery_date": "2026-03-11"}


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    t = time.perf_counter()
    await fn()
    return (time.perf_counter() - t) * 1000


def summary(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.95))]


async def run_profile(name: str, url: str, n: int, conc: int) -> None:
    engine = make_engine(url, pool_size=conc + 2) if not url.startswith("sqlite") else make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        rep = SalesRep(wecom_userid="rep-bench", name="bench")
        s.add(rep)
        await s.flush()
        cust = Customer(name="bench", openid="o-bench", province="江苏省", rep_id=rep.id)
        s.add(cust)
        s.add(Product(sku="B-1", name="bolt", unit="个", pack_unit="盒", pack_size=1000,
                      price=Decimal("0.25"), stock=2_000_000_000))
    as_cust, as_rep = Actor.customer(cust.id, "o-bench"), Actor.rep(rep.id, "rep-bench")
    line = [actions.DraftLine("B-1", 3, "盒")]

    async def bare() -> None:
        async with sm() as s, s.begin():
            await enqueue(s, "bench", "", {}, uuid.uuid4().hex)

    ids: list[int] = []

    async def create() -> None:
        r = await actions.create_order(sm, cust.id, line, as_cust, fields=FIELDS, submit=True)
        ids.append(r.order.id)

    for _ in range(10):  # warm-up: pool connections, prepared statements, SQLite pages
        await bare()
        await create()
    ids.clear()
    base = [await timed(bare) for _ in range(n)]
    created = [await timed(create) for _ in range(n)]
    confirmed = [await timed(lambda i=i: actions.confirm(sm, i, as_rep)) for i in ids]
    shipped = [await timed(lambda i=i: actions.ship(sm, i, as_rep, "SF", f"SF{i}")) for i in ids]

    # throughput: `conc` confirmations of different orders at once
    batch = [(await actions.create_order(sm, cust.id, line, as_cust, fields=FIELDS, submit=True)).order.id
             for _ in range(conc * 4)]
    t = time.perf_counter()
    for k in range(0, len(batch), conc):
        await asyncio.gather(*(actions.confirm(sm, i, as_rep) for i in batch[k:k + conc]))
    per_s = len(batch) / (time.perf_counter() - t)

    # the same order confirmed `conc` times at once, 10 rounds: one transition each round
    wins = []
    for _ in range(10):
        oid = (await actions.create_order(sm, cust.id, line, as_cust, fields=FIELDS, submit=True)).order.id
        res = await asyncio.gather(*(actions.confirm(sm, oid, as_rep) for _ in range(conc)), return_exceptions=True)
        bad = [r for r in res if isinstance(r, BaseException) and not isinstance(r, OrderError)]
        if bad:
            raise bad[0]
        wins.append(sum(not isinstance(r, BaseException) for r in res))
    async with sm() as s:
        events = (await s.exec(select(func.count()).select_from(OrderEvent).where(OrderEvent.type == "confirmed"))).one()
        outbox = (await s.exec(select(func.count()).select_from(Outbox))).one()
    await engine.dispose()

    b_med, b_p95 = summary(base)
    print(f"\n[{name}] {n} sequential runs each; outbox rows written: {outbox}")
    print(f"  {'baseline (1-row txn)':24} median {b_med:7.2f} ms  p95 {b_p95:7.2f} ms")
    for label, ms in (("create+submit", created), ("confirm", confirmed), ("ship", shipped)):
        med, p95 = summary(ms)
        print(f"  {label:24} median {med:7.2f} ms  p95 {p95:7.2f} ms  ratio {med / b_med:5.1f}x baseline")
    print(f"  confirm, {conc} orders at once: {per_s:7.1f} confirmations/s")
    print(f"  same order x{conc} at once, 10 rounds: transitions per round {wins} "
          f"({'OK' if set(wins) == {1} else 'BROKEN'}); confirmed events total {events}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run_profile("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.orders, args.concurrency)
    name = f"orderbot_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.pg, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: SQLite figures only
        print(f"\n[postgresql] skipped: {exc}")
        await admin.dispose()
        return
    try:
        base = args.pg.rsplit("/", 1)[0]
        await run_profile("postgresql", f"{base}/{name}", args.orders, args.concurrency)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
