"""Purchase-order tables pasted as text (tab, |, or wide-space separated, or CSV).

A header row naming a quantity column (数量, qty) turns the rows below it into plain
order lines "品名 规格 材质 数量单位", dropping columns that only confuse the item
reader (序号, 单价, 金额). Text that is not such a table is returned unchanged.
"""

from __future__ import annotations

import re

from .text import to_simplified

_QTY_HEAD = re.compile(
    r"^(?:订购|订货|采购|需求|下单|发货)?(?:数量|数目|件数|订货量|订购量|采购量|qty|quantity|数)(?:\s*[(（/]\s*\w{1,3}\s*[)）]?)?$",
    re.IGNORECASE,
)
_DATE_HEAD = re.compile(r"^(?:交期|交货期|交货日期|到货日期|需求日期|送货日期|要求交期|delivery|date)$", re.IGNORECASE)
# A table of contact fields (收件人 | 电话 | 地址): each row becomes labelled text.
_FIELD_HEAD = re.compile(r"^(?:收件人|收货人|联系人|姓名|电话|手机|联系电话|地址|收货地址|收件地址|详细地址)$")
_UNIT_HEAD = re.compile(r"^(?:单位|unit)$", re.IGNORECASE)
_DROP_HEAD = re.compile(r"^(?:序号|编号|行号|no\.?|#|单价|价格|含税单价|金额|小计|合计|总价|price|amount|税率|库存)$", re.IGNORECASE)


def _cells(line: str) -> list[str] | None:
    s = line.strip()
    if "|" in s:
        cells = [c.strip() for c in s.strip("|").split("|")]
    elif "\t" in line:
        cells = [c.strip() for c in line.strip("\n").split("\t")]
    elif re.search(r"\S\s{2,}\S", s):
        cells = [c.strip() for c in re.split(r"\s{2,}", s)]
    elif s.count(",") >= 2:
        cells = [c.strip() for c in s.split(",")]
    elif " " in s:
        cells = s.split()  # single spaces: only trusted when the cell count fits the header
    else:
        return None
    return cells if len(cells) >= 2 else None


def flatten_tables(text: str) -> str:
    """Rewrite table rows under a header with a quantity column as order lines."""
    lines = text.split("\n")
    out: list[str] = []
    header: list[str] | None = None
    for line in lines:
        cells = _cells(line)
        heads = [to_simplified(c) for c in cells] if cells else []  # 數量 is 数量
        # A header names columns; a line with numbers in it (hex bolt M10x40 qty 300) is an order line.
        if cells and len(cells) >= 3 and any(_QTY_HEAD.match(c) for c in heads) and not re.search(r"\d", line):
            header = heads
            continue
        if cells and len(cells) >= 2 and all(_FIELD_HEAD.match(c) for c in heads):
            header = heads
            continue
        loose = cells is not None and "|" not in line and "\t" not in line and not re.search(r"\S\s{2,}\S", line.strip())
        if header and cells and (len(cells) == len(header) if loose else len(cells) >= len(header) - 1):
            if all(re.fullmatch(r"[-:\s]*", c) for c in cells):
                continue  # markdown separator row
            out.append(_row(header, cells))
            continue
        header = None if not cells else header
        out.append(line)
    return "\n".join(out)


def _row(header: list[str], cells: list[str]) -> str:
    if not any(_QTY_HEAD.match(h) for h in header):
        return " ".join(f"{h}：{c}" for h, c in zip(header, cells, strict=False) if c)
    words, qty, unit, when = [], "", "", ""
    for h, c in zip(header, cells, strict=False):
        if _DATE_HEAD.match(h):
            m = re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})", c)
            when = f" 交期{m.group(1)}月{m.group(2)}日" if m else (f" 交期{c}" if c else "")
        elif _QTY_HEAD.match(h):
            qty = c
            said = re.search(r"[(（/]\s*([\u4e00-\u9fffA-Za-z]{1,3})\s*[)）]?$", h)
            if said and not unit and re.fullmatch(r"[\d.,]+", c):
                unit = said.group(1)  # 数量(箱) | 5: five cartons
        elif _UNIT_HEAD.match(h):
            unit = c
        elif _DROP_HEAD.match(h):
            continue
        elif c:
            words.append(c)
    return f"{' '.join(words)} {qty}{unit}{when}".strip()
