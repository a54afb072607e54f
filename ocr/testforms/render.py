"""Lay an Order out on an A4 page in one of several templates (clean, 200 dpi, grayscale).

Templates differ in what a reader has to cope with: bordered or borderless tables,
column order and header wording, key–value pairs inline, one per line or in a grid,
decoy numbers (order number, fax number, order date, prices).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from ..fonts import CjkFont
from .content import Order

DPI = 200
A4 = (int(8.27 * DPI), int(11.69 * DPI))

TITLES = ["订货单", "采购订单", "订购单", "要货单", "客户订货单", "产品订购单"]
LABELS = {
    "company": ["客户", "单位名称", "客户名称", "订货单位", "收货单位"],
    "contact": ["联系人", "收货人", "联系人", "联系人员"],
    "phone": ["电话", "手机", "联系电话", "手机号", "电话"],
    "address": ["地址", "收货地址", "送货地址", "收货地址"],
    "delivery": ["交货日期", "交期", "要求交货日期", "到货日期", "送货日期"],
    "remarks": ["备注", "说明", "备注"],
}
COLUMNS = {
    "index": ["序号", "No."],
    "name": ["品名", "名称", "产品名称", "货品名称", "商品名称"],
    "spec": ["规格", "型号", "规格型号"],
    "material": ["材质", "材料"],
    "qty": ["数量", "订购数量", "订货数量"],
    "unit": ["单位"],
    "price": ["单价", "单价(元)"],
    "amount": ["金额"],
    "remark": ["备注"],
}
TEMPLATES = ("bordered", "grid", "plain", "invoice", "list", "letter")


@dataclass
class Page:
    image: Image.Image
    draw: ImageDraw.ImageDraw
    font_path: str
    font_index: int
    size: int
    margin: int
    y: int

    def font(self, size: int | None = None) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(self.font_path, size or self.size, index=self.font_index)

    def text(self, x: int, text: str, size: int | None = None) -> int:
        f = self.font(size)
        self.draw.text((x, self.y), text, font=f, fill=0)
        return int(self.draw.textlength(text, font=f))

    def width(self, text: str, size: int | None = None) -> int:
        return int(self.draw.textlength(text, font=self.font(size)))


def _kv(label: str, value: str, rng: random.Random) -> str:
    return f"{label}{rng.choice(['：', ':', '： ', '  '])}{value}"


def _table_columns(rng: random.Random, style: str, template: str) -> list[str]:
    if style == "name":
        cols = ["name", "qty", "unit"]
    else:
        cols = ["name", "spec", "material", "qty", "unit"]
    if rng.random() < 0.3:
        i, j = cols.index("qty"), cols.index("unit")
        cols[i], cols[j] = cols[j], cols[i]
    if rng.random() < 0.25 and "spec" in cols:
        cols.remove("spec")
        cols.insert(0, "spec") if rng.random() < 0.3 else cols.insert(1, "spec")
    if template == "invoice" or rng.random() < 0.2:
        cols += ["price", "amount"]
    if rng.random() < 0.7:
        cols.insert(0, "index")
    if rng.random() < 0.5:
        cols.append("remark")
    return cols


def _cell(order_line, col: str, i: int, rng: random.Random, qty_with_unit: bool) -> str:
    ln = order_line
    if col == "index":
        return str(i + 1)
    if col == "name":
        return ln.name
    if col == "spec":
        return ln.spec if ln.spec else ""
    if col == "material":
        return ln.material
    if col == "qty":
        q = f"{ln.quantity:,}" if ln.quantity >= 1000 and rng.random() < 0.2 else str(ln.quantity)
        return q + (ln.unit if qty_with_unit else "")
    if col == "unit":
        return "" if qty_with_unit else ln.unit
    if col == "price":
        return f"{rng.uniform(0.05, 30):.2f}"
    if col == "amount":
        return f"{rng.uniform(10, 5000):.2f}"
    if col == "remark":
        return ln.remark
    return ""


def _draw_table(page: Page, rng: random.Random, order: Order, style: str, template: str,
                bordered: bool) -> None:
    cols = _table_columns(rng, style, template)
    qty_with_unit = "unit" in cols and rng.random() < 0.15
    if qty_with_unit:
        cols.remove("unit")
    header = [rng.choice(COLUMNS[c]) for c in cols]
    rows = [[_cell(ln, c, i, rng, qty_with_unit) for c in cols] for i, ln in enumerate(order.lines)]
    pad = page.size // 2
    widths = [max(page.width(t) for t in [h, *(r[k] for r in rows)]) + 2 * pad
              for k, h in enumerate(header)]
    usable = page.image.width - 2 * page.margin
    spare = usable - sum(widths)
    if spare > 0:
        widths = [w + spare // len(widths) for w in widths]
    row_h = int(page.size * rng.uniform(1.8, 2.4))
    x0 = page.margin
    top = page.y
    n_rows = len(rows) + 1 + (rng.random() < 0.4)      # sometimes an empty trailing row
    for r in range(n_rows):
        y = top + r * row_h
        x = x0
        cells = header if r == 0 else rows[r - 1] if r - 1 < len(rows) else [""] * len(cols)
        for k, t in enumerate(cells):
            page.y = y + (row_h - page.size) // 2
            page.text(x + pad, t)
            x += widths[k]
    bottom = top + n_rows * row_h
    right = x0 + sum(widths)
    if bordered:
        for r in range(n_rows + 1):
            page.draw.line([(x0, top + r * row_h), (right, top + r * row_h)], fill=0, width=2)
        x = x0
        for w in [0, *widths]:
            x += w
            page.draw.line([(x, top), (x, bottom)], fill=0, width=2)
    else:
        page.draw.line([(x0, top + row_h - 4), (right, top + row_h - 4)], fill=0, width=2)
    page.y = bottom + page.size


def _fields(order: Order, rng: random.Random) -> dict[str, tuple[str, str]]:
    return {
        "company": (rng.choice(LABELS["company"]), order.company),
        "contact": (rng.choice(LABELS["contact"]), order.contact),
        "phone": (rng.choice(LABELS["phone"]), order.phone_written),
        "address": (rng.choice(LABELS["address"]), order.address_written),
        "delivery": (rng.choice(LABELS["delivery"]), order.delivery_written),
    }


def render(order: Order, font: CjkFont, template: str, rng: random.Random,
           style: str = "split") -> Image.Image:
    """Draw the order on a white A4 page at 200 dpi, grayscale ('L')."""
    img = Image.new("L", A4, 255)
    page = Page(img, ImageDraw.Draw(img), font.path, font.index,
                size=rng.randint(28, 36), margin=rng.randint(90, 150), y=rng.randint(100, 180))
    title = rng.choice(TITLES)
    tsize = int(page.size * rng.uniform(1.5, 2.0))
    page.y += 0
    page.text((img.width - page.width(title, tsize)) // 2, title, tsize)
    page.y += tsize * 2
    f = _fields(order, rng)
    m = page.margin
    half = img.width // 2
    gap = int(page.size * 1.9)

    decoys = [f"订单编号：{order.order_no}", f"下单日期：{order.extra['order_date']}"]
    if rng.random() < 0.5:
        decoys.append(f"传真：{order.fax_written}")
    rng.shuffle(decoys)

    if template in ("bordered", "invoice"):
        page.text(m, decoys[0])
        page.text(half + m // 2, decoys[1])
        page.y += gap
        pairs = [("company", "contact"), ("phone", "delivery")]
        if template == "invoice":
            pairs = [("company", None), ("contact", "phone")]
        for a, b in pairs:
            page.text(m, _kv(*f[a], rng))
            if b:
                page.text(half + m // 2, _kv(*f[b], rng))
            page.y += gap
        if template == "invoice":
            page.text(m, _kv(*f["address"], rng))
            page.y += gap
        page.y += page.size // 2
        _draw_table(page, rng, order, style, template, bordered=True)
        if template == "bordered":
            page.text(m, _kv(*f["address"], rng))
            page.y += gap
        else:
            page.text(m, _kv(*f["delivery"], rng))
            page.y += gap
    elif template == "grid":
        keys = ["company", "contact", "phone", "delivery"]
        rng.shuffle(keys)
        row_h = int(page.size * 2.2)
        lw = max(page.width(f[k][0]) for k in keys) + page.size
        top = page.y
        x_cols = [m, m + lw, half, half + lw, img.width - m]
        for r in range(3):
            y = top + r * row_h
            page.y = y + (row_h - page.size) // 2
            if r < 2:
                for c in range(2):
                    k = keys[r * 2 + c]
                    page.text(x_cols[c * 2] + page.size // 3, f[k][0])
                    page.text(x_cols[c * 2 + 1] + page.size // 3, f[k][1])
            else:
                page.text(x_cols[0] + page.size // 3, f["address"][0])
                page.text(x_cols[1] + page.size // 3, f["address"][1])
        for r in range(4):
            page.draw.line([(m, top + r * row_h), (img.width - m, top + r * row_h)], fill=0, width=2)
        for i, x in enumerate(x_cols):
            yb = top + (2 if i in (2, 3) else 3) * row_h
            page.draw.line([(x, top), (x, yb)], fill=0, width=2)
        page.y = top + 3 * row_h + page.size
        page.text(m, decoys[0])
        page.y += gap
        _draw_table(page, rng, order, style, template, bordered=True)
    elif template == "list":
        # No table at all: a numbered list of lines, as typed into a fax cover sheet.
        for k in ("company", "contact", "phone"):
            page.text(m, _kv(*f[k], rng))
            page.y += gap
        page.text(m, rng.choice(["订货明细：", "需要以下货物：", "订购产品如下："]))
        page.y += gap
        for i, ln in enumerate(order.lines):
            words = " ".join(w for w in (ln.name, ln.spec, ln.material) if w)
            page.text(m + page.size, f"{i + 1}{rng.choice(['、', '. ', '）'])}{words} "
                                     f"{ln.quantity}{ln.unit}")
            page.y += gap
        page.y += page.size // 2
        for k in ("address", "delivery"):
            page.text(m, _kv(*f[k], rng))
            page.y += gap
    elif template == "letter":
        # Labels spaced out to one width (联 系 人：), one per line, values far right of them.
        keys = ["company", "contact", "phone", "address", "delivery"]
        rng.shuffle(keys)
        width = max(len(f[k][0]) for k in keys)
        for k in keys:
            label = f[k][0]
            if len(label) < width and len(label) > 1:
                label = (" " * ((width - len(label)) * 2 // (len(label) - 1) + 1)).join(label)
            page.text(m, label + "：")
            page.text(m + page.size * (width + 3), f[k][1])
            page.y += gap
        page.y += page.size // 2
        _draw_table(page, rng, order, style, template, bordered=rng.random() < 0.5)
        page.text(half + m // 2, decoys[0])
        page.y += gap
    else:  # plain
        keys = ["company", "contact", "phone", "address", "delivery"]
        if rng.random() < 0.5:
            keys.remove("delivery")
        for k in keys:
            page.text(m, _kv(*f[k], rng))
            page.y += gap
        page.y += page.size // 2
        _draw_table(page, rng, order, style, template, bordered=False)
        if "delivery" not in keys:
            page.text(m, _kv(*f["delivery"], rng))
            page.y += gap
        page.text(m, decoys[0])
        page.y += gap
    if order.remarks:
        page.text(m, _kv(rng.choice(LABELS["remarks"]), order.remarks, rng))
        page.y += gap
    page.y += gap
    page.text(m, rng.choice(["制单人：", "经办人签字：", "客户签字："]))
    page.text(half + m // 2, rng.choice(["审核：", "日期：", "盖章："]))
    return img
