"""Matching against the catalog: specs, materials, near-duplicates, open choices."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft

TODAY = dt.date(2026, 3, 4)


def skus(text, catalog):
    return [i.sku for i in extract_draft(text, TODAY, catalog).items]


@pytest.mark.parametrize(
    "text,sku",
    [
        ("M6*20外六角 304的 5000个", "HB-M6X20-304"),
        ("外六角 M6x20 SUS304 5000个", "HB-M6X20-304"),
        ("M6×20 外六角螺丝 不锈钢 5000个", "HB-M6X20-304"),
        ("6*20 外六角 8.8级 100个", "HB-M6X20-88"),
        ("外六角m6 30长 镀锌 两千", "HB-M6X30-ZN"),
        ("M8*1.25*30 外六角 8.8级 100个", "HB-M8X30-88"),
        ("M10*40 外六角 10.9级 100个", "HB-M10X40-109"),
        ("杯头M10*40 10.9级 500个", "SH-M10X40-109"),
        ("6201-2RS 10只", "BRG-6201-2RS"),
        ("6201两RS 10只", "BRG-6201-2RS"),
        ("6203胶盖 10个", "BRG-6203-2RS"),
        ("6203铁盖 10个", "BRG-6203-ZZ"),
        ("丰田的90915-YZZE1 一箱", "OF-TY-90915YZZE1"),
        ("朗逸前刹车片陶瓷的10套", "BP-LY-F-TC"),
        ("朗逸后刹车片陶瓷的10套", "BP-LY-R-TC"),
        ("轩逸的机滤 一箱", "OF-NS-1520865F0E"),
        ("轩逸空滤 20个", "AF-NS-XY16"),
        ("尼龙螺母M5 304 两千", "NN-M5-304"),
        ("法兰螺母M8 不锈钢 3箱", "FN-M8-304"),
        ("O型圈 20*2.4 氟胶 300个", "OR-20X2.4-FKM"),
        ("自功螺丝 3.5*13 盘头 镀锌 1.5万个", "STP-3.5X13-ZN"),
    ],
)
def test_match(text, sku, catalog):
    assert skus(text, catalog) == [sku]


def test_material_decides_between_near_duplicates(catalog):
    assert skus("M6螺母 304 100个", catalog) == ["HN-M6-304"]
    assert skus("M6螺母 316 100个", catalog) == ["HN-M6-316"]
    assert skus("M6螺母 镀锌 100个", catalog) == ["HN-M6-ZN"]


def test_open_material_gets_low_confidence_and_alternatives(catalog):
    item = extract_draft("M6*20外六角 5000个", TODAY, catalog).items[0]
    assert item.confidence <= 0.5
    assert set(item.alternatives) == {"HB-M6X20-ZN", "HB-M6X20-304", "HB-M6X20-88"}


def test_only_one_variant_needs_no_material(catalog):
    item = extract_draft("M16螺母200个", TODAY, catalog).items[0]
    assert item.sku == "HN-M16-ZN" and item.confidence >= 0.8


def test_items_not_in_catalog_keep_raw_text_and_no_sku(catalog):
    items = extract_draft("6004-2RS 轴承 20只 M30的外六角 8.8级 100个", TODAY, catalog).items
    assert [i.sku for i in items] == [None, None]
    assert "6004" in items[0].raw


def test_a_material_the_product_does_not_come_in_is_not_matched(catalog):
    # M16×80 comes in 8.8 and 10.9 only: a 304 one must not become one of those.
    assert skus("M16*80 外六角 304 100个", catalog) == [None]


def test_from_rows_accepts_list_aliases():
    cat = Catalog.from_rows(
        [
            {"sku": "A-1", "name": "六角螺母 M6 碳钢镀锌", "category": "螺母", "spec": "M6",
             "material": "碳钢镀锌", "unit": "个", "aliases": ["螺母", "镀锌"]},
            {"sku": "A-2", "name": "六角螺母 M6 304不锈钢", "category": "螺母", "spec": "M6",
             "material": "304不锈钢", "unit": "个", "aliases": "螺母|304"},
        ]
    )
    assert [i.sku for i in extract_draft("M6螺母 304 10个", TODAY, cat).items] == ["A-2"]


@pytest.mark.parametrize(
    "text,sku",
    [
        ("M8平华司 镀锌 1000个", "FW-M8-ZN"),
        ("M8弹弓垫 304 500", "SW-M8-304"),
        ("M10螺丝母 蓝白锌 200粒", "HN-M10-ZN"),
        ("膨胀丝M10*80 100套", "EB-M10X80-ZN"),
    ],
)
def test_trade_slang(text, sku, catalog):
    assert skus(text, catalog) == [sku]


def test_a_qualified_type_the_catalog_lacks_is_not_matched_to_the_plain_one(catalog):
    item = extract_draft("M8*30 六角法兰面螺栓 镀锌 100个", TODAY, catalog).items[0]
    assert item.sku is None and item.alternatives == ["HB-M8X30-ZN"]


def test_a_type_with_no_product_in_the_size_block_is_not_matched(catalog):
    # 内六角 comes in M8×L lengths only; an M8-only block is nuts and washers.
    assert skus("M8沉头内六角 304 100个", catalog) == [None]
