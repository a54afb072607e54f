"""Item lines written in ways the catalog words do not line up with: row numbers of a
flattened PO table, a head type after the size, a length said with 长 after the product,
a count at a line end followed by 以上…, English part names with car models."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft
from nlp.text import normalize


def items(text: str, catalog: Catalog) -> list[tuple]:
    d = extract_draft(text, dt.date(2026, 4, 1), catalog)
    return [(i.sku, i.quantity, i.unit) for i in d.items]


@pytest.mark.parametrize(
    "text,want",
    [
        # 序号 column flattened: 1 / 2 are rows, not counts.
        (
            "序号 品名 规格 数量\n1 膨胀螺丝 M10*100 镀锌 4箱\n2 膨胀螺丝 M8*80 镀锌 6箱",
            [("EB-M10X100-ZN", 4, "箱"), ("EB-M8X80-ZN", 6, "箱")],
        ),
        # head type after the size
        (
            "自攻螺丝 3.5×13 盘头 镀锌 3盒 自攻螺丝 3.5×25 沉头 镀锌 2盒",
            [("STP-3.5X13-ZN", 3, "盒"), ("STC-3.5X25-ZN", 2, "盒")],
        ),
        # a length said with 长 after the product
        ("M10膨胀螺栓100长 镀锌 两箱", [("EB-M10X100-ZN", 2, "箱")]),
        # 以上 on the next line is not "or more" for the count above it
        (
            "6203-2RS 40只\n6204-2RS 60只\n以上请尽快发",
            [("BRG-6203-2RS", 40, "只"), ("BRG-6204-2RS", 60, "只")],
        ),
        ("brake pads Lavida rear ceramic 6 sets", [("BP-LY-R-TC", 6, "套")]),
    ],
)
def test_item_lines(text: str, want: list[tuple], catalog: Catalog) -> None:
    assert items(text, catalog) == want


def test_numbers_that_do_not_run_1_2_3_are_left_alone() -> None:
    # 20 / 50 at line starts are counts written first, not row numbers.
    assert normalize("20 M8螺母\n50 M10螺母") == "20 M8螺母\n50 M10螺母"
    assert normalize("1 M8螺母\n2 M10螺母") == "1、M8螺母\n2、M10螺母"


def test_a_model_year_is_not_a_count(catalog: Catalog) -> None:
    assert items("朗逸空滤 2018款的 能配吗 先要 10个", catalog) == items("朗逸空滤 先要 10个", catalog)


def test_a_shop_word_before_the_phone_stays_in_the_detail() -> None:
    d = extract_draft("M6螺母 两箱 送 成都市金牛区 蜀汉路 7号 五金店 13512340000", dt.date(2026, 4, 1), Catalog([]))
    assert d.address is not None and d.address.detail == "蜀汉路7号五金店"
    assert d.contact is None  # 两箱 is a count, not the one name on a waybill line
