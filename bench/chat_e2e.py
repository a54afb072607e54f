"""A burst of customers ordering through WeChat, end to end: how fast does the bot answer?

    .venv/bin/python bench/chat_e2e.py [--customers 600] [--concurrency 16] [--retries 0.1]
    .venv/bin/python bench/chat_e2e.py --profile production --workers 1   # then --workers 2
    .venv/bin/python bench/chat_e2e.py --py-spy serve.svg                 # flame graph of serve
    .venv/bin/python bench/chat_e2e.py --profile production --py-spy w.txt --py-spy-of worker1

Everything runs as separate processes, as a new user would start them:
- `orderbot standin` plays WeChat and WeCom (replies and rep cards land at its /__sent__);
- embedded profile: `orderbot serve` on a fresh SQLite file (its in-process worker answers);
- production profile: `orderbot serve` plus `--workers K` × `orderbot worker` on a fresh,
  uniquely named PostgreSQL database and an empty Redis database number (claimed with a
  marker key; only the keys written in it are deleted afterwards, never FLUSHDB).
The database is migrated and loaded like `orderbot demo` (catalog with stock, reps, routing).

Round 1: N customers each send one complete order message (product, quantity, address,
phone, date) as a signed, AES-encrypted callback built with wechatpy (bench/intake.py's
builder), 16 in flight; `--retries` of them are delivered twice at once, as WeChat retries.
Reply lag = callback acknowledged → the order summary seen at /__sent__ (polled every 20 ms).
Round 2: every customer answers 确认: the order is placed, routed, and its rep's WeCom card
sent; orders placed/s counts until the last card is seen.
In the same run, the same N messages go through `orderbot extract`'s reading code
(service.commands.extract.process_line, catalog loaded beforehand) in this process: the
extract-only rate, and the ratio answered/extract-only, are the machine-load-independent
figure. CPU ms per message comes from /proc/<pid>/stat of each of our processes.
Duplicates (a customer answered twice for one message) and lost replies are counted.

Targets (issue 13): embedded answered ≥ 0.25× extract-only, reply p99 ≤ 3 s, ≤ 2 ms CPU per
message; production one worker ≥ 0.25×, two workers ≥ 1.6× one; ≥ 150 orders placed/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import _free_port, _pct, signed_callback  # noqa: E402

ORDERBOT = [sys.executable, "-m", "service.cli"]
DEMO_CATALOG = ROOT / "service" / "demo" / "catalog.csv"
PLACES = [  # (province + city + district + street) that the address reader knows; routed by province
    "江苏省常州市武进区湖塘镇长虹路88号", "浙江省宁波市北仑区新碶街道明州路18号",
    "上海市闵行区莘庄镇都市路5001号", "广东省东莞市长安镇振安中路66号",
    "山东省青岛市黄岛区长江中路228号", "河北省廊坊市广阳区新华路99号",
]
DATES = ["明天", "后天", "下周一", "3天后"]
TICK = os.sysconf("SC_CLK_TCK")


# --- processes ------------------------------------------------------------------------------


def ceiling(r: RoundResult) -> float:
    """Messages/s the machine's cores could answer at the round's cost a message (every
    process: ours, the stand-in, the databases, this bench), all of them busy: what K workers
    can reach at best ("up to the cores available")."""
    return (os.cpu_count() or 1) * 1000 / r.machine_ms


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (every core)."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) / TICK for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (all its threads), or of one of its threads, from /proc."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def cpu(self) -> float:
        return cpu_seconds(self.popen.pid)

    def cpu_main_thread(self) -> float:
        """The event loop's thread alone (the rest: aiosqlite's and the executor's threads)."""
        return cpu_seconds(self.popen.pid, self.popen.pid)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(name: str, args: list[str], env: dict[str, str], logdir: Path) -> Proc:
    log = logdir / f"{name}.log"
    popen = subprocess.Popen(  # noqa: S603 (our own CLI)
        [*ORDERBOT, *args], env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    return Proc(name, popen, log)


async def wait_http(http: aiohttp.ClientSession, url: str, procs: list[Proc], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for p in procs:
            if p.popen.poll() is not None:
                raise RuntimeError(f"{p.name} exited: {p.log.read_text()[-2000:]}")
        try:
            async with http.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {within} s")


def environment(standin: str, db_url: str, redis_url: str) -> dict[str, str]:
    """The same credentials on both sides, as `orderbot demo` makes them."""
    from service.commands.demo import standin_credentials

    return os.environ | standin_credentials(standin) | {
        "PYTHONPATH": str(ROOT), "ORDERBOT_DATABASE_URL": db_url, "ORDERBOT_REDIS_URL": redis_url,
    }


# --- databases ------------------------------------------------------------------------------


async def fresh_postgres(admin_url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    from orderbot.db import run_autocommit

    name = f"orderbot_chatbench_{os.getpid()}_{secrets.token_hex(3)}"
    await run_autocommit(admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


async def claim_redis_db(base_url: str) -> tuple[str, Any]:
    """An empty Redis database number (1-15), claimed with a marker key so two benches
    never share one; the keys written there are deleted afterwards (never FLUSHDB)."""
    import redis.asyncio as aioredis

    for n in range(15, 0, -1):
        url = f"{base_url.rstrip('/').rsplit('/', 1)[0]}/{n}" if base_url.count("/") > 2 else f"{base_url}/{n}"
        client = aioredis.Redis.from_url(url)
        if await client.dbsize() == 0 and await client.set("orderbot-chatbench:owner", os.getpid(), nx=True, ex=3600):
            return url, client
        await client.aclose()
    raise RuntimeError("no empty Redis database number (1-15) to run in")


async def release_redis(client: Any) -> None:
    keys = [k async for k in client.scan_iter(match="orderbot*", count=1000)]
    for i in range(0, len(keys), 1000):
        await client.delete(*keys[i : i + 1000])
    await client.aclose()


async def db_counts(db_url: str) -> dict[str, int]:
    from sqlalchemy import text

    from orderbot.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM orders), (SELECT count(DISTINCT customer_id) FROM orders), "
                "(SELECT count(*) FROM outbox WHERE state = 'parked'), "
                "(SELECT count(*) FROM outbox WHERE state = 'pending')"
            ))).one()
    finally:
        await engine.dispose()
    return {"orders": row[0], "customers_with_orders": row[1], "parked": row[2], "pending": row[3]}


# --- the customers --------------------------------------------------------------------------


def order_messages(n: int, catalog: Path, seed: int = 13) -> list[str]:
    """One complete order per customer: a catalog product by name, a quantity, delivery
    date, address, contact and a phone of their own (so no two customers merge)."""
    import csv

    rng = random.Random(seed)
    with catalog.open(encoding="utf-8-sig") as f:
        names = [row["name"] for row in csv.DictReader(f)]
    out = []
    for i in range(n):
        qty = rng.choice([200, 500, 800, 1000, 1500, 2000])
        out.append(
            f"{rng.choice(names)} {qty}个，{rng.choice(DATES)}送{rng.choice(PLACES)}，"
            f"{rng.choice('张王李赵刘陈')}工 139{i:08d}"
        )
    return out


@dataclass
class Watch:
    """Polls the stand-in's /__sent__ and stamps when each message was first seen."""

    http: aiohttp.ClientSession
    base: str
    last: int = 0
    seen: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    async def poll(self) -> None:
        async with self.http.get(f"{self.base}/__sent__", params={"after": str(self.last)}) as resp:
            entries = await resp.json()
        now = time.perf_counter()
        for e in entries:
            self.last = max(self.last, e["id"])
            self.seen.append((now, e))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.poll()
            await asyncio.sleep(0.02)

    def since(self, t0: float) -> list[tuple[float, dict[str, Any]]]:
        return [(t, e) for t, e in self.seen if t >= t0]


async def send_all(
    http: aiohttp.ClientSession, base: str, reqs: list[tuple[str, str, bytes]], concurrency: int
) -> tuple[dict[str, float], int]:
    """Deliver the callbacks `concurrency` at a time; when each customer's was acknowledged
    (the first acknowledgement, for a retried one) and how many were not answered 200."""
    accepted: dict[str, float] = {}
    bad = 0
    queue = iter(reqs)

    async def worker() -> None:
        nonlocal bad
        for openid, url, body in queue:
            async with http.post(base + url, data=body) as resp:
                await resp.read()
                if resp.status != 200:
                    bad += 1
            accepted.setdefault(openid, time.perf_counter())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted, bad


def callbacks(env: dict[str, str], openids: list[str], texts: list[str], retries: float,
              msgid0: int, rng: random.Random) -> list[tuple[str, str, bytes]]:
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(env["WECHAT_TOKEN"], env["WECHAT_AES_KEY"], env["WECHAT_APPID"])
    out = []
    for i, (openid, text) in enumerate(zip(openids, texts, strict=True)):
        url, body = signed_callback(crypto, env["WECHAT_TOKEN"], openid, text, msgid0 + i,
                                    str(rng.randrange(10**9)))
        out.append((openid, url, body))
        if rng.random() < retries:  # WeChat's retry: the same MsgId again, right away
            out.append((openid, url, body))
    return out


def extract_only(texts: list[str], catalog: Path) -> tuple[float, int]:
    """`orderbot extract`'s reading code over the same messages (catalog loaded first):
    messages/s, and how many came out complete (items with a SKU, nothing missing)."""
    from nlp import Catalog, extract_draft
    from service.commands.extract import process_line

    cat = Catalog.from_csv(str(catalog))
    lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate(texts)]
    process_line(lines[0], cat, extract_draft)  # warm
    t0 = time.perf_counter()
    out = [process_line(line, cat, extract_draft) for line in lines]
    rate = len(lines) / (time.perf_counter() - t0)
    complete = sum(
        1 for o in out
        if o.get("draft") and not o["draft"].get("missing")
        and all(it.get("sku") for it in o["draft"]["items"])
    )
    return rate, complete


async def wait_for(watch: Watch, done: Any, within: float, quiet: float = 3.0) -> None:
    """Until done(), or nothing new arrived for `quiet` s (at least half of `within`)."""
    t0 = time.perf_counter()
    last_count, last_change = -1, t0
    while time.perf_counter() - t0 < within:
        await asyncio.sleep(0.05)
        if done():
            await asyncio.sleep(0.5)  # late duplicates still show up
            return
        if len(watch.seen) != last_count:
            last_count, last_change = len(watch.seen), time.perf_counter()
        elif time.perf_counter() - last_change > max(quiet, within / 2):
            return


@dataclass
class RoundResult:
    rate: float
    p50: float
    p99: float
    answered: int
    duplicates: int
    lost: int
    cpu_ms: dict[str, float]
    bad_http: int
    acked_in: float = float("nan")  # last callback acknowledged, s after the round began
    first_reply: float = float("nan")  # first reply (or card) seen, s after the round began
    busy_cores: float = float("nan")  # the whole machine's CPU in use during the round, in cores
    machine_ms: float = float("nan")  # the whole machine's CPU seconds in the round, ms a message


def replies_to(entries: list[tuple[float, dict[str, Any]]], openids: set[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for t, e in entries:
        if e.get("api") == "custom_send" and e.get("to") in openids:
            out.setdefault(e["to"], []).append(t)
    return out


# --- the run --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    from orderbot.db import run_autocommit
    from service.commands.demo import _seed_data, _users, seed

    tmp = Path(tempfile.mkdtemp(prefix="chatbench-"))
    procs: list[Proc] = []
    redis_client = None
    pg_name = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        if args.profile == "production":
            db_url, pg_name = await fresh_postgres(args.postgres)
            redis_url, redis_client = await claim_redis_db(args.redis)
        else:
            db_url, redis_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}", ""
        standin_port, serve_port = _free_port(), _free_port()
        standin = f"http://127.0.0.1:{standin_port}"
        env = environment(standin, db_url, redis_url)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("WECHAT_", "WECOM_", "MINIPROGRAM_"))})
        counts = await seed(db_url, args.catalog)
        print(f"profile {args.profile}: {counts['products_added']} products, {counts['reps']} reps; logs in {tmp}")

        procs.append(start("standin", ["standin", "--port", str(standin_port), "--callback-url",
                                       f"http://127.0.0.1:{serve_port}/wechat/callback"], env, tmp))
        procs.append(start("serve", ["serve", "--port", str(serve_port)], env, tmp))
        for k in range(args.workers if args.profile == "production" else 0):
            procs.append(start(f"worker{k + 1}", ["worker"], env, tmp))
        ours = [p for p in procs if p.name != "standin"]

        conn = aiohttp.TCPConnector(limit=args.concurrency + 8)
        async with aiohttp.ClientSession(connector=conn) as http:
            await wait_http(http, f"{standin}/__sent__?after=0", procs)
            await wait_http(http, f"http://127.0.0.1:{serve_port}/healthz", procs)
            for userid in _users(_seed_data())[1]:  # the reps, as `orderbot demo` registers them
                await http.post(f"{standin}/__users__", json={"userid": userid, "app": "wecom"})
            openids = [f"o_bench_{os.getpid()}_{i:05d}" for i in range(args.customers)]
            texts = order_messages(args.customers, args.catalog)
            rng = random.Random(7)
            msgid0 = int(time.time() * 1000) * 1000

            extract_rate, complete = extract_only(texts, args.catalog)
            print(f"extract-only (before round 1): {extract_rate:.0f} messages/s; {complete}/{len(texts)} read "
                  "complete (the bot should answer each with a summary to confirm)")

            watch = Watch(http, standin)
            await watch.poll()

            async def one_round(label: str, msgs: list[str], msgid: int, expect_cards: bool) -> RoundResult:
                reqs = callbacks(env, openids, msgs, args.retries, msgid, rng)
                await _open_windows(http, standin, openids)
                nonlocal spy
                if args.py_spy:  # one recording a round: FILE-orders.svg, FILE-confirm.svg
                    out = args.py_spy.with_name(f"{args.py_spy.stem}-{label}{args.py_spy.suffix}")
                    spy = subprocess.Popen(  # noqa: S603, ASYNC220 (started once, before the round)
                        [shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy",
                         "record", "-o", str(out), "--pid", str(next(p for p in procs if p.name == args.py_spy_of).popen.pid),
                         "--rate", "200",
                         *(["--format", "raw"] if out.suffix == ".txt" else [])],
                        stdout=(tmp / f"py-spy-{label}.log").open("wb"), stderr=subprocess.STDOUT)
                    await asyncio.sleep(1.0)
                cpu0 = {p.name: p.cpu() for p in procs} | {"serve main thread": procs[1].cpu_main_thread()}
                machine0 = machine_busy()
                stop = asyncio.Event()
                poller = asyncio.create_task(watch.run(stop))
                t0 = time.perf_counter()
                accepted, bad = await send_all(http, f"http://127.0.0.1:{serve_port}", reqs, args.concurrency)
                set_ids = set(openids)

                def done() -> bool:
                    got = replies_to(watch.since(t0), set_ids)
                    if len(got) < len(openids):
                        return False
                    return not expect_cards or sum(
                        1 for _, e in watch.since(t0) if e.get("msgtype") == "template_card") >= len(openids)

                await wait_for(watch, done, args.timeout)
                stop.set()
                await poller
                cpu1 = {p.name: p.cpu() for p in procs} | {"serve main thread": procs[1].cpu_main_thread()}
                machine1 = machine_busy()
                got = replies_to(watch.since(t0), set_ids)
                lags = [(ts[0] - accepted[o]) for o, ts in got.items() if o in accepted]
                ends = [ts[0] for ts in got.values()]
                if expect_cards:
                    ends += [t for t, e in watch.since(t0) if e.get("msgtype") == "template_card"]
                span = (max(ends) - t0) if ends else float("nan")
                answered = len(got)
                dupes = sum(len(ts) - 1 for ts in got.values())
                n_msgs = max(1, len(openids))
                cpu_ms = {name: (cpu1[name] - cpu0[name]) * 1000 / n_msgs for name in cpu0}
                return RoundResult(answered / span if span else 0.0, _pct(lags, 50) if lags else float("nan"),
                                   _pct(lags, 99) if lags else float("nan"), answered, dupes,
                                   len(openids) - answered, cpu_ms, bad,
                                   acked_in=max(accepted.values(), default=t0) - t0,
                                   busy_cores=(machine1[0] - machine0[0]) / max(1e-9, (machine1[1] - machine0[1])) * (os.cpu_count() or 1),
                                   first_reply=(min(ends) - t0) if ends else float("nan"),
                                   machine_ms=(machine1[0] - machine0[0]) * 1000 / n_msgs)

            def stop_spy() -> None:
                if spy is not None and spy.poll() is None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(60)

            r1 = await one_round("orders", texts, msgid0, expect_cards=False)
            stop_spy()
            # Extract-only again after the round: the machine's load drifts (other people's
            # work), so the figure the ratio uses is the mean of the two, around round 1.
            extract_after, _ = extract_only(texts, args.catalog)
            extract_rate = (extract_rate + extract_after) / 2
            r2 = await one_round("confirm", ["确认"] * len(openids), msgid0 + 10 * len(openids), expect_cards=True)
            stop_spy()
            cards = [e for t, e in watch.seen if e.get("msgtype") == "template_card"]
            stats = await db_counts(db_url)

        print(f"\n{args.customers} customers, {args.concurrency} in flight, {args.retries:.0%} delivered twice; "
              f"profile {args.profile}" + (f", {args.workers} worker(s)" if args.profile == "production" else "")
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        ours_names = [p.name for p in ours]
        for label, r in (("order message", r1), ("确认 → order placed", r2)):
            cpu = ", ".join(f"{n} {r.cpu_ms[n]:.1f}" for n in [*ours_names, "serve main thread"])
            total = sum(r.cpu_ms[n] for n in ours_names)
            print(f"{label:<20} {r.rate:7.0f}/s  lag p50 {r.p50:6.2f} s  p99 {r.p99:6.2f} s  "
                  f"CPU ms/msg: {cpu} (ours {total:.1f}; stand-in {r.cpu_ms['standin']:.1f})  "
                  f"answered {r.answered}, duplicates {r.duplicates}, unanswered at the end {r.lost}, non-200 {r.bad_http}")
            print(f"{'':<20} callbacks acknowledged within {r.acked_in:.2f} s, first answer at {r.first_reply:.2f} s, "
                  f"last at {r.answered / r.rate if r.rate else float('nan'):.2f} s; machine busy {r.busy_cores:.2f} "
                  f"of {os.cpu_count()} cores (every process, the bench and the databases included)")
            print(f"{'':<20} the machine's CPU a message {r.machine_ms:.2f} ms → at that cost {os.cpu_count()} "
                  f"cores answer at most {ceiling(r):.0f}/s ({r.rate / ceiling(r):.0%} of it used)")
        ratio = r1.rate / extract_rate
        print(f"extract-only         {extract_rate:7.0f}/s  (mean of before and after round 1) "
              f"→ answered / extract-only = {ratio:.3f}")
        print(f"orders placed {stats['orders']} (distinct customers {stats['customers_with_orders']}), "
              f"rep cards {len(cards)}, outbox parked {stats['parked']}, pending {stats['pending']}")
        print(f"orders placed/s      {r2.rate:7.0f}/s")
        ok = (r1.duplicates == r2.duplicates == 0 and r1.lost == r2.lost == 0
              and stats["orders"] == stats["customers_with_orders"] == args.customers)
        print("no duplicates, no lost replies, one order per customer: " + ("OK" if ok else "FAIL"))
        print(f"RESULT profile={args.profile} workers={args.workers} answered_per_s={r1.rate:.1f} "
              f"extract_per_s={extract_rate:.0f} ratio={ratio:.3f} p50={r1.p50:.2f} p99={r1.p99:.2f} "
              f"cpu_ms={sum(r1.cpu_ms[n] for n in ours_names):.2f} orders_per_s={r2.rate:.1f} "
              f"order_cpu_ms={sum(r2.cpu_ms[n] for n in ours_names):.2f} "
              f"machine_ms={r1.machine_ms:.2f} ceiling_per_s={ceiling(r1):.0f} ok={ok}")
        return 0 if ok else 1
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        for p in reversed(procs):
            p.stop()
        if redis_client is not None:
            await release_redis(redis_client)
        if pg_name is not None:
            await run_autocommit(args.postgres, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


async def _open_windows(http: aiohttp.ClientSession, base: str, openids: list[str]) -> None:
    """What the customer's own message does at WeChat: opens the 48-hour window (the bench
    delivers the callbacks itself, so it tells the stand-in)."""
    sem = asyncio.Semaphore(16)

    async def one(openid: str) -> None:
        async with sem, http.post(f"{base}/__window__", json={"openid": openid}) as resp:
            await resp.read()

    await asyncio.gather(*(one(o) for o in openids))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=600)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--retries", type=float, default=0.1, help="share of callbacks delivered twice at once")
    p.add_argument("--profile", choices=("embedded", "production"), default="embedded")
    p.add_argument("--workers", type=int, default=1, help="orderbot worker processes (production)")
    p.add_argument("--catalog", type=Path, default=DEMO_CATALOG)
    p.add_argument("--timeout", type=float, default=300.0, help="longest wait for one round's replies (s)")
    p.add_argument("--py-spy", type=Path, help="record the serve process during each round into "
                   "FILE-orders / FILE-confirm (.svg flame graph, or .txt collapsed stacks)")
    p.add_argument("--py-spy-of", default="serve", metavar="PROCESS",
                   help="which process --py-spy records: serve (default), worker1, worker2, standin")
    p.add_argument("--keep", action="store_true", help="keep the logs and the SQLite file")
    p.add_argument("--postgres", default=os.environ.get(
        "ORDERBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    p.add_argument("--redis", default=os.environ.get("ORDERBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = p.parse_args()
    if args.customers < 1 or args.concurrency < 1 or args.workers < 1:
        p.error("--customers, --concurrency and --workers must be ≥ 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
