"""WeCom web login (OAuth 2.0 code flow), as the manager board uses it.

  GET /connect/oauth2/authorize?appid=CORPID&redirect_uri=…&response_type=code
      &scope=snsapi_base&state=…&agentid=…   (open.weixin.qq.com in production)
      → 302 to redirect_uri?code=CODE&state=STATE for the member signed in to the WeCom
        client: the one named by POST /__oauth__ {userid}, or `?standin_user=` on the URL.
  GET /cgi-bin/auth/getuserinfo?access_token=…&code=CODE
      → {"errcode": 0, "userid": …, "user_ticket": …, "expires_in": 1800}

Documented errors: 40029 invalid code (unknown, expired after 5 minutes, or already used:
a code is good for one call), 40014 / 41001 / 42001 for the access token, 40013 a wrong
corpid on the authorize page (shown as an error page, no redirect, as WeCom does).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from orderbot.standin.keys import STATE, json_body
from orderbot.standin.state import INVALID_APPID, INVALID_CODE, WECOM, ApiError, LoginCode

routes = web.RouteTableDef()
CODE_TTL = 300.0
USER_TICKET_TTL = 1800


@routes.get("/connect/oauth2/authorize")
async def authorize(request: web.Request) -> web.Response:
    state = request.app[STATE]
    q = request.query
    if not state.config.wecom_corpid or q.get("appid") != state.config.wecom_corpid:
        return web.Response(status=400, text=f"errcode {INVALID_APPID}: invalid corpid")
    redirect = q.get("redirect_uri", "")
    if urlsplit(redirect).scheme not in ("http", "https") or q.get("response_type") != "code":
        return web.Response(status=400, text="redirect_uri and response_type=code are required")
    userid = q.get("standin_user") or state.oauth_user
    if not userid or userid not in state.wecom_users:
        return web.Response(status=403, text="no WeCom member is signed in (POST /__oauth__ {userid})")
    code = secrets.token_urlsafe(24)
    state.oauth_codes[code] = LoginCode(userid, "", state.now())
    sep = "&" if "?" in redirect else "?"
    params = {"code": code, "state": q.get("state", "")}
    raise web.HTTPFound(f"{redirect}{sep}{urlencode(params)}")


@routes.get("/cgi-bin/auth/getuserinfo")
async def getuserinfo(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.check_token(request.query.get("access_token"), {WECOM})
    login = state.oauth_codes.get(request.query.get("code", ""))
    if login is None or login.used or state.now() - login.issued_at > CODE_TTL:
        raise ApiError(INVALID_CODE, "invalid code")
    login.used = True
    return web.json_response({"errcode": 0, "errmsg": "ok", "userid": login.openid,
                              "user_ticket": secrets.token_hex(16), "expires_in": USER_TICKET_TTL})


@routes.post("/__oauth__")
async def sign_in(request: web.Request) -> web.Response:
    """Stand-in only: which WeCom member the authorize page logs in (registers them)."""
    body = await json_body(request)
    userid = str(body.get("userid") or "").strip()
    state = request.app[STATE]
    state.oauth_user = userid or None
    if userid:
        state.register_user(WECOM, userid)
    return web.json_response({"ok": True, "userid": state.oauth_user})
