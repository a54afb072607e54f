"""How fast hostile callbacks are refused, beside a genuine message in the same run.

    .venv/bin/python bench/hostile.py [--rounds 200]

POSTs each payload --rounds times over real HTTP to /wechat/callback (safe mode, SQLite, as
the embedded profile builds it) and prints, per payload, the status and code it got and the
median and p99 latency, with the genuine text message (stored, acknowledged) as the baseline
and the ratio to it. The issue's target: every hostile input answered 4xx within 100 ms.
Payloads are built with wechatpy's WeChatCrypto, as WeChat would sign and encrypt them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import xmltodict  # noqa: E402
from aiohttp import web  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402

from bench.intake import AES_KEY, APP_ID, TOKEN, _callback_app  # noqa: E402
from bot.wechat_crypto import sign  # noqa: E402

_ids = iter(range(7_000_000_000, 8_000_000_000))


def message(content: str, msg_id: int | None = None) -> str:
    return (f"<xml><ToUserName>gh</ToUserName><FromUserName>o_bench</FromUserName><CreateTime>{int(time.time())}"
            f"</CreateTime><MsgType>text</MsgType><Content>{content}</Content>"
            f"<MsgId>{msg_id or next(_ids)}</MsgId></xml>")


def signed(xml: str, *, app_id: str = APP_ID, skew: int = 0) -> tuple[dict[str, str], bytes]:
    """Query and body of a safe-mode callback carrying `xml`."""
    ts, nonce = str(int(time.time()) + skew), "n0nce"
    env = xmltodict.parse(WeChatCrypto(TOKEN, AES_KEY, app_id).encrypt_message(xml, nonce, ts))["xml"]
    params = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
              "msg_signature": env["MsgSignature"]}
    return params, f"<xml><Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>".encode()


def billion_laughs() -> str:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<!DOCTYPE xml [<!ENTITY l0 "lol">{levels}]>' + message("&l9;")


PAYLOADS: dict[str, Callable[[], tuple[dict[str, str], bytes]]] = {
    "genuine text (baseline)": lambda: signed(message("M8螺丝 5000个")),
    "billion laughs (encrypted)": lambda: signed(billion_laughs()),
    "external entity (encrypted)": lambda: signed('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                                  + message("&e;")),
    "quadratic blow-up (encrypted)": lambda: signed(f'<!DOCTYPE x [<!ENTITY a "{"x" * 20_000}">]>'
                                                    + message("&a;" * 1000)),
    "another AppId": lambda: signed(message("hi"), app_id="wx_another_account"),
    "replay 10 min late": lambda: signed(message("hi"), skew=-600),
    "oversized body (70 KB)": lambda: (signed(message("hi"))[0], b"<xml>" + b"A" * 70_000 + b"</xml>"),
    "truncated envelope": lambda: (lambda p, b: (p, b[: len(b) // 2]))(*signed(message("hi"))),
    "garbage bytes": lambda: (signed(message("hi"))[0], bytes(range(256)) * 8),
}


async def run(rounds: int) -> list[tuple[str, str, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        runner = web.AppRunner(await _callback_app(str(Path(tmp) / "bench.db")))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/wechat/callback"
        rows = []
        try:
            async with aiohttp.ClientSession() as http:
                for name, build in PAYLOADS.items():
                    times, answers = [], set()
                    requests = [build() for _ in range(rounds)]
                    for params, body in requests:
                        started = time.perf_counter()
                        async with http.post(url, params=params, data=body) as resp:
                            await resp.read()
                            answers.add(f"{resp.status} {resp.headers.get('X-Orderbot-Error', '')}".strip())
                        times.append(time.perf_counter() - started)
                    times.sort()
                    rows.append((name, ", ".join(sorted(answers)), statistics.median(times) * 1000,
                                 times[min(len(times) - 1, int(len(times) * 0.99))] * 1000))
        finally:
            await runner.cleanup()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    rows = asyncio.run(run(args.rounds))
    base = rows[0][2]
    print(f"{'payload':<32}{'answer':<26}{'p50 ms':>8}{'p99 ms':>8}{'×base':>7}")
    for name, answer, p50, p99 in rows:
        print(f"{name:<32}{answer:<26}{p50:>8.2f}{p99:>8.2f}{p50 / base:>7.2f}")
    worst = max(p99 for name, _, _, p99 in rows[1:])
    print(f"worst hostile p99 {worst:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()
