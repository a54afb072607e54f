"""A customer orders the same thing in the chat and in the mini-program: the rep's card warns
(重复订单提醒) and 合并 — by text or by the card's button — folds the newer order into the older,
through the callback, the hub, the outbox and the stand-in (both profiles)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select

from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
from orders import Idempotency, actions, place_order
from orders.actors import Actor
from orders.models import OrderEvent, OrderLine
from tests.push.harness import CUSTOMER_OPENID, REP_ID, World, world  # noqa: F401  (the two-profile fixture)
from tests.wecom import wecom_sim

RULES = load_rules(DEFAULT_RULES_PATH)
_msgids = itertools.count(7000)


async def place(w: World, channel: str, key: str, bolts: int, nuts: int = 2000) -> tuple[int, str]:
    fields = {"contact": "张工", "phone": "13812345678", "province": "江苏省", "city": "常州市",
              "district": "武进区", "address_detail": "湖塘镇长虹路88号",
              "delivery_date": date.today() + timedelta(days=7)}
    customer = w.ids["customer"]
    async with w.sm() as s, s.begin():
        placed = await place_order(
            s, Idempotency(f"{channel}:{customer}", key), customer_id=customer,
            lines=[actions.DraftLine("HB-M6X20-304", bolts), actions.DraftLine("NUT-M8-Zn", nuts)],
            actor=Actor.customer(customer, CUSTOMER_OPENID), channel=channel, rules=RULES, fields=fields,
        )
        return placed.order.id, placed.order.number


def cards_to(w: World, userid: str = REP_ID) -> list[dict]:
    return [e["payload"]["template_card"] for e in w.sent("wecom_send", to=userid) if e["msgtype"] == "template_card"]


def card_of(w: World, number: str) -> dict:
    [card] = [c for c in cards_to(w) if c["sub_title_text"].startswith(f"订单 {number}")]
    return card


async def say(w: World, text: str) -> list[str]:
    before = len(w.sent("wecom_send", to=REP_ID))
    xml = wecom_sim.text_xml(w.settings, REP_ID, text, msgid=next(_msgids))
    assert (await wecom_sim.post(w.app_client, w.settings, xml)).status == 200
    await w.drain()
    return [e["payload"]["text"]["content"] for e in w.sent("wecom_send", to=REP_ID)[before:] if e["msgtype"] == "text"]


async def two_alike_orders(w: World) -> tuple[int, str, int, str]:
    await w.customer_wrote(hours_ago=1)
    older = await place(w, "wechat", "msg:1", 5000)
    newer = await place(w, "miniprogram", "idem-1", 5200)
    await w.drain()
    return (*older, *newer)


async def test_the_card_warns_and_the_merge_command_folds_the_newer_order_in(world: World) -> None:  # noqa: F811
    w = world
    older_id, older_no, newer_id, newer_no = await two_alike_orders(w)
    assert len(cards_to(w)) == 2  # the worker may send the two in either order
    first, second = card_of(w, older_no), card_of(w, newer_no)
    assert "重复订单提醒" not in first["sub_title_text"] and "合并" not in [b["text"] for b in first["button_list"]]
    assert "重复订单提醒" in second["sub_title_text"] and older_no in second["sub_title_text"]
    assert [b["text"] for b in second["button_list"]] == ["确认", "修改", "转交", "拒绝", "取消", "合并"]

    [answer] = await say(w, f"合并 {older_no} {newer_no}")
    assert f"已将订单 {newer_no} 合并到 {older_no}" in answer
    assert (await w.order(newer_id)).status == "cancelled"
    kept = await w.order(older_id)
    async with w.sm() as s:
        lines = {x.sku: x.quantity for x in (await s.exec(select(OrderLine).where(OrderLine.order_id == older_id)))}
        events = {(e.order_id, e.type): e for e in (await s.exec(select(OrderEvent)))}
    assert lines == {"HB-M6X20-304": Decimal(10200), "NUT-M8-Zn": Decimal(4000)}
    assert kept.status == "pending" and kept.total == Decimal("10200") * Decimal("0.35") + Decimal("4000") * Decimal("0.05")
    assert events[(newer_id, "cancelled")].reason == f"合并至 {older_no}"
    assert events[(older_id, "edited")].reason == f"合并 {newer_no}"
    assert events[(older_id, "edited")].actor_id == REP_ID
    # the customer hears that the newer order went into the older one
    told = [e["payload"]["text"]["content"] for e in w.sent("custom_send", to=CUSTOMER_OPENID)]
    assert any(newer_no in t and f"合并至 {older_no}" in t for t in told), told
    # the rep gets the kept order's card again, showing the merged quantities
    latest = cards_to(w)[-1]  # sent after the merge
    assert older_no in latest["sub_title_text"] and "10200" in latest["quote_area"]["quote_text"]
    # a second 合并 (a rep tapping again) changes nothing and says why
    [again] = await say(w, f"合并 {older_no} {newer_no}")
    assert "操作未成功" in again and "不能合并" in again


async def test_the_cards_merge_button_merges_and_greys_the_card(world: World) -> None:  # noqa: F811
    w = world
    older_id, older_no, newer_id, newer_no = await two_alike_orders(w)
    card = card_of(w, newer_no)
    key = next(b["key"] for b in card["button_list"] if b["text"] == "合并")
    code = next(d.remote_id for d in await w.ledger(channel="wecom_card") if d.remote_id and newer_no in d.text)
    xml = wecom_sim.card_event_xml(w.settings, REP_ID, key, card["task_id"], code or "")
    assert (await wecom_sim.post(w.app_client, w.settings, xml)).status == 200
    await w.drain()
    assert (await w.order(newer_id)).status == "cancelled" and (await w.order(older_id)).status == "pending"
    texts = [e["payload"]["text"]["content"] for e in w.sent("wecom_send", to=REP_ID) if e["msgtype"] == "text"]
    assert any(f"已将订单 {newer_no} 合并到 {older_no}" in t for t in texts), texts
    [update] = w.sent("update_template_card")
    assert update["payload"]["template_card"]["replace_text"] == "已合并"
