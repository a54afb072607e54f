"""Voice-to-text specs and counts, dotted phones, circled list numbers."""

from __future__ import annotations

import pytest

from nlp import extract_draft


@pytest.mark.parametrize(
    "text,want",
    [
        ("外六角螺栓 M十 五十长的 镀锌 一千个", [("HB-M10X50-ZN", 1000, "个")]),
        ("那个外六角啊 M八的 三十长 镀锌的 给我来两千五", [("HB-M8X30-ZN", 2500, "个")]),
        ("膨胀螺丝 M十乘一百 镀锌 五百套", [("EB-M10X100-ZN", 500, "套")]),
        ("轴承六二零四 两Z 二十只", [("BRG-6204-ZZ", 20, "只")]),
        ("M10*40内六角 十点九级 三百个", [("SH-M10X40-109", 300, "个")]),
        ("①M6*20外六角 304 5盒\n②M8螺母 镀锌 10包\n③平垫M8 镀锌 2箱", [("HB-M6X20-304", 5, "盒"), ("HN-M8-ZN", 10, "包"), ("FW-M8-ZN", 2, "箱")]),
    ],
)
def test_items(text, want, catalog, wednesday):
    assert [(i.sku, i.quantity, i.unit) for i in extract_draft(text, wednesday, catalog).items] == want


def test_dotted_and_spoken_phones(catalog, wednesday):
    assert extract_draft("联系电话138.0571.2345 刘工", wednesday, catalog).phone == "13805712345"
    assert extract_draft("电话幺三八 零五七一 二三四五 张工", wednesday, catalog).phone == "13805712345"


def test_table_quantity_header_carries_the_pack_unit(catalog, wednesday):
    text = "序号 品名 规格 材质 数量(箱)\n1 外六角螺栓 M8×30 镀锌 5\n2 六角螺母 M8 镀锌 3"
    got = [(i.sku, i.quantity, i.unit) for i in extract_draft(text, wednesday, catalog).items]
    assert got == [("HB-M8X30-ZN", 5, "箱"), ("HN-M8-ZN", 3, "箱")]


def test_english_pack_words(catalog, wednesday):
    got = [(i.sku, i.quantity, i.unit) for i in extract_draft("M8 x 25 hex bolt zinc 2 boxes", wednesday, catalog).items]
    assert got == [("HB-M8X25-ZN", 2, "盒")]


def test_labelled_count_and_unit(catalog, wednesday):
    d = extract_draft("名称：外六角螺栓 规格：M12×50 材质：8.8级 数量：20 单位：盒", wednesday, catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == [("HB-M12X50-88", 20, "盒")]


def test_a_list_line_without_a_count_does_not_take_the_next_lines(catalog, wednesday):
    text = "1、M10*40外六角 8.8级 300个\n2、M10螺母 镀锌\n3、M10平垫 镀锌 600片"
    got = [(i.sku, i.quantity, i.unit) for i in extract_draft(text, wednesday, catalog).items]
    assert got == [("HB-M10X40-88", 300, "个"), ("FW-M10-ZN", 600, "片")]


def test_a_heading_line_names_the_sizes_below(catalog, wednesday):
    text = "外六角螺栓 镀锌\nM8*30 3000个\nM8*40 2000个"
    got = [(i.sku, i.quantity) for i in extract_draft(text, wednesday, catalog).items]
    assert got == [("HB-M8X30-ZN", 3000), ("HB-M8X40-ZN", 2000)]
