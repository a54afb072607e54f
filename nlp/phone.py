"""Phone numbers: mobiles written with spaces, dashes, +86 or read aloud (幺三八…),
landlines with an area code; when several are given, the receiver's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import spoken_digits_to_arabic

_MOBILE = re.compile(r"(?<![\d])(?:(?:\+|00)?86[\s-]*)?(1[3-9]\d(?:[\s.-]?\d){8})(?![\d])")
_LANDLINE = re.compile(
    r"(?<![\d])(?:\(|（)?(0\d{2,3})(?:\)|）)?[\s-]*([2-9]\d{3}[\s-]?\d{3,4})(?:[\s-]*(?:转|ext\.?|-)\s*\d{1,5})?(?![\d])"
)
_RECEIVER = re.compile(r"收货人|收件人|联系人|收货|联系|找")
_MOBILE_LABEL = re.compile(r"手机|mobile|Mobile|tel|Tel|TEL|电话|☎|📞")
_NOT_RECEIVER = re.compile(r"传真|fax|Fax|FAX|公司电话|座机|发货人|寄件人|订单号|单号|发票")


# A waybill line starting 收： / 寄： (the short labels on printed waybills) counts too.
_ROLE = re.compile(
    r"(收货人|收件人|收货方|收件方|收货信息|收件信息|(?<![^\n])\s*(?:收|收件|收货)[:：])"
    r"|(发货人|寄件人|发件人|发货方|寄件方|发件方|寄件信息|发件信息|发货信息|(?<![^\n])\s*(?:寄|发|寄件|发件|发货)[:：])"
)


def role_before(text: str, pos: int) -> str | None:
    """Whose block `pos` is in on a waybill: the last 收件人/寄件人 style marker before it."""
    last = None
    for m in _ROLE.finditer(text, 0, pos):
        last = "receiver" if m.group(1) else "sender"
    return last


@dataclass(frozen=True)
class PhoneHit:
    digits: str
    start: int
    end: int
    mobile: bool


def find_phones(text: str) -> list[PhoneHit]:
    """Every phone number in `text` (spoken digits converted first, same offsets)."""
    t = spoken_digits_to_arabic(text)
    hits: list[PhoneHit] = []
    for m in _MOBILE.finditer(t):
        hits.append(PhoneHit(re.sub(r"\D", "", m.group(1)), m.start(), m.end(), True))
    for m in _LANDLINE.finditer(t):
        if any(h.start <= m.start() < h.end or m.start() <= h.start < m.end() for h in hits):
            continue
        digits = m.group(1) + re.sub(r"\D", "", m.group(2))
        if 10 <= len(digits) <= 12:
            hits.append(PhoneHit(digits, m.start(), m.end(), False))
    # A mobile glued to the end of a house number (红旗路62-213264429666, c-713240214272).
    for m in _GLUED_MOBILE.finditer(t):
        s = m.start(1)
        if not any(h.start <= s < h.end or s <= h.start < m.end() for h in hits):
            hits.append(PhoneHit(m.group(1), s, m.end(1), True))
    hits.sort(key=lambda h: h.start)
    return hits


_GLUED_MOBILE = re.compile(r"(?<=[-A-Za-z])\d{1,3}(1[3-9]\d{9})(?!\d)")


def pick_phone(text: str, hits: list[PhoneHit]) -> PhoneHit | None:
    """The receiver's number: one after a 收货人 marker beats one labelled 手机, which
    beats any mobile, which beats a landline; numbers labelled 传真/发货人 lose."""
    best, best_score = None, -99.0
    for h in hits:
        before = text[max(0, h.start - 14) : h.start]
        line_start = text.rfind("\n", 0, h.start) + 1
        clause = text[line_start : h.start]
        score = 0.0
        if _RECEIVER.search(clause):
            score += 3
        if _MOBILE_LABEL.search(before[-6:]):
            score += 1 if h.mobile else 0.5
        if "手机" in before[-6:]:
            score += 1
        if h.mobile:
            score += 1
        role = role_before(text, h.start)
        if role == "sender" or _NOT_RECEIVER.search(before):
            score -= 5
        elif role == "receiver":
            score += 2
        if score > best_score:
            best, best_score = h, score
    return best
