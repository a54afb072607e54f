"""The manager board's first paint with 100,000 orders, and `orderbot report` over 1M events, on PostgreSQL.

    .venv/bin/python bench/board.py [--orders 100000] [--events-per-order 10] [--pg URL] [--runs 15]
                                    [--baseline-root DIR]

Creates a throw-away database on the --pg server, fills it with set-based INSERT … SELECT
(orders over 90 days: the last days' still open, older ones delivered / closed; 2 lines and
`--events-per-order` events each), then measures, each in a fresh process (a start-up),
twice: the first start on the database and a restart after it —
- GET /board/ through the real app (session cookie, HTML rendered): the first request after
  start-up, and the following ones (metrics cached), median / p95 in ms;
- board_snapshot alone (the buckets, exceptions and reps queries + classification);
- the desk metrics over every event (`orderbot report`'s reader), in-process and as the CLI;
and prints EXPLAIN (ANALYZE, BUFFERS) of every query one board paint sends.
With --baseline-root DIR (a checkout of main, e.g. `git worktree add /work/wt-base main`),
main's code is measured the same way on the same database first (this interpreter, DIR
first on sys.path), and the first paints are printed side by side.
Targets (issue 15): first paint ≤ 300 ms; report over 1M events ≤ 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --code-root DIR (internal, set by --baseline-root): measure that checkout's code instead.
CODE = Path(sys.argv[sys.argv.index("--code-root") + 1]).resolve() if "--code-root" in sys.argv else ROOT
sys.path.insert(0, str(CODE))

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import orders.models  # noqa: E402,F401
from board import queries  # noqa: E402
from orderbot.db import make_engine, make_sessionmaker, run_autocommit  # noqa: E402
from orderbot.desk_report import metrics_since  # noqa: E402
from orderbot.settings import Settings  # noqa: E402
from orderbot.stores_memory import MemoryStore  # noqa: E402
from service.app import create_app  # noqa: E402

DAYS = 90

FILL = [
    "INSERT INTO sales_rep (id, wecom_userid, name, team, regions, manager_id, is_manager, discount_limit, active) "
    "SELECT g, 'rep' || g, '业务员' || g, 'team' || (g % 6), '[]', CASE WHEN g = 1 THEN NULL ELSE 1 END, g = 1, 0.03, true "
    "FROM generate_series(1, 50) g",
    "INSERT INTO customer (id, name, company, phones, province, city, tier, credit_limit, rep_id, created_at, "
    "prepayment, payment_terms_days) "
    "SELECT g, '客户' || g, '公司' || g, '[]', '江苏省', '常州市', 'standard', 0, 2 + g % 49, now(), false, 30 "
    "FROM generate_series(1, 2000) g",
    "INSERT INTO product (sku, name, category, spec, material, unit, price, aliases, stock, safety_stock, active, updated_at) "
    "SELECT 'SKU' || g, '螺栓' || g, '螺栓', '', '', '个', 0.1, '[]', CASE WHEN g % 50 = 0 THEN 10 ELSE 100000 END, "
    "100, true, now() FROM generate_series(1, 500) g",
    # age in days from 0 (newest) to 90; the status follows the age
    """INSERT INTO orders (id, number, customer_id, channel, status, rep_id, subtotal, discount, total, phone,
         province, city, address_detail, delivery_date, rush, hold_reason, version, created_at, updated_at, confirm_due_at,
         promotions)
       SELECT g, 'SO' || lpad(g::text, 12, '0'), 1 + g % 2000, 'wechat',
         CASE WHEN age < 0.5 THEN (ARRAY['pending','pending','pending','pending','pending','on_hold','confirmed','confirmed','confirmed','confirmed'])[1 + g % 10]
              WHEN age < 3 THEN (ARRAY['confirmed','confirmed','shipped','shipped','shipped'])[1 + g % 5]
              WHEN age < 10 THEN (ARRAY['shipped','delivered','delivered','delivered','delivered'])[1 + g % 5]
              ELSE (ARRAY['closed','closed','closed','closed','closed','closed','closed','closed','closed','cancelled'])[1 + g % 10] END,
         2 + g % 49, 100 + g % 5000, 0, 100 + g % 5000, '13812345678', '江苏省', '常州市', '长虹路88号',
         (now() + ((3 - age) || ' days')::interval)::date, g % 17 = 0, NULL, 5,
         now() - (age || ' days')::interval, now() - (age * 0.9 || ' days')::interval,
         now() - (age || ' days')::interval + interval '30 minutes', '[]'
       FROM (SELECT g, (:n - g)::float / :n * :days AS age FROM generate_series(1, :n) g) x""",
    # delivered ~3 days after the order (the receivables' terms count from it)
    "UPDATE orders SET delivered_at = created_at + interval '4000 minutes' WHERE status IN ('delivered', 'closed')",
    """INSERT INTO order_line (order_id, sku, name, quantity, unit, base_quantity, base_unit, unit_price, amount,
         line_type, counts_as_sales)
       SELECT o.id, 'SKU' || (1 + (o.id * k) % 500), '螺栓', 1000, '个', 1000, '个', 0.1, 100, 'main', true
       FROM orders o CROSS JOIN generate_series(1, 2) k""",
]

EVENT_KINDS = [  # (type, actor_kind, minutes after creation)
    ("created", "customer", 0), ("submitted", "customer", 1), ("routed", "system", 1),
    ("held", "system", 2), ("released", "manager", 20), ("confirmed", "rep", 25),
    ("shipped", "system", 900), ("delivered", "system", 4000), ("closed", "manager", 9000),
    ("edited", "rep", 40), ("reminded", "system", 31), ("edited", "customer", 5),
]


def events_sql(per_order: int) -> str:
    kinds = EVENT_KINDS[:per_order]
    values = ", ".join(f"('{t}', '{k}', {m}, {i})" for i, (t, k, m) in enumerate(kinds))
    return f"""INSERT INTO order_event (order_id, type, actor_kind, actor_id, at, from_status, to_status, changes,
                 visible_to_customer)
               SELECT o.id, t.type, t.kind, CASE WHEN t.kind = 'system' THEN 'hook:wms' ELSE 'u' || o.rep_id END,
                 o.created_at + (t.minutes || ' minutes')::interval, NULL, NULL, '{{}}', true
               FROM orders o CROSS JOIN (VALUES {values}) t(type, kind, minutes, pos)
               ORDER BY o.id, t.pos"""


async def fill(url: str, n: int, per_order: int) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
        for sql in FILL:
            await conn.execute(text(sql.replace(":n", str(n)).replace(":days", str(DAYS))))
        await conn.execute(text(events_sql(per_order)))
        for table in ("sales_rep", "customer", "orders"):
            await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


def pct(ms: list[float], q: float) -> float:
    ms = sorted(ms)
    return ms[min(len(ms) - 1, int(len(ms) * q))]


async def bench_paint(url: str, runs: int, *, plans: bool = True) -> dict[str, float]:
    engine = make_engine(url)
    store = MemoryStore()
    settings = Settings(_env_file=None, database_url=url, wecom_corpid="ww_bench")
    app = create_app(settings, engine=engine, store=store, start_worker=False, features=("board",))
    server = TestServer(app)
    t = time.perf_counter()
    await server.start_server()  # start-up hooks included (this tree warms the board there)
    startup = (time.perf_counter() - t) * 1000
    await store.set("board:session:bench", json.dumps({"userid": "rep1", "csrf": "x"}), ttl=3600)
    url_board = str(server.make_url("/board/"))
    queries.clear_metrics_cache()
    async with aiohttp.ClientSession(cookies={"orderbot_board": "bench"}) as http:
        async def paint() -> tuple[float, int]:  # wall time: server and client share this process
            t = time.perf_counter()
            async with http.get(url_board) as resp:
                body = await resp.read()
                assert resp.status == 200, resp.status
            return (time.perf_counter() - t) * 1000, len(body)

        cold, size = await paint()  # right after startup: the metrics are still being computed
        t = time.perf_counter()
        metrics = await queries.cached_metrics(engine, queries.utcnow())
        computing = (time.perf_counter() - t) * 1000
        warm = [(await paint())[0] for _ in range(runs)]
    sm = make_sessionmaker(engine)
    t = time.perf_counter()
    await queries.desk_report.metrics_since(engine, queries._since(queries.utcnow(), queries.METRICS_DAYS))
    metrics_ms = (time.perf_counter() - t) * 1000
    snap_ms, snap_cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        snap = await queries.board_snapshot(sm, metrics=metrics)
        snap_ms.append((time.perf_counter() - t) * 1000)
        snap_cpu.append((time.process_time() - c) * 1000)
    counts = {b.value: snap.count(b) for b in snap.buckets}
    print(f"board buckets: {counts}; page {size / 1024:.0f} KiB")
    print(f"start-up of the app (its start-up hooks included):            {startup:8.1f} ms")
    print(f"GET /board/ first request after startup (metrics still computing): {cold:8.1f} ms")
    print(f"GET /board/ metrics cached, {runs} runs:   median {statistics.median(warm):8.1f} ms   p95 {pct(warm, 0.95):8.1f} ms")
    print(f"desk metrics for the board ({queries.METRICS_DAYS} days, {metrics.placed:,} orders): "
          f"{metrics_ms:8.1f} ms (startup warm-up finished {computing:.0f} ms after the first paint)")
    print(f"board_snapshot alone, {runs} runs:         median {statistics.median(snap_ms):8.1f} ms   p95 {pct(snap_ms, 0.95):8.1f} ms"
          f"   (this process's CPU: median {statistics.median(snap_cpu):.1f} ms)")
    if plans:
        await explain(engine, sm, metrics)
    await server.close()
    await engine.dispose()
    return {"first": cold, "median": statistics.median(warm), "p95": pct(warm, 0.95), "startup": startup}


async def explain(engine, sm, metrics) -> None:  # noqa: ANN001
    """EXPLAIN ANALYZE of each statement one board_snapshot sends (captured as executed)."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    await queries.board_snapshot(sm, metrics=metrics)
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    async with engine.connect() as conn:
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", params)
            plan = "\n    ".join(r[0] for r in result)
            print(f"\n-- {' '.join(statement.split())[:160]}…\n    {plan}")


async def bench_report(url: str, n_events: int) -> None:
    engine = make_engine(url)
    since = queries.utcnow() - dt.timedelta(days=DAYS + 1)
    runs, cpu = [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        m = await metrics_since(engine, since)
        runs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    await engine.dispose()
    print(f"\ndesk metrics over {n_events:,} events ({m.placed:,} orders), in-process, 3 runs: "
          f"median {statistics.median(runs):.2f} s wall (min {min(runs):.2f} s), of which this process's CPU "
          f"{statistics.median(cpu):.2f} s (the rest is PostgreSQL and waiting for a core)")
    env = {**os.environ, "ORDERBOT_DATABASE_URL": url}
    t = time.perf_counter()
    # `orderbot report` of the measured checkout (python -m from its root = the console script)
    out = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "service.cli", "report", "--since",
                                  f"{DAYS + 1}d"], env=env, cwd=str(CODE), capture_output=True, text=True, check=True)
    cli = time.perf_counter() - t
    print(f"`orderbot report --since {DAYS + 1}d` wall time (process start included): {cli:.2f} s")
    print("\n".join(out.stdout.splitlines()[:13]))


async def measure(args: argparse.Namespace) -> None:
    """One fresh process (= one start-up) against the filled database: paint, then maybe report."""
    print(f"--- {args.label} ({CODE}), load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    figures = await bench_paint(args.measure, args.runs, plans=args.plans)
    if args.report:
        await bench_report(args.measure, args.n_events)
    print("FIGURES " + json.dumps(figures))


def run_measure(url: str, root: Path, label: str, args: argparse.Namespace, *, plans: bool = False,
                report: bool = False) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", url, "--code-root", str(root),
           "--label", label, "--runs", str(args.runs), "--n-events", str(args.orders * args.events_per_order)]
    cmd += ["--plans"] if plans else []
    cmd += ["--report"] if report else []
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = out.stdout.splitlines()
    print("\n".join(x for x in lines if not x.startswith("FIGURES ")), flush=True)
    if out.returncode:
        print(out.stderr[-3000:])
        raise SystemExit(f"{label}: exit {out.returncode}")
    return json.loads(next(x for x in lines if x.startswith("FIGURES "))[8:])


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--events-per-order", type=int, default=10, choices=range(1, len(EVENT_KINDS) + 1))
    ap.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--baseline-root", type=Path, help="a checkout of main measured beside this tree")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one start-up on this database
    ap.add_argument("--code-root", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="this tree", help=argparse.SUPPRESS)
    ap.add_argument("--plans", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--report", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--n-events", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        await measure(args)
        return
    name = f"bench_board_{uuid.uuid4().hex[:8]}"
    base = args.pg.rsplit("/", 1)[0]
    await run_autocommit(args.pg, f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    try:
        t = time.perf_counter()
        await fill(url, args.orders, args.events_per_order)
        n_events = args.orders * args.events_per_order
        print(f"load average before measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"({os.cpu_count()} cores, shared)")
        print(f"filled {args.orders:,} orders, {2 * args.orders:,} lines, {n_events:,} events "
              f"in {time.perf_counter() - t:.1f} s (database {name})\n")
        rows = []
        if args.baseline_root is not None:
            base = args.baseline_root.resolve()
            rows.append(("main, first start", run_measure(url, base, "main, first start", args)))
            rows.append(("main, restart", run_measure(url, base, "main, restart", args)))
        rows.append(("this tree, first start", await asyncio.to_thread(
            run_measure, url, ROOT, "this tree, first start", args)))
        rows.append(("this tree, restart", await asyncio.to_thread(
            run_measure, url, ROOT, "this tree, restart", args, plans=True, report=True)))
        print("\nGET /board/ (ms)            start-up   first request after start-up   then median   p95")
        for label, f in rows:
            print(f"  {label:26s} {f['startup']:8.1f} {f['first']:12.1f} {f['median']:22.1f} {f['p95']:8.1f}")
        if args.baseline_root is not None:
            print(f"  restart first paint, this tree / main: {rows[3][1]['first'] / rows[1][1]['first']:.2f}")
    finally:
        await run_autocommit(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
