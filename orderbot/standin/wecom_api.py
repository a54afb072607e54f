"""The WeCom server API paths (self-built app, and the group robot webhook).

Shapes follow developer.work.weixin.qq.com: gettoken returns errcode 0 with the token;
message/send reports unknown members in `invaliduser` and, for a card a user can act on,
returns a single-use `response_code` for message/update_template_card; with
`enable_duplicate_check` it delivers the same request JSON once within
`duplicate_check_interval` seconds (a repeat is answered as the first was).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from orderbot.standin.keys import STATE, json_body
from orderbot.standin.state import (
    ALL_RECIPIENTS_INVALID,
    INTERACTIVE_CARDS,
    INVALID_MSGTYPE,
    ROBOT_MSGTYPES,
    WECOM,
    WECOM_MSGTYPES,
    ApiError,
    StandinState,
)

routes = web.RouteTableDef()
OK = {"errcode": 0, "errmsg": "ok"}
TEXT_LIMIT = 2048  # bytes; WeCom cuts longer text and markdown instead of refusing it
DUPLICATE_CHECK_DEFAULT = 1800.0  # seconds, message/send's duplicate_check_interval
DUPLICATE_CHECK_MAX = 4 * 3600.0


def truncated(content: dict[str, Any], limit: int) -> dict[str, Any]:
    """What the member sees: content cut to `limit` UTF-8 bytes, marked when cut."""
    raw = str(content.get("content", "")).encode("utf-8")
    if len(raw) <= limit:
        return content
    return {**content, "content": raw[:limit].decode("utf-8", "ignore"), "truncated": True}


@routes.get("/cgi-bin/gettoken")
async def gettoken(request: web.Request) -> web.Response:
    state = request.app[STATE]
    tok = state.fetched(
        state.wecom_token(request.query.get("corpid", ""), request.query.get("corpsecret", ""))
    )
    return web.json_response(
        {**OK, "access_token": tok.value, "expires_in": round(tok.expires_at - state.now())}
    )


def _split_members(state: StandinState, touser: str) -> tuple[list[str], list[str]]:
    if touser.strip() == "@all":
        return sorted(state.wecom_users), []
    wanted = [u for u in touser.split("|") if u]
    return [u for u in wanted if u in state.wecom_users], [
        u for u in wanted if u not in state.wecom_users
    ]


def _card_is_interactive(body: dict[str, Any]) -> bool:
    card = body.get("template_card") or {}
    return card.get("card_type") in INTERACTIVE_CARDS or bool(card.get("action_menu"))


@routes.post("/cgi-bin/message/send")
async def message_send(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.check_token(request.query.get("access_token"), {WECOM})
    body = await json_body(request)
    state.check_agent(body.get("agentid"))
    msgtype = str(body.get("msgtype", ""))
    if msgtype not in WECOM_MSGTYPES or not isinstance(body.get(msgtype), dict):
        raise ApiError(INVALID_MSGTYPE, "invalid message type")
    valid, invalid = _split_members(state, str(body.get("touser", "")))
    if not valid and not body.get("toparty") and not body.get("totag"):
        raise ApiError(ALL_RECIPIENTS_INVALID, "user & party & tag all invalid")
    dedup_key = ""
    if body.get("enable_duplicate_check"):
        # "同样内容(请求json)的消息" within duplicate_check_interval (default 1800 s, at most
        # 4 h) is not delivered again; the caller is answered as the first time.
        dedup_key = json.dumps(body, sort_keys=True, ensure_ascii=False)
        interval = min(float(body.get("duplicate_check_interval") or DUPLICATE_CHECK_DEFAULT), DUPLICATE_CHECK_MAX)
        first = state.seen_before(state.wecom_seen, dedup_key, interval, "wecom_send")
        if first is not None:
            return web.json_response(first)
    if msgtype == "text":
        body = {**body, "text": truncated(body["text"], TEXT_LIMIT)}
    elif msgtype == "markdown":
        body = {**body, "markdown": truncated(body["markdown"], TEXT_LIMIT)}
    entry = state.record("wecom_send", WECOM, valid, msgtype, body)
    reply: dict[str, Any] = {**OK, "invaliduser": "|".join(invalid), "msgid": str(entry["id"])}
    if msgtype == "template_card" and _card_is_interactive(body):
        task_id = str(body["template_card"].get("task_id", ""))
        reply["response_code"] = state.issue_response_code(task_id)
    if dedup_key:
        state.wecom_seen[dedup_key] = (state.now(), reply)
    return web.json_response(reply)


@routes.post("/cgi-bin/message/update_template_card")
async def update_template_card(request: web.Request) -> web.Response:
    """Replace a card's button text or the whole card; each response_code works once."""
    state = request.app[STATE]
    state.check_token(request.query.get("access_token"), {WECOM})
    body = await json_body(request)
    state.check_agent(body.get("agentid"))
    if not isinstance(body.get("button"), dict) and not isinstance(body.get("template_card"), dict):
        raise ApiError(INVALID_MSGTYPE, "invalid message type: need button or template_card")
    rc = state.spend_response_code(str(body.get("response_code", "")))
    to = body.get("userids") or ("@all" if body.get("atall") else [])
    state.record("update_template_card", WECOM, to, "template_card", {**body, "task_id": rc.task_id})
    return web.json_response({**OK, "invaliduser": []})


@routes.post("/cgi-bin/webhook/send")
async def robot_send(request: web.Request) -> web.Response:
    """Group robot: at most 20 messages a minute per robot."""
    state = request.app[STATE]
    key = request.query.get("key", "")
    state.check_robot_key(key)
    body = await json_body(request)
    msgtype = str(body.get("msgtype", ""))
    if msgtype not in ROBOT_MSGTYPES or not isinstance(body.get(msgtype), dict):
        raise ApiError(INVALID_MSGTYPE, "invalid message type")
    state.robot_send(key)
    state.record("robot_send", "robot", key, msgtype, body)
    return web.json_response(OK)
