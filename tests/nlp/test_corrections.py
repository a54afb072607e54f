"""Self-corrections inside one message: only the corrected line stays."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import extract_draft


def lines(text, catalog, day):
    return [(i.sku, i.quantity, i.unit) for i in extract_draft(text, day, catalog).items]


@pytest.mark.parametrize(
    "text,want",
    [
        ("M6*20外六角304 先要500个 不对 算少了 要900个", [("HB-M6X20-304", 900, "个")]),
        ("M6*2O外六角304 800个 写错了 是M6*20", [("HB-M6X20-304", 800, "个")]),
        ("内六角M6*16 12.9级 1000个 哦搞错了 是M6*20", [("SH-M6X20-129", 1000, "个")]),
        ("M8螺母 镀锌 500个，M6平垫 304 1000片，不对，要2000片", [("HN-M8-ZN", 500, "个"), ("FW-M6-304", 2000, "片")]),
        ("M8螺母 镀锌 2000个，说错了，是M10螺母 镀锌 2000个", [("HN-M10-ZN", 2000, "个")]),
        ("M8*30外六角 镀锌 1000个 不对 M8*25 800个", [("HB-M8X25-ZN", 800, "个")]),
    ],
)
def test_correction_replaces_what_it_names(text, want, catalog, wednesday):
    assert lines(text, catalog, wednesday) == want


def test_negation_without_a_new_value_is_no_correction(catalog, wednesday):
    assert lines("外六角M10*40 8.8级 300个 不是很急 下周送", catalog, wednesday) == [("HB-M10X40-88", 300, "个")]
    assert lines("M8螺母 镀锌 500个 上次的不对 这次注意包装", catalog, wednesday) == [("HN-M8-ZN", 500, "个")]


def test_material_correction(catalog, wednesday):
    got = lines("M8的螺母 304 三千个 算了不要304的 要镀锌的 三千个", catalog, wednesday)
    assert got == [("HN-M8-ZN", 3000, "个")]


def test_fix_stops_at_the_next_item(catalog, wednesday):
    got = lines("M6*20外六角 304 先要500个 不对 要900个，M6螺母304 900个", catalog, wednesday)
    assert got == [("HB-M6X20-304", 900, "个"), ("HN-M6-304", 900, "个")]


def test_bare_count_fix_keeps_the_unit(catalog, wednesday):
    assert lines("O型圈 40*3.5 氟胶 先要两百个 算多了 一百五就够", catalog, wednesday) == [("OR-40X3.5-FKM", 150, "个")]


def test_next_item_after_the_fix_is_kept(catalog, wednesday):
    got = lines("6202-2RS 轴承 200只 不对 要300只 6202ZZ 100只", catalog, wednesday)
    assert got == [("BRG-6202-2RS", 300, "只"), ("BRG-6202-ZZ", 100, "只")]


def test_fix_on_its_own_line(catalog, wednesday):
    assert lines("M8螺母 镀锌 2000个\n不对，要3000个", catalog, wednesday) == [("HN-M8-ZN", 3000, "个")]


# Changes aimed at one line by naming it: only that line changes or goes.
@pytest.mark.parametrize(
    "text,want",
    [
        (
            "M10螺母镀锌 5盒 M10平垫镀锌 5盒 平垫那个改成8盒",
            [("HN-M10-ZN", 5, "盒"), ("FW-M10-ZN", 8, "盒")],
        ),
        (
            "卡罗拉前片陶瓷 6套 后片陶瓷 4套\n前片不要了 后片改为10套",
            [("BP-KLL-R-TC", 10, "套")],
        ),
        (
            "M10*30外六角镀锌 300个 M10*50外六角镀锌 200个 M10*30不要了",
            [("HB-M10X50-ZN", 200, "个")],
        ),
        (
            "O型圈 30*3.1 丁腈 100个\n另外：数量改成250个",
            [("OR-30X3.1-NBR", 250, "个")],
        ),
        (
            "M10弹垫镀锌 4包。。等等 看错数量了 3包就行",
            [("SW-M10-ZN", 3, "包")],
        ),
    ],
)
def test_a_change_aimed_at_a_named_line(catalog, text, want):
    d = extract_draft(text, dt.date(2026, 7, 7), catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == want
