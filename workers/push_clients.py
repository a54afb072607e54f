"""The push router's outbound calls, carried by bot/clients (tokens, timeouts, errcodes).

A missing client (no credentials configured for that app) is a permanent failure of the
push that needs it: the row is parked and visible instead of retried forever.
"""

from __future__ import annotations

from typing import Any

from bot.clients import Clients, clients_for
from orderbot.jobs import JobContext, PermanentError


class ClientsPushApi:
    """`workers.push_router.PushApi` over the project's WeChat / WeCom / robot clients."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    @classmethod
    def from_context(cls, ctx: JobContext) -> ClientsPushApi:
        return cls(clients_for(ctx))

    def _need(self, name: str) -> Any:
        client = getattr(self.clients, name)
        if client is None:
            raise PermanentError(f"no {name} client configured (credentials missing)")
        return client

    async def send_cs_text(self, openid: str, text: str) -> dict[str, Any]:
        await self._need("wechat").send_text(openid, text)
        return {}

    async def send_subscribe(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None
    ) -> dict[str, Any]:
        msgid = await self._need("miniprogram").send_subscribe(openid, template_id, data, page=page or "")
        return {"msgid": msgid}

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None, client_msg_id: str = ""
    ) -> dict[str, Any]:
        msgid = await self._need("wechat").send_template(
            openid, template_id, data, url=url or "", client_msg_id=client_msg_id
        )
        return {"msgid": msgid}

    async def send_wecom(self, body: dict[str, Any]) -> dict[str, Any]:
        """message/send with the body as built (cards ask WeCom's duplicate check), through
        the client's token cache and HTTP layer."""
        wecom = self._need("wecom")
        body = {**body, "agentid": body.get("agentid") or wecom.agentid}
        return await wecom.tokens.call(
            lambda token: wecom.http.call("POST", "/cgi-bin/message/send", params={"access_token": token},
                                          json_body=body)
        )

    async def update_wecom_card(self, body: dict[str, Any]) -> dict[str, Any]:
        await self._need("wecom").update_template_card(
            str(body["response_code"]), userids=list(body.get("userids") or []),
            atall=bool(body.get("atall")), template_card=body.get("template_card"),
            button_replace_name=str((body.get("button") or {}).get("replace_name", "")),
        )
        return {}

    async def send_robot(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        robot = self._need("robot")
        if body.get("msgtype") == "markdown":
            await robot.send_markdown(body["markdown"]["content"])
        else:
            text = body["text"]
            await robot.send_text(text["content"], mentioned_list=text.get("mentioned_list"))
        return {}
