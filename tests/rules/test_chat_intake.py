"""The WeChat chat intake with the tables from ORDERBOT_PRICE_RULES / ORDERBOT_RISK_RULES: the
customer hears of the promotion, a parcel-locker order is held and a manager releases it."""

from __future__ import annotations

from pathlib import Path

import pytest

from orders import actions
from orders.actors import Actor
from orders.models import SalesRep
from orders.special_lines import SpecialLine, add_special_line
from tests.chat.conftest import Chat, chat  # noqa: F401  (the chat fixture)
from tests.rules.conftest import tables_in_env

PRICES = """version: chat
promotions:
  - {id: mj, kind: full_reduction, label: 满1000减50, threshold: 1000, reduction: 50}
"""
RISK = """version: chat
rules:
  - {id: locker, kind: parcel_locker, min_amount: 1000}
"""
ORDER = "M6*20外六角 304的 5000个，明天送到常州市武进区湖塘镇长虹路88号{where}，收货人张工 13812345678"


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tables_in_env(monkeypatch, tmp_path, PRICES, RISK)


@pytest.fixture
def ruled_chat(tables: None, chat: Chat) -> Chat:  # noqa: F811  (the fixture, after the tables are set)
    return chat


async def test_chat_order_gets_the_promotion_then_a_locker_order_is_held_and_released(ruled_chat: Chat) -> None:
    talk = ruled_chat
    recap = await talk.say("o_zhang", ORDER.format(where=""))
    # the promotion is in the recap the customer confirms, priced through orders.repricing
    assert any("优惠：满减·满1000减50 -¥50.00" in r and "合计：¥1,200.00" in r for r in recap)
    placed = await talk.say("o_zhang", "确认")
    (order,) = await talk.orders()
    assert (order.subtotal, order.discount, order.total) == (1250, 50, 1200)
    assert order.status == "pending" and any("已享优惠：满减·满1000减50 -¥50.00" in r for r in placed)
    # the desk adds freight to the chat's order: a manual line with its reason, total moves
    async with talk.sm() as s:
        rep = await s.get(SalesRep, order.rep_id) if order.rep_id else None
    assert rep is not None
    added = await add_special_line(talk.sm, order.id, Actor.rep(rep.id, rep.wecom_userid),
                                   SpecialLine("freight", amount=40), reason="偏远地区加收")
    assert added.order.total == 1240 and any(
        (ln.line_type, ln.rule_id, ln.note) == ("freight", "manual", "偏远地区加收") for ln in added.lines)
    await talk.say("o_li", ORDER.format(where="菜鸟驿站"))
    await talk.say("o_li", "确认")
    held = (await talk.orders())[-1]
    assert held.status == "on_hold" and "驿站" in held.hold_reason
    async with talk.sm() as s:
        manager = SalesRep(wecom_userid="mgr", name="经理", is_manager=True, regions=["江苏省"])
        s.add(manager)
        await s.commit()
    released = await actions.release(talk.sm, held.id, Actor.manager(manager.id, "mgr"), "已电话核实")
    assert released.order.status == "pending"
