"""The issue's check, end to end through the real callback, hub, outbox worker and stand-in:
a customer's order reaches the rep as a template_card; a template_card_event encrypted with
wechatpy's WeCom crypto confirms it; the card is updated; the customer hears of it; a signed
logistics event ships the order and the customer receives the waybill number."""

from __future__ import annotations

from bot.cards import money
from tests.push.harness import CUSTOMER_OPENID, REP_ID, World
from tests.wecom import wecom_sim


def customer_texts(world: World) -> list[str]:
    return [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]


async def test_order_card_confirm_update_notify_ship(world: World) -> None:
    # given a customer who just wrote to the Official Account and placed an order
    await world.customer_wrote(hours_ago=0.5)
    order_id = await world.place_order(quantity=100)
    await world.drain()
    order = await world.order(order_id)
    assert order.status == "pending"

    # the rep got a button_interaction card with the order on it
    cards = world.sent("wecom_send", to=REP_ID)
    assert len(cards) == 1 and cards[0]["msgtype"] == "template_card"
    card = cards[0]["payload"]["template_card"]
    assert card["card_type"] == "button_interaction"
    # its buttons are what the state machine lets a rep do with a pending order
    assert [b["text"] for b in card["button_list"]] == ["确认", "修改", "转交", "拒绝", "取消"]
    facts = {h["keyname"]: h["value"] for h in card["horizontal_content_list"]}
    assert facts["金额"] == money(order.total) and facts["交期"] == order.delivery_date.isoformat()
    assert "外六角螺栓" in card["quote_area"]["quote_text"] and order.number in card["sub_title_text"]
    response_code = (await world.ledger(channel="wecom_card"))[0].remote_id
    assert response_code

    # when the rep presses 确认 (WeCom delivers the event twice, as it does on a slow answer)
    confirm_key = next(b["key"] for b in card["button_list"] if b["text"] == "确认")
    xml = wecom_sim.card_event_xml(world.settings, REP_ID, confirm_key, card["task_id"], response_code)
    for _ in range(2):
        resp = await wecom_sim.post(world.app_client, world.settings, xml)
        assert resp.status == 200
    await world.drain()

    # then the order is confirmed once, by the rep
    order = await world.order(order_id)
    assert order.status == "confirmed"
    # the card was replaced by its outcome, with the code WeCom gave (single use)
    updates = world.sent("update_template_card")
    assert len(updates) == 1
    assert updates[0]["payload"]["template_card"]["replace_text"] == "已确认"
    assert updates[0]["payload"]["response_code"] == response_code
    # the rep got one confirmation text, and the customer the confirmation with the total
    rep_texts = [e["payload"]["text"]["content"] for e in world.sent("wecom_send", to=REP_ID)
                 if e["msgtype"] == "text"]
    assert len(rep_texts) == 1 and order.number in rep_texts[0]
    confirmed = [t for t in customer_texts(world) if "已确认" in t]
    assert len(confirmed) == 1 and money(order.total) in confirmed[0]

    # when the WMS reports the shipment, signed
    event = {"system": "wms", "code": "shipped", "order_number": order.number, "event_id": "WMS-1",
             "carrier": "顺丰速运", "waybill_no": "SF1234567890"}
    resp = await world.signed_hook(event)
    assert resp.status == 200, await resp.text()
    await world.drain()
    order = await world.order(order_id)
    assert (order.status, order.waybill_no, order.carrier) == ("shipped", "SF1234567890", "顺丰速运")
    shipped = [t for t in customer_texts(world) if "SF1234567890" in t]
    assert len(shipped) == 1 and "顺丰速运" in shipped[0]

    # and the same event again changes nothing and tells nobody anything
    before = len(world.standin.sent)
    resp = await world.signed_hook(event)
    assert resp.status == 200 and (await resp.json())["results"][0]["duplicate"] is True
    await world.drain()
    assert len(world.standin.sent) == before
    assert (await world.order(order_id)).version == order.version


async def test_the_stand_in_playing_wecom_verifies_the_url_and_drives_a_card(embedded_world: World) -> None:
    """The stand-in's own WeCom signing (another implementation) against our callback: the
    console's URL check, and a button press with the code WeCom issues on it."""
    world = embedded_world
    url = str(world.app_client.make_url("/wecom/callback"))
    resp = await world.standin_client.post("/__simulate__/verify", json={"app": "wecom", "callback_url": url})
    assert resp.status == 200
    assert (await resp.json())["verified"] is True, await resp.text()

    await world.customer_wrote(hours_ago=1)
    order_id = await world.place_order()
    await world.drain()
    card = next(e for e in world.sent("wecom_send", to=REP_ID) if e["msgtype"] == "template_card")
    template_card = card["payload"]["template_card"]
    key = next(b["key"] for b in template_card["button_list"] if b["text"] == "确认")
    resp = await world.standin_client.post("/__simulate__/wecom", json={
        "userid": REP_ID, "event": "template_card_event", "event_key": key,
        "task_id": template_card["task_id"], "callback_url": url})
    facts = await resp.json()
    assert resp.status == 200 and facts["response_code"], facts
    await world.drain()
    assert (await world.order(order_id)).status == "confirmed"
    [update] = world.sent("update_template_card")
    assert update["payload"]["response_code"] == facts["response_code"]
    assert update["payload"]["template_card"]["replace_text"] == "已确认"
