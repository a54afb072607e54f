"""The WeCom intake (a rep places an inquiry for the customer) with the tables from
ORDERBOT_PRICE_RULES / ORDERBOT_RISK_RULES: the contract price and the hold apply there too."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from orders.models import Order, OrderEvent
from tests.push.harness import MANAGER_ID, World, world  # noqa: F401  (the two-profile world fixture)
from tests.rules.conftest import tables_in_env
from tests.wecom.test_commands import say
from tests.wecom.test_inquiry import catalog_world  # noqa: F401  (fixture)

PRICES = """version: wecom
prices:
  - {id: hengrui, kind: contract, label: 恒锐合同价, customers: [常州恒锐五金有限公司], skus: [HB-M6X20-304], price: 0.2}
"""
RISK = """version: wecom
rules:
  - {id: first, kind: first_order, min_amount: 50}
"""


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tables_in_env(monkeypatch, tmp_path, PRICES, RISK)


@pytest.fixture
def ruled_world(tables: None, catalog_world: World) -> World:  # noqa: F811  (after the tables are set)
    return catalog_world


async def test_reps_inquiry_gets_the_contract_price_and_the_first_order_hold(ruled_world: World) -> None:
    w = ruled_world
    recap = await say(w, "客户：常州恒锐五金 M6*20外六角 304的 500个，下周三前送常州武进湖塘镇长虹路88号，张工 13812345678")
    assert any("合同价·恒锐合同价" in r and "合计：¥100.00" in r for r in recap), recap
    replies = await say(w, "确认")
    assert any("已代客户下单" in r for r in replies), replies
    async with w.sm() as s:
        order = (await s.exec(select(Order))).one()
        hit = (await s.exec(select(OrderEvent).where(OrderEvent.type == "risk_hit"))).one()
    assert (order.channel, order.total, order.status) == ("wecom", Decimal("100.00"), "on_hold")
    assert [p["rule"] for p in order.promotions] == ["hengrui"] and hit.actor_id == "rule:first"
    # the manager releases the hold from WeCom, with a reason; without one nothing happens
    [refused] = await say(w, f"放行 {order.number}", userid=MANAGER_ID)
    assert "放行要写原因" in refused
    [released] = await say(w, f"放行 {order.number} 老客户，已电话核实", userid=MANAGER_ID)
    assert "已放行" in released
    # the desk's own lines from WeCom: freight and a gift, each with its reason; the contract
    # price stays, the gift is not a sale
    [freight] = await say(w, f"加运费 {order.number} 20 偏远加收")
    [gift] = await say(w, f"加赠品 {order.number} M6*20外六角 304的 50个 老客户")
    assert "已加运费" in freight and "已加赠品" in gift, (freight, gift)
    async with w.sm() as s:
        order = await s.get(Order, order.id)
        edits = list(await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                           OrderEvent.type == "edited").order_by(OrderEvent.id)))
    assert (order.status, order.total) == ("pending", Decimal("120.00"))
    assert [p["rule"] for p in order.promotions] == ["hengrui"]
    assert [e.reason for e in edits] == ["偏远加收", "老客户"]
