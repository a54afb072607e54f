"""Cost of routing: the pure decision, routing at submit, and the SLA sweep.

    .venv/bin/python bench/routing.py [--orders 300] [--pending 1000]

1. `route()` per decision with the shipped rule table and with a synthetic table of 500
   rules and 300 reps (median microseconds over repeated batches).
2. Submitting a draft on SQLite: the hub's plain `actions.submit` (baseline, rep given by
   the caller) against `submit_routed` (decision from the database + routed event + cursor),
   median milliseconds each and the ratio.
3. One SLA sweep over `--pending` pending orders: none due (the confirm_due_at index skips
   them), all due (each gets a reminder), and all already escalated (left out in SQL),
   milliseconds per sweep and per order.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules  # noqa: E402
from orders.routing import OrderFacts, RuleSet, TeamLoad, route  # noqa: E402

PROVINCES = ["江苏省", "浙江省", "上海市", "广东省", "福建省", "北京市", "山东省", "四川省", "湖北省", "河南省"]


class Rep:
    def __init__(self, id: int, team: str, is_manager: bool = False) -> None:
        self.id, self.team, self.wecom_userid = id, team, f"rep{id}"
        self.active, self.is_manager, self.manager_id = True, is_manager, None


def _facts(i: int) -> OrderFacts:
    return OrderFacts(
        amount=Decimal((i * 7919) % 90000), province=PROVINCES[i % len(PROVINCES)],
        categories=frozenset({"螺母"} if i % 3 else {"轴承"}), tier="vip" if i % 17 == 0 else "standard",
        channel="miniprogram" if i % 2 else "wechat",
    )


def _per_decision_us(rules: RuleSet, reps: list[Rep], n: int = 2000, rounds: int = 5) -> float:
    facts = [_facts(i) for i in range(n)]
    load = TeamLoad(open_orders={r.id: r.id % 7 for r in reps}, last_assigned={})
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for f in facts:
            route(f, rules, reps, load)
        samples.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(samples)


def bench_pure() -> None:
    shipped = load_rules(DEFAULT_RULES_PATH)
    teams = ["key-accounts", "auto-parts", "east", "south", "north", "online", "general"]
    reps = [Rep(i, teams[i % len(teams)]) for i in range(1, 36)]
    print(f"route(), shipped table ({len(shipped.rules)} rules, {len(reps)} reps): "
          f"{_per_decision_us(shipped, reps):.1f} µs/decision (median of 5×2000)")
    big_rules = [{"id": f"r{i}", "priority": i, "cities": [f"城市{i}"], "team": f"t{i % 50}"} for i in range(500)]
    big = RuleSet.from_dict({"fallback_team": "t0", "rules": big_rules})
    many = [Rep(i, f"t{i % 50}") for i in range(1, 301)]
    print(f"route(), 500 rules none matching → fallback, 300 reps: "
          f"{_per_decision_us(big, many, n=500):.1f} µs/decision (median of 5×500)")


async def bench_db(orders: int, pending: int) -> None:
    from sqlalchemy import update
    from sqlmodel import SQLModel

    from orderbot.db import make_engine, make_sessionmaker
    from orders import actions
    from orders.actors import Actor
    from orders.assignment import submit_routed
    from orders.models import Customer, Order, Product, SalesRep
    from workers.sla import sweep

    rules = load_rules(DEFAULT_RULES_PATH)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        sm = make_sessionmaker(engine)
        async with sm() as s, s.begin():
            s.add(Product(sku="NUT-M8", name="螺母 M8", category="螺母", price=Decimal("0.1"), stock=10**9))
            for i, team in enumerate(["east", "south", "north", "online", "general", "key-accounts"] * 3, 1):
                s.add(SalesRep(id=i, wecom_userid=f"rep{i}", name=f"rep{i}", team=team))
            s.add(Customer(id=1, name="bench"))
        actor = Actor.customer(1)

        async def draft(i: int) -> int:
            fields = {"phone": "13800000000", "province": PROVINCES[i % len(PROVINCES)], "city": "某市",
                      "address_detail": "某路1号", "delivery_date": datetime(2026, 12, 1).date()}
            r = await actions.create_order(sm, 1, [actions.DraftLine("NUT-M8", 1000)], actor, fields=fields)
            return r.order.id

        async def timed(fn) -> list[float]:
            out = []
            for i in range(orders):
                order_id = await draft(i)
                t = time.perf_counter()
                await fn(order_id)
                out.append((time.perf_counter() - t) * 1000)
            return out

        async def plain(order_id: int) -> None:
            await actions.submit(sm, order_id, actor, rep_id=1, routing_rule="given")

        async def routed(order_id: int) -> None:
            async with sm() as s, s.begin():
                await submit_routed(s, order_id, actor, rules)

        base = await timed(plain)
        mine = await timed(routed)
        b, m = statistics.median(base), statistics.median(mine)
        print(f"submit on SQLite ({orders} orders each): actions.submit {b:.2f} ms, "
              f"submit_routed {m:.2f} ms, ratio {m / b:.2f}")

        # SLA sweep over many pending orders
        async with sm() as s, s.begin():
            await s.exec(update(Order).values(status="confirmed"))  # out of the sweep's way
        ids = [await draft(i) for i in range(pending)]
        t0 = datetime.now(UTC)
        for order_id in ids:
            async with sm() as s, s.begin():
                await submit_routed(s, order_id, actor, rules, now=t0)
        t = time.perf_counter()
        quiet = await sweep(sm, rules, t0 + timedelta(minutes=1))
        quiet_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        due = await sweep(sm, rules, t0 + timedelta(minutes=31))
        due_ms = (time.perf_counter() - t) * 1000
        await sweep(sm, rules, t0 + timedelta(minutes=121))  # every order escalates
        t = time.perf_counter()
        stale = await sweep(sm, rules, t0 + timedelta(minutes=300))
        stale_ms = (time.perf_counter() - t) * 1000
        print(f"SLA sweep over {pending} pending orders: none due {quiet_ms:.1f} ms "
              f"({len(quiet.reminded)} reminders); all due {due_ms:.0f} ms "
              f"({len(due.reminded) + len(due.escalated)} reminders/escalations, "
              f"{due_ms / max(1, len(due.reminded) + len(due.escalated)):.2f} ms each)")
        print(f"SLA sweep over {pending} pending orders already escalated: {stale_ms:.1f} ms "
              f"({len(stale.reminded) + len(stale.escalated)} writes)")
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--pending", type=int, default=1000)
    args = parser.parse_args()
    bench_pure()
    asyncio.run(bench_db(args.orders, args.pending))


if __name__ == "__main__":
    main()
