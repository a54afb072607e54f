"""Cost of the duplicate check every placed order makes (orders/duplicates.py: the customer's
and the phone's orders of the last 24 hours, their lines, the comparison, the event).

    .venv/bin/python bench/duplicates.py [--orders 50000] [--customers 5000] [--runs 300] [--pg]

Fills a fresh database (SQLite in a temp folder; with --pg also a PostgreSQL database of its
own, dropped afterwards) with `--orders` orders of 3 lines over 30 days (one in ten repeating the customer's previous order),
then times
`check_duplicates` for random orders (each in a transaction rolled back, so nothing piles up):
p50 and p99 in milliseconds, with the indexes of migration d14a7c3e9b21 and, beside it, the
same database without them (the baseline: orders.customer_id has its own index, the phone none).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import SQLModel, select  # noqa: E402

from orderbot.db import make_engine, make_sessionmaker, run_autocommit  # noqa: E402
from orders.duplicates import DuplicateRules, check_duplicates  # noqa: E402
from orders.models import Customer, Order, OrderLine, Product, utcnow  # noqa: E402

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
INDEXES = ("ix_orders_customer_created", "ix_orders_phone_created")


async def fill(url: str, n_orders: int, n_customers: int, rng: random.Random) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
        await conn.execute(insert(Product), [{"sku": f"SKU{i}", "name": f"产品{i}", "unit": "个", "price": Decimal("0.1"),
                                              "aliases": [], "category": "", "spec": "", "material": "", "stock": 0,
                                              "safety_stock": 0, "active": True, "updated_at": utcnow()}
                                             for i in range(200)])
        await conn.execute(insert(Customer), [{"id": i + 1, "name": f"客户{i}", "phones": [f"139{i:08d}"],
                                               "tier": "standard", "credit_limit": 0, "created_at": utcnow(),
                                               "prepayment": False, "payment_terms_days": 30}
                                              for i in range(n_customers)])
    now = utcnow()
    batch = 5000
    last: dict[int, list[tuple[int, Decimal]]] = {}
    for start in range(0, n_orders, batch):
        orders, lines = [], []
        for i in range(start, min(start + batch, n_orders)):
            c = rng.randint(1, n_customers)
            orders.append({"id": i + 1, "number": f"SO-{i + 1:08d}", "customer_id": c, "channel": "wechat",
                           "status": "pending", "phone": f"139{c - 1:08d}", "promotions": [], "version": 1,
                           "subtotal": 0, "discount": 0, "total": 0, "rush": False,
                           "created_at": now - dt.timedelta(minutes=rng.randint(0, 30 * 24 * 60)),
                           "updated_at": now})
            # One order in ten repeats the customer's previous one (a duplicate to find).
            picked = last.get(c) if i % 10 == 0 and c in last else [
                (sku, Decimal(rng.choice([500, 1000, 2000, 5000]))) for sku in rng.sample(range(200), 3)]
            last[c] = picked
            for sku, q in picked:
                lines.append({"order_id": i + 1, "sku": f"SKU{sku}", "name": "", "quantity": q, "unit": "个",
                              "base_quantity": q, "base_unit": "个", "unit_price": 0, "amount": 0,
                              "line_type": "main", "counts_as_sales": True})
        async with engine.begin() as conn:
            await conn.execute(insert(Order), orders)
            await conn.execute(insert(OrderLine), lines)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))  # both databases: plans from real statistics
    await engine.dispose()


async def time_checks(url: str, n_orders: int, runs: int, rng: random.Random) -> tuple[list[float], int]:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    rules = DuplicateRules(window_hours=24 * 30)  # the whole month is in the window: the most rows read
    times, hits = [], 0
    for _ in range(runs):
        order_id = rng.randint(1, n_orders)
        async with sm() as s:
            await s.begin()
            order = await s.get(Order, order_id)
            assert order is not None
            lines = list((await s.exec(select(OrderLine).where(OrderLine.order_id == order_id))).all())
            t0 = time.perf_counter()
            hits += await check_duplicates(s, order, lines, rules) is not None
            await s.flush()
            times.append((time.perf_counter() - t0) * 1000)
            await s.rollback()
    await engine.dispose()
    return times, hits


async def drop_indexes(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        for name in INDEXES:
            await conn.execute(text(f"DROP INDEX {name}"))
    await engine.dispose()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run_one(label: str, url: str, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    await fill(url, args.orders, args.customers, random.Random(7))
    print(f"{label}: {args.orders:,} orders, {args.customers:,} customers filled in {time.perf_counter() - t0:.1f} s")
    rows = []
    for name in ("with indexes", "without (baseline)"):
        if name.startswith("without"):
            await drop_indexes(url)
        await time_checks(url, args.orders, 20, random.Random(1))  # warm-up
        times, hits = await time_checks(url, args.orders, args.runs, random.Random(11))
        rows.append((name, statistics.median(times), pct(times, 99), hits))
    for name, p50, p99, hits in rows:
        print(f"  {name:<20} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  ({hits}/{args.runs} flagged)")
    print(f"  ratio baseline/indexed: p50 {rows[1][1] / rows[0][1]:.1f}x, p99 {rows[1][2] / rows[0][2]:.1f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--pg", action="store_true", help="also on PostgreSQL (127.0.0.1:5432, own database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run_one("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if args.pg:
        name = f"h14a_bench_dup_{uuid.uuid4().hex[:8]}"
        await run_autocommit(PG_ADMIN, f'CREATE DATABASE "{name}"')
        try:
            await run_one("PostgreSQL", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", args)
        finally:
            await run_autocommit(PG_ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
