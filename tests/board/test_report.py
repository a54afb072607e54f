"""`orderbot report` and /metrics: the desk metrics read back from real order events."""

from __future__ import annotations

import asyncio
import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import get_settings
from orders import actions
from orders.actors import Actor
from service.cli import main
from tests.board.conftest import Board
from tests.push.harness import CUSTOMER_OPENID, MANAGER_ID, seed

FIELDS = {"contact": "张工", "phone": "13812345678", "province": "江苏省", "city": "常州市",
          "address_detail": "湖塘镇长虹路88号", "delivery_date": date.today() + timedelta(days=7)}


async def _desk(url: str) -> None:
    """Four orders: one confirmed, one held then released, one held then cancelled, one pending."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    sm = make_sessionmaker(engine)
    ids = await seed(sm)
    customer = Actor.customer(ids["customer"], CUSTOMER_OPENID)
    manager = Actor.manager(ids["manager"], MANAGER_ID)

    async def place(quantity: int) -> int:
        r = await actions.create_order(sm, ids["customer"], [actions.DraftLine("HB-M6X20-304", quantity)],
                                       customer, fields=FIELDS, submit=True)
        return r.order.id

    await actions.confirm(sm, await place(100), Actor.rep(ids["rep"], "zhangsan"))
    await actions.release(sm, await place(200_000), manager, "老客户")
    await actions.cancel(sm, await place(300_000), manager, "库存不够")
    await place(10)
    await engine.dispose()


def test_report_prints_the_table_and_writes_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    asyncio.run(_desk(url))
    monkeypatch.setenv("ORDERBOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        out_csv = tmp_path / "desk.csv"
        assert main(["report", "--since", "7d", "--csv", str(out_csv)]) == 0
        out = capsys.readouterr().out
        assert "共 4 单" in out
        assert "拦截率" in out and "50.0%" in out  # 2 of 4 held
        assert "2 次挂起 → 放行/取消" in out and "1 单已确认" in out
        rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
        assert len(rows) == 8 and sum(int(r["placed"]) for r in rows) == 4
        assert sum(int(r["held"]) for r in rows) == 2
        assert main(["report", "--since", "last week"]) == 2
        assert "use 7d" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


async def test_metrics_endpoint_exposes_the_desk_metrics(board: Board) -> None:
    await board.order(quantity=200_000)  # held
    await board.order(quantity=100)
    async with board.client() as http:
        body = await (await http.get(f"{board.url}/metrics")).text()
    assert 'orderbot_desk{metric="interception_rate"} 0.5' in body
    assert 'orderbot_desk{metric="orders_placed"} 2.0' in body


async def test_the_database_summaries_give_the_same_numbers_as_the_event_definition(board: Board) -> None:
    """orderbot/desk_report.py's SQL against orders.desk_metrics.compute over the same events."""
    import datetime as dt

    from sqlmodel import select

    from orderbot.desk_report import metrics_since
    from orders.desk_metrics import compute
    from orders.models import Order, OrderEvent

    manager = Actor.manager(board.ids["manager"], MANAGER_ID)
    rep = Actor.rep(board.ids["rep"], "zhangsan")
    a, _ = await board.order(quantity=200_000)
    await actions.release(board.sm, a, manager, "放行")
    await actions.hold(board.sm, a, manager, "再等等")
    await actions.release(board.sm, a, manager, "好了")
    b, _ = await board.order(quantity=100)
    await actions.confirm(board.sm, b, rep)
    await actions.ship(board.sm, b, Actor.system("hook:wms"), "顺丰", "SF1")
    c, _ = await board.order(quantity=300_000)
    await actions.cancel(board.sm, c, manager, "不要了")
    await board.order(quantity=10)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    async with board.sm() as s:
        events = list((await s.exec(select(OrderEvent).order_by(OrderEvent.order_id, OrderEvent.id))).all())
        orders = list((await s.exec(select(Order))).all())
    expected = compute(events, current_status={o.id: o.status for o in orders},
                       order_rep={o.id: o.rep_id for o in orders}, since=since)
    engine = board.sm.kw["bind"]
    got = await metrics_since(engine, since)
    assert got.summary() == expected.summary()
    assert sorted(got.response_seconds) == pytest.approx(sorted(expected.response_seconds))
    assert {k: (v.sla_breaches, v.confirmation_seconds) for k, v in got.reps.items()} == \
        {k: (v.sla_breaches, v.confirmation_seconds) for k, v in expected.reps.items()}
    assert (got.placed, got.held, got.with_external) == (4, 2, 1)


MONTH = "2026-11"
ANSWERS = [{"notice_before_shipment": 100.0, "update_frequency": 100.0, "delay_remedy": None},
           {"notice_before_shipment": 0.0, "update_frequency": 50.0, "delay_remedy": 0.0}, {}]
INDEX = "42.5"  # notice 50 × 40 % + updates 75 × 30 % + remedy 0 × 30 %


async def _surveyed(sm, customer_id: int, order_ids: list[int]) -> None:  # noqa: ANN001
    import datetime as dt

    from orders.models import CoeiSurvey, utcnow

    async with sm() as s, s.begin():
        for order_id, answers in zip(order_ids, ANSWERS, strict=True):
            s.add(CoeiSurvey(month=MONTH, order_id=order_id, customer_id=customer_id, answers=answers,
                             question=len(answers), state="done" if len(answers) == 3 else "asking",
                             expires_at=utcnow() + dt.timedelta(days=7)))


async def test_the_coei_index_is_on_the_board_and_in_metrics(board: Board) -> None:
    order_ids = [(await board.order())[0] for _ in ANSWERS]
    await _surveyed(board.sm, board.ids["customer"], order_ids)
    async with board.client() as http:
        page = await (await board.login(http, MANAGER_ID)).text()
        body = await (await http.get(f"{board.url}/metrics")).text()
    assert "客户订单体验指数（COEI）" in page and MONTH in page and INDEX in page and "2/3" in page
    assert f'orderbot_coei{{part="index"}} {INDEX}' in body and 'orderbot_coei{part="asked"} 3.0' in body


def test_orderbot_coei_prints_the_month_and_sends_its_sample_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    from sqlalchemy import update

    from orders.models import Order, Outbox

    url = f"sqlite+aiosqlite:///{tmp_path / 'coei.db'}"
    asyncio.run(_desk(url))

    async def prepare() -> None:
        engine = make_engine(url)
        sm = make_sessionmaker(engine)
        async with sm() as s, s.begin():  # the confirmed order was delivered in mid-November
            await s.exec(update(Order).where(Order.status == "confirmed").values(
                status="delivered", delivered_at=dt.datetime(2026, 11, 15, 4, tzinfo=dt.UTC)))
        await engine.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("ORDERBOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["coei", "--month", MONTH]) == 0
        out = capsys.readouterr().out
        assert "COEI）2026-11：—" in out and "抽样并发送 0 单" in out
        assert main(["coei", "--month", MONTH, "--send"]) == 0
        out = capsys.readouterr().out
        assert "已向 1 位客户" in out and "抽样并发送 1 单" in out
        assert main(["coei", "--month", MONTH, "--send"]) == 0
        assert "已向 0 位客户" in capsys.readouterr().out

        async def asked() -> list[Outbox]:
            from sqlmodel import select

            engine = make_engine(url)
            async with make_sessionmaker(engine)() as s:
                rows = list((await s.exec(select(Outbox).where(Outbox.kind == "notify_customer"))).all())
            await engine.dispose()
            return [r for r in rows if r.payload.get("type") == "coei_survey"]

        [row] = asyncio.run(asked())
        assert row.target == CUSTOMER_OPENID and "1/3" in row.payload["text"]
        assert main(["report", "--since", "7d"]) == 0
        assert "客户订单体验指数（COEI，2026-11）：—   0/1 单回复" in capsys.readouterr().out
        assert main(["coei", "--month", "11/2026"]) == 2
    finally:
        get_settings.cache_clear()
