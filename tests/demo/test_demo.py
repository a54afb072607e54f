"""`orderbot demo` on a fresh machine: its database is migrated and seeded, twice harmlessly,
and the service it starts takes an order from the stand-in's simulated customer."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from orderbot.db import make_engine, make_sessionmaker
from orders.models import Customer, Order, Product, SalesRep
from service.commands import demo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return len((await s.exec(select(model))).all())
    finally:
        await engine.dispose()


async def test_seed_is_complete_and_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    first = await demo.seed(url, demo.DEMO_DIR / "catalog.csv")
    assert first["products_added"] > 50 and first["rejected"] == 0
    again = await demo.seed(url, demo.DEMO_DIR / "catalog.csv")
    assert again["products_added"] == 0 and again["products_updated"] == 0
    assert await _count(url, Product) == first["products_added"]
    assert await _count(url, SalesRep) == first["reps"]
    assert await _count(url, Customer) == first["customers"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo writes its credentials into os.environ; give them back afterwards."""
    saved = dict(os.environ)
    for key in saved:
        if key.startswith(("WECHAT_", "WECOM_", "MINIPROGRAM_", "ORDERBOT_")):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)


async def test_demo_takes_an_order_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(host="127.0.0.1", port=_free_port(), standin_port=_free_port(),
                              catalog=demo.DEMO_DIR / "catalog.csv", database_url=None, no_chat=True)
    demo._demo_environment(args)
    url = os.environ["ORDERBOT_DATABASE_URL"]
    await demo.seed(url, args.catalog)
    ready = asyncio.Event()
    server = asyncio.create_task(demo.serve(args, ready=ready))
    await asyncio.wait_for(ready.wait(), 20)
    base = f"http://127.0.0.1:{args.standin_port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def say(text: str) -> None:
                resp = await http.post(f"{base}/__simulate__/wechat", json={"openid": demo.DEMO_OPENID, "text": text})
                assert (await resp.json())["delivered"]

            async def replies() -> list[str]:
                sent = await (await http.get(f"{base}/__sent__", params={"to": demo.DEMO_OPENID})).json()
                return [e["payload"]["text"]["content"] for e in sent]

            await say("M6*20外六角 304的 5000个，明天送常州武进湖塘镇长虹路88号，张工 13812345678")
            for _ in range(50):
                if await replies():
                    break
                await asyncio.sleep(0.1)
            assert "请核对订单" in (await replies())[0]
            await say("确认")
            for _ in range(50):
                if any("SO" in r for r in await replies()):
                    break
                await asyncio.sleep(0.1)
            assert any("已收到您的订单 SO" in r for r in await replies())
            health = await http.get(f"http://127.0.0.1:{args.port}/healthz")
            assert health.status == 200
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    assert await _count(url, Order) == 1
