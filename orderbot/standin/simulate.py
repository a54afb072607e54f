"""`POST /__simulate__/wechat` and `/__simulate__/wecom`: the stand-in plays the user.

It builds the callback a real user's action would cause, delivers it to orderbot signed
(and encrypted) as WeChat would, and remembers its side effects: a user's message opens the
48-hour customer-service window, a follow registers the follower, an image becomes media
orderbot can download with /cgi-bin/media/get.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from orderbot.standin.callbacks import (
    WeChatSigning,
    WeComSigning,
    build_xml,
    deliver,
    verify_url,
)
from orderbot.standin.keys import HTTP, STATE, json_body, readable_json
from orderbot.standin.state import WECHAT, WECOM, StandinState

routes = web.RouteTableDef()
_msgids = itertools.count(int(time.time() * 1000) * 1000)

FAILURE_NOTICE = "该公众号暂时无法提供服务，请稍后再试"
IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8": "image/jpeg", b"GIF8": "image/gif"}


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def number(body: dict[str, Any], key: str, default: float, kind: type = int) -> Any:
    """body[key] as a number (default when absent), else a 400 naming the field."""
    value = body.get(key)
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"{key} must be a number") from exc


def read_image(value: str) -> tuple[bytes, str]:
    """An image given as a file path or as base64, with its content type."""
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        data = path.read_bytes()
    else:
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("image must be a readable file path or base64 data") from exc
    if not data:
        raise bad_request("image is empty")
    kind = next((t for magic, t in IMAGE_TYPES.items() if data.startswith(magic)), "image/jpeg")
    return data, kind


def wechat_fields(
    body: dict[str, Any], state: StandinState, origin: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The callback's XML fields for one simulated user action, and facts to report back."""
    openid = str(body.get("openid") or "")
    if not openid:
        raise bad_request("openid is required")
    head = {
        "ToUserName": state.config.wechat_original_id,
        "FromUserName": openid,
        "CreateTime": number(body, "create_time", int(state.now())),
    }
    msgid = number(body, "msgid", 0) or next(_msgids)
    facts: dict[str, Any] = {}
    if "text" in body:
        fields = {**head, "MsgType": "text", "Content": str(body["text"]), "MsgId": msgid}
    elif "image" in body:
        data, kind = read_image(str(body["image"]))
        media_id = state.add_media(WECHAT, data, kind)
        facts["media_id"] = media_id
        pic_url = f"{origin}/__media__/{media_id}"
        fields = {**head, "MsgType": "image", "PicUrl": pic_url, "MediaId": media_id, "MsgId": msgid}
    elif "location" in body:
        loc = body["location"] or {}
        try:
            lat, lng = float(loc["lat"]), float(loc["lng"])
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_request("location needs numeric lat and lng") from exc
        fields = {
            **head,
            "MsgType": "location",
            "Location_X": lat,
            "Location_Y": lng,
            "Scale": int(loc.get("scale", 15)),
            "Label": str(loc.get("label", "")),
            "MsgId": msgid,
        }
    elif "event" in body:
        event = str(body["event"])
        fields = {**head, "MsgType": "event", "Event": event, "EventKey": str(body.get("event_key", ""))}
        msgid = 0  # events carry no MsgId; orderbot dedups them by FromUserName + CreateTime
    else:
        raise bad_request("give one of text, image, location, event")
    if msgid:
        facts["msgid"] = msgid
    return fields, facts


def wechat_signing(state: StandinState, mode: str = "") -> WeChatSigning:
    cfg = state.config
    if not cfg.wechat_token or not cfg.wechat_appid:
        raise bad_request("set WECHAT_APPID and WECHAT_TOKEN (and WECHAT_AES_KEY for safe mode)")
    try:
        return WeChatSigning(
            cfg.wechat_token, cfg.wechat_aes_key, cfg.wechat_appid, cfg.wechat_original_id, mode
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from exc


def wecom_signing(state: StandinState) -> WeComSigning:
    cfg = state.config
    if not (cfg.wecom_corpid and cfg.wecom_token and cfg.wecom_aes_key):
        raise bad_request("set WECOM_CORPID, WECOM_TOKEN and WECOM_AES_KEY")
    return WeComSigning(cfg.wecom_token, cfg.wecom_aes_key, cfg.wecom_corpid, cfg.wecom_agentid)


@routes.post("/__simulate__/wechat")
async def simulate_wechat(request: web.Request) -> web.Response:
    state = request.app[STATE]
    cfg = state.config
    body = await json_body(request)
    signing = wechat_signing(state, str(body.get("mode") or ""))
    fields, facts = wechat_fields(body, state, str(request.url.origin()))
    openid = fields["FromUserName"]
    if fields.get("Event") == "unsubscribe":
        state.unfollow(openid)
    else:
        state.register_user(WECHAT, openid, str(body.get("unionid", "")))
        state.open_window(openid)
    delivery = await deliver(
        request.app[HTTP],
        str(body.get("callback_url") or cfg.callback_url),
        signing,
        build_xml(fields),
        openid,
        wait=number(body, "timeout", cfg.callback_timeout, float),
        attempts=number(body, "attempts", cfg.callback_attempts),
    )
    if delivery.reply and not delivery.reply_error:
        state.record("passive_reply", WECHAT, openid, "xml", delivery.reply)
    if not delivery.delivered or delivery.reply_error:
        # What WeChat shows the user when the account fails to answer properly.
        state.record("failure_notice", WECHAT, openid, "text", {"content": FAILURE_NOTICE})
        facts["user_saw"] = FAILURE_NOTICE
    return readable_json({**delivery.as_json(), **facts})


def wecom_fields(
    body: dict[str, Any], state: StandinState, origin: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    userid = str(body.get("userid") or "")
    if not userid:
        raise bad_request("userid is required")
    cfg = state.config
    head = {
        "ToUserName": cfg.wecom_corpid,
        "FromUserName": userid,
        "CreateTime": number(body, "create_time", int(state.now())),
    }
    agent = {"AgentID": int(cfg.wecom_agentid) if str(cfg.wecom_agentid).isdigit() else cfg.wecom_agentid}
    facts: dict[str, Any] = {}
    if "text" in body or "image" in body:
        msgid = facts["msgid"] = number(body, "msgid", 0) or next(_msgids)
        if "text" in body:
            return {**head, "MsgType": "text", "Content": str(body["text"]), "MsgId": msgid, **agent}, facts
        data, kind = read_image(str(body["image"]))
        media_id = facts["media_id"] = state.add_media(WECOM, data, kind)
        pic = f"{origin}/__media__/{media_id}"
        return {**head, "MsgType": "image", "PicUrl": pic, "MediaId": media_id, "MsgId": msgid, **agent}, facts
    event = str(body.get("event") or "")
    if not event:
        raise bad_request("give text, image, or event (e.g. template_card_event)")
    fields: dict[str, Any] = {**head, "MsgType": "event", "Event": event, "EventKey": str(body.get("event_key", ""))}
    if event == "template_card_event":
        task_id = str(body.get("task_id") or "")
        if not task_id:
            raise bad_request("template_card_event needs task_id")
        code = state.issue_response_code(task_id, str(body.get("response_code") or ""))
        facts["response_code"] = code
        fields.update(
            TaskId=task_id,
            CardType=str(body.get("card_type") or _card_type(state, task_id)),
            ResponseCode=code,
        )
        fields.update(agent)
        if body.get("selected_items"):
            fields["SelectedItems"] = [
                {"QuestionKey": item["question_key"], "OptionIds": list(item["option_ids"])}
                for item in body["selected_items"]
            ]
        return fields, facts
    return {**fields, **agent}, facts


def _card_type(state: StandinState, task_id: str) -> str:
    """The card type of the card sent with this task_id, as WeCom would know it."""
    for entry in reversed(state.sent):
        card = entry["payload"].get("template_card") if isinstance(entry["payload"], dict) else None
        if card and card.get("task_id") == task_id:
            return str(card.get("card_type", "button_interaction"))
    return "button_interaction"


@routes.post("/__simulate__/wecom")
async def simulate_wecom(request: web.Request) -> web.Response:
    state = request.app[STATE]
    cfg = state.config
    signing = wecom_signing(state)
    body = await json_body(request)
    fields, facts = wecom_fields(body, state, str(request.url.origin()))
    state.register_user(WECOM, fields["FromUserName"])
    delivery = await deliver(
        request.app[HTTP],
        str(body.get("callback_url") or cfg.wecom_callback_url),
        signing,
        build_xml(fields),
        fields["FromUserName"],
        wait=number(body, "timeout", cfg.callback_timeout, float),
        attempts=number(body, "attempts", cfg.callback_attempts),
    )
    if delivery.reply and not delivery.reply_error:
        state.record("passive_reply", WECOM, fields["FromUserName"], "xml", delivery.reply)
    return readable_json({**delivery.as_json(), **facts})


@routes.post("/__simulate__/verify")
async def simulate_verify(request: web.Request) -> web.Response:
    """{"app": "wechat"|"wecom"}: the URL check the admin console makes when the callback
    URL is saved (GET with a signed echostr, encrypted for WeCom)."""
    state = request.app[STATE]
    body = await json_body(request)
    app = str(body.get("app") or "wechat")
    if app == "wecom":
        signing: WeChatSigning | WeComSigning = wecom_signing(state)
        url = str(body.get("callback_url") or state.config.wecom_callback_url)
    elif app == "wechat":
        signing, url = wechat_signing(state), str(body.get("callback_url") or state.config.callback_url)
    else:
        raise bad_request("app must be wechat or wecom")
    wait = number(body, "timeout", state.config.callback_timeout, float)
    return readable_json(await verify_url(request.app[HTTP], url, signing, wait=wait))
