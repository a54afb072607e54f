"""Who is looking at the board: WeCom OAuth login, one-time links, sessions, CSRF.

Sessions live in the key-value store (Redis in production, so every web replica sees
them), keyed by a random cookie; each carries its own CSRF token, which every form posts
back. The session cookie is HttpOnly and SameSite=Lax. Managers (SalesRep.is_manager) and
the admins named in ORDERBOT_BOARD_ADMINS get in; reps get 403.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web
from sqlmodel import select

from orderbot import appkeys
from orderbot.settings import Settings
from orders.actors import Actor
from orders.models import SalesRep

COOKIE = "orderbot_board"
STATE_COOKIE = "orderbot_board_oauth"
SESSION_TTL = 12 * 3600.0
TOKEN_KEY = "board:wecom_token"
TOKEN_ERRORS = {40014, 42001, 40001}  # a token that stopped working: fetch a new one, once


@dataclass(frozen=True)
class Viewer:
    userid: str
    name: str
    actor: Actor
    csrf: str

    @property
    def role_label(self) -> str:
        return "管理员" if self.actor.role.value == "admin" else "经理"


class LoginFailed(Exception):
    """The OAuth exchange did not produce a WeCom member (bad or reused code, bad config)."""


def base_url(request: web.Request) -> str:
    return request.app[appkeys.SETTINGS].public_url.rstrip("/") or f"{request.scheme}://{request.host}"


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """WeCom's web login page (scope snsapi_base: the member's userid, silently)."""
    params = urlencode({
        "appid": settings.wecom_corpid, "redirect_uri": redirect_uri, "response_type": "code",
        "scope": "snsapi_base", "state": state, "agentid": settings.wecom_agentid,
    }, quote_via=quote)
    return f"{settings.wecom_oauth_base.rstrip('/')}/connect/oauth2/authorize?{params}#wechat_redirect"


async def _wecom_token(app: web.Application, *, fresh: bool = False) -> str:
    store, settings = app[appkeys.STORE], app[appkeys.SETTINGS]
    if not fresh and (cached := await store.get(TOKEN_KEY)):
        return cached
    url = f"{settings.wecom_api_base.rstrip('/')}/cgi-bin/gettoken"
    params = {"corpid": settings.wecom_corpid, "corpsecret": settings.wecom_secret}
    body = await _get_json(app[appkeys.HTTP], url, params)
    if body.get("errcode") or not body.get("access_token"):
        raise LoginFailed(f"gettoken: {body.get('errcode')} {body.get('errmsg')}")
    ttl = max(60.0, float(body.get("expires_in", 7200)) - 300)
    await store.set(TOKEN_KEY, body["access_token"], ttl=ttl)
    return str(body["access_token"])


async def _get_json(http: aiohttp.ClientSession, url: str, params: dict[str, str]) -> dict:
    try:
        async with http.get(url, params=params, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            return await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise LoginFailed(f"WeCom unreachable: {exc}") from exc


async def userid_for_code(app: web.Application, code: str) -> str:
    """auth/getuserinfo: the code WeCom's redirect carried → the member's userid."""
    settings = app[appkeys.SETTINGS]
    url = f"{settings.wecom_api_base.rstrip('/')}/cgi-bin/auth/getuserinfo"
    for fresh in (False, True):
        token = await _wecom_token(app, fresh=fresh)
        body = await _get_json(app[appkeys.HTTP], url, {"access_token": token, "code": code})
        if body.get("errcode") in TOKEN_ERRORS and not fresh:
            continue
        if body.get("errcode") or not body.get("userid"):
            raise LoginFailed(f"getuserinfo: {body.get('errcode')} {body.get('errmsg')}")
        return str(body["userid"])
    raise LoginFailed("getuserinfo: token refused twice")


async def start_session(request: web.Request, userid: str, response: web.StreamResponse) -> None:
    sid = secrets.token_urlsafe(32)
    data = {"userid": userid, "csrf": secrets.token_urlsafe(24)}
    await request.app[appkeys.STORE].set(f"board:session:{sid}", json.dumps(data), ttl=SESSION_TTL)
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", path="/board",
                        max_age=int(SESSION_TTL), secure=request.secure)


async def end_session(request: web.Request) -> None:
    sid = request.cookies.get(COOKIE)
    if sid:
        await request.app[appkeys.STORE].delete(f"board:session:{sid}")


async def session_of(request: web.Request) -> dict[str, str] | None:
    sid = request.cookies.get(COOKIE)
    if not sid or len(sid) > 100:
        return None
    raw = await request.app[appkeys.STORE].get(f"board:session:{sid}")
    return json.loads(raw) if raw else None


async def viewer(request: web.Request) -> Viewer:
    """The signed-in manager or admin; redirects to the login when there is no session,
    403 for anyone else (reps, unknown members, deactivated managers)."""
    session = await session_of(request)
    if session is None:
        raise web.HTTPFound(f"/board/login?next={quote(request.path_qs)}")
    userid = session["userid"]
    async with request.app[appkeys.SESSIONMAKER]() as s:
        rep = (await s.exec(select(SalesRep).where(SalesRep.wecom_userid == userid))).one_or_none()
    if rep is not None and rep.active and rep.is_manager and rep.id is not None:
        return Viewer(userid, rep.name, Actor.manager(rep.id, userid), session["csrf"])
    if userid in request.app[appkeys.SETTINGS].board_admin_ids():
        return Viewer(userid, rep.name if rep else userid, Actor.admin(userid), session["csrf"])
    raise web.HTTPForbidden(text="看板仅对经理和管理员开放。")


def check_csrf(request: web.Request, who: Viewer, form_token: str | None) -> None:
    """A form post must carry the session's token, and come from our own origin."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.rstrip("/") != base_url(request) and \
            origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="跨站请求被拒绝。")
    if not form_token or not hmac.compare_digest(form_token, who.csrf):
        raise web.HTTPForbidden(text="表单已过期，请刷新页面后重试。")


def safe_next(value: str | None) -> str:
    """Only paths on the board: never an open redirect to another site."""
    if value and value.startswith("/board") and "//" not in value and "\\" not in value:
        return value
    return "/board/"
