"""The WeChat server API paths (Official Account and mini-program) as the project calls them.

Request and response shapes follow developers.weixin.qq.com: tokens in query strings, JSON
bodies, `{"errcode", "errmsg"}` on failure with HTTP 200, media as raw bytes.
"""

from __future__ import annotations

import base64
import secrets

from aiohttp import web

from orderbot.standin.keys import STATE, json_body
from orderbot.standin.state import (
    ARGUMENT_INVALID,
    CONTENT_TOO_LONG,
    CUSTOM_MSGTYPES,
    INVALID_APPID,
    INVALID_GRANT_TYPE,
    INVALID_MEDIA_SIZE,
    INVALID_MEDIA_TYPE,
    INVALID_MSGTYPE,
    INVALID_OPENID,
    INVALID_TEMPLATE_ID,
    MINIPROGRAM,
    REQUIRE_SUBSCRIBE,
    WECHAT,
    WECOM,
    ApiError,
)
from orderbot.standin.subscribe_rules import invalid_field

routes = web.RouteTableDef()
TEXT_LIMIT = 2048  # bytes of a customer-service text message
CLIENT_MSG_ID_TTL = 600.0  # seconds a template message's client_msg_id suppresses a repeat
OK = {"errcode": 0, "errmsg": "ok"}


@routes.get("/cgi-bin/token")
async def token(request: web.Request) -> web.Response:
    q = request.query
    state = request.app[STATE]
    tok = state.fetched(state.token(q.get("appid", ""), q.get("secret", ""), q.get("grant_type", "")))
    return web.json_response({"access_token": tok.value, "expires_in": int(tok.expires_at - tok.issued_at)})


@routes.post("/cgi-bin/stable_token")
async def stable_token(request: web.Request) -> web.Response:
    body = await json_body(request)
    state = request.app[STATE]
    tok = state.fetched(
        state.stable_token(
            str(body.get("appid", "")),
            str(body.get("secret", "")),
            str(body.get("grant_type", "")),
            bool(body.get("force_refresh", False)),
        )
    )
    return web.json_response({"access_token": tok.value, "expires_in": round(tok.expires_at - state.now())})


@routes.post("/cgi-bin/message/custom/send")
async def custom_send(request: web.Request) -> web.Response:
    """Customer-service message: needs the user's open 48 h window and its budget."""
    state = request.app[STATE]
    state.check_token(request.query.get("access_token"), {WECHAT})
    body = await json_body(request)
    openid = str(body.get("touser", ""))
    state.oa_user(openid)
    msgtype = str(body.get("msgtype", ""))
    if msgtype not in CUSTOM_MSGTYPES or not isinstance(body.get(msgtype), dict):
        raise ApiError(INVALID_MSGTYPE, "invalid message type")
    if msgtype == "text" and len(str(body["text"].get("content", "")).encode()) > TEXT_LIMIT:
        raise ApiError(CONTENT_TOO_LONG, "content size out of limit")
    if msgtype == "image":
        state.get_media(str(body["image"].get("media_id", "")), WECHAT)  # 40007 if unknown
    state.spend_window(openid)
    state.record("custom_send", WECHAT, openid, msgtype, body)
    return web.json_response(OK)


@routes.post("/cgi-bin/message/template/send")
async def template_send(request: web.Request) -> web.Response:
    """Template message: any follower, no window, no consent; a repeated client_msg_id for
    the same openid within 10 minutes is answered ok and not delivered again."""
    state = request.app[STATE]
    state.check_token(request.query.get("access_token"), {WECHAT})
    body = await json_body(request)
    openid = str(body.get("touser", ""))
    if not state.oa_user(openid).following:
        raise ApiError(REQUIRE_SUBSCRIBE, "require subscribe")
    if not body.get("template_id"):
        raise ApiError(INVALID_TEMPLATE_ID, "invalid template_id")
    client_msg_id = str(body.get("client_msg_id") or "")
    if client_msg_id:  # 防重入: one message per openid + client_msg_id within 10 minutes
        first = state.seen_before(state.template_seen, (openid, client_msg_id), CLIENT_MSG_ID_TTL, "template_send")
        if first is not None:
            return web.json_response({**OK, "msgid": first})
    entry = state.record("template_send", WECHAT, openid, "template", body)
    if client_msg_id:
        state.template_seen[(openid, client_msg_id)] = (state.now(), entry["id"])
    return web.json_response({**OK, "msgid": entry["id"]})


@routes.post("/cgi-bin/message/subscribe/send")
async def subscribe_send(request: web.Request) -> web.Response:
    """Mini-program subscribe message: spends one of the user's one-time consents."""
    state = request.app[STATE]
    state.check_token(request.query.get("access_token"), {MINIPROGRAM})
    body = await json_body(request)
    openid = str(body.get("touser", ""))
    if openid not in state.mp_users:
        raise ApiError(INVALID_OPENID, "invalid openid")
    template_id = str(body.get("template_id", ""))
    if not template_id:
        raise ApiError(INVALID_TEMPLATE_ID, "invalid template_id")
    data = body.get("data")
    problem = invalid_field(data) if isinstance(data, dict) else "argument invalid! data is empty"
    if problem:
        raise ApiError(ARGUMENT_INVALID, problem)
    state.spend_consent(openid, template_id)
    entry = state.record("subscribe_send", MINIPROGRAM, openid, "subscribe", body)
    return web.json_response({**OK, "msgid": entry["id"]})


@routes.get("/cgi-bin/media/get")
async def media_get(request: web.Request) -> web.Response:
    """Temporary media, for WeChat and WeCom tokens alike (each sees its own media)."""
    state = request.app[STATE]
    tok = state.check_token(request.query.get("access_token"), {WECHAT, MINIPROGRAM, WECOM})
    media = state.get_media(request.query.get("media_id", ""), tok.realm)
    return web.Response(
        body=media.data,
        content_type=media.content_type,
        headers={"Content-Disposition": f'attachment; filename="{media.filename}"'},
    )


MEDIA_TYPES = {"image", "voice", "video", "thumb", "file"}


@routes.post("/cgi-bin/media/upload")
async def media_upload(request: web.Request) -> web.Response:
    """Temporary media (multipart field "media"), for WeChat and WeCom tokens alike."""
    state = request.app[STATE]
    tok = state.check_token(request.query.get("access_token"), {WECHAT, MINIPROGRAM, WECOM})
    kind = request.query.get("type", "")
    if kind not in MEDIA_TYPES:
        raise ApiError(INVALID_MEDIA_TYPE, "invalid media type")
    data, content_type, filename = b"", "application/octet-stream", ""
    if request.content_type.startswith("multipart/"):
        async for part in await request.multipart():
            if getattr(part, "name", None) == "media":
                data = await part.read()  # type: ignore[union-attr]
                content_type = part.headers.get("Content-Type", content_type)
                filename = getattr(part, "filename", None) or ""
    if not data:
        raise ApiError(INVALID_MEDIA_SIZE, "invalid file size")
    media_id = state.add_media(tok.realm, data, content_type, filename)
    answer = {"type": kind, "media_id": media_id, "created_at": int(state.now())}
    if tok.realm == WECOM:
        answer = {"errcode": 0, "errmsg": "", **answer, "created_at": str(answer["created_at"])}
    return web.json_response(answer)


@routes.get("/sns/jscode2session")
async def jscode2session(request: web.Request) -> web.Response:
    q = request.query
    state = request.app[STATE]
    if q.get("grant_type") != "authorization_code":
        raise ApiError(INVALID_GRANT_TYPE, "invalid grant_type")
    if state.app_realm(q.get("appid", ""), q.get("secret", "")) != MINIPROGRAM:
        raise ApiError(INVALID_APPID, "invalid appid")
    login = state.redeem_login_code(q.get("js_code", ""))
    session_key = base64.b64encode(secrets.token_bytes(16)).decode()
    body = {"openid": login.openid, "session_key": session_key}
    if login.unionid:
        body["unionid"] = login.unionid
    return web.json_response(body)
