"""Draw a blind form on an A4 page at 200 dpi: three page layouts, four table styles, printed
fonts other than WenQuanYi Micro Hei and handwriting-like fonts for filled-in values."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

from .content import Form, Item

W, H = 1654, 2339          # A4 at 200 dpi
MARGIN = 110
LAYOUTS = ("boxed", "letter", "memo")
TABLE_STYLES = ("none", "grid", "zebra", "hand")

# (file, family suffix of the simplified-Chinese face); Debian fonts-noto-cjk, fonts-arphic-*,
# fonts-wqy-zenhei, fonts-lxgw-wenkai (scripts/setup installs them).
PRINTED = (("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "SC"),
           ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "SC"),
           ("/usr/share/fonts/truetype/arphic/uming.ttc", "CN"),
           ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "Zen Hei"))
BOLD = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "SC")
HANDWRITTEN = (("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", ""),
               ("/usr/share/fonts/truetype/arphic/ukai.ttc", "CN"))


class MissingFont(RuntimeError):
    """A font the blind renderer needs is not installed (run scripts/setup as root)."""


@cache
def _face_index(path: str, suffix: str) -> int:
    if not Path(path).is_file():
        raise MissingFont(f"font {path} missing: scripts/setup installs fonts-noto-cjk, "
                          "fonts-arphic-ukai, fonts-arphic-uming, fonts-wqy-zenhei, fonts-lxgw-wenkai")
    for index in range(10):
        try:
            family, _ = ImageFont.truetype(path, 20, index=index).getname()
        except OSError:
            break
        if "Mono" not in family and family.endswith(suffix):
            return index
    return 0


@cache
def font(spec: tuple[str, str], size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(spec[0], size, index=_face_index(*spec))


def fonts_present() -> list[str]:
    """Paths of the needed fonts that are missing (empty when all are there)."""
    return [p for p, _ in (*PRINTED, BOLD, *HANDWRITTEN) if not Path(p).is_file()]


@dataclass
class Pen:
    """Where and in which fonts to write on one page."""

    img: Image.Image
    rng: random.Random
    printed: tuple[str, str]
    hand: tuple[str, str]
    size: int

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.img)

    def width(self, text: str, size: int | None = None, hand: bool = False) -> int:
        f = font(self.hand if hand else self.printed, size or self.size)
        return int(f.getlength(text))

    def text(self, x: float, y: float, text: str, size: int | None = None, *, hand: bool = False,
             bold: bool = False, ink: int = 20) -> int:
        """Write text with its top at y; handwriting wobbles and tilts a little. Returns width."""
        size = size or self.size
        spec = BOLD if bold else (self.hand if hand else self.printed)
        f = font(spec, size)
        if not hand:
            self.draw.text((x, y), text, font=f, fill=ink)
            return int(f.getlength(text))
        w = int(f.getlength(text)) + 12
        tile = Image.new("L", (w, int(size * 1.6)), 255)
        ImageDraw.Draw(tile).text((6, size * 0.2), text, font=f, fill=self.rng.choice([25, 40, 60]))
        tile = tile.rotate(self.rng.uniform(-1.6, 1.6), resample=Image.BICUBIC, expand=True, fillcolor=255)
        dx, dy = int(x) - 6, int(y - size * 0.2 + self.rng.uniform(-3, 3))
        region = self.img.crop((dx, dy, dx + tile.width, dy + tile.height))
        self.img.paste(ImageChops.darker(region, tile), (dx, dy))
        return w - 12


def _wrap(pen: Pen, text: str, width: int, hand: bool) -> list[str]:
    """One or two lines that fit the cell (split at a space where possible)."""
    if pen.width(text, hand=hand) <= width or len(text) < 4:
        return [text]
    cut = len(text)
    while cut > 1 and pen.width(text[:cut], hand=hand) > width:
        cut -= 1
    space = text.rfind(" ", 0, cut)
    if space > 0:
        cut = space
    return [text[:cut].strip(), text[cut:].strip()]


COLUMN_SETS = (
    [("序号", 0.07), ("品名", 0.22), ("规格型号", 0.2), ("材质", 0.15), ("数量", 0.12),
     ("单位", 0.09), ("备注", 0.15)],
    [("序号", 0.07), ("物料名称及规格", 0.43), ("单位", 0.1), ("数量", 0.12), ("单价", 0.12),
     ("金额", 0.16)],
    [("品名", 0.26), ("规格", 0.24), ("材质", 0.18), ("订购数量", 0.32)],
    [("编号", 0.1), ("产品名称/型号", 0.5), ("数量", 0.2), ("单位", 0.2)],
)


def _cells(item: Item, n: int, cols: list[tuple[str, float]]) -> list[str]:
    price = item.product.price or 0
    vals = {"序号": str(n), "编号": f"{n:02d}", "品名": item.name, "规格型号": item.spec,
            "规格": item.spec, "材质": item.material, "数量": str(item.quantity), "单位": item.unit,
            "备注": "", "物料名称及规格": item.full, "产品名称/型号": item.full,
            "单价": f"{price:.2f}" if price else "", "金额": f"{price * item.quantity:.2f}" if price else "",
            "订购数量": f"{item.quantity}{item.unit}"}
    return [vals[name] for name, _ in cols]


def draw_table(pen: Pen, form: Form, y: int, style: str) -> int:
    """The item table from y; returns the y below it."""
    rng = pen.rng
    cols = rng.choice(COLUMN_SETS)
    x0, x1 = MARGIN, W - MARGIN
    xs = [x0]
    for _, frac in cols:
        xs.append(xs[-1] + int(frac * (x1 - x0)))
    xs[-1] = x1
    hand = style == "hand"
    line_h = int(pen.size * 1.45)
    d = pen.draw
    top = y
    head_h = line_h + 14
    if style == "zebra":
        d.rectangle((x0, y, x1, y + head_h), fill=200)
    for (name, _), cx in zip(cols, xs, strict=False):
        pen.text(cx + 8, y + 7, name, bold=style != "none")
    y += head_h
    if style in ("none", "zebra"):
        d.line((x0, y, x1, y), fill=30, width=2)
    rows = [_cells(it, n, cols) for n, it in enumerate(form.items, 1)]
    if "金额" in [c for c, _ in cols] and rng.random() < 0.6:
        total = sum((it.product.price or 0) * it.quantity for it in form.items)
        rows.append(["合计"] + [""] * (len(cols) - 2) + [f"{total:.2f}"])
    for r, cells in enumerate(rows):
        wrapped = [_wrap(pen, c, xs[i + 1] - xs[i] - 16, hand and i > 0) for i, c in enumerate(cells)]
        row_h = max(len(w) for w in wrapped) * line_h + 14
        if style == "zebra" and r % 2 == 1:
            d.rectangle((x0, y, x1, y + row_h), fill=rng.choice([218, 226, 232]))
        for i, lines in enumerate(wrapped):
            for k, ln in enumerate(lines):
                pen.text(xs[i] + 8, y + 7 + k * line_h, ln, hand=hand and i > 0 and bool(ln))
        y += row_h
        if style == "grid" or style == "hand":
            d.line((x0, y, x1, y), fill=30, width=2)
    if style in ("grid", "hand"):
        d.line((x0, top, x1, top), fill=30, width=2)
        d.line((x0, top + head_h, x1, top + head_h), fill=30, width=2)
        for cx in xs:
            d.line((cx, top, cx, y), fill=30, width=2)
    elif style == "none":
        d.line((x0, y + 4, x1, y + 4), fill=90, width=1)
    return y + 30


def _fields(form: Form) -> list[tuple[str, str]]:
    out = [("采购单位", form.buyer)]
    if form.buyer_person:
        out += [("采购员", form.buyer_person[0]), ("采购员电话", form.buyer_person[1]),
                ("收货人", form.contact), ("收货人电话", form.phone_written)]
    else:
        out += [("联系人", form.contact), ("联系电话", form.phone_written)]
    out += [("供应商", form.supplier), ("传真", form.fax), ("收货地址", form.address_written),
            (form.delivery_label, form.delivery_written)]
    return out


def _boxed(pen: Pen, form: Form) -> int:
    rng = pen.rng
    title = ("【加急】" if form.rush and rng.random() < 0.3 else "") + form.title
    tw = pen.width(title, 64)
    pen.text((W - tw) / 2, 90, title, 64, bold=True)
    pen.text(W - MARGIN - pen.width(f"单号：{form.order_no}"), 190, f"单号：{form.order_no}")
    pen.text(MARGIN, 190, f"日期：{form.order_date}")
    y = 260
    fields = _fields(form)
    half = (W - 2 * MARGIN) // 2
    label_w = max(pen.width(k) for k, _ in fields) + 24
    d = pen.draw
    row_h = int(pen.size * 1.5) + 20
    pairs: list[list[tuple[str, str]]] = []
    for k, v in fields:
        if k in ("收货地址", "采购单位", "供应商") or not pairs or len(pairs[-1]) == 2 \
                or pairs[-1][0][0] in ("收货地址", "采购单位", "供应商"):
            pairs.append([(k, v)])
        else:
            pairs[-1].append((k, v))
    top = y
    for row in pairs:
        for j, (k, v) in enumerate(row):
            x = MARGIN + j * half
            d.rectangle((x, y, x + label_w, y + row_h), fill=236)
            pen.text(x + 10, y + 10, k)
            pen.text(x + label_w + 14, y + 10, v, hand=rng.random() < 0.5)
            if len(row) == 2 and j == 0:
                d.line((x + half, y, x + half, y + row_h), fill=30, width=2)
            d.line((x + label_w, y, x + label_w, y + row_h), fill=30, width=2)
        y += row_h
        d.line((MARGIN, y, W - MARGIN, y), fill=30, width=2)
    d.rectangle((MARGIN, top, W - MARGIN, y), outline=30, width=3)
    return y + 40


def _letter(pen: Pen, form: Form) -> int:
    rng = pen.rng
    pen.text(MARGIN, 80, form.buyer, 54, bold=True)
    pen.draw.line((MARGIN, 160, W - MARGIN, 160), fill=20, width=4)
    pen.draw.line((MARGIN, 168, W - MARGIN, 168), fill=20, width=1)
    pen.text(MARGIN, 185, f"传真：{form.fax}    日期：{form.order_date}", int(pen.size * 0.85))
    title = form.title + ("（加急）" if form.rush and rng.random() < 0.3 else "")
    pen.text((W - pen.width(title, 58)) / 2, 250, title, 58, bold=True)
    y = 360
    for k, v in _fields(form)[1:]:
        label = f"{k}："
        lw = pen.width(label)
        pen.text(MARGIN, y, label)
        pen.text(MARGIN + lw + 10, y - 4, v, hand=True)
        pen.draw.line((MARGIN + lw, y + pen.size + 10, W - MARGIN, y + pen.size + 10), fill=80, width=1)
        y += int(pen.size * 1.9)
    return y + 30


def _memo(pen: Pen, form: Form) -> int:
    pen.text((W - pen.width(form.title, 60)) / 2, 100, form.title, 60, bold=True)
    y = 220
    pen.text(MARGIN, y, f"致：{form.supplier}")
    pen.text(W - MARGIN - pen.width(f"编号：{form.order_no}"), y, f"编号：{form.order_no}")
    y += int(pen.size * 1.8)
    pen.text(MARGIN, y, f"我司（{form.buyer}）需订购以下货物，请按下列要求送货：")
    return y + int(pen.size * 2.2)


def _requirements(pen: Pen, form: Form, y: int) -> int:
    """The 送货要求 block below a memo's table: numbered lines."""
    pen.text(MARGIN, y, "送货要求：", bold=True)
    y += int(pen.size * 1.7)
    person = f"收货人：{form.contact}  电话：{form.phone_written}"
    lines = [f"{form.delivery_label}：{form.delivery_written}", f"送货地址：{form.address_written}", person]
    if form.buyer_person:
        lines.append(f"采购对接：{form.buyer_person[0]} {form.buyer_person[1]}")
    if form.note:
        lines.append(form.note)
    for n, ln in enumerate(lines, 1):
        pen.text(MARGIN + 20, y, f"{n}. {ln}")
        y += int(pen.size * 1.7)
    return y


def render(form: Form, layout: str, style: str, rng: random.Random) -> Image.Image:
    """The clean page (grayscale) of one form."""
    img = Image.new("L", (W, H), 255)
    pen = Pen(img, rng, rng.choice(PRINTED), rng.choice(HANDWRITTEN), rng.choice([34, 36, 38, 40]))
    y = {"boxed": _boxed, "letter": _letter, "memo": _memo}[layout](pen, form)
    y = draw_table(pen, form, y, style)
    if layout == "memo":
        y = _requirements(pen, form, y + 10)
    elif form.note:
        pen.text(MARGIN, y, "备注：")
        pen.text(MARGIN + pen.width("备注："), y, form.note, hand=layout == "letter")
        y += int(pen.size * 1.8)
    y = max(y + 40, H - 330)
    pen.text(MARGIN, y, "制单：")
    pen.text(MARGIN + 700, y, "审核：")
    pen.text(MARGIN, y + 80, "供应商确认（盖章）：")
    if rng.random() < 0.5:                       # a round stamp, drawn faint over the signature area
        cx, cy, r = W - 380, y + 40, 120
        stamp = Image.new("L", (W, H), 255)
        sd = ImageDraw.Draw(stamp)
        sd.ellipse((cx - r, cy - r, cx + r, cy + r), outline=150, width=7)
        sd.text((cx - 60, cy - 24), "★", font=font(BOLD, 48), fill=150)
        sd.text((cx - 70, cy + 40), "采购专用章", font=font(BOLD, 28), fill=150)
        img = ImageChops.darker(img, stamp)
    return img
