"""Nothing lost when things break: the production profile under load while faults are injected.

    .venv/bin/python bench/faults.py [--minutes 3] [--customers-per-minute 30] [--fault-gap 12]
                                     [--redis-restart] [--seed 1] [--json]

What runs, all on this machine: a fresh PostgreSQL database (dropped at the end) and Redis
(database 11, our keys deleted at the end), `orderbot standin`, two `orderbot serve` and two
`orderbot worker` processes. Customers order through the stand-in as people would: a chat
message with a whole order, 确认 once the summary arrives, the rep presses 确认 on the WeCom
card, the WMS posts "shipped" then "delivered" to /hooks/logistics. Callbacks and hooks are
spread over the two web processes; a callback the stand-in could not deliver (3 tries, as
WeChat) is sent again with the same MsgId, a hook again with the same event_id.

Faults, one every ~--fault-gap seconds at random: kill -9 of a worker and of a web process
(each restarted a second later), pg_terminate_backend of every connection to the database,
the stand-in failing its API paths for 8 s (502, hanging past the client timeout, -1 busy,
45009 rate limits: orderbot/standin/faults.py; with --lost-answers also a message delivered
whose answer is lost) and, only with --redis-restart, a Redis
restart (`redis-cli shutdown nosave` + `redis-server …`, down well under a second — other
work on this machine uses that Redis too).

At the end (faults stopped, outbox drained): messages accepted vs stored, orders placed vs
expected, customer replies and rep cards per cause (missing, duplicated), outbox rows parked,
faults injected, the send ledger's repeats by kind and cause (workers/push_router.py: a send
whose earlier call was interrupted, counted before it goes out again) beside the repeats the
stand-in dropped as the platform would (client_msg_id, WeCom duplicate check), and the
resident memory of every process sampled every 2 s (start, peak, end; a killed process starts
again small, so its longest life is shown too); `--json` prints the same as one JSON object
(tests/faults reads it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS_BASE_URL = "redis://127.0.0.1:6379"
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
ORDERBOT = str(Path(sys.executable).with_name("orderbot"))  # the command beside this Python (the venv's)
REPS = ["zhoumin", "lihua", "wangqiang", "chenjing", "huangwei", "liuyang", "sunli", "zhaolei", "xuming"]
ORDER_TEXT = "M6*20外六角 304的 {qty}个，明天送常州武进湖塘镇长虹路88号，张工 138{phone:08d}"
STEP_TIMEOUT = 120.0  # seconds a customer waits for the next thing to happen

# What the customer hears, by cause (bot/replies.py, workers/notify.py texts).
# A late-delivery apology (orders/late.py) is its own cause, not a repeat of the others.
REPLY_CAUSES = (("late", re.compile(r"^非常抱歉.*未能按原定")), ("summary", re.compile(r"^请核对订单")), ("created", re.compile(r"已收到您的订单|下单成功")),
                ("confirmed", re.compile(r"已确认")), ("shipped", re.compile(r"已发货")),
                ("delivered", re.compile(r"已签收")))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- processes ------------------------------------------------------------------------------


@dataclass
class Proc:
    """One orderbot process we start, kill -9 and start again."""

    name: str
    args: list[str]
    env: dict[str, str]
    logdir: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.logdir / f"{self.name}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.popen = subprocess.Popen([ORDERBOT, *self.args], env=self.env, stdout=log, stderr=log,
                                      start_new_session=True)

    def kill9(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Cluster:
    env: dict[str, str]
    logdir: Path
    standin_port: int = field(default_factory=free_port)
    web_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def standin(self) -> str:
        return f"http://127.0.0.1:{self.standin_port}"

    def web(self, i: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[i % 2]}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        w0 = self.web(0)
        self.procs["standin"] = Proc("standin", ["standin", "--port", str(self.standin_port),
                                                 "--callback-url", f"{w0}/wechat/callback",
                                                 "--wecom-callback-url", f"{w0}/wecom/callback",
                                                 "--callback-timeout", "5"], self.env, self.logdir)
        for i, port in enumerate(self.web_ports):
            self.procs[f"web{i}"] = Proc(f"web{i}", ["serve", "--port", str(port)], self.env, self.logdir)
        for i in range(2):
            self.procs[f"worker{i}"] = Proc(f"worker{i}", ["worker"], self.env, self.logdir)
        self.procs["standin"].start()
        await wait_ok(http, f"{self.standin}/__stats__")
        for userid in REPS:
            await http.post(f"{self.standin}/__users__", json={"userid": userid, "app": "wecom"})
        for i in range(2):
            self.procs[f"web{i}"].start()
        for i in range(2):
            await wait_ok(http, f"{self.web(i)}/readyz")
        for i in range(2):
            self.procs[f"worker{i}"].start()

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its direct children (kB), 0 when it is gone."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
    return total


@dataclass
class Memory:
    """RSS of every process we started, sampled through the run: per process its first sample,
    peak and last, and per incarnation (a kill -9 starts a fresh one) its first and last."""

    samples: dict[str, list[tuple[float, int, int]]] = field(default_factory=lambda: defaultdict(list))
    t0: float = field(default_factory=time.monotonic)
    warm_up: float = 15.0  # seconds of a process's life before its size counts as its start

    def sample(self, cluster: Cluster) -> None:
        for name, proc in cluster.procs.items():
            if proc.popen is not None and proc.popen.poll() is None:
                kb = rss_kb(proc.popen.pid)
                if kb:
                    self.samples[name].append((time.monotonic() - self.t0, proc.starts, kb))

    async def run(self, cluster: Cluster, every: float = 2.0) -> None:
        while True:
            self.sample(cluster)
            await asyncio.sleep(every)

    def _warm(self, life: list[tuple[float, int, int]]) -> tuple[float, int, int]:
        """The first sample past the warm-up (imports done, pools open), else the last."""
        return next((r for r in life if r[0] - life[0][0] >= self.warm_up), life[-1])

    def table(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, rows in self.samples.items():
            if not rows:
                continue
            by_start: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
            for row in rows:
                by_start[row[1]].append(row)
            longest = max(by_start.values(), key=lambda r: r[-1][0] - r[0][0])
            first = by_start[min(by_start)]
            out[name] = {"start_mb": self._warm(first)[2] / 1024, "peak_mb": max(r[2] for r in rows) / 1024,
                         "end_mb": rows[-1][2] / 1024, "incarnations": len(by_start),
                         "longest_life_s": longest[-1][0] - longest[0][0],
                         "longest_start_mb": self._warm(longest)[2] / 1024, "longest_end_mb": longest[-1][2] / 1024}
        return out


async def wait_ok(http: aiohttp.ClientSession, url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                if resp.status == 200:
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up in {within:.0f} s")
        await asyncio.sleep(0.2)


# ---- what the stand-in saw ------------------------------------------------------------------


class Sent:
    """Polls the stand-in's /__sent__ and lets customers wait for what they expect."""

    def __init__(self, http: aiohttp.ClientSession, standin: str) -> None:
        self.http, self.standin = http, standin
        self.entries: list[dict[str, Any]] = []
        self.texts: dict[str, list[str]] = defaultdict(list)  # customer-service texts by openid
        self.changed = asyncio.Condition()
        self.last = 0

    async def poll_once(self) -> None:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, RuntimeError):
            async with self.http.get(f"{self.standin}/__sent__", params={"after": str(self.last)},
                                     timeout=aiohttp.ClientTimeout(total=10)) as resp:
                new = await resp.json()
            if new:
                self.entries.extend(new)
                for e in new:
                    if (text := customer_text(e)) is not None:
                        self.texts[e["to"]].append(text)
                self.last = new[-1]["id"]
                async with self.changed:
                    self.changed.notify_all()

    async def run(self) -> None:
        while not self.http.closed:
            await self.poll_once()
            await asyncio.sleep(0.3)

    async def wait_for(self, found: Callable[[], Any], within: float = STEP_TIMEOUT) -> Any:
        deadline = time.monotonic() + within
        while (result := found()) is None or result is False:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            async with self.changed:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
        return result

    def texts_to(self, openid: str) -> list[str]:
        return self.texts.get(openid, [])

    def card_for(self, number: str) -> dict[str, Any] | None:
        for e in self.entries:
            if e["api"] == "wecom_send" and e["msgtype"] == "template_card":
                card = e["payload"]["template_card"]
                if number in json.dumps(card, ensure_ascii=False):
                    return e
        return None


def customer_text(entry: dict[str, Any]) -> str | None:
    """What a customer read in one message the stand-in accepted: a customer-service text, or
    a template / subscribe message (the push router's way round a closed 48-hour window or a
    refused customer-service send: the same notice, in the template's fields)."""
    payload = entry["payload"]
    if entry["api"] == "custom_send" and entry["msgtype"] == "text":
        return str(payload["text"]["content"])
    if entry["api"] in ("template_send", "subscribe_send"):
        return " ".join(str(v.get("value", "")) for v in (payload.get("data") or {}).values() if isinstance(v, dict))
    return None


# ---- customers ------------------------------------------------------------------------------


@dataclass
class Tally:
    accepted_msgids: list[str] = field(default_factory=list)
    undelivered: int = 0  # callbacks the stand-in gave up on after all our resends
    expected: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    stuck: Counter[str] = field(default_factory=Counter)
    stuck_orders: dict[str, str] = field(default_factory=dict)  # order number -> where it stopped
    done: int = 0
    started: int = 0


async def simulate(http: aiohttp.ClientSession, cluster: Cluster, realm: str, body: dict[str, Any],
                   tally: Tally, deadline: float = 60.0) -> dict[str, Any] | None:
    """One user action delivered to either web process, sent again (same MsgId) until it is
    acknowledged: WeChat's own retries, then the user trying again."""
    end = time.monotonic() + deadline
    i = random.randrange(2)
    while time.monotonic() < end:
        path = "wechat/callback" if realm == "wechat" else "wecom/callback"
        payload = {**body, "callback_url": f"{cluster.web(i)}/{path}", "timeout": 5, "attempts": 2}
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            async with http.post(f"{cluster.standin}/__simulate__/{realm}", json=payload,
                                 timeout=aiohttp.ClientTimeout(total=30)) as resp:
                facts = await resp.json()
            if facts.get("delivered"):
                if "msgid" in facts:
                    tally.accepted_msgids.append(str(facts["msgid"]))
                return facts
        i += 1
        await asyncio.sleep(0.5)
    tally.undelivered += 1
    return None


async def hook(http: aiohttp.ClientSession, cluster: Cluster, secret: str, event: dict[str, Any],
               deadline: float = 60.0) -> bool:
    """A signed logistics event, posted again (same event_id) until it is answered 200."""
    body = json.dumps(event, ensure_ascii=False).encode()
    end, i = time.monotonic() + deadline, random.randrange(2)
    while time.monotonic() < end:
        ts = str(int(time.time()))
        sig = hmac.new(secret.encode(), ts.encode() + body, hashlib.sha256).hexdigest()
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with http.post(f"{cluster.web(i)}/hooks/logistics", data=body, timeout=aiohttp.ClientTimeout(total=15),
                                 headers={"X-Orderbot-Timestamp": ts, "X-Orderbot-Signature": sig,
                                          "Content-Type": "application/json"}) as resp:
                if resp.status == 200:
                    return True
        i += 1
        await asyncio.sleep(1.0)
    return False


async def order_of(db: str, openid: str) -> tuple[str, str] | None:
    with contextlib.suppress(Exception):  # our own connections are cut by pg_terminate too
        conn = await asyncpg.connect(db, timeout=5)
        try:
            row = await conn.fetchrow("SELECT o.number, o.status FROM orders o JOIN customer c ON c.id = o.customer_id"
                                      " WHERE c.openid = $1 ORDER BY o.id LIMIT 1", openid)
        finally:
            await conn.close()
        return (row["number"], row["status"]) if row else None
    return None


async def wait_order(db: str, openid: str, status: str, within: float = STEP_TIMEOUT) -> str | None:
    end = time.monotonic() + within
    while time.monotonic() < end:
        found = await order_of(db, openid)
        if found and found[1] == status:
            return found[0]
        await asyncio.sleep(0.5)
    return None


async def customer(n: int, http: aiohttp.ClientSession, cluster: Cluster, sent: Sent, db: str,
                   secret: str, tally: Tally) -> None:
    """One customer's order from first message to delivery; stops where something is missing."""
    openid = f"o_fault_{n:05d}"
    exp = tally.expected[openid]
    tally.started += 1
    text = ORDER_TEXT.format(qty=100 + n % 50 * 10, phone=n)
    if not await simulate(http, cluster, "wechat", {"openid": openid, "text": text}, tally):
        tally.stuck["order text not delivered"] += 1
        return
    exp["summary"] += 1
    if not await sent.wait_for(lambda: any(t.startswith("请核对订单") for t in sent.texts_to(openid))):
        tally.stuck["no summary"] += 1
        return
    if not await simulate(http, cluster, "wechat", {"openid": openid, "text": "确认"}, tally):
        tally.stuck["确认 not delivered"] += 1
        return
    exp["order"] += 1
    exp["created"] += 1
    exp["card_new"] += 1
    number = await wait_order(db, openid, "pending")
    if number is None:
        tally.stuck["no pending order"] += 1
        return
    card = await sent.wait_for(lambda: sent.card_for(number))
    if card is None:
        tally.stuck["no card"] += 1
        return
    template = card["payload"]["template_card"]
    key = next(b["key"] for b in template["button_list"] if b["text"] == "确认")
    rep = card["to"][0] if isinstance(card["to"], list) else card["to"]
    press = {"userid": rep, "event": "template_card_event", "event_key": key, "task_id": template["task_id"]}
    if not await simulate(http, cluster, "wecom", press, tally):
        tally.stuck["card press not delivered"] += 1
        return
    exp["confirmed"] += 1
    exp["card_update"] += 1
    exp["rep_confirmed"] += 1
    if await wait_order(db, openid, "confirmed") is None:
        tally.stuck["not confirmed"] += 1
        tally.stuck_orders[number] = "not confirmed"
        return
    ship = {"system": "wms", "code": "shipped", "order_number": number, "event_id": f"S-{number}",
            "carrier": "顺丰速运", "waybill_no": f"SF{n:08d}"}
    if not await hook(http, cluster, secret, ship):
        tally.stuck["ship hook refused"] += 1
        return
    exp["shipped"] += 1
    if not await hook(http, cluster, secret, {"system": "wms", "code": "delivered", "order_number": number,
                                              "event_id": f"D-{number}"}):
        tally.stuck["deliver hook refused"] += 1
        return
    exp["delivered"] += 1
    exp["rep_delivered"] += 1
    tally.done += 1


# ---- faults ---------------------------------------------------------------------------------


async def terminate_backends(dbname: str) -> int:
    conn = await asyncpg.connect(f"{PG}/test", timeout=5)
    try:
        rows = await conn.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                " WHERE datname = $1 AND pid <> pg_backend_pid()", dbname)
    finally:
        await conn.close()
    return len(rows)


async def restart_redis() -> float:
    """`redis-cli shutdown nosave`, then the same server again; the seconds it was down."""
    started = time.monotonic()
    await asyncio.to_thread(subprocess.run, ["redis-cli", "shutdown", "nosave"], capture_output=True, timeout=5)
    await asyncio.to_thread(subprocess.run, REDIS_START, capture_output=True, timeout=5, check=True)
    while True:
        done = await asyncio.to_thread(subprocess.run, ["redis-cli", "ping"], capture_output=True, timeout=5)
        if done.stdout.strip() == b"PONG":
            return time.monotonic() - started
        if time.monotonic() - started > 5:
            raise RuntimeError("redis did not come back within 5 s")
        await asyncio.sleep(0.02)


async def inject_faults(args: argparse.Namespace, http: aiohttp.ClientSession, cluster: Cluster, dbname: str,
                        stop: asyncio.Event, injected: Counter[str], notes: list[str]) -> None:
    kinds = ["kill_worker", "kill_web", "pg_terminate", "standin_faults"] + (["redis_restart"] if args.redis_restart else [])
    rng = random.Random(args.seed)
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 1.5) * args.fault_gap)
        if stop.is_set():
            return
        kind = kinds[injected.total() % len(kinds)] if injected.total() < len(kinds) else rng.choice(kinds)
        injected[kind] += 1
        if kind in ("kill_worker", "kill_web"):
            proc = cluster.procs[f"{'worker' if kind == 'kill_worker' else 'web'}{rng.randrange(2)}"]
            proc.kill9()
            await asyncio.sleep(1.0)
            proc.start()
        elif kind == "pg_terminate":
            notes.append(f"pg_terminate_backend: {await terminate_backends(dbname)} connections")
        elif kind == "standin_faults":
            kinds_ = ["5xx", "timeout", "busy", "rate_limit"] + (["lost_answer"] if args.lost_answers else [])
            await http.post(f"{cluster.standin}/__faults__", json={"rate": 0.3, "hang_seconds": 12, "kinds": kinds_,
                                                                    "seed": rng.randrange(10**6)})
            await asyncio.sleep(8)
            await http.delete(f"{cluster.standin}/__faults__")
        elif kind == "redis_restart":
            notes.append(f"redis down {await restart_redis():.3f} s")


# ---- counting -------------------------------------------------------------------------------


# Work still owed: pending rows, except the self-scheduling ones written at start-up for a later
# day (the managers' daily digest, next month's COEI survey), never due during a run.
PENDING_SQL = "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind NOT IN ('board_digest', 'coei_survey')"


async def outbox_busy(db: str) -> int:
    with contextlib.suppress(Exception):  # our own connections are cut by pg_terminate too
        conn = await asyncpg.connect(db, timeout=5)
        try:
            return int(await conn.fetchval(PENDING_SQL))
        finally:
            await conn.close()
    return -1


async def count(db: str, sent: Sent, tally: Tally, injected: Counter[str]) -> dict[str, Any]:
    conn = await asyncpg.connect(db, timeout=10)
    try:
        stored = {r["dedup_key"] for r in await conn.fetch("SELECT dedup_key FROM inbound_message")}
        orders = await conn.fetch("SELECT c.openid, o.number FROM orders o JOIN customer c ON c.id = o.customer_id"
                                  " WHERE c.openid LIKE 'o_fault_%'")
        parked = await conn.fetch("SELECT kind, count(*) AS n FROM outbox WHERE state = 'parked' GROUP BY kind")
        pending = int(await conn.fetchval(PENDING_SQL))
        ledger = await conn.fetch("SELECT channel, state, repeat_cause, count(*) AS n, sum(repeats) AS repeats"
                                  " FROM push_delivery GROUP BY channel, state, repeat_cause")
        stuck = await diagnose(conn, tally.stuck_orders)
    finally:
        await conn.close()
    numbers: dict[str, list[str]] = defaultdict(list)
    for r in orders:
        numbers[r["openid"]].append(r["number"])
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for openid in tally.expected:
        for text in sent.texts_to(openid):
            cause = next((c for c, rx in REPLY_CAUSES if rx.search(text)), "other")
            seen[openid][cause] += 1
        seen[openid]["order"] = len(numbers.get(openid, []))
    by_number = {num: openid for openid, nums in numbers.items() for num in nums}
    for e in sent.entries:
        if e["api"] not in ("wecom_send", "update_template_card"):
            continue
        blob = json.dumps(e["payload"], ensure_ascii=False)
        for num, openid in by_number.items():
            if num in blob:
                text = e["payload"].get("text", {}).get("content", "") if e["msgtype"] == "text" else ""
                cause = ("card_update" if e["api"] == "update_template_card" else
                         "card_new" if e["msgtype"] == "template_card" else
                         "rep_late" if text.startswith("【交期延误】") else
                         "rep_confirmed" if "已确认" in text else "rep_delivered" if "已签收" in text else "rep_other")
                seen[openid][cause] += 1
    causes = ["order", "summary", "created", "card_new", "confirmed", "card_update", "rep_confirmed", "shipped",
              "delivered", "rep_delivered"]
    table: dict[str, dict[str, int]] = {}
    for cause in causes:
        expected = sum(exp[cause] for exp in tally.expected.values())
        got = [seen[o][cause] for o, exp in tally.expected.items() if exp[cause]]
        table[cause] = {"expected": expected, "sent": sum(seen[o][cause] for o in tally.expected),
                        "missing": sum(1 for o, exp in tally.expected.items() if exp[cause] and not seen[o][cause]),
                        "duplicates": sum(max(0, n - 1) for n in got)}
    crashes = injected["kill_worker"] + injected["kill_web"]
    repeats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    states: dict[str, int] = defaultdict(int)
    for r in ledger:
        states[r["state"]] += r["n"]
        if r["repeats"]:
            repeats[r["channel"]][r["repeat_cause"] or "?"] += int(r["repeats"])
    return {
        "customers": tally.started, "flows_completed": tally.done, "stuck": dict(tally.stuck),
        "stuck_orders": stuck,
        "messages": {"accepted": len(tally.accepted_msgids),
                     "stored": sum(1 for m in tally.accepted_msgids if m in stored),
                     "undelivered": tally.undelivered},
        "causes": table, "outbox_parked": {r["kind"]: r["n"] for r in parked}, "outbox_pending": pending,
        "faults": dict(injected), "crashes": crashes,
        "duplicate_sends": sum(row["duplicates"] for c, row in table.items() if c != "order"),
        "ledger": {"rows_by_state": dict(states),
                   "repeats_by_kind": {k: dict(v) for k, v in repeats.items()},
                   "repeats": sum(sum(v.values()) for v in repeats.values()),
                   "repeats_after_crash": sum(v.get("crash", 0) for v in repeats.values()),
                   "uncovered_repeats": sum(sum(v.values()) for k, v in repeats.items() if k in UNCOVERED)},
    }


async def diagnose(conn: asyncpg.Connection, orders: dict[str, str]) -> dict[str, Any]:
    """For each order a flow gave up on: its status, its events, and the WeCom messages naming
    it (card presses) with their state and their outbox rows: where the chain broke."""
    found: dict[str, Any] = {}
    for number, where in orders.items():
        order = await conn.fetchrow("SELECT id, status FROM orders WHERE number = $1", number)
        events = [] if order is None else [
            f"{r['type']}:{r['from_status']}->{r['to_status']}" for r in await conn.fetch(
                "SELECT type, from_status, to_status FROM order_event WHERE order_id = $1 ORDER BY id", order["id"])]
        presses = [dict(r) for r in await conn.fetch(
            "SELECT m.id, m.state, m.from_user, m.received_at::text AS at, o.state AS outbox, o.attempts,"
            " o.last_error FROM inbound_message m LEFT JOIN outbox o ON o.kind = 'wecom_inbound'"
            " AND (o.payload->>'message_id')::int = m.id WHERE m.channel = 'wecom' AND m.content LIKE $1",
            f"%{number}%")]
        found[number] = {"stopped": where, "status": order and order["status"], "events": events,
                         "presses": presses}
    return found


# Channels whose repeat may reach the person twice: the platform takes no idempotency key.
# Template messages carry client_msg_id, WeCom app texts and cards enable_duplicate_check,
# and a card update's response_code works once.
UNCOVERED = frozenset({"cs", "subscribe", "robot"})


def print_table(result: dict[str, Any], notes: list[str]) -> None:
    m = result["messages"]
    print(f"customers {result['customers']}, flows completed {result['flows_completed']}, stuck {result['stuck']}")
    print(f"messages accepted {m['accepted']}, stored {m['stored']}, never delivered {m['undelivered']}")
    print(f"{'cause':<12}{'expected':>9}{'sent':>7}{'missing':>9}{'dups':>6}")
    for cause, row in result["causes"].items():
        print(f"{cause:<12}{row['expected']:>9}{row['sent']:>7}{row['missing']:>9}{row['duplicates']:>6}")
    print(f"outbox parked {result['outbox_parked'] or 0}, still pending {result['outbox_pending']}")
    f = result["faults"]
    print(f"faults injected {f} — crashes {result['crashes']} (kill -9 worker {f.get('kill_worker', 0)}, "
          f"web {f.get('kill_web', 0)}), connection kills {f.get('pg_terminate', 0)}, "
          f"stand-in fault windows {f.get('standin_faults', 0)}, redis restarts {f.get('redis_restart', 0)}")
    print(f"duplicate sends seen by the stand-in {result['duplicate_sends']} "
          f"(≤ 1 per crash: {result['duplicate_sends'] <= result['crashes']}); "
          f"repeats the platform dropped: {result.get('standin_deduplicated') or 0}")
    led = result["ledger"]
    print(f"send ledger: rows {led['rows_by_state']}; repeats {led['repeats']} "
          f"(after a crash {led['repeats_after_crash']}, on channels without platform dedup "
          f"{led['uncovered_repeats']})")
    for kind, causes in sorted(led["repeats_by_kind"].items()):
        cover = "may show twice" if kind in UNCOVERED else "deduplicated by the platform"
        print(f"  {kind:<12} {sum(causes.values()):>4}  {dict(causes)}  ({cover})")
    mem = result.get("memory") or {}
    if mem:
        print(f"{'memory (RSS MB)':<16}{'start':>7}{'peak':>7}{'end':>7}{'lives':>6}   longest life: "
              f"start→end (start = {Memory.warm_up:.0f} s after launch)")
        for name, m in mem.items():
            print(f"{name:<16}{m['start_mb']:>7.1f}{m['peak_mb']:>7.1f}{m['end_mb']:>7.1f}{m['incarnations']:>6}"
                  f"   {m['longest_life_s']:.0f} s: {m['longest_start_mb']:.1f}→{m['longest_end_mb']:.1f}")
    for note in notes:
        print("  " + note)


# ---- main -----------------------------------------------------------------------------------


def environment(db: str, standin_port: int, redis_url: str) -> tuple[dict[str, str], str]:
    secret = secrets.token_hex(16)
    base = f"http://127.0.0.1:{standin_port}"
    env = {
        **os.environ,
        "ORDERBOT_DATABASE_URL": db.replace("postgresql://", "postgresql+asyncpg://"),
        "ORDERBOT_REDIS_URL": redis_url, "ORDERBOT_LOG_LEVEL": "WARNING",
        "WECHAT_APPID": "wx_fault_oa", "WECHAT_SECRET": secrets.token_hex(16), "WECHAT_TOKEN": secrets.token_hex(8),
        "WECHAT_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
        "WECOM_CORPID": "ww_fault_corp", "WECOM_AGENTID": "1000002", "WECOM_SECRET": secrets.token_hex(16),
        "WECOM_TOKEN": secrets.token_hex(8),
        "WECOM_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
        "WECOM_ROBOT_KEY": "fault-robot", "MINIPROGRAM_APPID": "wx_fault_mp", "MINIPROGRAM_SECRET": "s",
        "ORDERBOT_HOOK_SECRET": secret, "WECHAT_API_BASE": base, "WECOM_API_BASE": base,
        # Short leases and backoffs so a killed worker's rows and failed sends come back within
        # the run (production: 60 s lease, up to 15 min backoff).
        "ORDERBOT_OUTBOX_LEASE_SECONDS": "10", "ORDERBOT_OUTBOX_BACKOFF_BASE": "0.5",
        "ORDERBOT_OUTBOX_BACKOFF_MAX": "5", "ORDERBOT_OUTBOX_MAX_ATTEMPTS": "40",
        "ORDERBOT_OUTBOX_POLL_INTERVAL": "0.3",
    }
    return env, secret


async def claim_redis_db() -> tuple[str, Any]:
    """An empty Redis database number (1-15), claimed with a marker key: two runs at once (two
    checkouts' CI on one machine) would otherwise share inbound dedup keys, and one run's card
    press would be dropped as the other's retry."""
    import redis.asyncio as redis

    for n in range(15, 0, -1):
        client = redis.from_url(f"{REDIS_BASE_URL}/{n}")
        if await client.dbsize() == 0 and await client.set("orderbot-faults:owner", os.getpid(), nx=True, ex=7200):
            return f"{REDIS_BASE_URL}/{n}", client
        await client.aclose()
    raise RuntimeError("no empty Redis database number (1-15) to run in")


async def drop_redis_keys(client: Any) -> None:
    """Our keys only (and the marker), never FLUSHDB."""
    try:
        keys = [k async for k in client.scan_iter(match="orderbot*", count=1000)]
        for i in range(0, len(keys), 1000):
            await client.delete(*keys[i : i + 1000])
    finally:
        await client.aclose()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from service.commands.demo import DEMO_DIR, seed

    random.seed(args.seed)
    dbname = f"orderbot_faults_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{PG}/test")
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    await admin.close()
    db = f"{PG}/{dbname}"
    logdir = Path(tempfile.mkdtemp(prefix="orderbot-faults-"))
    cluster = Cluster(env={}, logdir=logdir)
    redis_url, redis_client = await claim_redis_db()
    cluster.env, secret = environment(db, cluster.standin_port, redis_url)
    os.environ.update({k: v for k, v in cluster.env.items() if k.startswith(("WECHAT_", "WECOM_", "MINIPROGRAM_"))})
    notes: list[str] = [f"logs in {logdir}"]
    injected: Counter[str] = Counter()
    tally = Tally()
    try:
        await seed(cluster.env["ORDERBOT_DATABASE_URL"], DEMO_DIR / "catalog.csv")
        async with aiohttp.ClientSession() as http:
            await cluster.start(http)
            sent = Sent(http, cluster.standin)
            poller = asyncio.create_task(sent.run())
            memory = Memory()
            sampler = asyncio.create_task(memory.run(cluster))
            stop = asyncio.Event()
            faults = asyncio.create_task(inject_faults(args, http, cluster, dbname, stop, injected, notes))
            flows: list[asyncio.Task[None]] = []
            gap = 60.0 / args.customers_per_minute
            end = time.monotonic() + args.minutes * 60
            n = 0
            while time.monotonic() < end:
                flows.append(asyncio.create_task(customer(n, http, cluster, sent, db, secret, tally)))
                n += 1
                await asyncio.sleep(random.expovariate(1 / gap))
            stop.set()
            await faults
            await http.delete(f"{cluster.standin}/__faults__")
            for proc in cluster.procs.values():  # anything left dead by the last fault
                if proc.popen is not None and proc.popen.poll() is not None:
                    proc.start()
            await asyncio.gather(*flows)
            quiet_by = time.monotonic() + 90
            while await outbox_busy(db) != 0 and time.monotonic() < quiet_by:  # noqa: ASYNC110 - another process's rows
                await asyncio.sleep(1)
            await asyncio.sleep(2)
            await sent.poll_once()
            poller.cancel()
            memory.sample(cluster)
            sampler.cancel()
            async with http.get(f"{cluster.standin}/__faults__") as resp:
                notes.append(f"stand-in faults: {(await resp.json())['injected']}")
            async with http.get(f"{cluster.standin}/__stats__") as resp:
                deduplicated = (await resp.json()).get("deduplicated") or {}
            result = await count(db, sent, tally, injected)
            result["standin_deduplicated"] = deduplicated
            result["memory"] = memory.table()
            (logdir / "sent.json").write_text(json.dumps(sent.entries, ensure_ascii=False, indent=1))
    finally:
        cluster.stop()
        admin = await asyncpg.connect(f"{PG}/test")
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()
        with contextlib.suppress(Exception):
            await drop_redis_keys(redis_client)
    result["notes"] = notes
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=3.0, help="minutes of load and faults (then drain)")
    p.add_argument("--customers-per-minute", type=float, default=30.0)
    p.add_argument("--fault-gap", type=float, default=12.0, help="mean seconds between faults")
    p.add_argument("--redis-restart", action="store_true",
                   help="also restart the local Redis (shared with other work: off by default)")
    p.add_argument("--lost-answers", action="store_true",
                   help="the stand-in also delivers a message and then loses its answer (the ledger marks "
                        "it unsure and the retry is counted; customer-service texts take no dedup key and "
                        "show twice, template messages and WeCom messages are dropped by the platform)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return p.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    outcome = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(outcome, ensure_ascii=False))
    else:
        print_table(outcome, outcome["notes"])
