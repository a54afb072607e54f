"""The manager board at /board/: red / yellow / green orders, today's exceptions, reps, desk metrics.

Mounted by service.app (FEATURES). Pages are server-rendered (board/render.py) from a few
set-based queries (board/queries.py); the stylesheet is packaged (board/static). Login is
WeCom's OAuth code flow, or a one-time link a manager gets by typing 看板 in WeCom
(board/links.py). Actions go through the order hub (orders/actions.py) with the manager
as actor, from forms carrying the session's CSRF token.

Routes:
  GET  /board/                        the board
  GET  /board/metrics                 the metrics panel (fetched by a page painted before them)
  GET  /board/orders/{number}         one order: facts, lines, event history, actions
  POST /board/orders/{number}/release | /reassign | /cancel
  GET  /board/login → WeCom authorize → GET /board/oauth?code=&state=
  GET  /board/link?t=                 one-time link from the 看板 command
  POST /board/logout
  GET  /board/static/board.css
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from board import auth, queries, render
from board.links import redeem_link
from orderbot import appkeys, metrics
from orders import actions, coei_survey
from orders.drafts import today_in_china
from orders.errors import OrderError, OrderErrorCode
from orders.models import utcnow
from orders.status import TransitionError

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
HTML = "text/html"


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type=HTML, charset="utf-8")


async def board_view(request: web.Request) -> web.Response:
    who = await auth.viewer(request)
    sm = request.app[appkeys.SESSIONMAKER]
    now = utcnow()
    metrics = await queries.metrics_for_paint(request.app[appkeys.ENGINE], now)
    snap = await queries.board_snapshot(sm, now=now, metrics=metrics)
    today = today_in_china(now)
    days = metrics.day_series(today - dt.timedelta(days=queries.METRICS_DAYS - 1), today) if metrics else []
    return _html(render.board_page(snap, metrics, days, who, notice=request.query.get("msg", "")[:200]))


async def order_view(request: web.Request) -> web.Response:
    who = await auth.viewer(request)
    found = await queries.order_page(request.app[appkeys.SESSIONMAKER], request.match_info["number"])
    if found is None:
        return _html(render.message_page("没有这张订单", request.match_info["number"]), status=404)
    return _html(render.order_page(found, who, notice=request.query.get("msg", "")[:200]))


async def order_action(request: web.Request) -> web.Response:
    """release / reassign / cancel through the hub, as the signed-in manager."""
    who = await auth.viewer(request)
    form = await request.post()
    auth.check_csrf(request, who, str(form.get("csrf") or ""))
    sm = request.app[appkeys.SESSIONMAKER]
    number, what = request.match_info["number"], request.match_info["action"]
    found = await queries.order_page(sm, number)
    if found is None or found.order.id is None:
        return _html(render.message_page("没有这张订单", number), status=404)
    order_id = found.order.id
    reason = str(form.get("reason") or "").strip() or None
    try:
        version = int(str(form.get("version"))) if form.get("version") else None
    except ValueError:
        version = None
    labels = {"release": "放行", "reassign": "转交", "cancel": "取消订单"}
    try:
        if what not in labels:
            raise web.HTTPNotFound()
        if reason is None:  # every change to a placed order says why (the hub's reason_required)
            raise OrderError(OrderErrorCode.REASON_REQUIRED, f"{labels[what]}需要填写原因")
        if what == "release":
            await actions.release(sm, order_id, who.actor, reason, expected_version=version)
            done = f"订单 {number} 已放行，回到待确认。"
        elif what == "reassign":
            rep_id = int(str(form.get("rep_id") or "0"))
            await actions.reassign(sm, order_id, who.actor, rep_id, reason=reason, expected_version=version)
            done = f"订单 {number} 已转交。"
        else:
            await actions.cancel(sm, order_id, who.actor, reason, expected_version=version)
            done = f"订单 {number} 已取消。"
    except (OrderError, TransitionError) as exc:
        done = f"操作未成功：{exc.message}"
    except ValueError:
        done = "操作未成功：请选择业务员。"
    wake = request.app.get(appkeys.WAKE_OUTBOX)
    if wake is not None:
        wake()
    queries.mark_metrics_stale()
    back = auth.safe_next(str(form.get("next") or "")) if form.get("next") else "/board/"
    raise web.HTTPSeeOther(f"{back}?msg={quote(done)}")


async def login(request: web.Request) -> web.Response:
    settings = request.app[appkeys.SETTINGS]
    if not settings.wecom_corpid:
        return _html(render.message_page("无法登录", "没有配置企业微信（WECOM_CORPID）。"), status=503)
    state = secrets.token_urlsafe(16)
    redirect_uri = f"{auth.base_url(request)}/board/oauth"
    resp = web.HTTPFound(auth.authorize_url(settings, redirect_uri, state))
    resp.set_cookie(auth.STATE_COOKIE, f"{state}|{auth.safe_next(request.query.get('next'))}", httponly=True,
                    samesite="Lax", path="/board", max_age=600, secure=request.secure)
    raise resp


async def oauth_return(request: web.Request) -> web.Response:
    expected, _, nxt = (request.cookies.get(auth.STATE_COOKIE) or "").partition("|")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not expected or not hmac.compare_digest(expected, state):
        return _html(render.message_page("登录失败", "登录请求已过期或不是从本页面发起的，请重新登录。"), status=400)
    if not code:
        return _html(render.message_page("登录失败", "企业微信没有返回登录码。"), status=400)
    try:
        userid = await auth.userid_for_code(request.app, code)
    except auth.LoginFailed as exc:
        log.info("board login failed: %s", exc)
        return _html(render.message_page("登录失败", "企业微信登录码无效或已使用，请重新登录。"), status=401)
    resp = web.HTTPFound(auth.safe_next(nxt))
    resp.del_cookie(auth.STATE_COOKIE, path="/board")
    await auth.start_session(request, userid, resp)
    raise resp


async def link_login(request: web.Request) -> web.Response:
    userid = await redeem_link(request.app[appkeys.STORE], request.query.get("t", ""))
    if userid is None:
        return _html(render.message_page("链接已失效", "这个看板链接已经用过或已过期，请在企业微信里重新发送「看板」。"),
                     status=403)
    resp = web.HTTPFound("/board/")
    await auth.start_session(request, userid, resp)
    raise resp


async def logout(request: web.Request) -> web.Response:
    session = await auth.session_of(request)
    form = await request.post()
    if session is not None and hmac.compare_digest(str(form.get("csrf") or ""), session["csrf"]):
        await auth.end_session(request)
    resp = web.HTTPSeeOther("/board/login")
    resp.del_cookie(auth.COOKIE, path="/board")
    raise resp


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "board.css", headers={"Cache-Control": "max-age=3600"})


async def to_board(request: web.Request) -> web.Response:
    raise web.HTTPFound("/board/")


async def refresh_desk_gauges(app: web.Application) -> None:
    """orderbot_desk{metric=…} for /metrics: the last 7 days, cached like the board's."""
    m = await queries.cached_metrics(app[appkeys.ENGINE], utcnow(), days=7)
    for name, value in m.summary().items():
        if value is not None:
            metrics.DESK.labels(metric=name).set(value)
    async with app[appkeys.SESSIONMAKER]() as s:
        coei = await coei_survey.latest_result(s)
    if coei is not None:
        if coei.index is not None:
            metrics.COEI.labels(part="index").set(coei.index)
        metrics.COEI.labels(part="responses").set(coei.answered)
        metrics.COEI.labels(part="asked").set(coei.asked)


async def schedule_digest(app: web.Application) -> None:
    """The first daily-digest row (board/digest.py); idempotent across replicas and restarts."""
    from board.digest import ensure_scheduled

    try:
        await ensure_scheduled(app[appkeys.SESSIONMAKER], app[appkeys.SETTINGS])
    except Exception:  # noqa: BLE001 — a bad ORDERBOT_DIGEST_AT must not stop the service
        log.exception("daily digest not scheduled")


WARM_TIMEOUT = 10.0  # seconds start-up may spend warming the board before taking requests


async def warm_board(app: web.Application) -> None:
    """At start-up, before requests are taken: the stored metrics snapshot into memory (a
    computation starts in the background only when there is none or it is stale), and one
    pass of the board's queries, so the first paint finds its SQL compiled and a database
    connection open instead of paying for both."""
    now = utcnow()
    try:
        async with asyncio.timeout(WARM_TIMEOUT):
            await queries.warm_metrics(app[appkeys.ENGINE], now)
            await queries.board_snapshot(app[appkeys.SESSIONMAKER], now=now)
    except Exception as exc:  # noqa: BLE001 — an unmigrated or slow database must not stop start-up
        log.warning("board not warmed at start-up: %s", exc)


async def metrics_fragment(request: web.Request) -> web.Response:
    """The metrics panel alone: the page fetches it when it was painted without metrics."""
    await auth.viewer(request)
    now = utcnow()
    m = await queries.cached_metrics(request.app[appkeys.ENGINE], now)
    today = today_in_china(now)
    days = m.day_series(today - dt.timedelta(days=queries.METRICS_DAYS - 1), today)
    return _html(render.metrics_panel(m, days))


def setup(app: web.Application) -> None:
    app.setdefault(appkeys.SCRAPE_HOOKS, []).append(refresh_desk_gauges)
    app.on_startup.append(schedule_digest)
    app.on_startup.append(warm_board)
    app.router.add_get("/board", to_board)
    app.router.add_get("/board/", board_view)
    app.router.add_get("/board/metrics", metrics_fragment)
    app.router.add_get("/board/orders/{number}", order_view)
    app.router.add_post("/board/orders/{number}/{action:release|reassign|cancel}", order_action)
    app.router.add_get("/board/login", login)
    app.router.add_get("/board/oauth", oauth_return)
    app.router.add_get("/board/link", link_login)
    app.router.add_post("/board/logout", logout)
    app.router.add_get("/board/static/board.css", stylesheet)
