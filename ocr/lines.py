"""The laid-out page as the text lines nlp already reads.

A table row becomes "外六角螺栓 M6×20 304不锈钢 5000个" (row number, prices and unknown
columns left out); a field becomes "联系人：张工"; lines outside both are passed on as
they are, repaired.
"""

from __future__ import annotations

import re

from .layout import FormLayout, TableRow
from .repair import clean_date, clean_phone, part_number, plain_quantity, repair_text, unglue
from .vocab import repair_regions

ITEM_CELLS = ("name", "spec", "material", "qty", "unit")
# A column whose header could not be read, but whose cells name a material or grade.
_MATERIAL_LIKE = re.compile(r"不锈钢|镀锌|碳钢|发黑|\d级|橡胶|陶瓷|金属|尼龙|铝|铜|滤纸|GCr|^(?:304|316|201)$")
FIELD_ORDER = ("company", "contact", "contact_phone", "phone", "address", "delivery", "remarks")
FIELD_LINE_LABEL = {"company": "客户", "contact": "联系人", "contact_phone": "联系人", "phone": "电话",
                    "address": "收货地址", "delivery": "交货日期", "remarks": "备注"}


def row_line(row: TableRow) -> str:
    """One table row as the chat-style line nlp reads: product words, then quantity+unit."""
    name, material = row.text("name"), row.text("material")
    if not material:
        material = next((c.text for role, c in row.cells.items()
                         if role.startswith("other") and _MATERIAL_LIKE.search(c.text)), "")
    spec = part_number(row.text("spec"))
    parts = [name]
    if spec and spec.replace(" ", "") not in name.replace(" ", ""):
        parts.append(spec)
    if material and material.replace(" ", "") not in name.replace(" ", ""):
        parts.append(material)
    qty = plain_quantity(row.text("qty"), row.text("unit"))
    unit = row.text("unit").replace(" ", "")
    if qty and unit and unit in qty:
        unit = ""
    if qty and not unit and row.unit_hint and not re.search(r"[^\d.]$", qty):
        unit = row.unit_hint
    parts.append(qty + unit)
    return unglue(repair_text(" ".join(p for p in parts if p)))


def row_score(row: TableRow) -> float:
    """The weakest OCR score among the cells an item is read from."""
    scores = [c.score for role, c in row.cells.items() if role in ITEM_CELLS and c.text]
    return min(scores) if scores else 0.0


def cell_quantity(row: TableRow) -> float | None:
    """The number in the quantity column, if it starts with one."""
    qty = plain_quantity(row.text("qty"), row.text("unit"))
    m = re.match(r"^\d+(?:\.\d+)?", qty)
    if not m or re.search(r"[千万百十半零一二两三四五六七八九]", qty):   # 5千, 1.5万: nlp's to read
        return None
    value = float(m.group(0))
    return int(value) if value.is_integer() else value


def field_text(layout: FormLayout, extra_remarks: list[str], min_score: float) -> str:
    """"label：value" lines for the fields read well enough to use."""
    lines = []
    for key in FIELD_ORDER:
        f = layout.fields.get(key)
        if f is None or f.score < min_score:
            continue
        value = f.value
        if key == "address":
            value = repair_regions(repair_text(value))
        elif key in ("phone", "contact_phone"):
            value = clean_phone(value)
        elif key == "delivery":
            value = clean_date(value)
        lines.append(f"{FIELD_LINE_LABEL[key]}：{value}")
    if extra_remarks:
        lines.append("备注：" + "；".join(extra_remarks))
    return "\n".join(lines)
