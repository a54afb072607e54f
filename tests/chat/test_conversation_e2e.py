"""A customer orders in WeChat chat and ends up with an order number, nobody typing for us.

Every message goes the real way: the stand-in builds a signed, encrypted callback, the app
verifies and stores it, the outbox worker runs the conversation, and replies come back as
customer-service messages on the stand-in."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from orders.models import Customer, Order
from tests.chat.conftest import REP, Chat

FULL_ORDER = "M6*20外六角 304的 5000个，明天送到常州市武进区湖塘镇长虹路88号，收货人张工 13812345678"


async def test_first_message_to_order_number(chat: Chat) -> None:
    # given a complete order in one message
    replies = await chat.say("o_zhang", FULL_ORDER)
    # then the bot shows a summary with the product, its price and the total, and asks to confirm
    assert len(replies) == 1
    summary = replies[0]
    assert "外六角螺栓 M6×20 304不锈钢" in summary and "5000个" in summary
    assert "¥1,250.00" in summary  # 0.25 元 × 5000
    assert "确认" in summary and await chat.orders() == []

    # when the customer confirms
    replies = await chat.say("o_zhang", "确认")
    # then one order exists, pending with a rep, and the customer has its number
    orders = await chat.orders()
    assert len(orders) == 1
    order = orders[0]
    assert order.status == "pending" and order.rep_id is not None
    assert (order.province, order.city, order.district) == ("江苏省", "常州市", "武进区")
    assert any(order.number in r for r in replies)
    # and the rep for 江苏 has a card with buttons for it
    assert len(chat.cards_to(REP)) == 1

    # "我的订单" and "SO… 到哪了" are answered from the hub
    listed = await chat.say("o_zhang", "我的订单")
    assert len(listed) == 1 and order.number in listed[0] and "待确认" in listed[0]
    status = await chat.say("o_zhang", f"{order.number}到哪了")
    assert len(status) == 1 and "待确认" in status[0]


async def test_bot_asks_for_exactly_what_is_missing(chat: Chat) -> None:
    replies = await chat.say("o_li", "M8螺母 304 2000个")
    assert len(replies) == 1
    ask = replies[0]
    assert "手机号" in ask and "地址" in ask and "哪天" in ask
    assert "M8" in ask  # what was understood is repeated back

    replies = await chat.say("o_li", "地址 苏州市相城区黄埭镇春秋路8号 王师傅 13776543210")
    assert len(replies) == 1 and "哪天" in replies[0] and "手机号" not in replies[0]

    replies = await chat.say("o_li", "下周三前到")
    assert "请核对订单" in replies[0] and "王师傅" in replies[0]
    await chat.say("o_li", "确认")
    orders = await chat.orders()
    assert len(orders) == 1 and orders[0].phone == "13776543210"


async def test_open_material_is_asked_and_answered_by_number(chat: Chat) -> None:
    replies = await chat.say("o_wu", "M8螺母 2000个 明天要 无锡市锡山区东港镇兴港路6号 谢工 15061512345")
    assert len(replies) == 1 and "哪一种" in replies[0]
    options = [line for line in replies[0].splitlines() if line[:1].isdigit()]
    # the options read as product names, not SKUs
    assert len(options) >= 2 and all("六角螺母 M8" in o for o in options)
    pick = next(o for o in options if "304" in o).split(".")[0]

    replies = await chat.say("o_wu", pick)
    assert "请核对订单" in replies[0] and "304" in replies[0]
    await chat.say("o_wu", "确认")
    [order] = await chat.orders()
    assert order.status == "pending"


async def test_cancel_drops_the_draft(chat: Chat) -> None:
    await chat.say("o_qian", FULL_ORDER)
    replies = await chat.say("o_qian", "算了不要了")
    assert replies and "不下了" in replies[0]
    replies = await chat.say("o_qian", "确认")
    assert "没有待确认" in replies[0]
    assert await chat.orders() == []


async def test_retried_callbacks_give_one_reply_and_one_order(chat: Chat) -> None:
    # WeChat delivers each message three times (it retries when it thinks we were slow)
    replies = await chat.say("o_retry", FULL_ORDER, times=3)
    assert len(replies) == 1
    replies = await chat.say("o_retry", "确认", times=3)
    assert len(await chat.orders()) == 1
    assert sum("SO" in r for r in replies) == 1


async def test_two_quick_messages_from_one_customer_do_not_race(chat: Chat) -> None:
    await chat.say("o_fast", "M6*20外六角 304的 5000个")
    # two follow-ups arrive together and are handled by two concurrent deliveries
    before = len(chat.state.sent)
    for text in ("地址 常州市武进区湖塘镇长虹路88号 张工 13812345678", "明天送"):
        chat.msgid += 1
        resp = await chat.standin.post("/__simulate__/wechat", json={"openid": "o_fast", "text": text, "msgid": chat.msgid})
        assert resp.status == 200
    await asyncio.gather(chat.worker.run_once(), chat.worker.run_once())
    await chat.worker.drain()
    texts = chat.texts_since(before, "o_fast")
    # both changes survived: the later of the two answers is the complete summary
    # (the two replies are pushed concurrently, so they may arrive in either order)
    assert len(texts) == 2
    assert sum("请核对订单" in t and "长虹路88号" in t and "交期" in t for t in texts) == 1


async def test_returning_customer_is_offered_last_address(chat: Chat) -> None:
    await chat.say("o_again", FULL_ORDER)
    await chat.say("o_again", "确认")
    replies = await chat.say("o_again", "M6螺母 304 3000个 后天送")
    assert "请核对订单" in replies[0] and "长虹路88号" in replies[0] and "沿用上次" in replies[0]


async def test_greeting_and_price_question_make_no_draft(chat: Chat) -> None:
    replies = await chat.say("o_hi", "M12*50的10.9级外六角多少钱一个？含税不")
    assert replies and "业务员" in replies[0]
    replies = await chat.say("o_hi", "确认")
    assert "没有待确认" in replies[0]


async def test_subscribe_gets_a_welcome_that_shows_how_to_order(chat: Chat) -> None:
    replies = await chat.send("o_new", {"event": "subscribe"})
    assert len(replies) == 1 and "欢迎" in replies[0] and "例如" in replies[0]


async def test_location_fills_the_address(chat: Chat) -> None:
    await chat.say("o_loc", "M6*20外六角 304的 5000个 明天要 张工 13812345678")
    replies = await chat.send("o_loc", {"location": {"lat": 31.71, "lng": 119.95, "label": "江苏省常州市武进区湖塘镇长虹路88号"}})
    assert replies and "请核对订单" in replies[-1] and "武进区" in replies[-1]


async def test_a_confirmation_delivered_again_places_one_routed_order(chat: Chat) -> None:
    from tests.placing import conversation_state, last_message_id, one_routed_order, redeliver

    await chat.say("o_again", FULL_ORDER)
    waiting = await conversation_state(chat.sm, "wechat", "o_again")
    await chat.say("o_again", "确认")
    confirm = await last_message_id(chat.sm, "确认")
    for _ in range(2):  # the worker died twice before marking the 确认 handled
        await redeliver(chat.sm, confirm, "wechat", "o_again", waiting)
        await chat.worker.drain()
    order = await one_routed_order(chat.sm)
    assert order.channel == "wechat"


async def test_order_with_a_known_phone_joins_the_customer_a_rep_entered(chat: Chat) -> None:
    # given a customer a rep entered by phone (no WeChat yet), beside look-alikes that must not match
    async with chat.sm() as s, s.begin():
        s.add_all([Customer(name="别人", company="近似号码", phones=["013812345678"]),
                   Customer(name="有微信的", company="已有微信", phones=["13812345678"], openid="o_other"),
                   Customer(name="张工", company="常州恒锐五金", phones=["13900000000", "13812345678"])])
    # when that person orders from WeChat with the same phone and confirms
    await chat.say("o_new_zhang", FULL_ORDER)
    await chat.say("o_new_zhang", "确认")
    # then the rep's record carries the chat's openid; the look-alikes are left alone
    async with chat.sm() as s:
        by_company = {c.company: c for c in (await s.exec(select(Customer))).all()}
    assert by_company["常州恒锐五金"].openid == "o_new_zhang"
    assert by_company["近似号码"].openid is None and by_company["已有微信"].openid == "o_other"
    # and the order is on that record, so 我的订单 from this chat lists it
    async with chat.sm() as s:
        [order] = (await s.exec(select(Order))).all()
    assert order.customer_id == by_company["常州恒锐五金"].id
    assert "SO" in (await chat.say("o_new_zhang", "我的订单"))[-1]
