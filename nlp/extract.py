"""Text (+ the day it arrived) → Draft. Pure: no I/O beyond the catalog object."""

from __future__ import annotations

import datetime as dt
import re

from . import intent
from .address import find_address
from .areacodes import city_of_landline
from .catalog import Catalog
from .chatlog import chat_spans
from .corrections import apply_corrections
from .dates import find_dates, pick_date
from .draft import Draft
from .fields import find_company, find_contact, find_remarks, is_rush
from .items import read_items
from .phone import find_phones, pick_phone
from .tables import flatten_tables
from .text import as_written, normalize
from .waybill import glued_name

# Lines of a pasted chat log: "张三 2026-03-05 10:23" or "[10:23] 张三:".
_CHAT_HEADER = re.compile(
    r"(?m)^[^\n]{0,24}?\s*\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?\s+\d{1,2}:\d{2}(?::\d{2})?\s*$|^\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s*"
)


def extract_draft(text: str, today: dt.date, catalog: Catalog) -> Draft:
    """Read one message. Relative dates resolve against `today` (the arrival date)."""
    t = normalize(flatten_tables((text or "").replace("｜", "|").replace("\r\n", "\n")))
    # Speaker lines, quotes and earlier days' messages go first: a correction below a quote
    # (6305ZZ先不要了) must not rewrite the quote into something that reads as this message.
    t = _blank_spans(t, chat_spans(t, today))
    t = apply_corrections(t, catalog)  # 先要500个 不对 要900个: only the corrected line stays
    t = _drop_replaced_address(t)  # 地址发错了 是…: only the new address stays
    blanks: list[tuple[int, int]] = [(m.start(), m.end()) for m in _CHAT_HEADER.finditer(t)]
    t_for_dates = _blank_spans(t, blanks)

    phones = find_phones(t)
    phone = pick_phone(t, phones)
    blanks += [(h.start, h.end) for h in phones]

    addr = find_address(t, hints=tuple(c for h in phones if not h.mobile and (c := city_of_landline(h.digits))))
    if addr:
        blanks.append((addr.start, addr.end))

    if addr and addr.address.detail:
        addr.address.detail = as_written(addr.address.detail, text)
    date_hits = find_dates(_blank_spans(t_for_dates, [(addr.start, addr.end)] if addr else []), today)
    date = pick_date(t, date_hits)
    blanks += [(h.start, h.end) for h in date_hits]

    items = _dedupe(read_items(t, catalog, blanks))
    not_order = intent.kind(t)
    if not_order:
        # A price inquiry, a complaint or a parcel question names products and places
        # without ordering: 运费到杭州 is where a price goes, not a delivery address.
        items, addr, date = [], None, None

    contact = find_contact(t, phone.start if phone else None, phone.end if phone else None)
    if contact and len(contact) > 2:
        contact = re.sub(r"(?:\(收\)|收)$", "", contact)  # 刘洋收: the name, not the marker
    # A waybill line: name, phone and address glued together in any order. Its name wins
    # over a guess that is part of it (招生 in 奚招生) or part of the address (小区).
    weak = not contact or contact in (addr.address.raw if addr else "")
    glued, trimmed = glued_name(t, addr, phones, tail=weak)
    if glued and (weak or contact in glued):
        contact = glued
        if trimmed and addr:
            addr.address.detail = as_written(trimmed, text)
    return Draft(
        items=items,
        contact=as_written(contact, text),
        company=find_company(t),
        phone=phone.digits if phone else None,
        address=addr.address if addr else None,
        delivery_date=date.date.isoformat() if date else None,
        rush=not not_order and (is_rush(t) or bool(date and date.same_day_demand)),
        remarks=find_remarks(t),
    )


# The customer takes an address back: 地址发错了 / 地址写错了 / 地址改了 / 换个地址 / 改送到.
_ADDRESS_FIX = re.compile(
    r"(?:收货|送货)?地址(?:[发写填给打弄搞记]|说)?错了|地址(?:有)?(?:改|变)(?:了|一下)|(?:换|改)(?:个|一个|一下)地址"
    r"|改(?:送|发|寄)(?:到|去|往|至)|地址(?:改|换)(?:成|为|到)|不(?:送|发)(?:那里|那边|这个地址)了"
)


def _drop_replaced_address(t: str) -> str:
    """Blank the address given before an address correction, and the cue itself, so the
    address after the cue is the one read. Without an address after the cue nothing changes."""
    cues = list(_ADDRESS_FIX.finditer(t))
    if not cues:
        return t
    m = cues[-1]
    old = find_address(t[: m.start()])
    new = find_address(t[m.end() :])
    if not old or not new or not (new.address.district or new.address.city or new.address.detail):
        return t
    return _blank_spans(t, [(old.start, min(old.end, m.start())), (m.start(), m.end())])


def _dedupe(items):
    """A line repeated word for word (a pasted chat log where the seller echoes the
    order back) is one line, not two."""
    seen: set[tuple] = set()
    out = []
    for it in items:
        key = (it.sku, it.quantity, it.unit)
        if it.sku and key in seen:
            continue
        seen.add(key)
        out.append(it)
    return out


def _blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for s, e in spans:
        for i in range(max(0, s), min(len(chars), e)):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)
