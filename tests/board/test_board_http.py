"""The board over HTTP, as a browser without JavaScript uses it: login, buckets, actions, refusals."""

from __future__ import annotations

import re

from sqlmodel import select

from board.links import issue_link
from orders.models import InboundMessage, Order, OrderEvent
from tests.board.conftest import ADMIN_ID, Board
from tests.push.harness import MANAGER_ID, REP_ID


def bucket_html(page: str, bucket: str) -> str:
    m = re.search(rf'<section class="bucket {bucket}".*?</section>', page, re.S)
    assert m, f"no {bucket} bucket on the page"
    return m.group(0)


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m
    return m.group(1)


async def test_manager_logs_in_through_wecom_sees_the_held_order_red_and_releases_it(board: Board) -> None:
    order_id, number = await board.order(quantity=200_000)  # more than in stock: held
    async with board.client() as http:
        resp = await board.login(http, MANAGER_ID)
        page = await resp.text()
        assert resp.status == 200 and str(resp.url).endswith("/board/")
        assert number in bucket_html(page, "red") and "异常挂起" in bucket_html(page, "red")
        assert number not in bucket_html(page, "green")
        resp = await http.post(f"{board.url}/board/orders/{number}/release",
                               data={"csrf": csrf_of(page), "reason": "老客户，先发货"})
        page = await resp.text()
        assert resp.status == 200 and "已放行" in page
        assert number in bucket_html(page, "green") and number not in bucket_html(page, "red")
    async with board.sm() as s:
        event = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                       OrderEvent.type == "released"))).one()
    assert (event.actor_kind, event.actor_id, event.reason) == ("manager", MANAGER_ID, "老客户，先发货")


async def test_a_rep_gets_403_and_a_stranger_no_session(board: Board) -> None:
    async with board.client() as http:
        resp = await board.login(http, REP_ID)
        assert resp.status == 403 and "仅对经理和管理员开放" in await resp.text()
    async with board.client() as http:
        resp = await http.get(f"{board.url}/board/", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/board/login")


async def test_an_admin_named_in_the_settings_gets_in(board: Board) -> None:
    async with board.client() as http:
        resp = await board.login(http, ADMIN_ID)
        assert resp.status == 200 and "管理员" in await resp.text()


async def test_an_action_without_the_csrf_token_is_refused_and_changes_nothing(board: Board) -> None:
    order_id, number = await board.order(quantity=200_000)
    async with board.client() as http:
        await board.login(http, MANAGER_ID)
        for data in ({}, {"csrf": "forged"}):
            resp = await http.post(f"{board.url}/board/orders/{number}/release", data=data)
            assert resp.status == 403
        page = await (await http.get(f"{board.url}/board/")).text()
        resp = await http.post(f"{board.url}/board/orders/{number}/release",
                               data={"csrf": csrf_of(page)}, headers={"Origin": "https://evil.example"})
        assert resp.status == 403
    async with board.sm() as s:
        assert (await s.get(Order, order_id)).status == "on_hold"


async def test_cancel_and_reassign_go_through_the_hub_and_refusals_are_shown(board: Board) -> None:
    order_id, number = await board.order(quantity=100)
    async with board.client() as http:
        page = await (await board.login(http, MANAGER_ID)).text()
        token = csrf_of(page)
        for action in ("reassign", "cancel"):  # no reason: refused, nothing changes
            resp = await http.post(f"{board.url}/board/orders/{number}/{action}",
                                   data={"csrf": token, "rep_id": str(board.ids["other_rep"])})
            assert "需要填写原因" in await resp.text()
        async with board.sm() as s:
            assert (await s.get(Order, order_id)).rep_id != board.ids["other_rep"]
        resp = await http.post(f"{board.url}/board/orders/{number}/reassign",
                               data={"csrf": token, "rep_id": str(board.ids["other_rep"]), "reason": "李四休假",
                                     "next": f"/board/orders/{number}"})
        assert "已转交" in await resp.text() and resp.url.path == f"/board/orders/{number}"  # back where it was done
        resp = await http.post(f"{board.url}/board/orders/{number}/release", data={"csrf": token, "reason": "试试"})
        assert "操作未成功" in await resp.text()  # not on hold: the hub refuses
        resp = await http.post(f"{board.url}/board/orders/{number}/cancel", data={"csrf": token, "reason": "客户撤单"})
        assert "已取消" in await resp.text()
    async with board.sm() as s:
        order = await s.get(Order, order_id)
    assert (order.status, order.rep_id) == ("cancelled", board.ids["other_rep"])


async def test_the_order_page_shows_who_when_what_and_why_and_the_source_message(board: Board) -> None:
    async with board.sm() as s, s.begin():
        msg = InboundMessage(channel="wechat", dedup_key="m-board-1", from_user="oa_customer_0001",
                             msg_type="text", content="M6螺栓二十万个，下周送")
        s.add(msg)
        await s.flush()
        msg_id = msg.id
    order_id, number = await board.order(quantity=200_000)
    async with board.sm() as s, s.begin():
        ev = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                    OrderEvent.type == "held"))).one()
        ev.source_message_id = msg_id  # as if the hold came from that message
        s.add(ev)
    async with board.client() as http:
        await board.login(http, MANAGER_ID)
        page = await (await http.get(f"{board.url}/board/orders/{number}")).text()
    assert "事件记录" in page and "挂起" in page and "rule:stock" in page
    assert "M6螺栓二十万个" in page  # from which message
    assert "挂起原因" in page  # what changed


async def test_a_one_time_link_logs_in_once(board: Board) -> None:
    url = await issue_link(board.store, MANAGER_ID, board.url)
    async with board.client() as http:
        resp = await http.get(url)
        assert resp.status == 200 and "订单看板" in await resp.text()
    async with board.client() as http:
        resp = await http.get(url)
        assert resp.status == 403 and "已经用过" in await resp.text()


async def test_a_reused_or_made_up_oauth_code_does_not_log_in(board: Board) -> None:
    async with board.client() as http:
        resp = await http.get(f"{board.url}/board/login", allow_redirects=False)
        state = re.search(r"state=([^&#]+)", resp.headers["Location"]).group(1)
        resp = await http.get(f"{board.url}/board/oauth", params={"code": "made-up", "state": state})
        assert resp.status == 401
        resp = await http.get(f"{board.url}/board/oauth", params={"code": "x", "state": "other"})
        assert resp.status == 400
        assert (await http.get(f"{board.url}/board/", allow_redirects=False)).status == 302


async def test_a_customer_with_an_unpaid_delivery_past_its_terms_shows_yellow_until_paid(board: Board) -> None:
    """The yellow "overdue payer" bucket reads the receivables: 30 days' terms after delivery."""
    import datetime as dt

    from orders.models import Payment, utcnow

    delivered_id, _ = await board.order()
    async with board.sm() as s, s.begin():
        old = await s.get(Order, delivered_id)
        assert old is not None
        old.status, old.delivered_at = "delivered", utcnow() - dt.timedelta(days=20)  # within its 30 days
        s.add(old)
        total = old.total
    _, number = await board.order()  # the same customer orders again
    async with board.client() as http:
        page = await (await board.login(http, MANAGER_ID)).text()
        assert number in bucket_html(page, "green") and "客户逾期未付款" not in page
        async with board.sm() as s, s.begin():
            old = await s.get(Order, delivered_id)
            assert old is not None
            old.delivered_at = utcnow() - dt.timedelta(days=40)
            s.add(old)
        page = await (await http.get(f"{board.url}/board/")).text()
        assert number in bucket_html(page, "yellow") and "客户逾期未付款（10 天）" in bucket_html(page, "yellow")
        async with board.sm() as s, s.begin():
            s.add(Payment(reference="bank-1", customer_id=board.ids["customer"], order_id=delivered_id,
                          amount=total, paid_at=utcnow(), created_at=utcnow()))
        page = await (await http.get(f"{board.url}/board/")).text()
        assert number in bucket_html(page, "green") and "客户逾期未付款" not in page


async def test_after_a_restart_the_board_paints_its_metrics_from_the_stored_snapshot(board: Board, monkeypatch) -> None:
    """The first paint never waits for the desk metrics: a restarted process shows the
    snapshot the last computation stored, and a page painted before any is fetches the panel."""
    from board import queries
    from orderbot import desk_report
    from orders.models import DeskMetricsSnapshot

    await board.order()
    async with board.client() as http:
        await board.login(http, MANAGER_ID)
        resp = await http.get(f"{board.url}/board/metrics")  # what a page without metrics fetches
        panel = await resp.text()
        assert resp.status == 200 and "运营指标" in panel and "下单数" in panel
        async with board.sm() as s:
            stored = await s.get(DeskMetricsSnapshot, "days:14")
        assert stored is not None and "days" in stored.payload

        queries.clear_metrics_cache()  # a new process: nothing in memory

        async def no_computing(*args, **kw):  # noqa: ANN002, ANN003
            raise AssertionError("the first paint must not compute the metrics")

        monkeypatch.setattr(desk_report, "metrics_since", no_computing)
        page = await (await http.get(f"{board.url}/board/")).text()
        metrics = re.search(r'<section class="metrics">.*?</section>', page, re.S)
        assert metrics and "下单数" in metrics.group(0) and "metrics-pending" not in page
    async with board.client() as http:
        await board.login(http, REP_ID)
        assert (await http.get(f"{board.url}/board/metrics")).status == 403
