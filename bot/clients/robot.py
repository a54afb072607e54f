"""WeCom group robot (webhook): alerts to a managers' group chat; 20 messages a minute."""

from __future__ import annotations

from typing import Any

from bot.clients.http import HTTPClient


class GroupRobot:
    def __init__(self, http: HTTPClient, key: str) -> None:
        self.http = http
        self._key = key

    async def _send(self, msgtype: str, content: dict[str, Any]) -> None:
        await self.http.call(
            "POST", "/cgi-bin/webhook/send", params={"key": self._key},
            json_body={"msgtype": msgtype, msgtype: content},
        )

    async def send_text(
        self, text: str, *, mentioned_list: list[str] | None = None,
        mentioned_mobile_list: list[str] | None = None,
    ) -> None:
        content: dict[str, Any] = {"content": text}
        if mentioned_list:
            content["mentioned_list"] = mentioned_list
        if mentioned_mobile_list:
            content["mentioned_mobile_list"] = mentioned_mobile_list
        await self._send("text", content)

    async def send_markdown(self, markdown: str) -> None:
        await self._send("markdown", {"content": markdown})
