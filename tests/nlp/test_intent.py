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


@pytest.mark.parametrize(
    "text,want",
    [
        ("麻烦帮我开一下上个月那几单的发票 抬头：杭州市余杭区某某五金有限公司", "invoice"),
        ("补开一张普票，税号发你微信了，公司在嘉兴市南湖区", "invoice"),
        ("快递显示到南京了 三天没更新 帮忙催一下", "tracking"),
        ("包裹一直停在合肥转运中心，怎么回事", "tracking"),
        ("收件地址是苏州工业园区那个仓库，怎么一直没送到？", "tracking"),
        # an order that wants an invoice is still an order
        ("M8螺母 镀锌 2000个 开专票 抬头同上次 送到常州市武进区湖塘镇长虹路88号", None),
        ("pls quote & ship: hex bolt M8x30 zinc 1000pcs, deliver to 上海市闵行区莘庄镇莘松路10号", None),
    ],
)
def test_kind_of_invoices_parcels_and_english_orders(text, want):
    assert kind(text) == want


def test_invoice_and_parcel_questions_name_no_address(catalog, wednesday):
    for text in (
        "麻烦帮我开一下上个月那几单的发票 抬头：杭州市余杭区某某五金有限公司",
        "物流显示到郑州了 两天没动 麻烦问问快递 急",
    ):
        d = extract_draft(text, wednesday, catalog)
        assert (d.items, d.address, d.delivery_date, d.rush) == ([], None, None, False), text


@pytest.mark.parametrize(
    "text, district, detail",
    [
        ("螺母M8镀锌 500个 送 江苏省常州市天宁区青洋北路5号 不对 地址写错了 应该送常州市钟楼区延陵西路8号 周工 13900001111", "钟楼区", "延陵西路8号"),
        ("平垫M6镀锌 3包 浙江省嘉兴市南湖区东栅街道文昌路9号 换个地址 改送到浙江省嘉兴市秀洲区洪合镇洪福路20号 黄生 13900002222", "秀洲区", "洪合镇洪福路20号"),
        ("机滤 20个 地址 无锡新吴区 梅村街道 锡达路 8号\n地址发错了 是无锡惠山区 洛社镇 顺丰路 8号 汽修厂 蒋师傅 13961012345", "惠山区", "洛社镇顺丰路8号汽修厂"),
    ],
)
def test_an_address_correction_replaces_the_address(text, district, detail, catalog, wednesday):
    d = extract_draft(text, wednesday, catalog)
    assert (d.address.district, d.address.detail) == (district, detail)
    assert d.items and d.phone


def test_an_address_correction_without_a_new_address_keeps_the_first(catalog, wednesday):
    d = extract_draft("螺母M8镀锌 500个 送 江苏省常州市天宁区青洋北路5号 地址写错了 等下发你 周工 13900001111", wednesday, catalog)
    assert d.address.district == "天宁区"


@pytest.mark.parametrize(
    "text,want",
    [
        # a price asked with where the goods would go, and no one to deliver to
        ("你好 请问M10的膨胀螺丝多少钱一套 发到绍兴柯桥", "inquiry"),
        # a complaint word inside an order that gives counts, a phone and a delivery address
        ("M6螺母 镀锌 3000个 这次质量要好点 上次有生锈的 送 嘉兴 南湖区 东栅街道 文昌路 9号 吴工 13812345678", None),
        # a complaint that gives a phone but orders nothing stays a complaint
        ("上次发的M6螺母少了两包，电话13812345678 回个电话", "complaint"),
        # a price asked with a commitment to buy is an order
        ("报个价 M6螺母 500个 价格合适就安排发货 老地址", None),
    ],
)
def test_orders_and_questions_that_share_words(text, want):
    assert kind(text) == want
