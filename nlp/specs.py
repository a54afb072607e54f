"""Product specifications written any way, reduced to one canonical key.

M6*20, M6x20, M6×20, 6*20, m6 30长, M8*1.25*30 (pitch dropped), ST4.2×16, 4.8*12 → "6x20"
style dimension keys; 6201-2RS, 6201 2rs, 6204zz → bearing keys "6201-2RS"; part
numbers such as 90915-YZZE1 → "90915YZZE1". The catalog and the messages go through
the same functions, so a spec written any of these ways meets the catalog's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"\d+(?:\.\d+)?"
_CNUM = r"(?:\d+(?:\.\d+)?|[零一二两三四五六七八九十百]+)"  # never both: M5*12一千个
_SEP = r"\s*[*xX×✕乘]\s*"
_TIGHT_SEP = r"[*xX×✕]"

# Thread with pitch: M8*1.25*30 → 8x30.
_PITCHED = re.compile(rf"(?<![A-Za-z\d.])[Mm]\s?({_NUM}){_SEP}(\d\.\d+){_SEP}({_NUM})(?![\d.])")
# Prefixed: M6*20, ST4.2x16, M6 30长, M6（no length), M六乘二十 (spoken).
_PREFIXED = re.compile(
    rf"(?<![A-Za-z\d.])(?:[Mm]|ST|st|St|[ΦφØø])\s?({_CNUM})"
    rf"(?:(?:{_SEP}|\s*的\s*|\s+)({_CNUM})(?=\s*(?:长|mm|MM|毫米))\s*(?:长|mm|MM|毫米)?|{_SEP}({_CNUM}))?"
    rf"(?![\d.A-Za-z])"
)
# Unprefixed dims need a tight separator: 4*10, 20*2.4 (but not "1.5 ×20", a quantity).
_PLAIN = re.compile(rf"(?<![A-Za-z\d.\-])({_NUM}){_TIGHT_SEP}({_NUM})(?![\d.])(?!\s*[*xX×]\s*\d)")
# Dimensions read aloud: 四乘十二, 5.5乘二十五 (乘 only ever joins dimensions).
_SPOKEN = re.compile(rf"(?<![A-Za-z\d.零一二两三四五六七八九十])({_CNUM})\s*乘\s*({_CNUM})(?![\d.])")
# Deep-groove ball bearings: 608, 6201, 16005 with an optional seal code.
_BEARING = re.compile(
    r"(?<![A-Za-z\d.\-])((?:16|6)\d{2,3})(?:\s*[-_]?\s*(2RS1|2RSH|2RS|2RZ|RS|2Z|ZZ|Z)(?![A-Za-z]))?(?![\d.])"
    r"(?!\s*(?:个|只|件|套|箱|盒|包|片|颗|粒|pcs|PCS|万|千|w|W|k|K|米|条|根|支))",
    re.IGNORECASE,
)
# Part numbers: letters and digits (dashes allowed), at least one digit and 6+ chars.
_CODE = re.compile(r"(?<![A-Za-z\d])([A-Za-z\d]+(?:-[A-Za-z\d]+)*)(?![A-Za-z\d])")

_COUNT_TOKEN = re.compile(r"^\d+(?:pcs|pc|sets?|pairs?|boxes|box|ctns?|cartons?|rolls?|kgs?)$", re.IGNORECASE)
_SEAL_CANON = {"2RS1": "2RS", "2RSH": "2RS", "2Z": "ZZ"}


@dataclass(frozen=True)
class SpecHit:
    """One spec found in text: its canonical key, its kind and where it was written."""

    key: str
    kind: str  # "dims", "bearing", "code"
    start: int
    end: int
    base: str = ""  # bearing number without its seal code


def _fmt(value: str) -> str | None:
    from .numbers import parse_number

    v = parse_number(value)
    if v is None or v <= 0:
        return None
    return str(int(v)) if float(v).is_integer() else str(round(v, 3))


def dims_key(*parts: str) -> str | None:
    """"6", "20" → "6x20"; every part must be a number."""
    out = [_fmt(p) for p in parts if p]
    if not out or any(o is None for o in out):
        return None
    return "x".join(out)  # type: ignore[arg-type]


def code_key(token: str) -> str:
    return re.sub(r"[^A-Za-z\d]", "", token).upper()


def find_specs(text: str, with_codes: bool = True) -> list[SpecHit]:
    """Every spec in `text`, left to right, without overlaps (first pattern wins)."""
    hits: list[SpecHit] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(hit: SpecHit | None) -> None:
        if hit and free(hit.start, hit.end):
            hits.append(hit)
            taken.append((hit.start, hit.end))

    for m in _PITCHED.finditer(text):
        key = dims_key(m.group(1), m.group(3))
        add(key and SpecHit(key, "dims", m.start(), m.end()))
    for m in _PREFIXED.finditer(text):
        key = dims_key(m.group(1), m.group(2) or m.group(3) or "")
        add(key and SpecHit(key, "dims", m.start(), m.end()))
    for m in _PLAIN.finditer(text):
        key = dims_key(m.group(1), m.group(2))
        add(key and SpecHit(key, "dims", m.start(), m.end()))
    for m in _SPOKEN.finditer(text):
        key = dims_key(m.group(1), m.group(2))
        add(key and SpecHit(key, "dims", m.start(), m.end()))
    for m in _BEARING.finditer(text):
        base, seal = m.group(1), (m.group(2) or "").upper()
        seal = _SEAL_CANON.get(seal, seal)
        key = f"{base}-{seal}" if seal else base
        add(SpecHit(key, "bearing", m.start(), m.end(), base=base))
    if with_codes:
        for m in _CODE.finditer(text):
            tok = m.group(1)
            if _COUNT_TOKEN.match(tok):
                continue  # 300pcs is a count, not a part number
            if len(code_key(tok)) >= 6 and re.search(r"\d", tok) and re.search(r"[A-Za-z-]|\d{8,}", tok):
                add(SpecHit(code_key(tok), "code", m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits


def catalog_spec_keys(spec: str) -> list[SpecHit]:
    """Keys for a catalog `spec` cell (same parser, so both sides agree)."""
    return find_specs(spec)
