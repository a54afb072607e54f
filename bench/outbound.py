"""Outbound pushes against a flaky stand-in WMS: every confirmed order delivered exactly once.

    .venv/bin/python bench/outbound.py [--orders 1000] [--fail-rate 0.3] [--db sqlite|URL]

Confirms `--orders` orders through the hub (SQLite temp file by default), points
ORDERBOT_OUTBOUND at the stand-in's WMS answering 503 to `--fail-rate` of calls, runs the outbox
worker until nothing is pending, and prints: orders, WMS calls, orders the WMS holds, keys
accepted more than once (must be 0), orders missing (must be 0), parked rows, wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import orders.models  # noqa: E402,F401
from orderbot.db import make_engine, make_sessionmaker  # noqa: E402
from orderbot.settings import Settings  # noqa: E402
from orderbot.standin import StandinState, create_standin_app  # noqa: E402
from orderbot.standin.testing import config_for_tests  # noqa: E402
from orderbot.stores_memory import MemoryStore  # noqa: E402
from orders import actions  # noqa: E402
from orders.actors import Actor  # noqa: E402
from orders.models import Customer, Product, SalesRep  # noqa: E402
from workers.handlers import JobContext  # noqa: E402  (importing it builds the handler table)
from workers.runner import OutboxWorker, WorkerConfig  # noqa: E402

SECRET = "bench-outbound-secret"
FIELDS = {"contact": "张工", "phone": "13812345678", "province": "江苏省", "city": "常州市",
          "address_detail": "湖塘镇长虹路88号", "delivery_date": date.today() + timedelta(days=7)}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--fail-rate", type=float, default=0.3)
    ap.add_argument("--db", default="sqlite")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # every 503 would log a retry warning
    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite+aiosqlite:///{tmp.name}/outbound.db" if args.db == "sqlite" else args.db
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        rep = SalesRep(wecom_userid="rep", name="张三")
        s.add(rep)
        await s.flush()
        cust = Customer(name="张工", openid="o1", province="江苏省", rep_id=rep.id)
        s.add(cust)
        s.add(Product(sku="HB-M6", name="螺栓", unit="个", price=Decimal("0.3"), stock=10**9))
        await s.flush()
        rep_id, cust_id = rep.id, cust.id

    state = StandinState(config_for_tests())
    state.wms.mode, state.wms.fail_rate, state.wms.secret, state.wms.seed = "flaky", args.fail_rate, SECRET, 15
    standin = TestServer(create_standin_app(state=state))
    await standin.start_server()
    settings = Settings(_env_file=None, database_url=url, hook_secret=SECRET, outbox_max_attempts=20,
                        outbound=f"wms={standin.make_url('/__wms__/orders')}")

    t = time.perf_counter()
    numbers = []
    for _ in range(args.orders):
        r = await actions.create_order(sm, cust_id, [actions.DraftLine("HB-M6", 100)],
                                       Actor.customer(cust_id, "o1"), fields=FIELDS, submit=True)
        await actions.confirm(sm, r.order.id, Actor.rep(rep_id, "rep"))
        numbers.append(r.order.number)
    placed = time.perf_counter() - t
    async with engine.begin() as conn:  # only the outbound rows matter here
        await conn.execute(text("UPDATE outbox SET state = 'done' WHERE kind NOT LIKE 'outbound%'"))

    t = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        ctx = JobContext(settings=settings, engine=engine, sessionmaker=sm, store=MemoryStore(), http=http,
                         worker_id="bench")
        worker = OutboxWorker(sm, ctx, config=WorkerConfig(max_attempts=20, backoff_base=0.02, backoff_max=0.5,
                                                           batch_size=50))
        for _ in range(2000):
            await worker.drain()
            async with engine.connect() as conn:
                pending = (await conn.execute(text("SELECT count(*) FROM outbox WHERE state = 'pending'"))).scalar()
                parked = (await conn.execute(text(
                    "SELECT count(*) FROM outbox WHERE state = 'parked' AND kind LIKE 'outbound%'"))).scalar()
            if not pending:
                break
            await asyncio.sleep(0.05)
    pushed = time.perf_counter() - t
    wms = state.wms
    keys = {f"{n}:v3" for n in numbers}
    twice = sum(1 for k in keys if wms.accepted.get(k, 0) > 1)
    missing = len(keys - set(wms.orders))
    print(f"orders confirmed:           {args.orders:>7}   ({placed:.1f} s through the hub)")
    print(f"WMS fail rate:              {args.fail_rate:>7.0%}")
    print(f"WMS calls:                  {wms.calls:>7}   ({wms.calls - args.orders} retries)")
    print(f"orders the WMS holds:       {len(wms.orders):>7}")
    print(f"keys accepted more than once: {twice:>5}   (must be 0)")
    print(f"orders missing at the WMS:  {missing:>7}   (must be 0)")
    print(f"parked outbound rows:       {parked:>7}")
    print(f"delivery wall time:         {pushed:>7.1f} s   (load average {os.getloadavg()[0]:.1f})")
    await standin.close()
    await engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
