"""Pushes per second draining the outbox into the in-process stand-in, with the limits held.

    .venv/bin/python bench/push.py [--customers 60] [--per-customer 7] [--alerts 30] [--rounds 3]
                                   [--postgres]   # PostgreSQL at 127.0.0.1 instead of SQLite

Each round, on a fresh database (SQLite file, or a scratch PostgreSQL database):
- outbox: --customers customers with an open 48-hour window each get --per-customer status
  pushes, every rep gets a card per order, and --alerts manager alerts go to the group robot;
  the real worker (batch 20, handlers, push router, ledger, clients) drains it all, then the
  clock moves one minute and the robot digest goes out;
- baseline: the same customer messages sent straight through bot/clients (no outbox, no
  router, no ledger) with the same 20 in flight, to see what the bookkeeping costs.
Prints the median pushes/s of both and their ratio, and checks what the stand-in saw: no
customer got more than 5 customer-service messages, the robot never took more than 20 in
any 60 s, no push was refused for a limit (45009 / 45015 / 45047) or parked.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlmodel import SQLModel, select  # noqa: E402

import orders.models  # noqa: E402,F401
from bot.clients import make_clients  # noqa: E402
from orderbot.db import make_engine, make_sessionmaker  # noqa: E402
from orderbot.settings import Settings  # noqa: E402
from orderbot.standin import StandinState, create_standin_app  # noqa: E402
from orderbot.standin.state import WECHAT, WECOM, Window  # noqa: E402
from orderbot.standin.testing import config_for_tests  # noqa: E402
from orderbot.stores_memory import MemoryStore  # noqa: E402
from orders import outbox as queue  # noqa: E402
from orders.models import Customer, InboundMessage, Outbox, SalesRep, utcnow  # noqa: E402
from workers import push_router  # noqa: E402
from workers.handlers import JobContext  # noqa: E402
from workers.runner import OutboxWorker, WorkerConfig  # noqa: E402

CONCURRENCY = 20  # rows delivered at once: the worker's default batch


def settings_for(url: str, cfg) -> Settings:
    return Settings(
        wechat_appid=cfg.wechat_appid, wechat_secret=cfg.wechat_secret,
        miniprogram_appid=cfg.miniprogram_appid, miniprogram_secret=cfg.miniprogram_secret,
        wecom_corpid=cfg.wecom_corpid, wecom_agentid=cfg.wecom_agentid, wecom_secret=cfg.wecom_secret,
        wecom_robot_key=cfg.wecom_robot_key, wechat_api_base=url, wecom_api_base=url,
    )


class Offset:
    def __init__(self) -> None:
        self.s = 0.0


async def outbox_round(args: argparse.Namespace) -> tuple[float, int, dict[str, object]]:
    state = StandinState(config_for_tests())
    server = TestServer(create_standin_app(state=state))
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    settings = settings_for(url, state.config)
    url_db, drop = await fresh_database(args.postgres)
    engine = make_engine(url_db)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    sm = make_sessionmaker(engine)
    store = MemoryStore()
    off = Offset()
    try:
        async with sm() as s, s.begin():
            reps = [SalesRep(wecom_userid=f"rep{i}", name=f"业务员{i}") for i in range(5)]
            s.add_all(reps)
            await s.flush()
            for i in range(args.customers):
                openid = f"oa{i:05d}"
                s.add(Customer(name=f"客户{i}", openid=openid, rep_id=reps[i % 5].id))
                s.add(InboundMessage(channel="wechat", dedup_key=f"m{i}", from_user=openid, msg_type="text"))
                state.register_user(WECHAT, openid)
                state.windows[openid] = Window(state.now())
            for r in reps:
                state.register_user(WECOM, r.wecom_userid)
        async with sm() as s, s.begin():
            customers = list(await s.exec(select(Customer)))
            for c in customers:
                for k in range(args.per_customer):
                    payload = {"event": "tracking", "number": f"SO20260302-{c.id:04d}", "customer_id": c.id,
                               "status_label": "已发货", "tracking": f"第{k}站"}
                    await queue.enqueue(s, kind="notify_customer", dedup_key=f"c{c.id}:{k}", target=c.openid or "",
                                        payload=payload)
                rep = f"rep{(c.id or 0) % 5}"
                card = {"type": "text", "text": f"订单 SO20260302-{c.id:04d} 待确认"}
                await queue.enqueue(s, kind="notify_rep", dedup_key=f"r{c.id}", target=rep, payload=card)
            for a in range(args.alerts):
                await queue.enqueue(s, kind="alert_manager", dedup_key=f"a{a}", target="",
                                    payload={"type": "held", "text": f"订单 SO20260302-{a:04d} 挂起", "order_id": 10_000 + a})
        async with aiohttp.ClientSession() as http:
            ctx = JobContext(settings=settings, engine=engine, sessionmaker=sm, store=store, http=http, worker_id="bench")
            ctx.extra["robot_limiter"] = push_router.RobotLimiter(store, clock=lambda: time.time() + off.s)
            worker = OutboxWorker(sm, ctx, clock=lambda: utcnow() + timedelta(seconds=off.s),
                                  config=WorkerConfig(batch_size=CONCURRENCY, max_attempts=4))
            started = time.perf_counter()
            delivered = await worker.drain()
            elapsed = time.perf_counter() - started
            pushes = _pushes(state)  # what went out in the timed part (the digest comes after)
            off.s += 61  # the robot's minute passes: the digest goes out
            state.clock.advance(61)
            delivered += await worker.drain()
            await ctx.aclose()
        async with sm() as s:
            counts = await queue.count_by_state(s)
            digest_rows = list(await s.exec(select(Outbox).where(Outbox.kind == "robot_digest")))
        checks = limits_held(state, counts, len(digest_rows))
        return elapsed, pushes, checks
    finally:
        await engine.dispose()
        await drop()
        await server.close()


async def fresh_database(postgres: bool):
    """A URL to an empty database and a coroutine function dropping it afterwards."""
    if not postgres:
        tmp = tempfile.mkdtemp()

        async def nothing() -> None:
            return None

        return f"sqlite+aiosqlite:///{tmp}/bench.db", nothing
    from sqlalchemy import text

    name = f"orderbot_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()

    async def drop() -> None:
        eng = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        async with eng.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await eng.dispose()

    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", drop


def _pushes(state: StandinState) -> int:
    return sum(1 for e in state.sent if e["api"] in {"custom_send", "template_send", "wecom_send", "robot_send"})


def limits_held(state: StandinState, counts: dict[str, int], digests: int) -> dict[str, object]:
    per_customer: dict[str, int] = {}
    for e in state.sent:
        if e["api"] == "custom_send":
            per_customer[e["to"]] = per_customer.get(e["to"], 0) + 1
    robot = sorted(e["at"] for e in state.sent if e["api"] == "robot_send")
    worst_minute = max((sum(1 for t in robot if s <= t < s + 60) for s in robot), default=0)
    return {
        "max_cs_per_customer": max(per_customer.values(), default=0),
        "templates": sum(1 for e in state.sent if e["api"] == "template_send"),
        "robot_messages": len(robot),
        "robot_max_in_60s": worst_minute,
        "digests": digests,
        "parked": counts.get("parked", 0),
        "pending": counts.get("pending", 0),
    }


async def baseline_round(args: argparse.Namespace) -> tuple[float, int]:
    state = StandinState(config_for_tests(window_budget=10_000))
    server = TestServer(create_standin_app(state=state))
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    clients = make_clients(settings_for(url, state.config), MemoryStore())
    try:
        jobs = []
        for i in range(args.customers):
            openid = f"oa{i:05d}"
            state.register_user(WECHAT, openid)
            state.windows[openid] = Window(state.now())
            jobs += [(openid, f"第{k}站") for k in range(args.per_customer)]
        sem = asyncio.Semaphore(CONCURRENCY)
        assert clients.wechat is not None

        async def send(openid: str, text: str) -> None:
            async with sem:
                await clients.wechat.send_text(openid, text)

        started = time.perf_counter()
        await asyncio.gather(*(send(o, t) for o, t in jobs))
        return time.perf_counter() - started, len(jobs)
    finally:
        await clients.close()
        await server.close()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=60)
    p.add_argument("--per-customer", type=int, default=7)
    p.add_argument("--alerts", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--postgres", action="store_true", help="PostgreSQL at 127.0.0.1:5432 (user postgres)")
    args = p.parse_args()
    ours, base = [], []
    for r in range(args.rounds):
        elapsed, pushes, checks = await outbox_round(args)
        ours.append(pushes / elapsed)
        print(f"round {r + 1}: outbox {pushes} pushes in {elapsed:.2f}s = {pushes / elapsed:.0f}/s; {checks}")
        b_elapsed, b_n = await baseline_round(args)
        base.append(b_n / b_elapsed)
        print(f"round {r + 1}: baseline {b_n} direct sends in {b_elapsed:.2f}s = {b_n / b_elapsed:.0f}/s")
        ok = (checks["max_cs_per_customer"] <= 5 and checks["robot_max_in_60s"] <= 20
              and checks["parked"] == 0 and checks["pending"] == 0)
        print(f"round {r + 1}: limits held: {'yes' if ok else 'NO'}")
    mo, mb = statistics.median(ours), statistics.median(base)
    ratios = [o / b for o, b in zip(ours, base, strict=True)]  # each round's pair ran back to back
    print(f"median pushes/s: outbox {mo:.0f}, baseline (direct client) {mb:.0f}; "
          f"median per-round ratio outbox/baseline {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    asyncio.run(main())
