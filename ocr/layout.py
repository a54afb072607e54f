"""From loose text boxes to a form: rows, the items table (found by its header) and
labelled key–value fields.

Nothing here knows a template. A table is any row whose short cells name at least a
product column and a quantity column (品名/名称…, 数量…), in any order and wording;
its columns are the header cells' x-ranges, and the rows below it are read cell by cell
until the table ends. A field is a known label (联系人, 电话/手机, 收货地址, 交期…)
followed, in the same row, by its value: in the same box after a colon, or in the
next box (grid forms). Decoy labels (传真, 订单编号, 下单日期) are recognised so that
their numbers are never taken for a phone or a delivery date.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field

from .engine import TextBox

# Column roles: header words, longest first inside each role.
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "index": ("序号", "项次", "行号", "No.", "NO.", "No", "NO", "#"),
    "code": ("物料编码", "产品编码", "物料号", "货号", "编码", "料号", "编号"),
    "name": ("产品名称", "货品名称", "商品名称", "物料名称", "物品名称", "品名规格", "名称", "品名",
             "产品", "货品", "商品", "品种", "物料", "货物"),
    "spec": ("规格型号", "型号规格", "规格", "型号", "尺寸"),
    "material": ("材质", "材料", "等级", "表面处理"),
    "qty": ("订购数量", "订货数量", "采购数量", "需求数量", "数量", "订购量", "订货量", "采购量",
            "需求量", "件数", "订量"),
    "unit": ("单位",),
    "price": ("含税单价", "单价", "价格"),
    "amount": ("金额", "总价", "小计", "合计"),
    "remark": ("备注", "说明"),
    "date": ("要求交货日期", "要求到货日期", "交货日期", "到货日期", "送货日期", "交货时间", "到货时间",
             "送货时间", "交货期", "交期", "需求日期"),
    "brand": ("品牌", "厂家"),
}
ITEM_ROLES = ("name", "spec", "material", "qty", "unit")

# Field labels; decoys are read so their values are kept away from real fields.
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "phone": ("收货人电话", "联系人电话", "联系人手机", "收货电话", "联系电话", "手机号码", "电话号码",
              "联系方式", "手机号", "电话/手机", "手机/电话", "手机", "电话", "Tel", "TEL", "Mobile"),
    "contact_phone": ("联系人及电话", "联系人/电话", "联系人及手机", "收货人及电话", "收货人/电话",
                      "收货人及联系方式", "联系人及联系方式"),
    "contact": ("收货人姓名", "联系人姓名", "联系人员", "联系人", "收货人", "收件人", "订货人", "采购员",
                "采购人", "经办人"),
    "company": ("客户名称", "单位名称", "订货单位", "收货单位", "购货单位", "客户单位", "公司名称",
                "需方单位", "需方", "客户"),
    "address": ("收货地址", "送货地址", "交货地址", "到货地址", "收货地点", "交货地点", "送货地点",
                "详细地址", "地址"),
    "delivery": ("要求交货日期", "要求到货日期", "要求交期", "交货日期", "到货日期", "送货日期", "发货日期",
                 "需求日期", "交货时间", "到货时间", "送货时间", "交货期", "交期"),
    "remarks": ("特别说明", "备注", "说明", "附注"),
    "decoy": ("订单编号", "订单号", "单据编号", "单号", "编号", "传真号码", "传真", "Fax", "FAX",
              "下单日期", "订货日期", "制单日期", "开单日期", "签收日期", "日期", "制单人", "审核",
              "签字", "盖章", "供货单位", "供方", "页码", "邮编", "税号", "开户行", "账号"),
}
_ALL_LABELS = sorted(((lab, key) for key, labs in FIELD_LABELS.items() for lab in labs),
                     key=lambda p: -len(p[0]))
_LABEL_KEY = dict(_ALL_LABELS)
_LABEL_RE = re.compile("|".join(re.escape(lab) for lab, _ in _ALL_LABELS))
_SEP = "\u3000"                      # marks a gap between two boxes of one row
# Any short "词：" after a gap is some label: unknown ones end the value before them.
_ANY_LABEL = re.compile(r"(?:^|(?<=[\s\u3000,，;；|]))[\u4e00-\u9fff]{2,6}(?=[:：])")
# What a label's colon or a cell border is read as, around a value.
_EDGE_NOISE = _SEP + " :：;；,，|丨、.。'\"[]【】!！_-—"
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])")     # 地  址 → 地址
_UNIT_HINT = re.compile(r"[(（/]\s*(个|只|件|套|片|颗|粒|箱|盒|包|袋|千克|kg|吨|米|pcs|PCS)\s*[)）]?")
_STOP_ROW = re.compile(r"^(合计|总计|共计|小计|大写|金额合计)")
_TITLE = re.compile(r"^(订货|订购|采购|要货|购货|销售|订)单$")
# 日 in 日期 misread as 11, 曰, 目, 白, 口 or 扫 (seen on faxes): only right before 期 + colon.
_DAY_WORD = re.compile(r"(?<=[货单期求])(?:11|曰|目|白|口|扫)期(?=[:：])")
_LEADING_INDEX = re.compile(r"^\s*\d{1,2}\s*[.、,，)）]?\s*(?=\D)")


@dataclass
class Row:
    """Boxes whose centres lie on one text line, left to right."""

    boxes: list[TextBox]

    @property
    def cy(self) -> float:
        return statistics.median(b.cy for b in self.boxes)

    @property
    def height(self) -> float:
        return statistics.median(b.height for b in self.boxes)

    @property
    def text(self) -> str:
        return _SEP.join(b.text for b in self.boxes)


@dataclass(frozen=True)
class Column:
    role: str
    header: str
    left: float
    right: float
    unit_hint: str = ""      # 数量(箱): the unit every number in the column is counted in


@dataclass
class Cell:
    text: str
    score: float


@dataclass
class TableRow:
    """One order line as read: text and OCR score per column role."""

    cells: dict[str, Cell] = field(default_factory=dict)
    unit_hint: str = ""

    def text(self, role: str) -> str:
        c = self.cells.get(role)
        return c.text if c else ""

    def add(self, role: str, text: str, score: float) -> None:
        if role in self.cells:
            old = self.cells[role]
            self.cells[role] = Cell(old.text + text, min(old.score, score))
        else:
            self.cells[role] = Cell(text, score)


@dataclass
class Field:
    key: str
    label: str
    value: str
    score: float
    explicit: bool = True      # the label ended in a colon or at a box edge

@dataclass
class FormLayout:
    rows: list[Row]
    columns: list[Column] = field(default_factory=list)
    table: list[TableRow] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    free_rows: list[Row] = field(default_factory=list)     # neither table nor a labelled field
    skew: float = 0.0

    @property
    def has_table(self) -> bool:
        return bool(self.columns)


def _norm(text: str) -> str:
    return text.replace(" ", "").replace("：", ":").strip()


# ---------------------------------------------------------------- geometry


def box_skew(boxes: list[TextBox]) -> float:
    """Median slope (degrees) of wide boxes' top edges: what deskewing left over."""
    angles = []
    for b in boxes:
        (x0, y0), (x1, y1) = b.quad[0], b.quad[1]
        if x1 - x0 > 3 * b.height:
            angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    return statistics.median(angles) if len(angles) >= 3 else 0.0


def level(boxes: list[TextBox], degrees: float) -> list[TextBox]:
    """Rotate box corners by -degrees about the origin so text lines run level."""
    if abs(degrees) < 0.15:
        return boxes
    a = math.radians(-degrees)
    c, s = math.cos(a), math.sin(a)
    return [TextBox(b.text, b.score, tuple((x * c - y * s, x * s + y * c) for x, y in b.quad))
            for b in boxes]


def group_rows(boxes: list[TextBox]) -> list[Row]:
    """Cluster boxes into lines by vertical overlap of their centres, top to bottom."""
    rows: list[Row] = []
    for b in sorted(boxes, key=lambda b: b.cy):
        best, best_d = None, None
        for row in rows[-4:]:
            d = abs(row.cy - b.cy)
            if d <= 0.55 * min(row.height, b.height) and (best_d is None or d < best_d):
                best, best_d = row, d
        if best is None:
            rows.append(Row([b]))
        else:
            best.boxes.append(b)
    for row in rows:
        row.boxes.sort(key=lambda b: b.left)
    rows.sort(key=lambda r: r.cy)
    return rows


# ---------------------------------------------------------------- the table


def _roles_in(text: str) -> list[tuple[int, str, str]]:
    """(position, role, word) for each header word in a header cell's text."""
    t = text
    found: list[tuple[int, str, str]] = []
    taken = [False] * len(t)
    words = sorted(((w, r) for r, ws in COLUMN_WORDS.items() for w in ws), key=lambda p: -len(p[0]))
    for word, role in words:
        start = t.find(word)
        while start >= 0:
            if not any(taken[start:start + len(word)]):
                found.append((start, role, word))
                for i in range(start, start + len(word)):
                    taken[i] = True
                break
            start = t.find(word, start + 1)
    return sorted(found)


def _fuzzy_role(text: str) -> str | None:
    """A header word misread by one character (订货数置 → 订货数量), for words of 3+ chars."""
    for role, words in COLUMN_WORDS.items():
        for w in words:
            if len(w) >= 3 and len(w) == len(text) and sum(a != b for a, b in zip(w, text,
                                                                                   strict=True)) == 1:
                return role
    return None


def header_columns(row: Row, relaxed: bool = False) -> list[Column] | None:
    """Columns if this row is an items-table header, else None.

    Every short cell of a header row becomes a column, known or not ("other"), so that
    an unknown column's numbers are never read into a neighbour.
    """
    columns: list[Column] = []
    for b in row.boxes:
        t = _norm(b.text).rstrip(":")
        if len(t) > 12 or ":" in t:
            return None
        # Keep spaces (and blank out parentheses) so positions still map to x.
        core = re.sub(r"[(（][^)）]*[)）]?", lambda m: " " * len(m.group(0)),
                      b.text.strip().replace("：", ":"))
        roles = _roles_in(core)
        covered = sum(len(w) for _, _, w in roles)
        if not roles or covered < 0.5 * len(core.replace(" ", "")):   # 证货数量: still 数量
            fuzzy = _fuzzy_role(core.replace(" ", ""))
            columns.append(Column(fuzzy or "other", t, b.left, b.right))
            continue
        # A box holding several header words (borderless tables): split it by characters.
        width = (b.right - b.left) / max(1, len(core))
        hint = _UNIT_HINT.search(b.text)
        for i, (pos, role, word) in enumerate(roles):
            end = roles[i + 1][0] if i + 1 < len(roles) else len(core)
            columns.append(Column(role, word, b.left + pos * width, b.left + end * width,
                                  hint.group(1) if hint and role == "qty" else ""))
    roles = {c.role for c in columns}
    known = [c for c in columns if c.role != "other"]
    if "qty" in roles and ({"name", "spec"} & roles) and len(known) >= 2 \
            and len(known) >= len(columns) - 2:
        return columns
    # Relaxed (second pass): the quantity header is unreadable; the numbers will tell.
    if relaxed and "qty" not in roles and ({"name", "spec"} & roles) and len(known) >= 2 \
            and any(c.role == "other" for c in columns):
        return columns
    return None


def _numeric_column_as_qty(columns: list[Column], table: list[TableRow]) -> list[Column]:
    """Relabel the unknown column whose cells are mostly whole numbers as the quantity."""
    best, best_n = None, 0
    for c in columns:
        if c.role != "other":
            continue
        n = sum(bool(re.fullmatch(r"[\d,，]+\D{0,3}", r.text(f"other:{c.left:.0f}")))
                for r in table)
        if n > best_n:
            best, best_n = c, n
    if best is None or best_n < max(1, 0.6 * len(table)):
        return columns
    return [Column("qty", c.header, c.left, c.right) if c is best else c for c in columns]


def _assign(box: TextBox, columns: list[Column]) -> list[tuple[Column, float]]:
    """Columns a body box overlaps, with overlap in pixels; spans run between header gaps."""
    spans = []
    for i, c in enumerate(columns):
        lo = -math.inf if i == 0 else (columns[i - 1].right + c.left) / 2
        hi = math.inf if i == len(columns) - 1 else (c.right + columns[i + 1].left) / 2
        spans.append((c, lo, hi))
    out = []
    for c, lo, hi in spans:
        ov = min(box.right, hi) - max(box.left, lo)
        if ov > 0:
            out.append((c, ov))
    return sorted(out, key=lambda p: -p[1])


_NUMERIC_ROLES = ("qty", "unit", "price", "amount")
_DASH_NOISE = re.compile(r"[-—–_…~·]{2,}|(?<![0-9A-Za-z])[-—–_…~·]+|[-—–_…~·]+(?![0-9A-Za-z])")


def dash_noise(text: str) -> str:
    """Drop dashes a fax streak or a dotted leader left in a cell (--200-, ST4.2×-25), keeping a
    part number's single hyphens (6205-2RS)."""
    return re.sub(r"\s{2,}", " ", _DASH_NOISE.sub(" ", text)).strip() if re.search(r"[-—–_…~·]", text) \
        else text


def _char_widths(text: str) -> list[float]:
    return [1.0 if "\u4e00" <= ch <= "\u9fff" or ch in "（）：，" else 0.55 for ch in text]


def split_across(box: TextBox, columns: list[Column]) -> list[TextBox]:
    """A box the recogniser ran across a text column and a number column (不锈钢304 20000 read
    as one) cut at the column gap, its characters placed by their typical widths."""
    hits = _assign(box, columns)
    width = box.right - box.left
    if len(hits) < 2 or len(box.text) < 3 or width <= 0:
        return [box]
    (a, ova), (b, ovb) = hits[0], hits[1]
    if (a.role in _NUMERIC_ROLES) == (b.role in _NUMERIC_ROLES) or min(ova, ovb) < 0.2 * width \
            or "index" in (a.role, b.role):
        return [box]
    left, right = sorted((a, b), key=lambda c: c.left)
    # Only a box that reaches well into the right column's own header span is two cells (a
    # wide 不锈钢304 may just overhang the gap between narrow headers).
    if box.right < right.left + 0.6 * box.height or box.left > left.right:
        return [box]
    cut_x = right.left - 0.3 * box.height
    widths = _char_widths(box.text)
    scale = width / sum(widths)
    edges = [box.left]
    for w in widths:
        edges.append(edges[-1] + w * scale)
    spaces = [k for k, ch in enumerate(box.text) if ch.isspace()]
    if spaces:       # the column gap is where the recogniser put a space (wider than it looks)
        cut = min(spaces, key=lambda k: abs(edges[k] - cut_x))
    else:
        cut = next((k for k in range(len(widths)) if (edges[k] + edges[k + 1]) / 2 > cut_x),
                   len(widths))
        pair = box.text[max(0, cut - 1):cut + 1]
        if len(pair) == 2 and (pair.isdigit() or pair.isalpha() and pair.isascii()):
            return [box]     # inside a run of digits (GCr1550只): where one ends is a guess
    x = edges[cut]
    head, tail = box.text[:cut].strip(), box.text[cut:].strip()
    if not head or not tail:
        return [box]
    top, bottom = box.top, box.bottom
    return [TextBox(head, box.score, ((box.left, top), (x, top), (x, bottom), (box.left, bottom))),
            TextBox(tail, box.score, ((x, top), (box.right, top), (box.right, bottom), (x, bottom)))]


def _is_field_row(row: Row) -> bool:
    """A labelled line (联系人：…, 订单编号：…) or a totals line ends the table."""
    first = repair_label(_norm(row.boxes[0].text))
    m = _LABEL_RE.match(first)
    if m and (len(first) > len(m.group(0)) or len(row.boxes) > 1):
        return True
    return bool(_STOP_ROW.match(first) or _ANY_LABEL.match(first))    # 交货扫期：… is a label too


def read_table(rows: list[Row], start: int, columns: list[Column]) -> tuple[list[TableRow], int]:
    """Body rows after the header at `start`; returns (rows read, index after the table)."""
    columns = sorted(columns, key=lambda c: c.left)
    table: list[TableRow] = []
    header = rows[start]
    pitch = None
    last_cy = header.cy
    i = start + 1
    while i < len(rows):
        row = rows[i]
        gap = row.cy - last_cy
        if _is_field_row(row) or (pitch and gap > 2.6 * pitch) or gap > 6 * header.height:
            break
        width = columns[-1].right - columns[0].left
        if len(row.boxes) == 1 and row.boxes[0].right - row.boxes[0].left > 0.55 * width:
            break            # one line across the whole table: text after it, not a row
        tr = TableRow(unit_hint=next((c.unit_hint for c in columns if c.unit_hint), ""))
        for whole in row.boxes:
            for b in split_across(whole, columns):
                hits = _assign(b, columns)
                if not hits:
                    continue
                col = hits[0][0]
                text = dash_noise(b.text).strip(" .,，'`·:：;_")   # fax specks read as dots
                if len(hits) > 1 and any(c.role == "index" for c, _ in hits) and col.role != "index":
                    text = _LEADING_INDEX.sub("", text)
                tr.add(col.role if col.role != "other" else f"other:{col.left:.0f}", text, b.score)
        if not any(tr.text(r) for r in ITEM_ROLES):
            i += 1
            last_cy = row.cy
            continue
        wrapped = table and not tr.text("qty") and not tr.text("index") and tr.text("name") \
            and not tr.text("unit")
        if wrapped:                        # a long name wrapped onto a second line of its cell
            for role, cell in tr.cells.items():
                table[-1].add(role, cell.text, cell.score)
        else:
            table.append(tr)
        pitch = gap if pitch is None else min(pitch, gap) if gap > 0.5 * header.height else pitch
        last_cy = row.cy
        i += 1
    return table, i


# ---------------------------------------------------------------- key–value fields


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def repair_label(text: str) -> str:
    """A label misread by one character (到货白期 → 到货日期), when it starts the box."""
    text = _DAY_WORD.sub("日期", text, count=1)
    cut = min((i for i in (text.find(":"), text.find("：")) if i > 0), default=-1)
    head = text[:cut] if cut > 0 else text.strip()
    if _LABEL_RE.match(head):
        return text
    if 3 <= len(head) <= 6:
        lab = _one_label([lab for lab in _LABEL_KEY if _one_off(lab, head)])
        if lab:
            return lab + (text[cut:] if cut > 0 else "")
    if cut < 0:      # 股货地址南京市…: a long label run into its value, no colon
        lab = _one_label([lab for lab in _LABEL_KEY if len(lab) >= 4
                          and _one_off(lab, text[:len(lab)])])
        if lab:
            return lab + text[len(lab):]
    return text


def _one_label(labels: list[str]) -> str | None:
    """The label, if all candidates name the same field (收货地址/送货地址 → address)."""
    return labels[0] if labels and len({_LABEL_KEY[lab] for lab in labels}) == 1 else None


def merge_spaced_labels(boxes: list[TextBox]) -> list[TextBox]:
    """Join a label spread over several boxes (收  货  人：) back into one box."""
    out: list[TextBox] = []
    i = 0
    while i < len(boxes):
        merged = None
        for k in (4, 3, 2):
            run = boxes[i:i + k]
            if len(run) < k or any(len(_norm(b.text)) > 3 or re.search(r"\d", b.text) for b in run):
                continue
            text = "".join(_norm(b.text) for b in run)
            head = repair_label(text.rstrip(":"))
            if head in _LABEL_KEY:
                quad = ((run[0].left, min(b.top for b in run)), (run[-1].right, min(b.top for b in run)),
                        (run[-1].right, max(b.bottom for b in run)),
                        (run[0].left, max(b.bottom for b in run)))
                merged = TextBox(head + ("：" if text.endswith(":") else ""),
                                 min(b.score for b in run), quad)
                i += k
                break
        if merged is None:
            merged = boxes[i]
            i += 1
        out.append(merged)
    return out


def _fields_in_row(row: Row, rows_below: list[Row]) -> list[Field]:
    """Every `label value` pair in one row (several per row on two-column forms)."""
    pieces: list[tuple[str, float]] = []      # characters of the row with their box's score
    row = Row(merge_spaced_labels(row.boxes))
    for k, b in enumerate(row.boxes):
        if k:
            pieces.append((_SEP, 1.0))
        pieces.extend((ch, b.score) for ch in repair_label(_CJK_GAP.sub("", b.text)))
    text = "".join(ch for ch, _ in pieces)
    marks = [m for m in _LABEL_RE.finditer(text)]
    # A label must start a box or follow a gap/colon-free run of punctuation, not sit mid-value.
    marks = [m for m in marks
             if m.start() == 0 or text[m.start() - 1] in _SEP + " ,，;；|" or _label_like(text, m)]
    known = [(m.start(), m.end()) for m in marks]
    unknown = [m for m in _ANY_LABEL.finditer(text)
               if not any(s <= m.start() < e or m.start() <= s < m.end() for s, e in known)]
    marks = sorted(marks + unknown, key=lambda m: m.start())
    out = []
    for j, m in enumerate(marks):
        if m.group(0) not in _LABEL_KEY:
            continue
        end = marks[j + 1].start() if j + 1 < len(marks) else len(text)
        raw = text[m.end():end]
        value = raw.strip(_EDGE_NOISE)
        scores = [s for ch, s in pieces[m.end():end] if ch.strip(_SEP + " ")]
        if not value and rows_below:
            below = _value_below(row, m, rows_below)
            if below is not None:
                value, scores = below.text.strip(), [below.score]
        if not value or _TITLE.search(value):
            continue
        score = min(scores) if scores else 1.0
        explicit = raw[:1] in (_SEP, ":", "：", " ", "、", "|", "丨")
        out.append(Field(_LABEL_KEY[m.group(0)], m.group(0), value.replace(_SEP, " "), score,
                         explicit))
    return out


def _label_like(text: str, m: re.Match) -> bool:
    after = text[m.end():m.end() + 1]
    return after in (":", "：")


def _value_below(row: Row, m: re.Match, rows_below: list[Row]) -> TextBox | None:
    """A value written under its label (stacked forms): the next row's box at the same x."""
    nxt = rows_below[0]
    if nxt.cy - row.cy > 2.2 * row.height:
        return None
    label_box = next((b for b in row.boxes if m.group(0) in b.text), None)
    if label_box is None:
        return None
    for b in nxt.boxes:
        text = repair_label(_norm(b.text))
        if abs(b.left - label_box.left) < 2 * row.height and not _LABEL_RE.match(text) \
                and not _ANY_LABEL.match(text):
            return b
    return None


def _receiver_over(new: Field, old: Field) -> bool:
    """A named receiver (收货人, 收货人电话) outranks a general contact (extraction contract)."""
    return new.key in ("contact", "phone") and new.label.startswith(("收货", "收件")) \
        and not old.label.startswith(("收货", "收件"))


# ---------------------------------------------------------------- the whole page


def analyse(boxes: list[TextBox]) -> FormLayout:
    """Rows, the items table and the fields of one page of boxes."""
    skew = box_skew(boxes)
    rows = group_rows(level(boxes, skew))
    layout = FormLayout(rows=rows, skew=skew)
    table_span = (len(rows), len(rows))
    for relaxed in (False, True):
        for i, row in enumerate(rows):
            cols = header_columns(row, relaxed)
            if not cols:
                continue
            table, end = read_table(rows, i, cols)
            if relaxed:
                cols = _numeric_column_as_qty(cols, table)
                if not any(c.role == "qty" for c in cols):
                    continue
                table, end = read_table(rows, i, cols)
            if table or not layout.columns:
                layout.columns, layout.table, table_span = cols, table, (i, end)
            if table:
                break
        if layout.table:
            break
    for i, row in enumerate(rows):
        if table_span[0] <= i < table_span[1]:
            continue
        found = _fields_in_row(row, rows[i + 1:i + 2])
        for f in found:
            if f.key == "decoy":
                continue
            old = layout.fields.get(f.key)
            if f.key == "remarks" and old:
                layout.fields[f.key] = Field(f.key, old.label, f"{old.value}；{f.value}",
                                             min(old.score, f.score))
            elif old is None or (f.explicit and not old.explicit) or _receiver_over(f, old):
                layout.fields[f.key] = f
        if not found:
            layout.free_rows.append(row)
    return layout
