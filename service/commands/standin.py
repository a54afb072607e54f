"""`orderbot standin`: serve the WeChat / WeCom / mini-program API stand-in on a port."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from orderbot.standin.config import DEFAULT_CALLBACK_URL, DEFAULT_WECOM_CALLBACK_URL


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument(
        "--callback-url", default=DEFAULT_CALLBACK_URL,
        help="where /__simulate__/wechat delivers Official Account callbacks",
    )
    parser.add_argument(
        "--wecom-callback-url", default=DEFAULT_WECOM_CALLBACK_URL,
        help="where /__simulate__/wecom delivers WeCom callbacks",
    )
    parser.add_argument("--token-ttl", type=int, default=7200, help="access token lifetime (s)")
    parser.add_argument(
        "--token-grace", type=float, default=0.0,
        help="seconds a superseded /cgi-bin/token token keeps working (WeChat: 300)",
    )
    parser.add_argument(
        "--callback-timeout", type=float, default=5.0,
        help="seconds to wait for orderbot's answer before retrying (WeChat: 5)",
    )
    parser.add_argument(
        "--access-log", action="store_true",
        help="log a line for every API call (off: what was sent is at GET /__sent__, and a "
             "line a call was a third of the stand-in's CPU in a burst, bench/chat_e2e.py)",
    )


def run(args: argparse.Namespace) -> int:
    from orderbot.standin import StandinConfig, create_standin_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = StandinConfig.from_env(
        callback_url=args.callback_url,
        wecom_callback_url=args.wecom_callback_url,
        token_ttl=args.token_ttl,
        token_grace=args.token_grace,
        callback_timeout=args.callback_timeout,
    )
    apps = {"wechat": config.wechat_appid, "miniprogram": config.miniprogram_appid,
            "wecom": config.wecom_corpid}
    known = [name for name, ident in apps.items() if ident]
    print(f"orderbot standin on http://{args.host}:{args.port} for {', '.join(known) or 'no app'}"
          " (set WECHAT_*, MINIPROGRAM_*, WECOM_* to add apps)", flush=True)
    web.run_app(create_standin_app(config), host=args.host, port=args.port, print=None,
                access_log=logging.getLogger("aiohttp.access") if args.access_log else None)
    return 0
