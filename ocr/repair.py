"""Undo the recogniser's habits before nlp reads the text. Pure string functions.

Each repair answers a confusion seen on our rendered faxes and photos, and is
unambiguous in this domain: a zero before 型 is the letter O (O型圈), 晴 in a rubber
name is 腈 (丁腈橡胶), 禹 after 番 is 禺 (番禺区); the space between a size and a grade
(M6×20 304) is often dropped; fax specks become stray dots in numbers; a fax can eat the
hyphens of a part number or the separators of a date.
"""

from __future__ import annotations

import re

_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\d.])0(?=型)"), "O"),
    (re.compile(r"丁晴"), "丁腈"),
    (re.compile(r"番禹"), "番禺"),
    (re.compile(r"(?<=\d)[xX](?=\d)"), "×"),
    (re.compile(r"(?<=\d)\s+(?=[×*]\d)|(?<=\d[×*])\s+(?=\d)"), ""),     # M8 ×30 → M8×30
)
# "M6×20304不锈钢" → "M6×20 304不锈钢": a known grade ends the digit run (lazy length,
# so M10×100304 → M10×100 304); in a typed list the quantity may follow as well.
_GRADE_AFTER = r"((?:[×xX*]\d+?)|(?<![A-Za-z])M\d{1,2}?)"
_GLUED_GRADE = re.compile(_GRADE_AFTER + r"(304|316|201|8\.8|10\.9|12\.9|4\.8)"
                          r"(?=级|不锈钢|\s|$|[\u4e00-\u9fff])")
_GLUED_GRADE_QTY = re.compile(_GRADE_AFTER + r"(304|316|201)(\d+)"
                              r"(?=\s?(?:个|只|件|套|片|颗|粒|箱|盒|包|pcs|PCS))")
_DOTTED_GRADE = re.compile(r"([×xX*]\d+)[.·,](304|316|201)(?=不锈钢|\s|$|[\u4e00-\u9fff])")
_GLUED_STEEL_QTY = re.compile(r"(GCr15|65Mn)(\d+)(?=\s?(?:个|只|件|套|片|颗|粒|箱|盒|包|pcs|PCS))")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_DOTTED_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?=\D*$)")       # 5,000 read as 5.000
_MEASURED = re.compile(r"千克|公斤|kg|KG|吨|米|m\b")
_PHONE_NOISE = re.compile(r"(?<=[\dOolI|])[.·,，_]+(?=[\dOolI|])")   # keeps spaces and hyphens
_PHONE_LETTERS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_LIST_NUMBER = re.compile(r"^\s*\d{1,2}\s*[、.．)）,，]?\s*(?=[\u4e00-\u9fff])(?![个只件套片颗粒箱盒包袋])")
_PART_NUMBER_SPACED = re.compile(r"^(?!M\d|ST\d)[0-9A-Z]+(?:\s+[0-9A-Z]+)+$")
_BARE_DATE = re.compile(r"(?<!\d)(20\d{2})[\s._\-/~·,，:：]+(\d{1,2})[\s._\-/~·,，:：]+(\d{1,2})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<![\dA-Za-z])(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
# A letter between digits of a date (2O26, l5日): only inside a run of digits and date words.
_DATE_LETTERS = re.compile(r"(?<=[\d年月/.\-])[OoIl|]+(?=[\d年月日号/.\-])|(?<!\w)[OoIl|](?=\d)|(?<=\d)[OoIl|](?=[日号]|$)")
# Titles the recogniser gets one stroke wrong.
_TITLE_FIXES = {"女上": "女士", "女土": "女士", "女十": "女士", "先牛": "先生", "经埋": "经理", "纶理": "经理",
                "师博": "师傅", "帅傅": "师傅", "姆": "姐", "始": "姐"}


def repair_text(text: str) -> str:
    for pattern, replacement in _FIXES:
        text = pattern.sub(replacement, text)
    return text


def unglue(text: str) -> str:
    """Put back the space between a size and its grade (and a typed quantity after it)."""
    text = _DOTTED_GRADE.sub(r"\1 \2", text)                 # ST5.5×25.304不锈钢: a speck
    text = _GLUED_GRADE_QTY.sub(r"\1 \2 \3", text)
    text = _GLUED_STEEL_QTY.sub(r"\1 \2", text)
    return _GLUED_GRADE.sub(r"\1 \2", text)


def plain_quantity(qty: str, unit: str = "") -> str:
    """A quantity cell without thousands separators ("5,000", or "5.000" for a count)."""
    qty = _THOUSANDS.sub("", qty.replace(" ", ""))
    if _DOTTED_THOUSANDS.match(qty) and not _MEASURED.search(qty + unit):
        qty = qty.replace(".", "")
    return qty


def part_number(spec: str) -> str:
    """"15400 RTA 003" → "15400-RTA-003": the fax lost the hyphens of a part number."""
    if _PART_NUMBER_SPACED.match(spec) and re.search(r"[A-Z]", spec):
        return re.sub(r"\s+", "-", spec)
    return spec


def clean_phone(value: str) -> str:
    """A phone as written, with the recogniser's stray dots and letter-digits undone."""
    digits = _PHONE_NOISE.sub("", value)
    bare = re.sub(r"\D", "", digits.translate(_PHONE_LETTERS))
    if len(bare) == 11 and bare.startswith("1"):          # a mobile: nothing but its digits
        return bare
    return re.sub(r"[\dOolI|][\dOolI| -]{6,}", lambda m: m.group(0).translate(_PHONE_LETTERS),
                  digits)


def clean_date(value: str) -> str:
    """"2026 08 05", "20260805", "2O26-O8-l5" → "2026-08-05": a date whose separators the fax
    ate or whose digits it read as letters."""
    value = _DATE_LETTERS.sub(lambda m: m.group(0).translate(_PHONE_LETTERS), value)
    value = _COMPACT_DATE.sub(lambda m: f"{m[1]}-{m[2]}-{m[3]}", value)
    return _BARE_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", value)


def fix_title(name: str) -> str:
    """张T. → 张工, 王女上 → 王女士: a title the recogniser got one stroke wrong."""
    name = re.sub(r"(?<=[\u4e00-\u9fff])T[.。,]?$", "工", name)
    for wrong, right in _TITLE_FIXES.items():
        if name.endswith(wrong):
            return name[: -len(wrong)] + right
    return name


def free_line(text: str) -> str:
    """A line outside any table, ready for nlp: list number dropped, habits repaired."""
    line = unglue(repair_text(text.replace("\u3000", " ")))
    if re.search(r"\d", _LIST_NUMBER.sub("", line)):
        line = _LIST_NUMBER.sub("", line)
    return line
