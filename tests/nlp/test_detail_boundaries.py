"""Where an address detail ends, and which city a shared district name means: the detail
stops before the order, a Latin or self-introduced name, a phone label; a city named
beside the district settles it and is not part of the street; a street named after a
place (白云大道, 中山北路) is a street. Examples invented for these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft

TODAY = dt.date(2026, 3, 2)


def read(text: str, catalog: Catalog):
    return extract_draft(text, TODAY, catalog)


@pytest.mark.parametrize(
    "text, detail",
    [
        ("要外六角M8*30镀锌 200个 送 江苏省苏州市吴中区木渎镇金山路12号 Jack 13912345678", "木渎镇金山路12号"),
        ("送浙江省宁波市鄞州区首南街道天童南路66号 Ann Wu 13812345678 平垫M8镀锌 2包", "首南街道天童南路66号"),
        ("地址浙江省温州市瓯海区娄桥街道古岸头路3号 号码 13812345678 外六角M8*30 200个", "娄桥街道古岸头路3号"),
        ("地址江苏省无锡市梁溪区中山路18号我姓何 13812345678 螺母M8 100个", "中山路18号"),
        ("收件：邬工 13957481234 浙江省舟山市定海区 临城街道 海天大道 681号", "临城街道海天大道681号"),
    ],
)
def test_detail_stops_before_what_is_not_the_street(text: str, detail: str, catalog: Catalog) -> None:
    assert read(text, catalog).address.detail == detail


def test_order_after_the_address_is_read_as_items_not_street(catalog: Catalog) -> None:
    d = read("住在福州 鼓楼区 杨桥东路20号 6203zz 60只 钻尾5.5*25镀锌 8盒 李工 13609502211", catalog)
    assert d.address.detail == "杨桥东路20号"
    assert [(i.sku, i.quantity) for i in d.items] == [("BRG-6203-ZZ", 60), ("STD-5.5X25-ZN", 8)]


@pytest.mark.parametrize(
    "text, province, city, detail",
    [
        ("朝阳区 北京 望京街10号 平垫M8 2包 赵工 13609500000", "北京市", "北京市", "望京街10号"),
        ("鼓楼区 南京市 中山北路30号 平垫M8 2包 赵工 13609500000", "江苏省", "南京市", "中山北路30号"),
        ("白云区 广州 白云大道北18号 自攻ST4.2*16镀锌 5盒 麦生 13609500000", "广东省", "广州市", "白云大道北18号"),
    ],
)
def test_city_after_a_shared_district_is_a_hint_not_the_street(
    text: str, province: str, city: str, detail: str, catalog: Catalog
) -> None:
    a = read(text, catalog).address
    assert (a.province, a.city, a.detail) == (province, city, detail)


@pytest.mark.parametrize(
    "tail, detail",
    [
        ("下午送 周工", "湖塘镇长虹路88号"),
        ("卸货需要叉车 周工", "湖塘镇长虹路88号"),
        ("货到付款 周工", "湖塘镇长虹路88号"),
        ("请尽快安排", "湖塘镇长虹路88号"),
        ("开专票 周工", "湖塘镇长虹路88号"),
        ("电联", "湖塘镇长虹路88号"),
        ("放门卫", "湖塘镇长虹路88号"),
        ("打这个电话", "湖塘镇长虹路88号"),
        # places after the house number stay
        ("东门 周工", "湖塘镇长虹路88号东门"),
        ("3号仓库 周工", "湖塘镇长虹路88号3号仓库"),
        ("工地 周工", "湖塘镇长虹路88号工地"),
        ("汽配城B区12号 周工", "湖塘镇长虹路88号汽配城B区12号"),
    ],
)
def test_request_after_the_house_number_is_not_address(tail: str, detail: str, catalog: Catalog) -> None:
    d = read(f"螺母M8 200个 送 常州市武进区湖塘镇长虹路88号 {tail} 13812345678", catalog)
    assert d.address.detail == detail


@pytest.mark.parametrize(
    "text, district, detail",
    [
        ("高邮 城南新区 海潮东路 10号 外六角M10*40 镀锌 1000个 周工 13905141234", "高邮市", "城南新区海潮东路10号"),
        ("江阴 澄江街道 人民东路 208号 要 外六角 M12*50 镀锌 500个 沈工 13961612345", "江阴市", "澄江街道人民东路208号"),
        ("铆钉 4*10 铝 二十盒 送 顺德 北滘镇 工业大道 10号 何生 13600012345", "顺德区", "北滘镇工业大道10号"),
    ],
)
def test_a_town_named_alone_before_its_streets(text: str, district: str, detail: str, catalog: Catalog) -> None:
    a = read(text, catalog).address
    assert (a.district, a.detail) == (district, detail)
    assert a.province and a.city


@pytest.mark.parametrize(
    "text, detail",
    [
        ("hex nut M12 zinc 300 pcs. Deliver to 江苏省南通市崇川区工农路18号. Contact: David Zhou 13962812345", "工农路18号"),
        ("PO#2231 / bearing 6204-2RS x 100 / ship to 青岛市黄岛区 长江中路 9号 / Mr. Wang 0532-86812345", "长江中路9号"),
    ],
)
def test_english_punctuation_ends_the_detail(text: str, detail: str, catalog: Catalog) -> None:
    assert read(text, catalog).address.detail == detail


def test_talk_after_a_place_name_is_no_detail(catalog: Catalog) -> None:
    a = read("我们公司下个月要搬到昆山了 以后发货地址改一下", catalog).address
    assert a is None or a.detail is None


@pytest.mark.parametrize("detail", ["仙女转盘邮政储蓄银行旁", "七十九团", "东郊椰林风景区", "人民医院对面"])
def test_details_without_a_number_are_kept(detail: str, catalog: Catalog) -> None:
    assert read(f"湖北省孝感市汉川市{detail} 13611672222 薛凯尧", catalog).address.detail == detail
