"""Kinds of phrasing from issue #12, each with invented examples: receivers after a
(收)/收货信息/收货人 label or a department (找项目部杨工), greetings that are no contact,
people introduced by their town; standard numbers (GB70, DIN934) that name a product and
are no count; a kit's piece count that is no order count; English delivery dates; a line
withdrawn with 先不要."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft

TODAY = dt.date(2026, 3, 2)


def read(text: str, catalog: Catalog):
    return extract_draft(text, TODAY, catalog)


@pytest.mark.parametrize(
    "text, contact",
    [
        ("（收）上官云 0571-85551234 浙江省杭州市上城区解放路9号 螺母M8 200个", "上官云"),
        ("收货信息：安徽省芜湖市镜湖区北京西路7号，陶建国，18955512345 平垫M8 1包", "陶建国"),
        ("螺母M8 2包 浙江省湖州市吴兴区富民路1号 收货人：苏和 13947112234", "苏和"),
        ("螺母M8 2包 浙江省湖州市吴兴区富民路1号 找项目部杨工 13947112234", "杨工"),
        ("螺母M8 2包 送到仓库 收货人 仓库的老李 13947112234", "老李"),
        ("王总 你好呀 要M8螺母 2包 湖州 吴兴区 织里镇 富民路1号 13800003333", None),
        ("平垫M8 镀锌 2包 发到黄石 下陆区 新下陆路5号 马鞍山来的老周 13800004444", "老周"),
    ],
)
def test_who_receives(text: str, contact: str | None, catalog: Catalog) -> None:
    assert read(text, catalog).contact == contact


def test_a_person_from_a_town_is_not_in_the_street(catalog: Catalog) -> None:
    d = read("平垫M8 镀锌 2包 发到黄石 下陆区 新下陆路5号 马鞍山来的老周 13800004444", catalog)
    assert d.address.detail == "新下陆路5号"


@pytest.mark.parametrize(
    "text, want",
    [
        ("GB70 M8*30 304 200个", [("SH-M8X30-304", 200, "个")]),
        ("GB/T 70.1 M6*25 12.9级 300个", [("SH-M6X25-129", 300, "个")]),
        ("DIN934 M10 镀锌 500个", [("HN-M10-ZN", 500, "个")]),
        ("GB93-87 M8 镀锌 3包", [("SW-M8-ZN", 3, "包")]),
        ("O-ring kit 386pcs NBR 2 boxes", [("OR-KIT386-NBR", 2, "盒")]),
        ("法兰螺母M6 304 3000个 M8 304 3000个 M8的先不要 下次再订", [("FN-M6-304", 3000, "个")]),
        ("平垫M6 2包 弹垫M6 1包 弹垫暂时不要", [("FW-M6-ZN", 2, "包")]),
    ],
)
def test_numbers_that_are_no_counts_and_withdrawn_lines(text: str, want, catalog: Catalog) -> None:
    assert [(i.sku, i.quantity, i.unit) for i in read(text, catalog).items] == want


@pytest.mark.parametrize(
    "text, date",
    [
        ("hex bolt M8x30 zinc 1000pcs, Delivery 3/28, Tom Li 13916020000", "2026-03-28"),
        ("socket head M4x10 12.9 3 boxes, deliver 4/9. Grace 13671132298", "2026-04-09"),
        ("nut M10 zinc 2000pcs, required 5/6", "2026-05-06"),
    ],
)
def test_english_delivery_dates(text: str, date: str, catalog: Catalog) -> None:
    assert read(text, catalog).delivery_date == date


@pytest.mark.parametrize(
    "text, want",
    [
        # a part number read aloud digit by digit, its letters written apart
        ("机油格九零九一五 YZZE1 三十个", [("OF-TY-90915YZZE1", 30, "个")]),
        ("O ring kit 386 2 boxes", [("OR-KIT386-NBR", 2, "盒")]),
        # the seal said aloud or spaced
        ("轴承六二零三两R S来四十只 六二零一两Z八十只", [("BRG-6203-2RS", 40, "只"), ("BRG-6201-ZZ", 80, "只")]),
        ("6204 2RS 30只 6205-2 RS 20只", [("BRG-6204-2RS", 30, "只"), ("BRG-6205-2RS", 20, "只")]),
        # an English head type on its own
        ("Item2 countersunk ST4.2x25 SS304 10 boxes", [("STC-4.2X25-304", 10, "盒")]),
    ],
)
def test_spoken_and_english_part_numbers(text: str, want, catalog: Catalog) -> None:
    assert [(i.sku, i.quantity, i.unit) for i in read(text, catalog).items] == want


def test_full_width_detail_stays_as_typed(catalog: Catalog) -> None:
    d = read("收货：江苏省常州市武进区湖塘镇长虹路８８号　周经理　１３８１２３４５６７８", catalog)
    assert d.address.detail == "湖塘镇长虹路８８号"
    assert d.phone == "13812345678"


def test_a_name_shared_with_taiwan_means_the_mainland_place(catalog: Catalog) -> None:
    a = read("永康 西城街道五金大道18号 要M5平垫镀锌 5包", catalog).address
    assert (a.province, a.city, a.district) == ("浙江省", "金华市", "永康市")


@pytest.mark.parametrize(
    "text, contact",
    [
        ("内六角M8*20 304 5盒 新疆维吾尔自治区乌鲁木齐市天山区 解放北路 90号 买买提·艾力 13999123456", "买买提·艾力"),
        ("内六角M8*20 304 5盒 乌鲁木齐市天山区 解放北路 90号 13999123456 阿依古丽·吐尔逊", "阿依古丽·吐尔逊"),
        ("螺母M12 304 800个 西藏自治区拉萨市城关区北京中路 48号 次仁多吉 13989012345", "次仁多吉"),
        ("螺母M12 304 800个 13989012345 欧阳小红 江苏省南京市玄武区中山路 8号", "欧阳小红"),
    ],
)
def test_long_and_dotted_names_beside_the_phone(text: str, contact: str, catalog: Catalog) -> None:
    assert read(text, catalog).contact == contact


def test_a_withdrawal_below_a_quote_leaves_the_quote_out(catalog: Catalog) -> None:
    text = "引用 钱老板 的消息：6302ZZ 30只 多少钱\n-----\n6302ZZ先不要了，要6203-2RS 80只 送 南京市江宁区 胜太路 8号 钱老板 13805141234"
    d = read(text, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("BRG-6203-2RS", 80)]
    assert d.address.detail == "胜太路8号"
