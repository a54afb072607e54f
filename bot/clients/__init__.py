"""Outbound clients for the WeChat, mini-program and WeCom server APIs, on aiohttp.

`make_clients(settings, store)` builds every client the settings configure, sharing one
HTTP session per API root and caching tokens in `store` (memory or Redis).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from bot.clients.errors import APIError, TransportError, WeChatAPIError
from bot.clients.http import HTTPClient, Media
from bot.clients.robot import GroupRobot
from bot.clients.tokens import AccessTokens, wechat_fetcher, wecom_fetcher
from bot.clients.wechat import MiniProgramClient, Session, WeChatClient
from bot.clients.wecom import SendResult, WeComClient
from orderbot.jobs import JobContext
from orderbot.settings import Settings
from orderbot.stores import KeyValueStore

__all__ = [
    "APIError", "AccessTokens", "Clients", "GroupRobot", "HTTPClient", "Media",
    "MiniProgramClient", "SendResult", "Session", "TransportError", "WeChatAPIError",
    "WeChatClient", "WeComClient", "clients_for", "make_clients",
]


@dataclass
class Clients:
    """The clients the settings configure; None for an app without credentials."""

    wechat: WeChatClient | None = None
    miniprogram: MiniProgramClient | None = None
    wecom: WeComClient | None = None
    robot: GroupRobot | None = None
    _http: list[HTTPClient] = field(default_factory=list)

    async def close(self) -> None:
        for http in self._http:
            await http.close()


def make_clients(
    settings: Settings,
    store: KeyValueStore,
    *,
    session: aiohttp.ClientSession | None = None,
    stable_token: bool = True,
) -> Clients:
    wx_http = HTTPClient(settings.wechat_api_base, session=session)
    wc_http = HTTPClient(settings.wecom_api_base, session=session)
    clients = Clients(_http=[wx_http, wc_http])
    if settings.wechat_appid and settings.wechat_secret:
        tokens = AccessTokens(
            store, f"token:wechat:{settings.wechat_appid}",
            wechat_fetcher(wx_http, settings.wechat_appid, settings.wechat_secret, stable=stable_token),
        )
        clients.wechat = WeChatClient(wx_http, tokens)
    if settings.miniprogram_appid and settings.miniprogram_secret:
        tokens = AccessTokens(
            store, f"token:miniprogram:{settings.miniprogram_appid}",
            wechat_fetcher(
                wx_http, settings.miniprogram_appid, settings.miniprogram_secret, stable=stable_token
            ),
        )
        clients.miniprogram = MiniProgramClient(
            wx_http, tokens, settings.miniprogram_appid, settings.miniprogram_secret
        )
    if settings.wecom_corpid and settings.wecom_secret:
        tokens = AccessTokens(
            store, f"token:wecom:{settings.wecom_corpid}:{settings.wecom_agentid}",
            wecom_fetcher(wc_http, settings.wecom_corpid, settings.wecom_secret),
        )
        clients.wecom = WeComClient(wc_http, tokens, settings.wecom_agentid)
    if settings.wecom_robot_key:
        clients.robot = GroupRobot(wc_http, settings.wecom_robot_key)
    return clients


def clients_for(ctx: JobContext) -> Clients:
    """The worker's clients, made once over its HTTP session and kept on its context."""
    if ctx.clients is None:
        ctx.clients = make_clients(ctx.settings, ctx.store, session=ctx.http)
    clients: Clients = ctx.clients
    return clients
