"""A change of one attribute aimed at one line of the order — by its place (第二个), by a
size or code it carries (6205, 4.8的), by its old value (外六角那个) or by naming the old
value (不是盘头) — changes that line only; a head type named alone (沉头的…) picks the
product with that head. Examples invented for these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft

TODAY = dt.date(2026, 3, 2)


def items(text: str, catalog: Catalog) -> list[tuple[str | None, float, str | None]]:
    return [(i.sku, i.quantity, i.unit) for i in extract_draft(text, TODAY, catalog).items]


@pytest.mark.parametrize(
    "text, want",
    [
        (
            "外六角M8*30镀锌 500个 M10*40镀锌 300个 第二个换成304的 陈工 13912345678",
            [("HB-M8X30-ZN", 500, "个"), ("HB-M10X40-304", 300, "个")],
        ),
        (
            "外六角M8*30 304 500个 平垫M8 304 500片 外六角那个改成内六角 陈工 13912345678",
            [("SH-M8X30-304", 500, "个"), ("FW-M8-304", 500, "片")],
        ),
        (
            "轴承6203zz 80只 6202zz 40只 等下 6203要2RS的 不要zz",
            [("BRG-6203-2RS", 80, "只"), ("BRG-6202-ZZ", 40, "只")],
        ),
        (
            "拉钉 4×12 铝 6盒 4.8×12 铝 3盒——4.8的要不锈钢的，数量一样",
            [("RV-4X12-AL", 6, "盒"), ("RV-4.8X12-304", 3, "盒")],
        ),
        (
            "自攻ST4.2*25盘头304 六盒 改一下，要沉头的 不是盘头 还是304 六盒",
            [("STC-4.2X25-304", 6, "盒")],
        ),
        ("内六角M8*30 12.9 600个，材质搞错 要304的。", [("SH-M8X30-304", 600, "个")]),
    ],
)
def test_an_aimed_change_alters_only_its_line(text: str, want, catalog: Catalog) -> None:
    assert items(text, catalog) == want


@pytest.mark.parametrize(
    "text, want",
    [
        # 要…的 followed by a size and a count is a new line, not a change
        ("要外六角M8*30 200个 要304的 M10螺母 300个", [("HB-M8X30-ZN", 200, "个"), ("HN-M10-304", 300, "个")]),
        ("平垫M8 要304的 300片", [("FW-M8-304", 300, "片")]),
    ],
)
def test_a_material_asked_with_a_new_line_is_no_change(text: str, want, catalog: Catalog) -> None:
    assert items(text, catalog) == want


def test_a_head_type_named_alone_picks_that_head(catalog: Catalog) -> None:
    got = items("十字盘头自攻钉ST4.2x16镀锌 12盒，沉头的ST4.2×25镀锌 7盒", catalog)
    assert got == [("STP-4.2X16-ZN", 12, "盒"), ("STC-4.2X25-ZN", 7, "盒")]
    assert items("自攻钉ST4.2*25沉头304 八盒", catalog) == [("STC-4.2X25-304", 8, "盒")]


def test_a_head_word_that_already_names_products_stays_theirs() -> None:
    """沉头内六角螺钉 carries 内六角 in its name, but 内六角 alone means the socket cap screw."""
    rows = [
        {"sku": "SH-M8X30", "name": "内六角圆柱头螺钉 M8×30 12.9级", "category": "内六角", "spec": "M8×30",
         "material": "12.9级", "unit": "个", "aliases": "内六角|杯头|12.9级"},
        {"sku": "CS-M8X30", "name": "沉头内六角螺钉 M8×30 12.9级", "category": "沉头内六角", "spec": "M8×30",
         "material": "12.9级", "unit": "个", "aliases": "沉头内六角|平头内六角|12.9级"},
    ]
    cat = Catalog.from_rows(rows)
    assert [i.sku for i in extract_draft("内六角M8*30 12.9级 2000个", TODAY, cat).items] == ["SH-M8X30"]
    assert [i.sku for i in extract_draft("沉头的M8*30 12.9级 2000个", TODAY, cat).items] == ["CS-M8X30"]
