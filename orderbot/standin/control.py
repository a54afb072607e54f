"""Control endpoints (`/__...__`) that tests and the demo use to set the scene and look.

None of these exist on the real servers: they register users, open a customer-service
window, record a subscribe consent, issue a mini-program login code, move the clock, upload
media, and show or clear the record of every message the project sent.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from orderbot.standin.keys import STATE, json_body, readable_json
from orderbot.standin.state import MINIPROGRAM, WECHAT, WECOM

routes = web.RouteTableDef()
REALMS = {"wechat": WECHAT, "miniprogram": MINIPROGRAM, "wecom": WECOM}


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message)


def _realm(body: dict[str, Any], default: str = WECHAT) -> str:
    app = str(body.get("app") or default)
    if app not in REALMS:
        raise _bad(f"app must be one of {sorted(REALMS)}")
    return REALMS[app]


@routes.get("/__sent__")
async def sent(request: web.Request) -> web.Response:
    """Every accepted message, newest last; ?api=, ?channel=, ?to= narrow it down and
    ?after=ID returns only newer ones (for polling)."""
    entries = request.app[STATE].sent
    if "after" in request.query:
        try:
            after = int(request.query["after"])
        except ValueError as exc:
            raise _bad("after must be a message id") from exc
        entries = [e for e in entries if e["id"] > after]
    for key in ("api", "channel"):
        if key in request.query:
            entries = [e for e in entries if e[key] == request.query[key]]
    if "to" in request.query:
        to = request.query["to"]
        entries = [e for e in entries if e["to"] == to or (isinstance(e["to"], list) and to in e["to"])]
    return readable_json(entries)


@routes.get("/__errors__")
async def errors(request: web.Request) -> web.Response:
    """The last 1000 API calls the stand-in refused (errcode, path, body), newest last:
    what a push router's fallbacks were reacting to."""
    return readable_json(list(request.app[STATE].errors))


@routes.delete("/__sent__")
async def clear_sent(request: web.Request) -> web.Response:
    request.app[STATE].sent.clear()
    return web.json_response({"cleared": True})


@routes.post("/__users__")
async def add_user(request: web.Request) -> web.Response:
    """{"openid", "unionid"?, "app": "wechat"|"miniprogram"} or {"userid", "app": "wecom"}."""
    body = await json_body(request)
    realm = _realm(body, WECOM if "userid" in body else WECHAT)
    user_id = str(body.get("userid") if realm == WECOM else body.get("openid") or "")
    if not user_id:
        raise _bad("openid (or userid for wecom) is required")
    request.app[STATE].register_user(realm, user_id, str(body.get("unionid", "")))
    return web.json_response({"registered": user_id, "app": realm})


@routes.get("/__users__")
async def list_users(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {
            "wechat": [u.__dict__ for u in state.oa_users.values()],
            "miniprogram": [u.__dict__ for u in state.mp_users.values()],
            "wecom": sorted(state.wecom_users),
        }
    )


@routes.post("/__window__")
async def open_window(request: web.Request) -> web.Response:
    """Open the 48 h customer-service window as if the user had just sent a message."""
    body = await json_body(request)
    openid = str(body.get("openid") or "")
    if not openid:
        raise _bad("openid is required")
    state = request.app[STATE]
    state.register_user(WECHAT, openid, str(body.get("unionid", "")))
    state.open_window(openid)
    return web.json_response({"openid": openid, "opened_at": state.windows[openid].opened_at})


@routes.post("/__consent__")
async def consent(request: web.Request) -> web.Response:
    """The user tapped "allow" on a subscribe-message prompt: one send for that template."""
    body = await json_body(request)
    openid, template_id = str(body.get("openid") or ""), str(body.get("template_id") or "")
    if not openid or not template_id:
        raise _bad("openid and template_id are required")
    state = request.app[STATE]
    if openid not in state.mp_users:
        state.register_user(MINIPROGRAM, openid, str(body.get("unionid", "")))
    try:
        times = int(body.get("times", 1))
    except (TypeError, ValueError) as exc:
        raise _bad("times must be a whole number") from exc
    left = state.add_consent(openid, template_id, times)
    return web.json_response({"openid": openid, "template_id": template_id, "consents": left})


@routes.post("/__login__")
async def login_code(request: web.Request) -> web.Response:
    """A wx.login() code for jscode2session (single use, five minutes)."""
    body = await json_body(request)
    openid = str(body.get("openid") or "")
    if not openid:
        raise _bad("openid is required")
    code = request.app[STATE].issue_login_code(openid, str(body.get("unionid", "")))
    return web.json_response({"code": code, "openid": openid})


@routes.get("/__clock__")
async def get_clock(request: web.Request) -> web.Response:
    return web.json_response({"now": request.app[STATE].now()})


@routes.post("/__clock__")
async def set_clock(request: web.Request) -> web.Response:
    """{"advance": seconds} or {"now": epoch seconds}."""
    body = await json_body(request)
    clock = request.app[STATE].clock
    try:
        if "advance" in body:
            clock.advance(float(body["advance"]))
        elif "now" in body:
            clock.set(float(body["now"]))
        else:
            raise _bad("give advance or now")
    except (TypeError, ValueError) as exc:
        raise _bad(f"not a number: {exc}") from exc
    return web.json_response({"now": clock.now()})


@routes.post("/__media__")
async def upload_media(request: web.Request) -> web.Response:
    """Raw bytes with their Content-Type, or JSON {"base64", "content_type", "app"?}."""
    state = request.app[STATE]
    if request.content_type == "application/json":
        body = await json_body(request)
        try:
            data = base64.b64decode(str(body.get("base64", "")), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _bad("base64 is not valid base64") from exc
        content_type = str(body.get("content_type") or "image/jpeg")
        realm, filename = _realm(body), str(body.get("filename", ""))
    else:
        data = await request.read()
        content_type = request.content_type or "application/octet-stream"
        realm = _realm(dict(request.query))
        filename = request.query.get("filename", "")
    if not data:
        raise _bad("no media data")
    media_id = state.add_media(realm, data, content_type, filename)
    return web.json_response(
        {"media_id": media_id, "url": f"{request.url.origin()}/__media__/{media_id}", "app": realm}
    )


@routes.get("/__media__/{media_id}")
async def media_url(request: web.Request) -> web.Response:
    """What a PicUrl points at: the media bytes, no token needed."""
    media = request.app[STATE].media.get(request.match_info["media_id"])
    if media is None:
        raise web.HTTPNotFound(text="no such media")
    return web.Response(body=media.data, content_type=media.content_type)


@routes.get("/__stats__")
async def stats(request: web.Request) -> web.Response:
    """How many tokens each app fetched, how many messages were kept, and how many repeats
    the platform's own dedup answered without delivering (by API)."""
    state = request.app[STATE]
    return web.json_response({"token_fetches": state.token_fetches, "sent": len(state.sent),
                              "deduplicated": state.deduplicated})
