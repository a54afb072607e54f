"""WeCom self-built app API: what orderbot sends to reps and managers.

Cards with buttons (button_interaction) come back with a `response_code` that may update
that card once within 72 hours (update_template_card); WeCom's callback for a button press
carries a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clients.base import TokenAPI
from bot.clients.http import HTTPClient
from bot.clients.tokens import AccessTokens


@dataclass(frozen=True)
class SendResult:
    msgid: str
    invalid_users: tuple[str, ...] = ()
    response_code: str = ""


def _agentid(agentid: int | str) -> int | str:
    return int(agentid) if str(agentid).isdigit() else agentid


class WeComClient(TokenAPI):
    def __init__(self, http: HTTPClient, tokens: AccessTokens, agentid: int | str) -> None:
        super().__init__(http, tokens)
        self.agentid = _agentid(agentid)

    async def send(self, users: list[str] | str, msgtype: str, content: dict[str, Any]) -> SendResult:
        """Send to members (a list, or "@all"). Unknown members come back in invalid_users;
        when nobody is valid WeCom answers 81013."""
        touser = users if isinstance(users, str) else "|".join(users)
        answer = await self._post(
            "/cgi-bin/message/send",
            {"touser": touser, "msgtype": msgtype, "agentid": self.agentid, msgtype: content},
        )
        invalid = tuple(u for u in str(answer.get("invaliduser", "")).split("|") if u)
        return SendResult(str(answer.get("msgid", "")), invalid, str(answer.get("response_code", "")))

    async def send_text(self, users: list[str] | str, text: str) -> SendResult:
        return await self.send(users, "text", {"content": text})

    async def send_markdown(self, users: list[str] | str, markdown: str) -> SendResult:
        return await self.send(users, "markdown", {"content": markdown})

    async def send_template_card(self, users: list[str] | str, card: dict[str, Any]) -> SendResult:
        return await self.send(users, "template_card", card)

    async def update_template_card(
        self,
        response_code: str,
        *,
        userids: list[str] | None = None,
        atall: bool = False,
        button_replace_name: str = "",
        template_card: dict[str, Any] | None = None,
    ) -> None:
        """Grey the buttons out with a label (e.g. "已确认"), or replace the whole card."""
        body: dict[str, Any] = {"agentid": self.agentid, "response_code": response_code}
        if userids:
            body["userids"] = userids
        if atall:
            body["atall"] = 1
        if template_card is not None:
            body["template_card"] = template_card
        else:
            body["button"] = {"replace_name": button_replace_name or "已处理"}
        await self._post("/cgi-bin/message/update_template_card", body)
