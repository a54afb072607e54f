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
import time
from dataclasses import dataclass, field, replace
from typing import Any

from nlp import Catalog, Draft, Item, extract_draft
from nlp.fields import is_rush

from .engine import OcrEngine, TextBox, get_engine
from .layout import Field, FormLayout, analyse
from .lines import cell_quantity, field_text, row_line, row_score
from .loading import decode, read_bytes
from .orientation import upright
from .preprocess import Prepared, prepare
from .repair import fix_title, free_line
from .settings import OcrSettings, get_ocr_settings
from .vocab import catalog_vocab

REJECT_BELOW = 0.5
DRAFT_FIELD = {"company": "company", "contact": "contact", "phone": "phone", "address": "address",
               "delivery": "delivery_date"}
_NAME = re.compile(r"^[\u4e00-\u9fff]{1,5}$")


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


def _items(layout: FormLayout, today: dt.date, catalog: Catalog) -> list[Item]:
    """One item per table row: nlp picks the product, the quantity column the number."""
    items: list[Item] = []
    vocab = catalog_vocab(catalog)
    for row in layout.table:
        line = vocab.repair(row_line(row))
        if not line:
            continue
        ocr = row_score(row)
        qty = cell_quantity(row)
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


def draft_from_layout(layout: FormLayout, *, today: dt.date, catalog: Catalog,
                      confirm_below: float = 0.85) -> OcrDraft:
    """Turn a laid-out page into a Draft through nlp, with per-field confidence."""
    row_remarks = [r.text("remark") for r in layout.table if r.text("remark")]
    row_dates = [c for r in layout.table if (c := r.cells.get("date")) and c.text]
    if row_dates and "delivery" not in layout.fields:    # a 交期 column instead of a field
        worst = min(c.score for c in row_dates)
        layout = replace(layout, fields={**layout.fields,
                                         "delivery": Field("delivery", "交期", row_dates[0].text, worst)})
    free_text = "\n".join(free_line(r.text) for r in layout.free_rows)
    if layout.table:
        items = _items(layout, today, catalog)
    else:   # no table header found: read the free text the way a chat message is read
        items = extract_draft(catalog_vocab(catalog).repair(free_text), today, catalog).items
        for it in items:
            it.confidence = round(float(it.confidence) * 0.9, 3)
    fields_draft = extract_draft(field_text(layout, row_remarks, REJECT_BELOW), today, catalog)
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
    draft.delivery_date = plausible_year(draft.delivery_date, today)
    # A rush marker is often a line of its own (a numbered 送货要求 line, a title 【加急】).
    if not draft.rush and free_text and is_rush(free_text):
        draft.rush = True
    fields = layout.fields
    contact = fields.get("contact")
    written = fix_title(contact.value.replace(" ", "")) if contact else ""
    if _NAME.match(written):
        draft.contact = written                              # the name as written, with title
    if draft.contact:
        draft.contact = fix_title(draft.contact)
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


def plausible_year(date: str | None, today: dt.date) -> str | None:
    """2036-07-18 on an order received 2026-07-02 is a misread 2: a year one digit away from
    this year or the next, that brings the date within a year of `today`, is taken instead."""
    if not date:
        return date
    try:
        d = dt.date.fromisoformat(date)
    except ValueError:
        return date
    if -30 <= (d - today).days <= 366:
        return date
    for year in (today.year, today.year + 1):
        if sum(a != b for a, b in zip(str(year), str(d.year), strict=True)) != 1:
            continue
        try:
            fixed = d.replace(year=year)
        except ValueError:             # 29 February
            continue
        if -30 <= (fixed - today).days <= 366:
            return fixed.isoformat()
    return date


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
