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
