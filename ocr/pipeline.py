"""Image → Draft: load (guarded), prepare, OCR, lay out, then let nlp/ read it.

The layout turns the page back into text nlp already understands: one line per table
row ("外六角螺栓 M6×20 304不锈钢 5000个", price and row-number columns left out) and
one "label：value" line per recognised field, decoys (传真, 下单日期, 订单编号)
dropped. Each item's confidence is nlp's times the OCR score of the cells it was read
from; fields get the OCR score of their value. Anything below the confirmation
threshold is listed in `to_confirm` for the customer or rep to check; anything read
too poorly to use (below REJECT_BELOW) is left empty and so asked for, never guessed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from nlp import Catalog, Draft, Item, extract_draft

from .engine import OcrEngine, TextBox, get_engine
from .layout import FormLayout, TableRow, analyse
from .loading import decode, read_bytes
from .preprocess import Prepared, prepare
from .repair import repair_text
from .settings import OcrSettings, get_ocr_settings

REJECT_BELOW = 0.5
FIELD_ORDER = ("company", "contact", "contact_phone", "phone", "address", "delivery", "remarks")
FIELD_LINE_LABEL = {"company": "客户", "contact": "联系人", "contact_phone": "联系人", "phone": "电话",
                    "address": "收货地址", "delivery": "交货日期", "remarks": "备注"}
# Titles the recogniser sometimes gets one stroke wrong.
_TITLE_FIXES = {"女上": "女士", "女土": "女士", "先牛": "先生", "经埋": "经理", "姆": "姐", "始": "姐"}
DRAFT_FIELD = {"company": "company", "contact": "contact", "phone": "phone", "address": "address",
               "delivery": "delivery_date"}
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
# "5,000" read as "5.000": a whole count, unless the unit is a weight or a length.
_DOTTED_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?=\D*$)")
_MEASURED = re.compile(r"千克|公斤|kg|KG|吨|米|m\b")
# A phone number with a stray dot or a letter for a digit: "159.37224711", "l39 O574 1234".
_PHONE_NOISE = re.compile(r"(?<=[\dOolI|])[.·,，_]+(?=[\dOolI|])")   # keep spaces and hyphens
_PHONE_LETTERS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
# A list number the recogniser glued to the product ("1、" read as "11六角螺母…").
_LIST_NUMBER = re.compile(r"^\s*\d{1,2}\s*[、.．)）,，]?\s*(?=[\u4e00-\u9fff])(?![个只件套片颗粒箱盒包袋])")
_PART_NUMBER_SPACED = re.compile(r"^(?!M\d|ST\d)[0-9A-Z]+(?:\s+[0-9A-Z]+)+$")
# A date whose separators the fax ate: "2026 08 05", "2026_8_5".
_BARE_DATE = re.compile(r"(?<!\d)(20\d{2})[\s._\-/~·,，]+(\d{1,2})[\s._\-/~·,，]+(\d{1,2})(?!\d)")
_NAME = re.compile(r"^[\u4e00-\u9fff]{1,5}$")
# OCR drops the space in "M6×20 304不锈钢" → "M6×20304不锈钢": put it back where a known
# grade ends the digit run (lazy length, so M10×100304 → M10×100 304).
_GLUED_GRADE = re.compile(r"((?:[×xX*]\d+?)|(?<![A-Za-z])M\d{1,2}?)(304|316|201|8\.8|10\.9|12\.9|4\.8)"
                          r"(?=级|不锈钢|\s|$|[\u4e00-\u9fff])")


# ...and in a typed list the quantity follows too: "法兰螺母M63041500个" → M6 304 1500个.
_GLUED_GRADE_QTY = re.compile(r"((?:[×xX*]\d+?)|(?<![A-Za-z])M\d{1,2}?)(304|316|201)(\d+)"
                              r"(?=\s?(?:个|只|件|套|片|颗|粒|箱|盒|包|pcs|PCS))")


def unglue(text: str) -> str:
    text = _GLUED_GRADE_QTY.sub(r"\1 \2 \3", text)
    return _GLUED_GRADE.sub(r"\1 \2", text)


@dataclass
class OcrDraft(Draft):
    """A Draft read from an image, with how sure the reading is, field by field."""

    field_confidence: dict[str, float] = field(default_factory=dict)
    to_confirm: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["source"] = "ocr"
        d["field_confidence"] = dict(self.field_confidence)
        d["to_confirm"] = list(self.to_confirm)
        return d


@dataclass
class FormReading:
    """Everything the OCR path saw, for the draft, the bench and debugging."""

    boxes: list[TextBox]
    layout: FormLayout
    prepared: Prepared
    seconds: dict[str, float]
    turned: int = 0          # degrees the page was turned after a first reading (no EXIF)


def _quality(boxes: list[TextBox]) -> float:
    return sum(b.score * len(b.text) for b in boxes if b.score >= 0.6)


def upright(engine: OcrEngine, image: np.ndarray,
            boxes: list[TextBox]) -> tuple[list[TextBox], np.ndarray, int]:
    """Turn a page photographed sideways or upside down (and not said so in EXIF).

    Sideways text shows as tall boxes; the recogniser turns tall crops a quarter
    anticlockwise, so if they still read well the page was turned clockwise. Upside-down
    text reads badly everywhere; then the page is read once more turned round and the
    better reading kept. Upright pages with normal scores cost nothing extra.
    """
    if len(boxes) < 4:
        return boxes, image, 0
    scores = statistics.median(b.score for b in boxes)
    wordy = [b for b in boxes if len(b.text) >= 2] or boxes     # a lone "1" is always tall
    tall = sum(b.bottom - b.top > 1.5 * (b.right - b.left) for b in wordy) / len(wordy)
    if tall > 0.6:
        turn = cv2.ROTATE_90_COUNTERCLOCKWISE if scores >= 0.8 else cv2.ROTATE_90_CLOCKWISE
        turned = cv2.rotate(image, turn)
        return engine.read(turned), turned, (-90 if scores >= 0.8 else 90)
    if scores < 0.75:
        turned = cv2.rotate(image, cv2.ROTATE_180)
        again = engine.read(turned)
        if _quality(again) > 1.5 * _quality(boxes):
            return again, turned, 180
    return boxes, image, 0


def read_form(source: str | os.PathLike | bytes, *, settings: OcrSettings | None = None,
              engine: OcrEngine | None = None) -> FormReading:
    """Load, prepare, recognise and lay out one page (raises ImageRejected on bad input)."""
    settings = settings or get_ocr_settings()
    engine = engine or get_engine(settings)
    t0 = time.perf_counter()
    gray = decode(read_bytes(source, settings.max_bytes), settings.max_pixels)
    prepared = prepare(gray)
    t1 = time.perf_counter()
    boxes = engine.read(prepared.image)
    boxes, _, turned = upright(engine, prepared.image, boxes)
    t2 = time.perf_counter()
    layout = analyse(boxes)
    t3 = time.perf_counter()
    return FormReading(boxes, layout, prepared,
                       {"prepare": t1 - t0, "ocr": t2 - t1, "layout": t3 - t2}, turned)


def row_line(row: TableRow) -> str:
    """One table row as the chat-style line nlp reads: product words, then quantity+unit."""
    name, spec, material = row.text("name"), row.text("spec"), row.text("material")
    if _PART_NUMBER_SPACED.match(spec) and re.search(r"[A-Z]", spec):
        spec = re.sub(r"\s+", "-", spec)          # 15400 RTA 003: the fax lost the hyphens
    parts = [name]
    if spec and spec.replace(" ", "") not in name.replace(" ", ""):
        parts.append(spec)
    if material and material.replace(" ", "") not in name.replace(" ", ""):
        parts.append(material)
    qty = _plain_quantity(row)
    unit = row.text("unit").replace(" ", "")
    if qty and unit and unit in qty:
        unit = ""
    if qty and not unit and row.unit_hint and not re.search(r"[^\d.]$", qty):
        unit = row.unit_hint
    parts.append(qty + unit)
    return unglue(repair_text(" ".join(p for p in parts if p)))


def _plain_quantity(row: TableRow) -> str:
    qty = _THOUSANDS.sub("", row.text("qty").replace(" ", ""))
    if _DOTTED_THOUSANDS.match(qty) and not _MEASURED.search(qty + row.text("unit")):
        qty = qty.replace(".", "")
    return qty


def clean_phone(value: str) -> str:
    """Digits of a phone as written, the recogniser's stray dots and letter-digits undone."""
    digits = _PHONE_NOISE.sub("", value)
    return re.sub(r"[\dOolI|][\dOolI| -]{6,}", lambda m: m.group(0).translate(_PHONE_LETTERS),
                  digits)


def free_line(text: str) -> str:
    """A line outside any table, ready for nlp: list number dropped, habits repaired."""
    line = unglue(repair_text(text.replace("\u3000", " ")))
    if re.search(r"\d", _LIST_NUMBER.sub("", line)):
        line = _LIST_NUMBER.sub("", line)
    return line


def _row_score(row: TableRow) -> float:
    scores = [c.score for role, c in row.cells.items()
              if role in ("name", "spec", "material", "qty", "unit") and c.text]
    return min(scores) if scores else 0.0


def _cell_quantity(row: TableRow) -> float | None:
    m = re.match(r"^\d+(?:\.\d+)?", _plain_quantity(row))
    if not m:
        return None
    value = float(m.group(0))
    return int(value) if value.is_integer() else value


def _items(layout: FormLayout, today: dt.date, catalog: Catalog) -> list[Item]:
    """One item per table row: nlp picks the product, the quantity column the number."""
    items: list[Item] = []
    for row in layout.table:
        line = row_line(row)
        if not line:
            continue
        ocr = _row_score(row)
        qty = _cell_quantity(row)
        found = extract_draft(line, today, catalog).items
        if not found:
            items.append(Item(sku=None, name=None, raw=line, quantity=qty, unit=None,
                              confidence=round(0.3 * ocr, 3)))
            continue
        # A number inside a product name (O型圈组合盒 386件) can make nlp see two lines.
        same = [it for it in found if qty is not None and it.quantity == qty]
        it = same[0] if same else max(found, key=lambda i: (i.sku is not None, i.confidence))
        if qty is not None and it.quantity != qty:
            it.quantity = qty
        it.raw = line
        it.confidence = round(float(it.confidence) * ocr, 3)
        items.append(it)
    return items


def _field_text(layout: FormLayout, extra_remarks: list[str]) -> str:
    lines = []
    for key in FIELD_ORDER:
        f = layout.fields.get(key)
        if f is not None and f.score >= REJECT_BELOW:
            value = repair_text(f.value) if key == "address" else f.value
            if key in ("phone", "contact_phone"):
                value = clean_phone(value)
            if key == "delivery":
                value = _BARE_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", value)
            lines.append(f"{FIELD_LINE_LABEL[key]}：{value}")
    if extra_remarks:
        lines.append("备注：" + "；".join(extra_remarks))
    return "\n".join(lines)


def draft_from_layout(layout: FormLayout, *, today: dt.date, catalog: Catalog,
                      confirm_below: float = 0.85) -> OcrDraft:
    """Turn a laid-out page into a Draft through nlp, with per-field confidence."""
    row_remarks = [r.text("remark") for r in layout.table if r.text("remark")]
    free_text = "\n".join(free_line(r.text) for r in layout.free_rows)
    if layout.table:
        items = _items(layout, today, catalog)
    else:   # no table header found: read the free text the way a chat message is read
        items = extract_draft(free_text, today, catalog).items
        for it in items:
            it.confidence = round(float(it.confidence) * 0.9, 3)
    fields_draft = extract_draft(_field_text(layout, row_remarks), today, catalog)
    draft = OcrDraft(
        items=items,
        contact=fields_draft.contact,
        company=fields_draft.company,
        phone=fields_draft.phone,
        address=fields_draft.address,
        delivery_date=fields_draft.delivery_date,
        rush=fields_draft.rush,
        remarks=fields_draft.remarks,
    )
    fields = layout.fields
    contact = fields.get("contact")
    if contact and _NAME.match(contact.value.replace(" ", "")):
        draft.contact = contact.value.replace(" ", "")       # the name as written, with title
    if draft.contact:
        for wrong, right in _TITLE_FIXES.items():
            if draft.contact.endswith(wrong):
                draft.contact = draft.contact[: -len(wrong)] + right
    company = fields.get("company")
    if company and company.score >= REJECT_BELOW and len(company.value) >= 2:
        draft.company = company.value.replace(" ", "")
    # What the labelled fields did not give, unlabelled text may (never a date: too many decoys).
    if free_text and not (draft.phone and draft.address and draft.contact):
        loose = extract_draft(free_text, today, catalog)
        draft.phone = draft.phone or loose.phone
        draft.address = draft.address or loose.address
        draft.contact = draft.contact or loose.contact
    _score_fields(draft, layout, confirm_below)
    return draft


def _score_fields(draft: OcrDraft, layout: FormLayout, confirm_below: float) -> None:
    for key, attr in DRAFT_FIELD.items():
        value = getattr(draft, attr)
        if value is None:
            continue
        f = layout.fields.get(key)
        if f is None and attr in ("contact", "phone"):
            f = layout.fields.get("contact_phone")
        score = round(f.score, 3) if f else 0.6          # found outside a labelled field
        draft.field_confidence[attr] = score
        if score < confirm_below:
            shown = value.to_dict() if hasattr(value, "to_dict") else value
            draft.to_confirm.append({"field": attr, "value": shown, "confidence": score})
    for i, it in enumerate(draft.items):
        if it.confidence < confirm_below:
            draft.to_confirm.append({"field": f"items[{i}]", "value": it.raw,
                                     "confidence": it.confidence})


def draft_from_image(path_or_bytes: str | os.PathLike | bytes, *, today: dt.date,
                     catalog: Catalog, settings: OcrSettings | None = None,
                     engine: OcrEngine | None = None) -> OcrDraft:
    """The order draft on a photo, scan or fax (what `orderbot extract` calls for "image").

    Raises ocr.errors.ImageRejected for inputs it refuses (too big, bombs, non-images,
    truncated files); everything else yields a draft, possibly empty with `missing` set.
    """
    settings = settings or get_ocr_settings()
    reading = read_form(path_or_bytes, settings=settings, engine=engine)
    return draft_from_layout(reading.layout, today=today, catalog=catalog,
                             confirm_below=settings.confirm_below)
