"""A rep's WeCom commands carrying SQL-looking text and control characters (issue 16, part 3),
end to end on both profiles: the command is answered, the text is stored exactly as typed
(the order's field and the inbound message), and nothing else is touched."""

from __future__ import annotations

import itertools
import re

from sqlmodel import func, select

from orders.models import Customer, InboundMessage, Order, OrderEvent
from tests.push.harness import CUSTOMER_OPENID, REP_ID, World
from tests.wecom import wecom_sim

_msgids = itertools.count(77000)

SQL_REMARK = "'); DROP TABLE orders;--"
# Tab, DEL and a C1 control (both legal in XML 1.0), a right-to-left override, a zero-width
# space, printf and LIKE wildcards, a backslash escape and a NUL spelled out: kept as typed.
CONTROL_REMARK = "先发\t一半\x7f\x85 \u202e反向\u200b %s %% _ \\x00 \\' \"; SELECT 1"


async def say(world: World, text: str) -> list[str]:
    before = len(world.sent("wecom_send", to=REP_ID))
    xml = wecom_sim.text_xml(world.settings, REP_ID, text, msgid=next(_msgids))
    assert (await wecom_sim.post(world.app_client, world.settings, xml)).status == 200
    await world.drain()
    return [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID)[before:]
            if e["msgtype"] == "text"]


async def pending_order(world: World) -> tuple[int, str]:
    await world.customer_wrote(hours_ago=1)
    order_id = await world.place_order()
    await world.drain()
    return order_id, (await world.order(order_id)).number


async def counts(world: World) -> tuple[int, int, int]:
    async with world.sm() as s:
        orders = (await s.exec(select(func.count(Order.id)))).one()
        customers = (await s.exec(select(func.count(Customer.id)))).one()
        events = (await s.exec(select(func.count(OrderEvent.id)))).one()
    return int(orders), int(customers), int(events)


async def stored_texts(world: World) -> list[str]:
    async with world.sm() as s:
        rows = await s.exec(select(InboundMessage.content).where(InboundMessage.channel == "wecom"))
        return [str(r) for r in rows]


async def test_sql_in_a_remark_is_stored_verbatim_and_answered(world: World) -> None:
    order_id, number = await pending_order(world)
    orders, customers, events = await counts(world)
    # when the rep types an injection attempt as the order's remark
    [answer] = await say(world, f"改 {number} 备注 {SQL_REMARK} 原因 客户来电")  # a placed order's edit says why
    # then the command is answered and the remark is exactly what was typed
    assert answer == f"订单 {number} 的备注已改为 {SQL_REMARK}。"
    order = await world.order(order_id)
    assert order.remarks == SQL_REMARK and order.status == "pending"
    assert f"改 {number} 备注 {SQL_REMARK} 原因 客户来电" in await stored_texts(world)
    # and nothing else changed: the orders table is there, one edit event more
    assert await counts(world) == (orders, customers, events + 1)
    [todo] = await say(world, "待办")
    assert number in todo


async def test_control_characters_in_a_remark_and_a_reason_are_kept(world: World) -> None:
    order_id, number = await pending_order(world)
    [answer] = await say(world, f"改 {number} 备注 {CONTROL_REMARK} 原因 客户来电")
    assert number in answer and "备注已改为" in answer
    # the message is stored as typed; the command parser's one normalisation folds each run
    # of whitespace (the tab, the C1 NEL) into a space, and every other character is kept
    assert any(CONTROL_REMARK in t for t in await stored_texts(world))
    assert (await world.order(order_id)).remarks == re.sub(r"\s+", " ", CONTROL_REMARK)
    assert "\x7f" in CONTROL_REMARK and "\x7f" in ((await world.order(order_id)).remarks or "")
    # a rejection reason full of quotes reaches the customer as typed
    reason = "' OR '1'='1; --\t缺货"
    [done] = await say(world, f"拒绝 {number} {reason}")
    assert "已拒绝" in done and (await world.order(order_id)).status == "cancelled"
    told = [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]
    assert any(re.sub(r"\s+", " ", reason) in t for t in told)


async def test_an_order_number_with_sql_after_it_finds_nothing_and_harms_nothing(world: World) -> None:
    _, number = await pending_order(world)
    before = await counts(world)
    answers = await say(world, f"确认 {number}'; DELETE FROM customer;--")
    assert answers  # answered (help or not found), not silently dropped
    assert await counts(world) == before
    assert (await world.order(1)).status == "pending"


async def test_a_control_character_xml_cannot_carry_is_refused_whole(world: World) -> None:
    # a bell (\x07) cannot appear in XML 1.0, so WeCom never sends one: a body carrying it is
    # refused with a coded 400 and nothing is stored or answered
    order_id, number = await pending_order(world)
    before_texts = await stored_texts(world)
    xml = wecom_sim.text_xml(world.settings, REP_ID, f"改 {number} 备注 响铃\x07", msgid=next(_msgids))
    answer = await wecom_sim.post(world.app_client, world.settings, xml)
    assert answer.status == 400 and "malformed" in await answer.text()
    await world.drain()
    assert await stored_texts(world) == before_texts
    assert (await world.order(order_id)).remarks is None
