"""Returns from a warehouse CSV (`orderbot import-returns`): bad rows listed by line, good rows
kept, a re-import counts nothing twice, and the returns feed the phone-return-rate hold rule.
Both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from orderbot import migrations
from orderbot.db import make_engine
from orderbot.settings import get_settings
from orders import actions
from orders.actions import DraftLine
from orders.models import Order, OrderEvent, OrderReturn
from service.cli import main
from service.commands.import_returns import import_returns, read_rows
from tests.orders.hub_factories import COMPLETE, World, build_world
from tests.rules.conftest import Tables


async def placed(w: World, ship: bool) -> Order:
    result = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")],
                                        w.as_customer, fields=COMPLETE, submit=True)
    if ship:
        await actions.confirm(w.sm, result.order.id, w.as_rep)
        await actions.ship(w.sm, result.order.id, w.as_rep, "顺丰", f"SF{result.order.id}")
    return result.order


async def returns(w: World) -> list[OrderReturn]:
    async with w.sm() as s:
        return list((await s.exec(select(OrderReturn).order_by(OrderReturn.id))).all())


async def test_csv_keeps_good_rows_lists_bad_ones_and_the_return_rate_rule_holds(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk={"version": "t", "rules": [
        {"id": "returns", "kind": "return_rate", "max_rate": 0.3, "min_orders": 2}]})
    shipped, waiting = await placed(w, ship=True), await placed(w, ship=False)
    text = (
        "order,reason,reference,returned_at,note\n"
        f"{shipped.number},质量问题,RMA-1,2026-03-05,螺纹不良\n"  # line 2: good
        f"{waiting.number},不要了,RMA-2,,\n"  # line 3: not shipped yet
        "SO20990101-0001,错发,RMA-3,,\n"  # line 4: no such order
        f"{shipped.number},,RMA-4,,\n"  # line 5: no reason
        f"{shipped.number},包装破损,RMA-5,昨天,\n"  # line 6: a date nobody can read
        f"{shipped.number},质量问题,RMA-1,2026-03-05,\n"  # line 7: the same return again
    )
    report = await import_returns(w.sm, read_rows(text))
    assert (report.recorded, report.repeated) == (1, 1)
    assert [line for line, _ in report.rejected] == [3, 4, 5, 6]
    assert "还没发货" in report.rejected[0][1] and "SO20990101-0001" in report.rejected[1][1]
    assert [(r.order_id, r.reference, r.phone) for r in await returns(w)] == [(shipped.id, "RMA-1", COMPLETE["phone"])]
    async with w.sm() as s:
        event = (await s.exec(select(OrderEvent).where(OrderEvent.type == "returned"))).one()
    assert (event.actor_id, event.reason) == ("import:returns", "质量问题（螺纹不良）")
    # importing the same file again records nothing new
    again = await import_returns(w.sm, read_rows(text))
    assert (again.recorded, again.repeated) == (0, 2) and len(await returns(w)) == 1
    # the phone now has 1 return in 2 orders (50 % > 30 %): its next order is held
    nxt = await placed(w, ship=False)
    assert nxt.status == "on_hold" and "退货率" in (nxt.hold_reason or "")


@pytest.fixture
def migrated_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    asyncio.run(migrations.upgrade(db_url))
    monkeypatch.setenv("ORDERBOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


async def _shipped_number(url: str) -> str:
    engine = make_engine(url)
    try:
        return (await placed(await build_world(engine), ship=True)).number
    finally:
        await engine.dispose()


def test_import_command_exit_codes(migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    number = asyncio.run(_shipped_number(migrated_url))
    good = tmp_path / "good.csv"
    good.write_text(f"order,reason\n{number},质量问题\n", encoding="utf-8")
    assert main(["import-returns", str(good)]) == 0
    assert "recorded 1, already recorded 0, rejected 0" in capsys.readouterr().out
    assert main(["import-returns", str(good)]) == 0  # the same file again: nothing twice
    assert "recorded 0, already recorded 1" in capsys.readouterr().out
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(f"order,reason\n{number},破损\nSO20990101-0001,错发\n", encoding="utf-8")
    assert main(["import-returns", str(mixed)]) == 1
    out = capsys.readouterr().out
    assert "recorded 1" in out and "line 3: 没有订单 SO20990101-0001" in out
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("number,why\nSO1,x\n", encoding="utf-8")
    assert main(["import-returns", str(bad_header)]) == 2
    assert "order, reason" in capsys.readouterr().err
    assert main(["import-returns", str(tmp_path / "missing.csv")]) == 2
