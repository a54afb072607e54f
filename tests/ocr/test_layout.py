"""Layout on synthetic boxes: tables found by their headers, fields by their labels."""

from __future__ import annotations

import math

from ocr.engine import TextBox
from ocr.layout import analyse, box_skew, group_rows, level
from ocr.lines import row_line
from ocr.repair import unglue


def box(text: str, x: float, y: float, score: float = 0.99, h: float = 30) -> TextBox:
    w = max(1, len(text)) * h * 0.9
    return TextBox(text, score, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def table(header: list[tuple[str, float]], rows: list[list[str]], y0: float = 400) -> list[TextBox]:
    out = [box(t, x, y0) for t, x in header]
    for r, cells in enumerate(rows):
        out += [box(t, x, y0 + 60 * (r + 1)) for (_, x), t in zip(header, cells, strict=True) if t]
    return out


def test_columns_are_found_in_any_order_and_wording():
    boxes = table([("数量", 100), ("单位", 260), ("规格型号", 380), ("货品名称", 600), ("材料", 900)],
                  [["500", "个", "M8×30", "外六角螺栓", "304不锈钢"],
                   ["2", "箱", "M6", "六角螺母", "镀锌"]])
    layout = analyse(boxes)
    assert [c.role for c in layout.columns] == ["qty", "unit", "spec", "name", "material"]
    assert [row_line(r) for r in layout.table] == ["外六角螺栓 M8×30 304不锈钢 500个", "六角螺母 M6 镀锌 2箱"]


def test_price_index_and_unknown_columns_stay_out_of_the_item_line():
    boxes = table([("序号", 100), ("产品名称", 200), ("订购数量", 600), ("单价(元)", 760),
                   ("金额", 900), ("质检", 1040)],
                  [["1", "外六角螺栓M6×20 304", "5000", "0.25", "1250.00", "合格"]])
    layout = analyse(boxes)
    roles = [c.role for c in layout.columns]
    assert roles == ["index", "name", "qty", "price", "amount", "other"]
    assert row_line(layout.table[0]) == "外六角螺栓M6×20 304 5000"


def test_a_merged_header_box_is_split_into_its_columns():
    # A borderless header read as one box: "品名      数量   单位" (27 px per character).
    boxes = [box("品名      数量   单位", 100, 400)]
    boxes += [box("法兰螺母M8", 100, 460), box("800", 320, 460), box("个", 455, 460)]
    layout = analyse(boxes)
    assert {"name", "qty", "unit"} <= {c.role for c in layout.columns}
    assert layout.table and layout.table[0].text("qty") == "800"


def test_the_table_ends_at_a_labelled_line_and_fields_are_read_around_it():
    boxes = [box("订货单", 500, 100, h=50),
             box("订单编号：PO20260301-007", 100, 200), box("下单日期：2026-03-01", 700, 200),
             box("客户名称：常州恒锐五金有限公司", 100, 250), box("联系人：张工", 700, 250),
             box("传真：0519-86881234", 100, 300), box("手机：138 1234 5678", 700, 300)]
    boxes += table([("名称", 100), ("数量", 700)], [["平垫圈M8 304", "2000"]], y0=400)
    boxes += [box("收货地址：江苏省常州市武进区湖塘镇长虹路88号", 100, 560),
              box("交期", 100, 610), box("2026年3月11日", 260, 610),
              box("备注：加急", 100, 660), box("审核：", 700, 660)]
    layout = analyse(boxes)
    assert len(layout.table) == 1
    f = {k: v.value for k, v in layout.fields.items()}
    assert f["phone"] == "138 1234 5678"           # not the fax number
    assert f["delivery"] == "2026年3月11日"          # not the order date; value in its own box
    assert f["company"] == "常州恒锐五金有限公司" and f["contact"] == "张工"
    assert f["address"].startswith("江苏省常州市") and f["remarks"] == "加急"


def test_a_wrapped_product_name_joins_its_row():
    boxes = table([("序号", 100), ("品名", 200), ("数量", 700), ("单位", 850)],
                  [["1", "十字沉头自攻螺钉", "500", "个"], ["", "ST4.2×25 304不锈钢", "", ""]])
    layout = analyse(boxes)
    assert len(layout.table) == 1
    assert row_line(layout.table[0]) == "十字沉头自攻螺钉ST4.2×25 304不锈钢 500个"


def test_key_value_label_rows_are_not_mistaken_for_a_table_header():
    boxes = [box("单位名称：宏图汽配", 100, 100), box("联系人数量不限", 700, 100)]
    assert not analyse(boxes).has_table


def test_tilted_boxes_are_levelled_before_grouping_rows():
    angle = math.radians(3)
    boxes = []
    for r in range(4):
        for c in range(4):
            x, y = 100 + 300 * c, 200 + 45 * r
            quad = []
            for dx, dy in ((0, 0), (200, 0), (200, 30), (0, 30)):
                px, py = x + dx, y + dy
                quad.append((px * math.cos(angle) - py * math.sin(angle),
                             px * math.sin(angle) + py * math.cos(angle)))
            boxes.append(TextBox(f"r{r}c{c}xxxxxxx", 0.9, tuple(quad)))
    assert abs(box_skew(boxes) - 3) < 0.2
    assert len(group_rows(boxes)) > 4                 # tilted: lines run into each other
    rows = group_rows(level(boxes, box_skew(boxes)))
    assert [len(r.boxes) for r in rows] == [4, 4, 4, 4]


def test_glued_spec_and_grade_are_separated_again():
    assert unglue("外六角螺栓M6×20304不锈钢") == "外六角螺栓M6×20 304不锈钢"
    assert unglue("M10×100304") == "M10×100 304"
    assert unglue("内六角M8×2512.9级") == "内六角M8×25 12.9级"
    assert unglue("平垫圈M6304不锈钢") == "平垫圈M6 304不锈钢"
    assert unglue("弹簧垫圈M10304不锈钢") == "弹簧垫圈M10 304不锈钢"
    assert unglue("O型圈25×3.1氟橡胶") == "O型圈25×3.1氟橡胶"
    assert unglue("深沟球轴承6304-2RS") == "深沟球轴承6304-2RS"
    assert unglue("2）法兰螺母M63041500个") == "2）法兰螺母M6 304 1500个"
    assert unglue("沉头自攻螺钉ST4.2x25304800个") == "沉头自攻螺钉ST4.2x25 304 800个"
    assert unglue("深沟球轴承6204-2RS 轴承钢GCr15200只") == "深沟球轴承6204-2RS 轴承钢GCr15 200只"
    assert unglue("钻尾自攻螺钉ST5.5×25.304不锈钢") == "钻尾自攻螺钉ST5.5×25 304不锈钢"


def test_labels_misread_by_one_character_are_still_labels():
    boxes = [box("到货白期", 100, 100), box("2026-02-21", 260, 100), box("交货11期：3月9日", 100, 200),
             box("联糸电话：13812345678", 700, 100), box("备注", 100, 150),
             box("联系人、", 100, 300), box("梁经理", 260, 300)]
    fields = {k: f.value for k, f in analyse(boxes).fields.items()}
    assert fields == {"delivery": "2026-02-21", "phone": "13812345678", "contact": "梁经理"}
    from ocr.repair import clean_date

    assert clean_date("2026:01.27") == "2026-01-27"


def test_habitual_misreadings_are_repaired_before_nlp():
    from ocr.repair import repair_text

    assert repair_text("0型圈组合盒 丁晴橡胶") == "O型圈组合盒 丁腈橡胶"
    assert repair_text("广州市番禹区") == "广州市番禺区"
    assert repair_text("外六角螺栓 M8 ×30 8.8级") == "外六角螺栓 M8×30 8.8级"
    from ocr.repair import fix_title

    assert [fix_title(n) for n in ("龙T.", "魏女上", "张伟")] == ["龙工", "魏女士", "张伟"]
    assert repair_text("订单10型号") == "订单10型号"          # a zero inside a number stays


def test_a_label_spaced_out_over_several_boxes_is_one_label():
    boxes = [box("收", 100, 100), box("货", 160, 100), box("人：", 220, 100), box("赵娟", 400, 100),
             box("电", 100, 150), box("话：", 220, 150), box("13812345678", 400, 150)]
    fields = {k: f.value for k, f in analyse(boxes).fields.items()}
    assert fields == {"contact": "赵娟", "phone": "13812345678"}


def test_phone_and_list_line_noise_is_cleaned():
    from ocr.repair import clean_phone, free_line

    assert clean_phone("159.37224711") == "15937224711"
    assert clean_phone("l39 O574 1234") == "13905741234"
    assert clean_phone("174.2011--6374-") == "17420116374"
    assert clean_phone("0755-12345678") == "0755-12345678"
    assert free_line("11六角螺母M6304不锈钢8000pcs") == "六角螺母M6 304不锈钢8000pcs"
    assert free_line("2、平垫圈 M8 2000片") == "平垫圈 M8 2000片"
    assert free_line("5箱平垫圈M8") == "5箱平垫圈M8"


def test_a_named_receiver_outranks_the_general_contact():
    boxes = [box("联系人：王经理", 100, 100), box("电话：0519-86881234", 700, 100),
             box("收货人：张工", 100, 150), box("收货人电话：13812345678", 700, 150)]
    fields = {k: f.value for k, f in analyse(boxes).fields.items()}
    assert fields["contact"] == "张工" and fields["phone"] == "13812345678"


def test_a_delivery_date_column_gives_the_delivery_date(catalog):
    import datetime as dt

    from ocr.pipeline import draft_from_layout

    boxes = table([("品名", 100), ("数量", 600), ("交货日期", 800)],
                  [["平垫圈M8 304", "5千", "2026-03-20"], ["六角螺母M8 304", "2000", "2026-03-20"]])
    d = draft_from_layout(analyse(boxes), today=dt.date(2026, 3, 1), catalog=catalog)
    assert d.delivery_date == "2026-03-20"
    assert sorted(i.quantity for i in d.items) == [2000, 5000]      # 5千 read by nlp


def test_a_misread_label_line_still_ends_the_table():
    boxes = table([("货品名称", 100), ("数量", 500), ("单位", 620)], [["刹车片别克英朗前轮陶瓷", "500", "套"]])
    boxes += [box("交货扫期：2026/6/9", 100, 520), box("付款方式：月结", 100, 580)]
    layout = analyse(boxes)
    assert [row_line(r) for r in layout.table] == ["刹车片别克英朗前轮陶瓷 500套"]
    assert layout.fields["delivery"].value == "2026/6/9"


def test_a_full_width_line_under_the_table_is_not_a_row_and_its_label_is_repaired():
    boxes = table([("品名", 100), ("规格", 400), ("数量", 700), ("单位", 850)],
                  [["深沟球轴承", "6205-2RS", "100", "只"]])
    boxes += [box("股货地址南京市江宁区松江工业区创新路51号", 100, 480)]
    layout = analyse(boxes)
    assert len(layout.table) == 1
    assert layout.fields["address"].value == "南京市江宁区松江工业区创新路51号"


def test_an_unreadable_material_header_still_gives_the_material():
    boxes = table([("品名", 100), ("规格", 300), ("朴贡", 500), ("数量", 700), ("单价", 850)],
                  [["外六角螺栓", "M12*40", "304不锈钢", "2500", "0.95"]])
    assert [row_line(r) for r in analyse(boxes).table] == ["外六角螺栓 M12*40 304不锈钢 2500"]
