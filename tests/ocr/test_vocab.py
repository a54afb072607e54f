"""Read text checked against the region and catalog vocabularies (issue #12 failure kinds)."""

from __future__ import annotations

import datetime as dt

import pytest

from ocr.engine import TextBox
from ocr.layout import Column, dash_noise, split_across
from ocr.repair import clean_date
from ocr.vocab import catalog_vocab, repair_regions


@pytest.mark.parametrize(("read", "fixed"), [
    ("浙江省宁波市勤州区横街镇", "浙江省宁波市鄞州区横街镇"),        # a rare character misread
    ("安徽省淮北市睢溪县东坝头", "安徽省淮北市濉溪县东坝头"),
    ("江苏省南涌市崇川区濠河路", "江苏省南通市崇川区濠河路"),        # the city, anchored by both sides
    ("河南省洛阳市 洞西区 滨海工业园", "河南省洛阳市 涧西区 滨海工业园"),  # spaces between the parts
])
def test_a_misread_division_next_to_its_parent_is_put_right(read, fixed):
    assert repair_regions(read) == fixed


@pytest.mark.parametrize("text", [
    "四川省成都市新都区工业大道",        # right as read: never "corrected" into a sibling
    "四川省成都市郸都区临港",            # 郫都区 or 新都区? both one character off: left alone
    "上海市闵行区莘庄路88号",
    "滨江路812号新光大厦",               # no division to anchor on
])
def test_names_read_right_or_ambiguous_are_left_alone(text):
    assert repair_regions(text) == text


@pytest.mark.parametrize(("read", "fixed"), [
    ("外六角螺丝M8×30SUS304 20箱", "外六角螺丝M8×30 SUS304 20箱"),
    ("深沟球轴承 6082RS 4包", "深沟球轴承 608-2RS 4包"),
    ("十字沉头自攻螺钉 ST35×25 碳钢镀锌 500个", "十字沉头自攻螺钉 ST3.5×25 碳钢镀锌 500个"),
    ("弹篮垫圈 M12 不锈钢304 1200", "弹簧垫圈 M12 不锈钢304 1200"),
    ("外角螺栓M10×50镀锌 12箱", "外六角螺栓M10×50镀锌 12箱"),
    ("内六角网柱头螺钉 M6×16 304 150个", "内六角圆柱头螺钉 M6×16 304 150个"),
    ("十字盘头 自攻螺钉 ST4.2×16 镀锌 200个", "十字盘头自攻螺钉 ST4.2×16 镀锌 200个"),  # split cell
    ("弹簧垫圈 M8 不锈钢30420000片", "弹簧垫圈 M8 不锈钢304 20000片"),    # material glued to qty
    ("深沟球轴承 608-2RS 轴承钢GCr1550只", "深沟球轴承 608-2RS 轴承钢GCr15 50只"),
])
def test_product_text_is_checked_against_the_catalog(catalog, read, fixed):
    assert catalog_vocab(catalog).repair(read) == fixed


def test_catalog_repair_keeps_good_lines(catalog):
    for line in ("外六角螺栓 M6×20 304不锈钢 5000个", "O型圈 20×2.4 氟橡胶 5包",
                 "深沟球轴承 6204-2RS 20只", "尼龙锁紧螺母M6镀锌 10盒"):
        assert catalog_vocab(catalog).repair(line) == line


def test_fax_dashes_go_and_part_numbers_keep_theirs():
    assert dash_noise("--200-") == "200"
    assert dash_noise("镀锌……-") == "镀锌"
    assert dash_noise("6205-2RS") == "6205-2RS"
    assert dash_noise("15208-65F0E") == "15208-65F0E"


def _box(text: str, left: float, right: float) -> TextBox:
    return TextBox(text, 0.99, ((left, 100), (right, 100), (right, 130), (left, 130)))


def test_a_box_run_across_material_and_quantity_is_cut_at_the_column():
    cols = [Column("material", "材质", 700, 760), Column("qty", "数量", 900, 960)]
    parts = split_across(_box("不锈钢304 20000", 700, 1000), cols)
    assert [p.text for p in parts] == ["不锈钢304", "20000"]
    # a wide material that only overhangs the gap stays one cell
    assert [p.text for p in split_across(_box("不锈钢304", 700, 880), cols)] == ["不锈钢304"]
    # no space and a cut inside a digit run: where the material's digits end is left to the text
    assert [p.text for p in split_across(_box("不锈钢30420000", 700, 1000), cols)] == ["不锈钢30420000"]


@pytest.mark.parametrize(("read", "date"), [
    ("20260317", "2026-03-17"), ("2O26-O8-l5", "2026-08-15"), ("2026 08 05", "2026-08-05"),
])
def test_a_noisy_delivery_date_is_read(read, date):
    assert clean_date(read) == date


def test_a_rush_line_outside_the_fields_makes_the_draft_rush(catalog):
    from ocr.layout import analyse
    from ocr.pipeline import draft_from_layout

    def line(text: str, y: float) -> TextBox:
        return TextBox(text, 0.99, ((100, y), (900, y), (900, y + 30), (100, y + 30)))

    boxes = [line("联系人：王工", 100), line("电话：13812345678", 160), line("4.十万火急", 220)]
    draft = draft_from_layout(analyse(boxes), today=dt.date(2026, 3, 2), catalog=catalog)
    assert draft.rush is True
    calm = [line("联系人：王工", 100), line("4.不急，正常排单即可", 160)]
    assert draft_from_layout(analyse(calm), today=dt.date(2026, 3, 2), catalog=catalog).rush is False


def test_a_delivery_year_misread_by_one_digit_is_brought_back_near_today():
    from ocr.pipeline import plausible_year

    today = dt.date(2026, 7, 2)
    assert plausible_year("2036-07-18", today) == "2026-07-18"
    assert plausible_year("2026-07-18", today) == "2026-07-18"
    assert plausible_year("2027-01-10", today) == "2027-01-10"     # next year, fine as read
    assert plausible_year("2016-12-20", today) == "2026-12-20"
    assert plausible_year("2019-07-18", today) == "2019-07-18"     # two digits off: left alone
    assert plausible_year(None, today) is None
