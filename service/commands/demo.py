"""`orderbot demo`: everything a newcomer needs to see orderbot take an order, in one process.

It migrates an embedded SQLite database, loads a demo catalog (with stock), reps, routing
rules and customers, starts the WeChat/WeCom stand-in and the service side by side, and
prints how to talk to it. On a terminal it also opens a chat: each line you type is sent as
a customer's WeChat message (signed and encrypted by the stand-in, exactly as WeChat does),
and the bot's replies and the rep's WeCom cards are printed as they arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_OPENID = "o_demo_customer"
DEMO_STOCK = 1_000_000  # base units per product, so demo orders are not held for stock


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="the service's port")
    parser.add_argument("--standin-port", type=int, default=8124, help="the WeChat/WeCom stand-in's port")
    parser.add_argument("--catalog", type=Path, default=DEMO_DIR / "catalog.csv",
                        help="catalog CSV to load (default: the packaged demo catalog)")
    parser.add_argument("--database-url", default=None,
                        help="default: ORDERBOT_DATABASE_URL, else sqlite+aiosqlite:///./orderbot-demo.db")
    parser.add_argument("--no-chat", action="store_true", help="do not open the terminal chat")


def standin_credentials(api_base: str) -> dict[str, str]:
    """Fresh WeChat / WeCom / mini-program credentials for a service and a stand-in to share
    (environment variables), with the API bases pointing at the stand-in (also bench/chat_e2e.py)."""
    return {
        "WECHAT_APPID": "wx_demo_official_acct", "WECHAT_SECRET": secrets.token_hex(16),
        "WECHAT_TOKEN": secrets.token_hex(8),
        "WECHAT_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
        "WECOM_CORPID": "ww_demo_corp", "WECOM_AGENTID": "1000002", "WECOM_SECRET": secrets.token_hex(16),
        "WECOM_TOKEN": secrets.token_hex(8),
        "WECOM_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
        "WECOM_ROBOT_KEY": "demo-robot-key",
        "MINIPROGRAM_APPID": "wx_demo_miniprogram", "MINIPROGRAM_SECRET": secrets.token_hex(16),
        "ORDERBOT_HOOK_SECRET": secrets.token_hex(16),
        "WECHAT_API_BASE": api_base, "WECOM_API_BASE": api_base,
    }


def _demo_environment(args: argparse.Namespace) -> None:
    """Credentials for the stand-in and the service: the same ones on both sides. Values
    already in the environment win, so the demo can also run against real settings."""
    base = f"http://{args.host}:{args.standin_port}"
    defaults = {
        "ORDERBOT_DATABASE_URL": args.database_url or os.environ.get(
            "ORDERBOT_DATABASE_URL", "sqlite+aiosqlite:///./orderbot-demo.db"),
        **standin_credentials(base),
        # The board's WeCom login and the outbound WMS are played by the stand-in too.
        "WECOM_OAUTH_BASE": base, "ORDERBOT_PUBLIC_URL": f"http://{args.host}:{args.port}",
        "ORDERBOT_OUTBOUND": f"wms={base}/__wms__/orders",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    os.environ["ORDERBOT_REDIS_URL"] = ""  # the demo is the embedded profile


async def seed(database_url: str, catalog: Path) -> dict[str, int]:
    """Migrate, then load catalog, stock, reps and customers. Safe to run again."""
    from sqlalchemy import update
    from sqlmodel import select

    from orderbot import migrations
    from orderbot.db import make_engine, make_sessionmaker
    from orders.catalog_import import parse_catalog
    from orders.models import Customer, Product, SalesRep
    from service.commands.import_catalog import upsert_products

    engine = make_engine(database_url)
    try:
        await migrations.upgrade(engine)
        text, data = await asyncio.to_thread(_read_inputs, catalog)
        parsed = parse_catalog(text.splitlines())
        counts = await upsert_products(engine, parsed.rows, progress=False)
        sm = make_sessionmaker(engine)
        async with sm() as s, s.begin():
            await s.exec(update(Product).where(Product.stock < DEMO_STOCK // 10).values(stock=DEMO_STOCK))  # type: ignore[call-overload]
            reps: dict[str, SalesRep] = {
                r.wecom_userid: r for r in (await s.exec(select(SalesRep))).all()
            }
            for spec in data["reps"]:
                rep = reps.get(spec["wecom_userid"]) or SalesRep(wecom_userid=spec["wecom_userid"], name=spec["name"])
                rep.name, rep.team, rep.regions = spec["name"], spec["team"], spec["regions"]
                rep.is_manager = spec.get("is_manager", False)
                rep.discount_limit = Decimal(spec.get("discount_limit", "0"))
                s.add(rep)
                reps[rep.wecom_userid] = rep
            await s.flush()
            for spec in data["reps"]:
                if spec.get("manager"):
                    reps[spec["wecom_userid"]].manager_id = reps[spec["manager"]].id
            for spec in data["customers"]:
                found = (await s.exec(select(Customer).where(Customer.openid == spec["openid"]))).first()
                customer = found or Customer(openid=spec["openid"])
                for key in ("name", "company", "phones", "province", "city", "tier", "last_contact", "last_address"):
                    if key in spec:
                        setattr(customer, key, spec[key])
                customer.credit_limit = Decimal(spec.get("credit_limit", "0"))
                customer.rep_id = reps[spec["rep"]].id if spec.get("rep") else None
                s.add(customer)
        return {"products_added": counts.added, "products_updated": counts.updated,
                "rejected": len(parsed.rejected), "reps": len(data["reps"]), "customers": len(data["customers"])}
    finally:
        await engine.dispose()


def _read_inputs(catalog: Path) -> tuple[str, dict[str, Any]]:
    return catalog.read_text(encoding="utf-8-sig"), _seed_data()


def _seed_data() -> dict[str, Any]:
    return json.loads((DEMO_DIR / "seed.json").read_text(encoding="utf-8"))


def _users(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    return [c["openid"] for c in data["customers"]] + [DEMO_OPENID], [r["wecom_userid"] for r in data["reps"]]


async def serve(args: argparse.Namespace, *, ready: asyncio.Event | None = None) -> None:
    """The stand-in and the service on their ports until cancelled."""
    from aiohttp import web

    from orderbot.settings import Settings
    from orderbot.standin import StandinConfig, StandinState, create_standin_app
    from orderbot.standin.state import WECHAT, WECOM
    from service.app import create_app

    settings = Settings()
    service_url = f"http://{args.host}:{args.port}"
    config = StandinConfig.from_env(
        callback_url=f"{service_url}/wechat/callback", wecom_callback_url=f"{service_url}/wecom/callback",
    )
    state = StandinState(config)
    openids, userids = _users(await asyncio.to_thread(_seed_data))
    for openid in openids:
        state.register_user(WECHAT, openid)
    for userid in userids:
        state.register_user(WECOM, userid)
    runners = [web.AppRunner(create_standin_app(state=state)), web.AppRunner(create_app(settings, start_worker=True))]
    try:
        for runner, port in zip(runners, (args.standin_port, args.port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, args.host, port).start()
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def _banner(args: argparse.Namespace, counts: dict[str, int]) -> str:
    s = f"http://{args.host}:{args.standin_port}"
    return f"""
orderbot demo is running (embedded profile: SQLite {os.environ['ORDERBOT_DATABASE_URL']}, in-process queue)
  loaded: {counts['products_added']} new / {counts['products_updated']} updated products, {counts['reps']} reps, {counts['customers']} customers
  service:   http://{args.host}:{args.port}   (/healthz, /metrics, /mp/v1/openapi.json)
  stand-in:  {s}   (plays WeChat and WeCom; GET {s}/__sent__ shows every message pushed)

Talk to it as a customer would (the stand-in signs, encrypts and delivers the callback):
  curl -s {s}/__simulate__/wechat -H 'Content-Type: application/json' \\
       -d '{{"openid": "{DEMO_OPENID}", "text": "M6*20外六角 304的 5000个，明天送常州武进湖塘镇长虹路88号，张工 13812345678"}}'
  curl -s {s}/__simulate__/wechat -H 'Content-Type: application/json' -d '{{"openid": "{DEMO_OPENID}", "text": "确认"}}'
  curl -s '{s}/__sent__?to={DEMO_OPENID}'      # the bot's replies
  curl -s '{s}/__sent__?to=lihua'              # the rep's WeCom card (江浙沪 → team east)

Manager board: sign the manager in to the stand-in's WeCom, then open the board in a browser:
  curl -s {s}/__oauth__ -H 'Content-Type: application/json' -d '{{"userid": "zhoumin"}}'
  open http://{args.host}:{args.port}/board/      # confirmed orders go to the stand-in WMS: GET {s}/__wms__
"""


async def chat(args: argparse.Namespace) -> None:
    """Read lines from the terminal, send each as the demo customer's message, print replies."""
    import aiohttp

    base = f"http://{args.host}:{args.standin_port}"
    print("Type a message as the customer (empty line or Ctrl-D to quit). Try: 我的订单", flush=True)
    async with aiohttp.ClientSession() as http:
        last = max([e["id"] for e in await (await http.get(f"{base}/__sent__")).json()] or [0])
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, _prompt)
            if not line:
                return
            await http.post(f"{base}/__simulate__/wechat", json={"openid": DEMO_OPENID, "text": line})
            for _ in range(30):  # replies arrive through the outbox within a second or two
                await asyncio.sleep(0.2)
                new = await (await http.get(f"{base}/__sent__", params={"after": str(last)})).json()
                if new:
                    for entry in new:
                        last = max(last, entry["id"])
                        print(_render(entry), flush=True)
                    await asyncio.sleep(0.5)
                    for entry in await (await http.get(f"{base}/__sent__", params={"after": str(last)})).json():
                        last = max(last, entry["id"])
                        print(_render(entry), flush=True)
                    break


def _prompt() -> str:
    try:
        return input("客户> ").strip()
    except EOFError:
        return ""


def _render(entry: dict[str, Any]) -> str:
    payload = entry.get("payload") or {}
    to = entry.get("to")
    if entry.get("msgtype") == "template_card":
        card = payload.get("template_card", {})
        title = card.get("main_title", {}).get("title", "")
        return f"  [企业微信卡片 → {to}] {title} {card.get('sub_title_text', '')}"
    text = (payload.get("text") or {}).get("content") or (payload.get("markdown") or {}).get("content")
    return f"  [{entry.get('api')} → {to}] {text or json.dumps(payload, ensure_ascii=False)[:200]}"


def run(args: argparse.Namespace) -> int:
    _demo_environment(args)
    from orderbot.logging import setup_logging

    setup_logging("WARNING")
    counts = asyncio.run(seed(os.environ["ORDERBOT_DATABASE_URL"], args.catalog))

    async def main() -> None:
        ready = asyncio.Event()
        server = asyncio.create_task(serve(args, ready=ready))
        await asyncio.wait([server, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED)
        if server.done():
            server.result()  # a port in use and the like: raise it
        print(_banner(args, counts), flush=True)
        if not args.no_chat and sys.stdin.isatty():
            await chat(args)
            server.cancel()
        await asyncio.gather(server, return_exceptions=True)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0
