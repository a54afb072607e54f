from __future__ import annotations

import datetime as dt

import pytest

from nlp import apply_followup, extract_draft

TODAY = dt.date(2026, 3, 4)


@pytest.fixture
def draft(catalog):
    return extract_draft(
        "M8*30外六角 304 1000个 M8螺母 304 1000个 明天到 常州武进湖塘镇长虹路88号 张工13812345678",
        TODAY,
        catalog,
    )


def test_add_a_line(draft, catalog):
    d = apply_followup(draft, "再加两千个M6平垫 304", TODAY, catalog)
    assert [(i.sku, i.quantity) for i in d.items][-1] == ("FW-M6-304", 2000)
    assert len(draft.items) == 2  # the input draft is not changed


def test_adding_the_same_product_sums(draft, catalog):
    d = apply_followup(draft, "再加500个M8螺母304", TODAY, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M8X30-304", 1000), ("HN-M8-304", 1500)]


def test_change_address(draft, catalog):
    d = apply_followup(draft, "地址改成上海浦东新区川沙路100号", TODAY, catalog)
    assert (d.address.city, d.address.district, d.address.detail) == ("上海市", "浦东新区", "川沙路100号")
    assert len(d.items) == 2


def test_change_material_of_a_line(draft, catalog):
    d = apply_followup(draft, "螺母改成316", TODAY, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M8X30-304", 1000), ("HN-M8-316", 1000)]


def test_change_quantity_of_a_line(draft, catalog):
    d = apply_followup(draft, "螺母改成3000", TODAY, catalog)
    assert [i.quantity for i in d.items] == [1000, 3000]


def test_remove_a_line(draft, catalog):
    d = apply_followup(draft, "螺母不要了", TODAY, catalog)
    assert [i.sku for i in d.items] == ["HB-M8X30-304"]


def test_cancel_everything(draft, catalog):
    d = apply_followup(draft, "不要了", TODAY, catalog)
    assert d.items == [] and d.cancelled is True
    assert d.to_dict()["cancelled"] is True


def test_new_phone_and_date(draft, catalog):
    d = apply_followup(draft, "电话换成13900001111，改到下周三", TODAY, catalog)
    assert d.phone == "13900001111" and d.delivery_date == "2026-03-11"


@pytest.mark.parametrize("text", ["取消订单", "那算了吧", "订单取消"])
def test_cancel_phrasings(text, draft, catalog):
    assert apply_followup(draft, text, TODAY, catalog).cancelled is True


def test_quantity_of_a_one_line_draft(catalog):
    one = extract_draft("M8螺母 304 1000个", TODAY, catalog)
    assert apply_followup(one, "数量改成3000", TODAY, catalog).items[0].quantity == 3000
