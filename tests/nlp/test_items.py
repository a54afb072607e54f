"""Quantities, units and line splitting as customers write them."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import extract_draft

TODAY = dt.date(2026, 3, 4)


def lines(text, catalog):
    return [(i.sku, i.quantity, i.unit) for i in extract_draft(text, TODAY, catalog).items]


@pytest.mark.parametrize(
    "text,want",
    [
        ("M8平垫 镀锌 五千片", [("FW-M8-ZN", 5000, "片")]),
        ("M8螺母镀锌 两千五", [("HN-M8-ZN", 2500, "个")]),
        ("M6螺母 304 1.5万个", [("HN-M6-304", 15000, "个")]),
        ("M6螺母 304 2w", [("HN-M6-304", 20000, "个")]),
        ("M8螺母 镀锌 1千2个", [("HN-M8-ZN", 1200, "个")]),
        ("外六角M12*40 10.9级 一箱半", [("HB-M12X40-109", 1.5, "箱")]),
        ("M5螺母 304 5千颗", [("HN-M5-304", 5000, "个")]),
        ("SUS304 外六角 M8X20 3000pcs", [("HB-M8X20-304", 3000, "个")]),
        ("再来两盒O型圈组合盒", [("OR-KIT386-NBR", 2, "盒")]),
        ("空气滤芯 朗逸1.5 ×20", [("AF-VW-LY15", 20, "个")]),
        ("M6、M8螺母各1000个 镀锌", [("HN-M6-ZN", 1000, "个"), ("HN-M8-ZN", 1000, "个")]),
        ("M8平垫、弹垫各2000 304", [("FW-M8-304", 2000, "片"), ("SW-M8-304", 2000, "片")]),
        ("M8螺母304 一百来个", [("HN-M8-304", 100, "个")]),
        ("M8螺母304 100多个", [("HN-M8-304", 100, "个")]),
    ],
)
def test_quantities_and_units(text, want, catalog):
    assert lines(text, catalog) == want


def test_words_left_out_are_inherited_from_the_line_before(catalog):
    text = "要一批内六角 M8x25 12.9级 两千个，M8×30的也要两千，同样12.9级。"
    assert lines(text, catalog) == [("SH-M8X25-129", 2000, "个"), ("SH-M8X30-129", 2000, "个")]


def test_list_numbers_phone_and_address_digits_are_not_quantities(catalog):
    text = "1、6201-2RS轴承 200只\n2、6202-2RS 100只\n送到常州市新北区薛家镇顺园路12号，电话0519-86881234"
    assert lines(text, catalog) == [("BRG-6201-2RS", 200, "只"), ("BRG-6202-2RS", 100, "只")]


def test_po_table(catalog):
    text = "序号\t品名\t规格\t材质\t数量\t单位\n1\t外六角螺栓\tM8×30\t304\t1000\t个\n2\t平垫圈\tM8\t304\t2000\t片"
    assert lines(text, catalog) == [("HB-M8X30-304", 1000, "个"), ("FW-M8-304", 2000, "片")]


def test_markdown_table(catalog):
    text = "| 品名 | 规格 | 单价 | 数量 |\n|---|---|---|---|\n| 内六角螺钉 12.9级 | M6×20 | 0.30 | 500 |"
    assert lines(text, catalog) == [("SH-M6X20-129", 500, "个")]


def test_pasted_chat_log(catalog):
    text = (
        "张三 2026-03-04 10:21\n老板 M10*40外六角 8.8级 要2箱\n"
        "李四 2026-03-04 10:22\n好的\n张三 2026-03-04 10:23\n地址 深圳市宝安区西乡街道宝源路1号 13912345678"
    )
    d = extract_draft(text, TODAY, catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == [("HB-M10X40-88", 2, "箱")]
    assert d.delivery_date is None
    assert d.address.district == "宝安区"


@pytest.mark.parametrize(
    "text",
    ["M12*50的10.9级外六角多少钱一个？含税不", "6205 2rs的轴承现在什么价 一百个起有优惠吗", "老板在吗？过年前还发货不"],
)
def test_non_orders_have_no_items(text, catalog):
    assert lines(text, catalog) == []


def test_traditional_and_cantonese(catalog):
    d = extract_draft("老闆，M6*20外六角 304嘅 5000個，聽日送到，唔急", TODAY, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M6X20-304", 5000)]
    assert d.delivery_date == "2026-03-05" and d.rush is False


def test_voice_to_text(catalog):
    d = extract_draft("要M六乘二十的外六角三千个 不锈钢的 电话幺三八一二三四五六七八 明天到", TODAY, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M6X20-304", 3000)]
    assert d.phone == "13812345678"


def test_draft_roundtrip_and_missing(catalog):
    from nlp import Draft

    d = extract_draft("M6螺母 304 100个 明天到", TODAY, catalog)
    out = d.to_dict()
    assert out["missing"] == ["phone", "address"]
    assert Draft.from_dict(out).to_dict() == out


def test_nut_line_takes_the_bolt_thread_and_material(catalog):
    text = "外六角螺栓m八乘三十的304的给我来两千个然后螺母也要两千个"
    assert lines(text, catalog) == [("HB-M8X30-304", 2000, "个"), ("HN-M8-304", 2000, "个")]


def test_a_bolt_grade_is_not_a_nut_material(catalog):
    text = "M8*30外六角 8.8级 200个 M8螺母200个"
    assert lines(text, catalog)[1][0] == "HN-M8-ZN"


def test_open_size_is_not_guessed(catalog):
    item = extract_draft("螺母 镀锌 2000个", TODAY, catalog).items[0]
    assert item.sku is None and len(item.alternatives) > 1


def test_pack_sizes_and_order_numbers_are_not_quantities(catalog):
    assert lines("M8螺母304 每箱1000个 要5箱", catalog) == [("HN-M8-304", 5, "箱")]
    assert lines("订单号：20260304001\nM8螺母304 1000个", catalog) == [("HN-M8-304", 1000, "个")]


def test_asking_about_today_is_not_a_same_day_demand(catalog):
    d = extract_draft("M8螺母304 1000个 今天发货吗", TODAY, catalog)
    assert d.delivery_date is None and d.rush is False


def test_spoken_material_after_the_quantity(catalog):
    text = "我要M8的螺母两千个不锈钢的还有M8平垫两千个也是不锈钢的明天送到"
    assert lines(text, catalog) == [("HN-M8-304", 2000, "个"), ("FW-M8-304", 2000, "片")]


def test_material_before_the_next_product_is_that_products(catalog):
    assert lines("M8螺母 1000个 304 M8平垫 1000个", catalog)[1] == ("FW-M8-304", 1000, "片")


def test_chinese_quantity_glued_to_the_spec(catalog):
    assert lines("304内六角M5*12一千个", catalog) == [("SH-M5X12-304", 1000, "个")]


def test_shipping_today_is_a_date_but_only_a_demand_is_rush(catalog):
    plain = extract_draft("M8螺母304 100个 今天发", TODAY, catalog)
    demand = extract_draft("M8螺母304 100个 今天必须发", TODAY, catalog)
    assert (plain.delivery_date, plain.rush) == ("2026-03-04", False)
    assert (demand.delivery_date, demand.rush) == ("2026-03-04", True)


def test_single_space_table_with_row_numbers(catalog):
    text = "序号 名称 规格 材质 数量\n1 外六角螺栓 M8×30 304 1000\n2 六角螺母 M8 304 1000"
    assert lines(text, catalog) == [("HB-M8X30-304", 1000, "个"), ("HN-M8-304", 1000, "个")]


def test_an_order_echoed_back_in_a_pasted_chat_is_one_line(catalog):
    text = "客户: M8螺母304 1000个 明天到\n我: 好的，M8螺母304 1000个，单价0.23元，明天发\n客户: 对 再加M8平垫304 1000片"
    assert lines(text, catalog) == [("HN-M8-304", 1000, "个"), ("FW-M8-304", 1000, "片")]
