"""The conversation's decisions, as a pure function over the real nlp/ reader (no I/O)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.conversation import CreateOrder, Incoming, ListOrders, SessionState, ShowOrder, step
from nlp import Catalog
from orders.drafts import DraftReader

TODAY = dt.date(2026, 3, 2)
COMPLETE = "M6*20外六角 304的 5000个，M6螺母304 5000个，明天送常州市武进区湖塘镇长虹路88号，张工 13812345678"


@pytest.fixture(scope="module")
def reader(catalog_csv) -> DraftReader:
    return DraftReader.for_catalog(Catalog.from_csv(catalog_csv), TODAY)


def say(state: SessionState, text: str, reader: DraftReader, profile: dict | None = None):
    return step(state, Incoming("text", text=text), reader, profile)


def test_complete_message_goes_straight_to_the_summary(reader: DraftReader) -> None:
    out = say(SessionState(), COMPLETE, reader)
    assert out.state.stage == "confirming" and out.intents == []
    assert "请核对订单" in out.replies[0] and "交期：2026-03-03" in out.replies[0]


def test_confirm_places_exactly_the_confirmed_draft(reader: DraftReader) -> None:
    shown = say(SessionState(), COMPLETE, reader)
    out = say(shown.state, "确认", reader)
    assert out.intents == [CreateOrder(shown.state.draft)]
    assert out.state == SessionState()  # the draft is closed


def test_confirm_before_the_draft_is_complete_asks_again(reader: DraftReader) -> None:
    partial = say(SessionState(), "M6螺母 304 5000个", reader)
    out = say(partial.state, "确认", reader)
    assert out.intents == [] and "还差" in out.replies[0]


def test_remove_a_line_by_its_number(reader: DraftReader) -> None:
    shown = say(SessionState(), COMPLETE, reader)
    out = say(shown.state, "删掉第2项", reader)
    assert [i["sku"] for i in out.state.draft["items"]] == ["HB-M6X20-304"]
    assert out.state.stage == "confirming"


@pytest.mark.parametrize("text", ["取消", "算了", "不要了", "那算了不要了"])
def test_cancel_words_drop_the_draft(reader: DraftReader, text: str) -> None:
    shown = say(SessionState(), COMPLETE, reader)
    out = say(shown.state, text, reader)
    assert out.state == SessionState() and "不下了" in out.replies[0]


def test_an_order_line_mentioning_cancel_is_not_a_cancel(reader: DraftReader) -> None:
    shown = say(SessionState(), COMPLETE, reader)
    out = say(shown.state, "再加两千个M6平垫 304", reader)
    assert len(out.state.draft["items"]) == 3


def test_returning_customer_gets_last_address_and_phone(reader: DraftReader) -> None:
    profile = {"address": {"province": "江苏省", "city": "常州市", "district": "武进区", "detail": "湖塘镇长虹路88号"},
               "phone": "13812345678", "contact": "张工"}
    out = say(SessionState(), "M6螺母 304 3000个 后天送", reader, profile)
    assert out.state.stage == "confirming" and "沿用上次" in out.replies[0]


def test_order_queries_are_intents_not_drafts(reader: DraftReader) -> None:
    assert say(SessionState(), "我的订单", reader).intents == [ListOrders()]
    assert say(SessionState(), "so20260302-0001到哪了", reader).intents == [ShowOrder("SO20260302-0001")]


def test_not_understood_follow_up_says_so_and_keeps_the_draft(reader: DraftReader) -> None:
    partial = say(SessionState(), "M6螺母 304 5000个", reader)
    out = say(partial.state, "嗯嗯嗯好滴呀", reader)
    assert out.state.draft["items"] == partial.state.draft["items"]
    assert out.replies[0].startswith("没太看懂")


def test_a_photo_draft_names_the_fields_to_check(reader: DraftReader) -> None:
    draft = reader.extract(COMPLETE)
    draft["to_confirm"] = [{"field": "phone", "value": "13812345678", "confidence": 0.41},
                           {"field": "items[1]", "value": "M6螺母304 5000个", "confidence": 0.5}]
    out = step(SessionState(), Incoming("ocr_result", draft=draft), reader)
    assert out.state.stage == "confirming"
    assert "请重点核对：电话、第2项产品" in out.replies[0]


def test_the_recap_is_priced_as_the_hub_prices_the_order(reader: DraftReader) -> None:
    """Packs converted by pricing.to_base_quantity and the customer's tier applied, so the
    total the customer confirms is the total of the order the hub makes."""
    gold = DraftReader(reader.catalog, TODAY, reader.products, "gold")
    item = {"sku": "HB-M6X20-304", "quantity": 3, "unit": "盒"}
    priced = gold.price({"items": [item]})
    assert priced.total == Decimal("712.50")  # 3 盒 × 1000 个 × ¥0.25 × 0.95
    assert priced.lines[0]["unit_price"] == Decimal("0.2375")
    # a unit the product is not sold in is not guessed at: the rep checks that line
    priced = gold.price({"items": [{**item, "unit": "箱"}]})
    assert (priced.lines[0]["amount"], priced.total) == (None, Decimal(0))


def test_the_recap_shows_the_price_tables_promotions_gifts_and_freight_before_confirming(
    reader: DraftReader,
) -> None:
    """The same table orders.repricing applies when the order is placed: the customer sees the
    discount, the gift and the freight in the recap they answer 确认 to."""
    from orders.drafts import RecapPricing
    from orders.models import Customer
    from orders.money import money
    from orders.promotions import PriceTable

    table = PriceTable.from_dict({"version": "t", "promotions": [
        {"id": "mj", "kind": "full_reduction", "label": "满500减50", "threshold": 500, "reduction": 50},
        {"id": "zeng", "kind": "gift", "label": "买千送五十", "skus": ["HB-M6X20-304"], "buy_qty": 1000,
         "gift_sku": "HB-M6X20-304", "gift_qty": 50},
    ], "freight": [{"id": "yf", "label": "运费", "amount": 30, "under_amount": 10000}]})
    customer = Customer(id=7, name="张工", tier="standard", province="江苏省", city="常州市")
    priced_reader = DraftReader(reader.catalog, TODAY, reader.products, "standard",
                                RecapPricing(table, customer, "wechat", dt.datetime(2026, 3, 2, tzinfo=dt.UTC)))
    draft = reader.extract(COMPLETE)
    out = step(SessionState(), Incoming("text", COMPLETE), priced_reader)
    assert out.state.stage == "confirming"
    recap = out.replies[0]
    goods = priced_reader.price(draft)
    assert goods.discount == Decimal(50) and "满减·满500减50 -¥50.00" in recap
    assert "赠品：" in recap and "运费：¥30.00" in recap
    assert f"合计：{money(goods.total)}" in recap and goods.total == sum(
        (ln["amount"] for ln in goods.lines if ln["amount"] is not None), Decimal(0)) - 50
