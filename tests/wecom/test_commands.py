"""A rep's text commands and card buttons, through the callback, the hub and the stand-in."""

from __future__ import annotations

import itertools
import time
from datetime import date, timedelta

import pytest
from sqlmodel import select

from orders.models import OrderEvent
from tests.push.harness import CUSTOMER_OPENID, MANAGER_ID, OTHER_REP_ID, REP_ID, World
from tests.wecom import wecom_sim

_msgids = itertools.count(9000)


@pytest.fixture
def world(embedded_world: World) -> World:
    """These run on the embedded profile; the two-profile tests cover the database paths."""
    return embedded_world


async def say(world: World, text: str, userid: str = REP_ID) -> list[str]:
    """The rep sends `text`; returns the texts the app answered with."""
    before = len(world.sent("wecom_send", to=userid))
    xml = wecom_sim.text_xml(world.settings, userid, text, msgid=next(_msgids))
    assert (await wecom_sim.post(world.app_client, world.settings, xml)).status == 200
    await world.drain()
    return [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=userid)[before:]
            if e["msgtype"] == "text"]


async def press(world: World, label: str, userid: str = REP_ID, card_index: int = -1) -> None:
    cards = [e for e in world.sent("wecom_send", to=userid) if e["msgtype"] == "template_card"]
    card = cards[card_index]["payload"]["template_card"]
    code = next(d.remote_id for d in await world.ledger(channel="wecom_card", target=userid)
                if d.remote_id and card["task_id"])
    key = next(b["key"] for b in card["button_list"] if b["text"] == label)
    xml = wecom_sim.card_event_xml(world.settings, userid, key, card["task_id"], code or "")
    assert (await wecom_sim.post(world.app_client, world.settings, xml)).status == 200
    await world.drain()


async def pending_order(world: World) -> tuple[int, str]:
    await world.customer_wrote(hours_ago=1)
    order_id = await world.place_order()
    await world.drain()
    return order_id, (await world.order(order_id)).number


async def test_todo_lists_my_pending_orders(world: World) -> None:
    assert await say(world, "待办") == ["暂无待办订单。"]
    _, number = await pending_order(world)
    [text] = await say(world, "待办")
    assert "待办订单 1 张" in text and number in text and "待确认" in text


async def test_confirm_by_text_is_recorded_with_the_rep_as_actor(world: World) -> None:
    order_id, number = await pending_order(world)
    [text] = await say(world, f"确认 {number}")
    assert f"已确认订单 {number}" in text
    assert (await world.order(order_id)).status == "confirmed"
    async with world.sm() as s:
        event = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                       OrderEvent.type == "confirmed"))).one()
    assert (event.actor_kind, event.actor_id) == ("rep", REP_ID)
    assert event.source_message_id is not None


async def test_a_refusal_names_the_action_in_chinese(world: World) -> None:
    _, number = await pending_order(world)
    await say(world, f"确认 {number}")
    [text] = await say(world, f"确认 {number}")  # a second time: nothing left to confirm
    assert "订单状态为「已确认」，不能确认" in text
    assert not any(word in text for word in ("confirm", "reject", "edit", "cancel"))


async def test_reject_needs_a_reason_and_tells_the_customer(world: World) -> None:
    order_id, number = await pending_order(world)
    [ask] = await say(world, f"拒绝 {number}")
    assert "请写明拒绝原因" in ask and (await world.order(order_id)).status == "pending"
    [done] = await say(world, f"拒绝 {number} 暂时缺货")
    assert "已拒绝" in done and (await world.order(order_id)).status == "cancelled"
    told = [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]
    assert any("已取消" in t and "暂时缺货" in t for t in told)


async def test_change_the_delivery_date(world: World) -> None:
    order_id, number = await pending_order(world)
    target = date.today() + timedelta(days=20)
    [refused] = await say(world, f"改 {number} 交期 {target.month}月{target.day}日")
    assert "要写原因" in refused and (await world.order(order_id)).delivery_date != target
    [text] = await say(world, f"改 {number} 交期 {target.month}月{target.day}日 原因 客户工地延期")
    assert target.isoformat() in text
    assert (await world.order(order_id)).delivery_date == target
    [bad] = await say(world, f"改 {number} 交期 过几天吧 原因 客户来电")
    assert "没看懂交期" in bad


async def test_hand_over_to_another_rep_who_gets_the_card(world: World) -> None:
    order_id, number = await pending_order(world)
    [text] = await say(world, f"转 {number} 李四")
    assert "已转交给 李四" in text
    assert (await world.order(order_id)).rep_id == world.ids["other_rep"]
    cards = [e for e in world.sent("wecom_send", to=OTHER_REP_ID) if e["msgtype"] == "template_card"]
    assert len(cards) == 1 and number in cards[0]["payload"]["template_card"]["sub_title_text"]
    # the first rep may no longer act on it
    [refused] = await say(world, f"确认 {number}")
    assert "操作未成功" in refused and (await world.order(order_id)).status == "pending"


async def test_unknown_orders_strangers_and_chatter(world: World) -> None:
    [text] = await say(world, "确认 SO20990101-0001")
    assert "没有找到订单" in text
    [help_text] = await say(world, "你好")
    assert "可用指令" in help_text
    world.standin.register_user("wecom", "someone_else")  # in the corp, but not a rep here
    [stranger] = await say(world, "待办", userid="someone_else")
    assert "还不是" in stranger


async def test_reject_button_cancels_and_the_card_shows_it(world: World) -> None:
    order_id, number = await pending_order(world)
    await press(world, "拒绝")
    assert (await world.order(order_id)).status == "cancelled"
    [update] = world.sent("update_template_card")
    assert update["payload"]["template_card"]["replace_text"] == "已拒绝"


async def test_a_stale_card_shows_where_the_order_stands(world: World) -> None:
    order_id, number = await pending_order(world)
    await say(world, f"确认 {number}")  # confirmed by text first
    await press(world, "确认")  # then the old card's button
    [update] = world.sent("update_template_card")
    assert update["payload"]["template_card"]["replace_text"] == "已确认"
    async with world.sm() as s:
        confirmations = list(await s.exec(select(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.type == "confirmed")))
    assert len(confirmations) == 1


async def test_a_press_run_again_after_its_worker_died_answers_as_it_worked(world: World, monkeypatch) -> None:
    """The press confirmed the order (and told the customer); the worker died before the rep's
    reply and the card update were written. When the row runs again the rep reads 已确认,
    not "操作未成功", the card shows 已确认, and the order was confirmed once."""
    from bot import wecom_commands

    order_id, number = await pending_order(world)
    real, attempts = wecom_commands._reply, []

    async def dies_the_first_time(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("worker killed between the action and the reply")
        return await real(*args, **kwargs)

    monkeypatch.setattr(wecom_commands, "_reply", dies_the_first_time)
    await press(world, "确认")
    assert (await world.order(order_id)).status == "confirmed"
    assert not any(e["msgtype"] == "text" for e in world.sent("wecom_send", to=REP_ID))
    world.advance(120)  # the row's retry is due
    await world.drain()
    texts = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert len(texts) == 1 and texts[0].startswith(f"已确认订单 {number}，合计"), texts
    [update] = world.sent("update_template_card")
    assert update["payload"]["template_card"]["replace_text"] == "已确认"
    async with world.sm() as s:
        confirmations = list(await s.exec(select(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.type == "confirmed")))
    assert len(confirmations) == 1 and len(attempts) == 2


async def test_an_expired_response_code_falls_back_to_a_text(world: World) -> None:
    order_id, number = await pending_order(world)
    world.advance(73 * 3600)  # WeCom's response_code lives 72 hours
    await press(world, "确认")
    assert (await world.order(order_id)).status == "confirmed"
    assert world.sent("update_template_card") == []
    texts = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert any("卡片已过期" in t for t in texts)
    assert {r.state for r in await world.outbox(kind="wecom_card_update")} == {"done"}


async def held_order(world: World) -> tuple[int, str]:
    await world.customer_wrote(hours_ago=1)
    order_id = await world.place_order(quantity=10_000_000)  # more than in stock: held
    await world.drain()
    order = await world.order(order_id)
    assert order.status == "on_hold"
    return order_id, order.number


async def test_a_held_order_reaches_the_manager_as_a_card_and_release_frees_it(world: World) -> None:
    order_id, number = await held_order(world)
    [alert] = [e for e in world.sent("wecom_send", to=MANAGER_ID)]
    card = alert["payload"]["template_card"]
    assert card["main_title"]["title"] == f"订单挂起 {number}" and "库存" in card["sub_title_text"]
    assert [b["text"] for b in card["button_list"]] == ["放行", "取消订单"]
    await press(world, "放行", userid=MANAGER_ID)
    assert (await world.order(order_id)).status == "pending"
    [update] = world.sent("update_template_card")
    assert update["payload"]["template_card"]["replace_text"] == "已放行"
    rep_cards = [e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card"]
    assert len(rep_cards) == 1 and number in rep_cards[0]["payload"]["template_card"]["sub_title_text"]


async def test_the_manager_may_cancel_a_held_order_from_the_card(world: World) -> None:
    order_id, number = await held_order(world)
    await press(world, "取消订单", userid=MANAGER_ID)
    assert (await world.order(order_id)).status == "cancelled"
    assert world.sent("update_template_card")[0]["payload"]["template_card"]["replace_text"] == "已取消"
    told = [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]
    assert any("已取消" in t for t in told)


async def test_a_manager_sees_and_releases_held_orders_by_text(world: World) -> None:
    order_id, number = await held_order(world)
    [text] = await say(world, "待办", userid=MANAGER_ID)
    assert number in text and "异常挂起" in text
    # a rep may not release it; the manager may, and the rep gets the card then
    [refused] = await say(world, f"放行 {number} 老客户")
    assert "操作未成功" in refused and (await world.order(order_id)).status == "on_hold"
    [released] = await say(world, f"放行 {number} 老客户，先发货", userid=MANAGER_ID)
    assert "已放行" in released and (await world.order(order_id)).status == "pending"
    cards = [e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card"]
    assert len(cards) == 1 and number in cards[0]["payload"]["template_card"]["sub_title_text"]


async def test_an_order_left_unconfirmed_reminds_the_rep_then_alerts_the_manager(world: World) -> None:
    from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
    from workers.sla import sweep

    order_id, number = await pending_order(world)
    rules = load_rules(DEFAULT_RULES_PATH)
    await sweep(world.sm, rules, world.clock.now() + timedelta(hours=1))
    await world.drain()
    reminders = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert len(reminders) == 1 and number in reminders[0] and "超时" in reminders[0]
    await sweep(world.sm, rules, world.clock.now() + timedelta(hours=5))
    await world.drain()
    alerts = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=MANAGER_ID)]
    assert len(alerts) == 1 and number in alerts[0] and "超时未确认" in alerts[0]


async def test_the_rep_hears_when_the_customer_changes_or_cancels(world: World) -> None:
    from orders import actions
    from orders.actors import Actor

    order_id, number = await pending_order(world)
    customer = Actor.customer(world.ids["customer"], CUSTOMER_OPENID)
    # an edit of a pending order: a fresh card replaces the stale one
    later = date.today() + timedelta(days=30)
    await actions.edit(world.sm, order_id, customer, actions.OrderEdit(fields={"delivery_date": later}),
                       reason="工地延期")
    await world.drain()
    cards = [e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card"]
    assert len(cards) == 2
    facts = {h["keyname"]: h["value"] for h in cards[-1]["payload"]["template_card"]["horizontal_content_list"]}
    assert facts["交期"] == later.isoformat()
    # a cancellation: a text, no card
    await actions.cancel(world.sm, order_id, customer, "不需要了")
    await world.drain()
    texts = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert texts == [f"客户取消了订单 {number}，原因：不需要了。"]


async def test_a_button_pressed_on_a_card_older_than_72_hours_is_answered_by_text(world: World) -> None:
    # WeCom stamps the event with the time it issued the response_code; ours is past 72 h
    order_id, number = await pending_order(world)
    cards = [e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card"]
    card = cards[-1]["payload"]["template_card"]
    code = (await world.ledger(channel="wecom_card"))[0].remote_id or ""
    key = next(b["key"] for b in card["button_list"] if b["text"] == "确认")

    xml = wecom_sim.card_event_xml(world.settings, REP_ID, key, card["task_id"], code,
                                   create_time=int(time.time()) - 73 * 3600)
    assert (await wecom_sim.post(world.app_client, world.settings, xml)).status == 200
    await world.drain()
    assert (await world.order(order_id)).status == "confirmed"
    assert world.sent("update_template_card") == []  # not even tried
    texts = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert any("卡片已过期" in t for t in texts)


async def test_change_a_quantity_reprices_the_order_and_tells_the_customer(world: World) -> None:
    order_id, number = await pending_order(world)  # one line of 100
    before = (await world.order(order_id)).total
    [text] = await say(world, f"改 {number} 数量 三百 原因 客户电话加量")
    assert "数量已改为 300个" in text
    after = await world.order(order_id)
    assert after.total == before * 3
    told = [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]
    assert any("已修改" in t for t in told)
    [bad] = await say(world, f"改 {number} 数量 第5项 10 原因 客户来电")
    assert "只有 1 项" in bad


async def test_rep_adds_freight_gift_and_service_lines_and_the_customer_hears(world: World) -> None:
    order_id, number = await pending_order(world)  # 100 × 0.35 = 35.00
    [freight] = await say(world, f"加运费 {number} 50 客户要求送上楼")
    assert "已加运费" in freight and "¥50.00" in freight and "¥85.00" in freight
    [gift] = await say(world, f"加赠品 {number} M8螺母 100个 老客户")
    assert "已加赠品" in gift and "NUT-M8-Zn" in gift and "¥85.00" in gift  # a gift is not a sale
    [service] = await say(world, f"加服务 {number} 包装费 20")
    assert "已加服务费" in service and "¥105.00" in service
    assert (await world.order(order_id)).total == 105
    async with world.sm() as s:
        events = list(await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                            OrderEvent.type == "edited").order_by(OrderEvent.id)))
    assert [e.reason for e in events] == ["客户要求送上楼", "老客户", "业务员张三加服务费"]
    assert [e.actor_id for e in events] == [REP_ID] * 3
    assert events[0].changes["total"] == ["35", "85"]
    told = [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]
    assert any("已修改（客户要求送上楼）：新增 运费 ¥50.00，当前合计 ¥85.00" in t for t in told), told
    assert any("新增 赠品 NUT-M8-Zn 100个" in t for t in told), told


async def test_commands_without_an_order_number_or_a_reason_say_so_and_change_nothing(world: World) -> None:
    order_id, number = await pending_order(world)
    before = await world.order(order_id)
    [no_number] = await say(world, "加运费 50")
    assert "要写订单号" in no_number and "加运费 SO" in no_number
    [no_reason] = await say(world, f"取消 {number}")
    assert "要写原因" in no_reason
    [bad_amount] = await say(world, f"加运费 {number} 很多")
    assert "没看懂运费金额" in bad_amount
    [no_such] = await say(world, f"加赠品 {number} 不锈钢飞机 3个")
    assert "没有找到" in no_such
    after = await world.order(order_id)
    assert (after.version, after.total, after.status) == (before.version, before.total, before.status)
    [done] = await say(world, f"取消 {number} 原因 客户不要了")
    assert "已取消订单" in done and (await world.order(order_id)).status == "cancelled"


async def test_the_card_carries_the_customers_remark_and_the_desks_own(world: World) -> None:
    await world.customer_wrote(hours_ago=1)
    order_id = await world.place_order(remarks="下午送，门卫签收")
    await world.drain()
    number = (await world.order(order_id)).number
    [done] = await say(world, f"改 {number} 内部备注 老客户月结 原因 经理交代")
    assert "内部备注已改为 老客户月结" in done
    assert (await world.order(order_id)).rep_remarks == "老客户月结"
    async with world.sm() as s:
        from orders.notifications import load_rep_card_payload
        from workers.notify import card_data

        payload = await load_rep_card_payload(s, order_id, "order_card")
    assert payload is not None
    from bot import cards as card_builders

    quote = card_builders.order_card(card_data(payload))["quote_area"]["quote_text"]
    assert "客户备注：下午送，门卫签收" in quote and "业务员备注：老客户月结" in quote
    card = [e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card"][0]
    assert "客户备注：下午送，门卫签收" in card["payload"]["template_card"]["quote_area"]["quote_text"]
