"""Official Account and mini-program server APIs: what orderbot sends to customers.

- customer-service messages (text, news, mini-program card, image) need the user's open
  48-hour window (45015) and its budget (45047);
- template messages reach any follower (43004 for one who unfollowed);
- mini-program subscribe messages spend one consent each (43101 without one);
- media/get downloads what a customer sent (an image order form);
- jscode2session turns a wx.login() code into the user's openid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clients.base import TokenAPI
from bot.clients.http import HTTPClient
from bot.clients.tokens import AccessTokens


def template_data(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Accept {"thing1": "M8 螺栓"} as well as {"thing1": {"value": "M8 螺栓"}}."""
    return {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()}


class WeChatClient(TokenAPI):
    """The Official Account's outbound API."""

    async def send_custom(self, openid: str, msgtype: str, content: dict[str, Any]) -> None:
        await self._post(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": msgtype, msgtype: content}
        )

    async def send_text(self, openid: str, text: str) -> None:
        await self.send_custom(openid, "text", {"content": text})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self.send_custom(openid, "image", {"media_id": media_id})

    async def send_news(
        self, openid: str, *, title: str, description: str = "", url: str = "", picurl: str = ""
    ) -> None:
        """A link card (WeChat now shows one article per customer-service news message)."""
        article = {"title": title, "description": description, "url": url, "picurl": picurl}
        await self.send_custom(openid, "news", {"articles": [article]})

    async def send_miniprogram_page(
        self, openid: str, *, title: str, appid: str, pagepath: str, thumb_media_id: str
    ) -> None:
        await self.send_custom(
            openid,
            "miniprogrampage",
            {"title": title, "appid": appid, "pagepath": pagepath, "thumb_media_id": thumb_media_id},
        )

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict[str, Any],
        *,
        url: str = "",
        miniprogram: dict[str, str] | None = None,
        client_msg_id: str = "",
    ) -> int:
        """Template message; returns WeChat's msgid. `client_msg_id` makes a retry idempotent."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": template_data(data)}
        if url:
            body["url"] = url
        if miniprogram:
            body["miniprogram"] = miniprogram
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        answer = await self._post("/cgi-bin/message/template/send", body)
        return int(answer.get("msgid", 0))

@dataclass(frozen=True)
class Session:
    openid: str
    session_key: str
    unionid: str = ""


class MiniProgramClient(TokenAPI):
    """The mini-program's outbound API (its own appid, token and openids)."""

    def __init__(self, http: HTTPClient, tokens: AccessTokens, appid: str, secret: str) -> None:
        super().__init__(http, tokens)
        self.appid = appid
        self._secret = secret

    async def send_subscribe(
        self,
        openid: str,
        template_id: str,
        data: dict[str, Any],
        *,
        page: str = "",
        state: str = "formal",
        lang: str = "zh_CN",
    ) -> int:
        """One subscribe message; spends one of the user's one-time consents (43101 if none)."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": template_data(data),
            "miniprogram_state": state,
            "lang": lang,
        }
        if page:
            body["page"] = page
        answer = await self._post("/cgi-bin/message/subscribe/send", body)
        return int(answer.get("msgid", 0))

    async def jscode2session(self, code: str) -> Session:
        body = await self.http.call(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self.appid,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        return Session(str(body["openid"]), str(body.get("session_key", "")), str(body.get("unionid", "")))
