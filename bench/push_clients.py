"""Outbound push cost through bot/clients against the in-process stand-in, beside a
baseline that fetches a token for every message (what a client without a shared cache
does, and what makes WeChat's token API rate limit bite).

    .venv/bin/python bench/push_clients.py [--messages 400] [--concurrency 20] [--rounds 5]

Per round: send --messages template messages with --concurrency in flight, through
- cached: make_clients() with the memory store (one token fetch for the whole round);
- baseline: the same HTTP layer without a cache: stable_token fetched for every message.
Prints per-round wall time, the median per-message milliseconds, token fetches, and the
ratio baseline / cached.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestServer  # noqa: E402

from bot.clients import make_clients  # noqa: E402
from bot.clients.tokens import wechat_fetcher  # noqa: E402
from bot.clients.wechat import template_data  # noqa: E402
from orderbot.settings import Settings  # noqa: E402
from orderbot.standin import StandinState, create_standin_app  # noqa: E402
from orderbot.standin.testing import config_for_tests  # noqa: E402
from orderbot.stores_memory import MemoryStore  # noqa: E402


async def one_round(base: str, state: StandinState, n: int, conc: int, drop_token: bool) -> tuple[float, int]:
    cfg = state.config
    settings = Settings(
        wechat_appid=cfg.wechat_appid, wechat_secret=cfg.wechat_secret,
        wechat_api_base=base, wecom_api_base=base,
    )
    store = MemoryStore()
    clients = make_clients(settings, store)
    wx = clients.wechat
    assert wx is not None
    before = state.token_fetches.get("wechat", 0)
    gate = asyncio.Semaphore(conc)

    fetch = wechat_fetcher(wx.http, cfg.wechat_appid, cfg.wechat_secret)

    async def send(i: int) -> None:
        data = template_data({"first": "已发货", "keyword1": f"SO-{i}"})
        body = {"touser": f"o-{i % 50}", "template_id": "TPL-ship", "data": data}
        async with gate:
            if not drop_token:
                await wx.send_template(body["touser"], body["template_id"], data)
                return
            token, _ = await fetch()
            await wx.http.call(
                "POST", "/cgi-bin/message/template/send", params={"access_token": token}, json_body=body
            )

    started = time.perf_counter()
    await asyncio.gather(*(send(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await clients.close()
    return elapsed, state.token_fetches.get("wechat", 0) - before


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    state = StandinState(config_for_tests())
    for i in range(50):
        state.register_user("wechat", f"o-{i}")
    server = TestServer(create_standin_app(state=state))
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        results: dict[str, list[tuple[float, int]]] = {"cached": [], "baseline": []}
        for _ in range(args.rounds):
            for name in results:  # interleaved, so both see the same machine load
                state.sent.clear()
                results[name].append(
                    await one_round(base, state, args.messages, args.concurrency, name == "baseline")
                )
    finally:
        await server.close()

    medians = {}
    for name, runs in results.items():
        per_msg = [1000 * t / args.messages for t, _ in runs]
        medians[name] = statistics.median(per_msg)
        fetches = statistics.median(f for _, f in runs)
        print(
            f"{name:8s} rounds(s)={[round(t, 3) for t, _ in runs]} "
            f"median ms/message={medians[name]:.3f} token fetches/round={fetches:g}"
        )
    print(f"ratio baseline/cached = {medians['baseline'] / medians['cached']:.2f}x "
          f"({args.messages} messages, {args.concurrency} in flight)")


if __name__ == "__main__":
    asyncio.run(main())
