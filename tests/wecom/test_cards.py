"""Order cards: WeCom's field limits, button keys that come back, single-use 72-hour codes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot import cards

DATA = cards.OrderCardData(
    number="SO20260302-0001",
    customer="张工",
    company="常州恒锐五金有限公司（武进湖塘镇长虹路分公司）",
    lines=tuple(cards.CardLine(f"外六角螺栓 M6×{20 + i} 304不锈钢", 5000, "个") for i in range(30)),
    total=Decimal("12345.6"),
    delivery_date=date(2026, 3, 9),
    phone="13812345678",
    address="江苏省常州市武进区湖塘镇长虹路88号恒锐五金工业园三号楼二层",
    rush=True,
    version=3,
)


def test_the_card_fits_wecom_limits() -> None:
    card = cards.order_card(DATA)
    assert card["card_type"] == "button_interaction"
    assert len(card["main_title"]["title"]) <= 26 and len(card["main_title"]["desc"]) <= 30
    assert len(card["horizontal_content_list"]) <= 6
    assert all(len(h["keyname"]) <= 5 and len(h["value"]) <= 26 for h in card["horizontal_content_list"])
    assert len(card["quote_area"]["quote_text"]) <= 300 and card["quote_area"]["title"] == "明细（30项）"
    assert re.fullmatch(r"[0-9A-Za-z_\-@]{1,128}", card["task_id"])
    assert len(card["button_list"]) == 4
    facts = {h["keyname"]: h["value"] for h in card["horizontal_content_list"]}
    assert facts["金额"] == "¥12,345.60" and facts["交期"] == "2026-03-09"
    assert "加急" in card["main_title"]["title"]


def test_every_card_gets_its_own_task_id() -> None:
    assert cards.order_card(DATA)["task_id"] != cards.order_card(DATA)["task_id"]


def test_button_keys_come_back_as_the_action_they_stand_for() -> None:
    card = cards.order_card(DATA)
    pressed = {b["text"]: cards.parse_button_key(b["key"]) for b in card["button_list"]}
    assert pressed["确认"] == cards.ButtonPress("confirm", "SO20260302-0001", 3)
    assert pressed["拒绝"].action == "reject" and pressed["转交"].action == "reassign"
    assert cards.parse_button_key("approve@SO1@1") is None and cards.parse_button_key("") is None


def test_the_outcome_card_greys_the_buttons_out() -> None:
    card = cards.outcome_card(DATA, "confirmed", by="张三")
    assert card["replace_text"] == "已确认" and "张三处理" in card["sub_title_text"]
    assert "task_id" not in card  # the update names the card by its response_code


def test_response_codes_are_single_use_and_live_72_hours() -> None:
    issued = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    ticket = cards.ResponseCodeTicket("rc-1", issued)
    assert ticket.usable(issued + timedelta(hours=71, minutes=59), used=False)
    assert not ticket.usable(issued + timedelta(hours=1), used=True)
    assert not ticket.usable(issued + timedelta(hours=72), used=False)


def test_update_body_carries_the_code_and_the_whole_card() -> None:
    body = cards.update_body(["zhangsan"], "1000002", "rc-1", cards.outcome_card(DATA, "rejected"))
    assert body["agentid"] == 1000002 and body["response_code"] == "rc-1"
    assert body["template_card"]["replace_text"] == "已拒绝"


def test_long_texts_are_cut_on_a_character_boundary() -> None:
    from workers.notify import fit_bytes, text_body

    text = "订单" * 2000
    cut = fit_bytes(text)
    assert len(cut.encode()) <= 2048 and cut.endswith("…") and cut[:-1] == text[: len(cut) - 1]
    assert text_body("zhangsan", "1000002", "短消息")["text"]["content"] == "短消息"


def test_the_managers_hold_card_releases_or_cancels() -> None:
    card = cards.hold_card(DATA, "信用额度超限")
    assert card["sub_title_text"] == "挂起原因：信用额度超限"
    pressed = [cards.parse_button_key(b["key"]) for b in card["button_list"]]
    assert [p.action for p in pressed if p] == ["release", "cancel"]
    done = cards.outcome_card(DATA, "released", buttons=cards.HOLD_BUTTONS)
    assert done["replace_text"] == "已放行" and [b["text"] for b in done["button_list"]] == ["放行", "取消订单"]


def test_the_card_shows_remarks_special_lines_and_only_the_allowed_buttons() -> None:
    data = cards.OrderCardData(
        number="SO20260302-0002", customer="张工", total=Decimal("85"),
        lines=(cards.CardLine("外六角螺栓 M6×20", 100, "个", Decimal("35")),
               cards.CardLine("平垫 M6", 100, "个", Decimal("0"), line_type="gift"),
               cards.CardLine("运费", 1, "项", Decimal("50"), line_type="freight")),
        remarks="下午送，门卫签收", rep_remarks="老客户月结", actions=("edit", "cancel"),
    )
    card = cards.order_card(data)
    quote = card["quote_area"]["quote_text"]
    assert "客户备注：下午送，门卫签收" in quote and "业务员备注：老客户月结" in quote
    assert "【赠】平垫 M6 × 100个" in quote and "运费 ¥50.00" in quote
    assert [b["text"] for b in card["button_list"]] == ["修改", "取消"]
    pressed = cards.parse_button_key(card["button_list"][1]["key"])
    assert pressed is not None and pressed.action == "cancel_order"
