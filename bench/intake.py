"""Throughput and latency of POST /wechat/callback, beside a bare aiohttp handler.

    .venv/bin/python bench/intake.py [--requests 10000] [--concurrency 8] [--retries 0.2]

Each server runs alone in its own process (a real TCP server on a free port); this process
is the load generator (an aiohttp client keeping `concurrency` requests in flight). The
callback server is the embedded profile: SQLite file (the in-process store is not consulted;
the unique key decides), safe mode (AES), so every request is verified, decrypted, parsed,
stored with its outbox row and acknowledged. `--retries` of the messages are delivered a
second time, concurrently with the first, as WeChat's retries; afterwards the database must
hold each distinct message exactly once. `--servers bare,callback,app,production` adds the
production profile (PostgreSQL, a fresh database per round, with the Redis store in front).
`serve` is what `orderbot serve` runs, conversation included: every feature, the demo catalog,
and the in-process outbox worker answering each stored message while the callbacks arrive
(replies to an in-process API that accepts them); issue 13 asks it to stay ≥ 0.5× bare.

Prints requests/s, p50/p99 latency and the server's CPU time per request for each server
(run interleaved round by round, each on the event loop `orderbot serve` uses: uvloop, or
ORDERBOT_EVENT_LOOP=asyncio) and the throughput ratio against the bare handler: the
median of each round's ratio to the bare run beside it. Targets: ratio ≥ 0.5, p99 ≤ 20 ms,
0 duplicates. On a shared machine the req/s figures move with other people's load; the CPU
per request and the paired ratio are the steadier figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import xmltodict
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN, AES_KEY, APP_ID = (
    "bench-token",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "wxbench0000000001",
)


# --- the servers (run in a child process) -------------------------------------------------


async def _bare_app(_db_path: str = "") -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/wechat/callback", handler)
    return app


async def _callback_app(db_path: str) -> web.Application:
    from sqlmodel import SQLModel

    import orders.models  # noqa: F401
    from bot.intake import Intake, dedup_store
    from bot.wechat_callback import WeChatCallback, setup
    from bot.wechat_crypto import CallbackCrypto
    from orderbot.db import make_engine, make_sessionmaker
    from orderbot.stores_memory import MemoryStore

    engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    app = web.Application()
    crypto = CallbackCrypto(TOKEN, AES_KEY, APP_ID)
    # As the app builds it: the embedded profile's in-process store is not consulted (the
    # unique key decides); with Redis the store would answer retries first.
    intake = Intake(make_sessionmaker(engine), dedup_store(MemoryStore()))
    setup(app, WeChatCallback(crypto, intake))

    async def close(_app: web.Application) -> None:
        await engine.dispose()

    app.on_cleanup.append(close)
    return app


async def _production_app(db_url: str) -> web.Application:
    """The same callback on the production profile: PostgreSQL, and the Redis store in front
    of it (shared between processes, so it is consulted), as `orderbot serve` builds them
    when ORDERBOT_DATABASE_URL and ORDERBOT_REDIS_URL point there."""
    from bot.intake import Intake, dedup_store
    from bot.wechat_callback import WeChatCallback, setup
    from bot.wechat_crypto import CallbackCrypto
    from orderbot.db import make_engine, make_sessionmaker
    from orderbot.stores_redis import RedisStore

    engine = make_engine(db_url)
    store = RedisStore(os.environ["BENCH_REDIS_URL"], prefix=f"orderbot:bench:{os.getpid()}:")
    app = web.Application()
    crypto = CallbackCrypto(TOKEN, AES_KEY, APP_ID)
    setup(app, WeChatCallback(crypto, Intake(make_sessionmaker(engine), dedup_store(store))))

    async def close(_app: web.Application) -> None:
        keys = [k async for k in store.client.scan_iter(match=f"{store.prefix}*", count=1000)]
        if keys:
            await store.client.delete(*keys)
        await store.close()
        await engine.dispose()

    app.on_cleanup.append(close)
    return app


async def _full_app(db_path: str) -> web.Application:
    """What `orderbot serve` runs (create_app: middlewares, metrics, JSON logging at the
    default level — to /dev/null here), with only this feature mounted and the in-process
    outbox worker off, so the figure is the intake's own."""
    from sqlmodel import SQLModel

    import orders.models  # noqa: F401
    from orderbot.db import make_engine
    from orderbot.logging import setup_logging
    from orderbot.settings import Settings
    from service.app import create_app

    url = f"sqlite+aiosqlite:///{db_path}"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    await engine.dispose()
    settings = Settings(
        database_url=url,
        redis_url=None,
        wechat_token=TOKEN,
        wechat_aes_key=AES_KEY,
        wechat_appid=APP_ID,
    )
    setup_logging(settings.log_level, stream=open(os.devnull, "w"))  # noqa: ASYNC230, SIM115 (opened once, kept)
    return create_app(settings, start_worker=False, features=("bot.wechat_callback",))


class _AnsweredPushApi:
    """WeChat's and WeCom's send APIs as the `serve` server's worker sees them: every push
    accepted at once, counted (a real network would only add waiting, not our CPU)."""

    def __init__(self) -> None:
        self.sent = 0

    async def _ok(self, *_: Any, **__: Any) -> dict[str, Any]:
        self.sent += 1
        return {"errcode": 0, "msgid": self.sent}

    send_cs_text = send_subscribe = send_template = send_wecom = update_wecom_card = send_robot = _ok


async def _serve_app(db_path: str) -> web.Application:
    """What `orderbot serve` runs in the embedded profile, conversation included: every
    feature, and the in-process outbox worker answering each stored message (the demo
    catalog, stock and reps loaded, so the messages read as orders and get a priced summary).
    Replies go to an in-process API that accepts them (`_AnsweredPushApi`)."""
    from orderbot import appkeys
    from orderbot.logging import setup_logging
    from orderbot.settings import Settings
    from service.app import create_app
    from service.commands.demo import seed

    url = f"sqlite+aiosqlite:///{db_path}"
    await seed(url, ROOT / "service" / "demo" / "catalog.csv")
    settings = Settings(
        database_url=url, redis_url=None, wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_appid=APP_ID,
    )
    setup_logging(settings.log_level, stream=open(os.devnull, "w"))  # noqa: ASYNC230, SIM115 (opened once, kept)
    app = create_app(settings, start_worker=True)
    api = _AnsweredPushApi()

    async def answer_locally(app: web.Application) -> None:
        app[appkeys.WORKER].ctx.extra["push_api"] = api

    async def report(_app: web.Application) -> None:
        print(f"answered {api.sent}", flush=True)

    app.on_startup.append(answer_locally)
    app.on_shutdown.append(report)
    return app


SERVERS = {
    "bare": _bare_app,
    "callback": _callback_app,
    "app": _full_app,
    "serve": _serve_app,
    "production": _production_app,
}


def serve(kind: str, port: int, db_path: str) -> None:
    async def main() -> None:
        app = await SERVERS[kind](db_path)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        t0 = os.times()
        print("ready", flush=True)
        await stop.wait()
        t = os.times()  # CPU this server used (all threads), reported to the load generator
        print(f"cpu {t.user + t.system - t0.user - t0.system:.4f}", flush=True)
        await runner.cleanup()

    from orderbot.event_loop import choose_event_loop

    # Every server, bare included, on the loop `orderbot serve` would use (ORDERBOT_EVENT_LOOP).
    choose_event_loop(os.environ.get("ORDERBOT_EVENT_LOOP", "uvloop"))
    asyncio.run(main())


# --- the load generator ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_callback(
    crypto: Any, token: str, openid: str, content: str, msgid: int, nonce: str
) -> tuple[str, bytes]:
    """One safe-mode text callback as WeChat sends it: (url with signatures, body). `crypto`
    is a wechatpy WeChatCrypto for the account (bench/chat_e2e.py builds them the same way)."""
    from wechatpy.utils import WeChatSigner

    ts = str(int(time.time()))
    xml = (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msgid}</MsgId></xml>"
    )
    env = xmltodict.parse(crypto.encrypt_message(xml, nonce, ts))["xml"]
    signer = WeChatSigner()
    signer.add_data(token, ts, nonce)
    url = (
        f"/wechat/callback?signature={signer.signature}&timestamp={ts}&nonce={nonce}"
        f"&openid={openid}&encrypt_type=aes&msg_signature={env['MsgSignature']}"
    )
    body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>"
    return url, body.encode()


def _requests(n: int, retries: float, seed: int = 1) -> tuple[list[tuple[str, bytes]], int]:
    """(url, body) pairs built by wechatpy's crypto; returns them and the distinct count."""
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    rng = random.Random(seed)
    distinct = int(n / (1 + retries))
    out = [
        signed_callback(
            crypto, TOKEN, f"o_{i % 500}", f"M8x30 外六角螺丝 {i} 个，镀锌，明天送到常州武进",
            7_000_000_000 + i, str(rng.randrange(10**9)),
        )
        for i in range(distinct)
    ]
    # Retries go right next to their original, so they are in flight at the same time.
    with_retries: list[tuple[str, bytes]] = []
    for i, req in enumerate(out):
        with_retries.append(req)
        if i < n - distinct:
            with_retries.append(req)
    return with_retries, distinct


async def _load(
    port: int, reqs: list[tuple[str, bytes]], concurrency: int, warmup: int
) -> tuple[float, list[float], int]:
    """(requests/s, latencies in ms, non-200 count) for the measured requests."""
    base = f"http://127.0.0.1:{port}"
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=conn) as http:
        queue = iter(enumerate(reqs))
        lat: list[float] = []
        bad = 0
        started: list[float] = []

        async def worker() -> None:
            nonlocal bad
            for i, (url, body) in queue:
                if i == warmup:
                    started.append(time.perf_counter())
                t0 = time.perf_counter()
                async with http.post(url, data=body) as resp:
                    await resp.read()
                    if resp.status != 200:
                        bad += 1
                if i >= warmup:
                    lat.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started[0]
    return len(lat) / elapsed, lat, bad


async def _run_server(kind: str, db_path: str) -> tuple[asyncio.subprocess.Process, int]:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        kind,
        "--port",
        str(port),
        "--db",
        db_path,
        stdout=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().split()
    if not line or line[0] != "ready":
        raise RuntimeError(f"{kind} server did not start")
    return proc, port


async def _stop_server(proc: asyncio.subprocess.Process) -> tuple[float, int | None]:
    """Stop the server: the CPU seconds it used since it was ready (the load, mostly), and
    for `serve` the replies its worker had sent by then."""
    assert proc.stdout is not None
    proc.terminate()
    out = (await proc.stdout.read()).decode().split()
    await proc.wait()
    answered = int(out[out.index("answered") + 1]) if "answered" in out else None
    return (float(out[out.index("cpu") + 1]) if "cpu" in out else float("nan")), answered


def _pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


async def _count(db_path: str) -> tuple[int, int, int]:
    if "://" in db_path:
        return await _count_sql(db_path)
    import sqlite3

    with sqlite3.connect(db_path) as db:
        messages = db.execute("SELECT count(*) FROM inbound_message").fetchone()[0]
        distinct = db.execute("SELECT count(DISTINCT dedup_key) FROM inbound_message").fetchone()[0]
        outbox = db.execute("SELECT count(*) FROM outbox WHERE kind = 'inbound'").fetchone()[0]
    return messages, distinct, outbox


async def _count_sql(db_url: str) -> tuple[int, int, int]:
    from sqlalchemy import text

    from orderbot.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM inbound_message), "
                        "(SELECT count(DISTINCT dedup_key) FROM inbound_message), "
                        "(SELECT count(*) FROM outbox WHERE kind = 'inbound')"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return int(row[0]), int(row[1]), int(row[2])


async def _fresh_postgres(admin_url: str, name: str) -> str:
    """A new database beside `admin_url`'s, with the tables; its URL."""
    from sqlalchemy.engine import make_url
    from sqlmodel import SQLModel

    import orders.models  # noqa: F401
    from orderbot.db import make_engine, run_autocommit

    await run_autocommit(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
    finally:
        await engine.dispose()
    return url


async def bench(
    n: int, concurrency: int, retries: float, rounds: int, servers: list[str], pg_admin: str
) -> int:
    from orderbot.db import run_autocommit

    warmup = min(200, n // 10)
    print(f"building {n} safe-mode callbacks with wechatpy ({retries:.0%} delivered twice)…")
    reqs, distinct = _requests(n, retries)
    results: dict[str, list[tuple[float, list[float]]]] = {k: [] for k in servers}
    cpu: dict[str, list[float]] = {k: [] for k in servers}  # server CPU µs per request
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for kind in servers:  # interleaved, so machine load drifts hit every server alike
                db_path = str(Path(tmp) / f"bench-{kind}-{r}.db")
                pg_name = f"orderbot_bench_{os.getpid()}_{r}"
                if kind == "production":
                    db_path = await _fresh_postgres(pg_admin, pg_name)
                proc, port = await _run_server(kind, db_path)
                try:
                    rps, lat, bad = await _load(port, reqs, concurrency, warmup)
                finally:
                    used, answered = await _stop_server(proc)
                cpu[kind].append(used / len(reqs) * 1e6)
                if bad:
                    print(f"  {kind}: {bad} non-200 answers")
                results[kind].append((rps, lat))
                if kind != "bare":
                    messages, unique, outbox = await _count(db_path)
                    dupes = messages - unique
                    print(
                        f"  round {r + 1} {kind}: stored {messages} (distinct sent {distinct}), "
                        f"outbox {outbox}, duplicates {dupes}"
                        + (f", replies sent by the in-process worker meanwhile {answered}" if answered is not None else "")
                    )
                    if kind == "production":
                        await run_autocommit(pg_admin, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                    if (messages, outbox, dupes) != (distinct, distinct, 0):
                        print("  FAIL: stored messages do not match what was sent")
                        return 1

    def summary(kind: str) -> tuple[float, float, float, float]:
        rps = statistics.median(x[0] for x in results[kind])
        lat = [v for x in results[kind] for v in x[1]]
        return rps, _pct(lat, 50), _pct(lat, 99), statistics.median(cpu[kind])

    rows = {k: summary(k) for k in servers}

    def paired(kind: str) -> list[float]:
        """Each round's req/s over the bare handler's in the same round: machine load drifts
        between rounds, much less between two servers measured back to back."""
        return [x[0] / b[0] for x, b in zip(results[kind], results["bare"], strict=True)]

    print(
        f"\n{n} requests x {rounds} rounds, concurrency {concurrency}; req/s, CPU and the ratio "
        "to bare (each round against the bare run beside it): medians over rounds"
    )
    print(
        f"{'server':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU µs/req':>12}{'vs bare':>9}"
        f"{'rounds':>14}"
    )
    for kind, (rps, p50, p99, cpu_us) in rows.items():
        ratios = paired(kind) if "bare" in results and results["bare"] else []
        vs = f"{statistics.median(ratios):.2f}" if ratios else "-"
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else ""
        print(f"{kind:<10}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{cpu_us:>12.0f}{vs:>9}{spread:>14}")
    if "bare" in rows:
        for kind in (k for k in servers if k != "bare"):
            ratio, p99 = statistics.median(paired(kind)), rows[kind][2]
            verdict = "OK" if ratio >= 0.5 and p99 <= 20 else "MISSED"
            print(
                f"{kind}: throughput {ratio:.2f}x bare (target ≥ 0.5), p99 {p99:.1f} ms (target ≤ 20): {verdict}"
            )
    print("0 duplicates: OK")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--retries", type=float, default=0.2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--servers",
        default="bare,callback,app",
        help="bare: an aiohttp handler answering success; callback: the /wechat/callback "
        "feature on a plain aiohttp app (embedded profile: SQLite file); app: the same inside "
        "create_app (middlewares, metrics, logging); serve: every feature with the in-process "
        "worker answering each message (the conversation running, as `orderbot serve`); "
        "production: the callback on PostgreSQL "
        "with the Redis store (add it to the list; needs --postgres and --redis)",
    )
    p.add_argument(
        "--postgres",
        default=os.environ.get("ORDERBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database the bench may CREATE DATABASE beside (production only)",
    )
    p.add_argument(
        "--redis",
        default=os.environ.get("ORDERBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the production server's store (keys under orderbot:bench:, removed after)",
    )
    p.add_argument("--serve", choices=sorted(SERVERS), help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db)
        return 0
    servers = [k.strip() for k in args.servers.split(",") if k.strip()]
    if unknown := set(servers) - set(SERVERS):
        p.error(f"unknown servers: {', '.join(sorted(unknown))}")
    os.environ["BENCH_REDIS_URL"] = args.redis  # read by the production server process
    return asyncio.run(
        bench(args.requests, args.concurrency, args.retries, args.rounds, servers, args.postgres)
    )


if __name__ == "__main__":
    sys.exit(main())
