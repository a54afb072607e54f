"""Messages that are not orders give no items, no address, no date and no rush."""

from __future__ import annotations

import pytest

from nlp import extract_draft
from nlp.intent import kind


@pytest.mark.parametrize(
    "text,want",
    [
        ("帮忙报个价 M8*30外六角 镀锌 5000个 运到苏州多少钱", "inquiry"),
        ("上次发的M8螺母少了两包，怎么回事？急", "complaint"),
        ("我的快递到哪了？单号还没更新，发到杭州的那批", "tracking"),
        ("M6*20 内六角 12.9级 两盒 上次发错了 尽快补发 地址还是临沂市兰山区通达路6号", None),
        ("M8螺母 镀锌 2000个 质量问题注意下 明天送到常州武进湖塘镇长虹路88号", None),
        ("M8螺母 镀锌 2000个", None),
    ],
)
def test_kind(text, want):
    assert kind(text) == want


def test_non_order_fields_are_empty(catalog, wednesday):
    for text in (
        "帮忙报个价 M8*30外六角 镀锌 5000个 运到苏州多少钱",
        "上次发的M8螺母少了两包，怎么回事？急",
        "我的快递到哪了？单号还没更新，发到杭州的那批 很急",
    ):
        d = extract_draft(text, wednesday, catalog)
        assert (d.items, d.address, d.delivery_date, d.rush) == ([], None, None, False), text


def test_an_order_after_a_complaint_stays_an_order(catalog, wednesday):
    d = extract_draft("上次的货少发了，这次再加M8螺母 镀锌 2000个，送到常州市武进区湖塘镇长虹路88号", wednesday, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HN-M8-ZN", 2000)]
    assert d.address.city == "常州市"


def test_a_conditional_question_orders_nothing():
    assert kind("你好，请问6301-2RS轴承有现货吗？多少钱一只？要200只的话几天能发到宁波") == "inquiry"
    assert kind("价格可以 就按这个价下单 M12*50 外六角 8.8级 600个") is None


def test_a_parcel_question_naming_its_destination_is_no_order(catalog, wednesday):
    d = extract_draft("快递到哪了？单号SF1300123456789 说是送到 苏州工业园区 一直没动", wednesday, catalog)
    assert (d.items, d.address) == ([], None)


def test_a_phone_left_for_a_call_back_does_not_make_an_order(catalog, wednesday):
    d = extract_draft("上次发的M8螺母少了两包 怎么回事 回个电话 13812345678", wednesday, catalog)
    assert (d.items, d.phone) == ([], "13812345678")
    d = extract_draft("帮忙报个价 M8*30外六角 镀锌 5000个 到苏州 电话13812345678", wednesday, catalog)
    assert (d.items, d.address) == ([], None)


def test_a_stated_price_is_part_of_an_order():
    assert kind("M8螺母 镀锌 2000个 单价0.05 含税 明天发 张工") is None
    assert kind("M8螺母 镀锌 现在的价格是多少？") == "inquiry"
