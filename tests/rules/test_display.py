"""The applied promotions as people see them: the customer's message and the rep's card."""

from __future__ import annotations

from decimal import Decimal

from bot import cards
from orders.models import Order, OrderLine
from orders.notifications import order_payload, rep_card_payload
from workers.notify import card_data, customer_text

APPLIED = [{"rule": "mj", "kind": "full_reduction", "label": "满500减50", "effect": "-50.00", "detail": ""},
           {"rule": "g", "kind": "gift", "label": "买螺栓送螺母", "effect": "0.00", "detail": "赠 NUT-M6-ZN × 150"}]


def order() -> tuple[Order, list[OrderLine]]:
    o = Order(id=1, number="SO20260302-0001", customer_id=1, status="pending", subtotal=Decimal(750),
              discount=Decimal(50), total=Decimal(700), promotions=APPLIED)
    line = OrderLine(id=1, order_id=1, sku="B", name="螺栓", quantity=Decimal(3), unit="盒",
                     base_quantity=Decimal(3000), base_unit="个", unit_price=Decimal("0.25"), amount=Decimal(750))
    return o, [line]


def test_customer_message_lists_the_promotions_with_their_effect() -> None:
    text = customer_text(order_payload("submitted", *order()))
    assert "合计 ¥700.00" in text
    assert "已享优惠：满减·满500减50 -¥50.00；买赠·买螺栓送螺母（赠 NUT-M6-ZN × 150）" in text


def test_reps_card_shows_the_promotions() -> None:
    card = cards.order_card(card_data(rep_card_payload("new_order", *order())), nonce="n")
    shown = {h["keyname"]: h["value"] for h in card["horizontal_content_list"]}
    assert shown["优惠"].startswith("满减·满500减50 -¥50.00") and shown["金额"] == "¥700.00"


def test_no_promotions_no_extra_text() -> None:
    o, lines = order()
    o.promotions = []
    assert "优惠" not in customer_text(order_payload("submitted", o, lines))
    card = cards.order_card(card_data(rep_card_payload("new_order", o, lines)), nonce="n")
    assert "优惠" not in {h["keyname"] for h in card["horizontal_content_list"]}
