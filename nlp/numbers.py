"""Quantities as people type them: 5000, 五千, 两千五, 1.5万, 2w, 1千2, 一箱半.

Numerals go through cn2an (smart mode handles mixed forms such as 1.5万 and 1千2);
this module only splits the number from its unit and maps shorthand (w, k) first.
"""

from __future__ import annotations

import re

import cn2an

CN_DIGITS = "零〇一二两三四五六七八九"
CN_MAGNITUDES = "十百千万亿"
CN_NUM_CHARS = CN_DIGITS + CN_MAGNITUDES

# One number: Arabic (with optional decimals / thousands commas) or Chinese, optionally
# followed by a magnitude (万, 千, w, k) and trailing Chinese digits (1千2, 2万5).
NUMBER_RE = (
    r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?[万千百wWkK](?:[一二两三四五六七八九\d](?![\d.]))?)?"
    rf"|[{CN_NUM_CHARS}]+"
)

_SHORTHAND = {"w": "万", "W": "万", "k": "千", "K": "千"}


def parse_number(text: str) -> float | None:
    """The value of one numeral written any usual way, or None if it is not one."""
    s = text.strip().replace(",", "").replace(" ", "")
    if not s:
        return None
    for k, v in _SHORTHAND.items():
        s = s.replace(k, v)
    s = s.replace("〇", "零")
    half = 0.0
    if s.endswith("半") and len(s) > 1:
        s, half = s[:-1], 0.5
    elif s == "半":
        return 0.5
    try:
        value = float(s)
    except ValueError:
        try:
            value = float(cn2an.cn2an(s, "smart"))
        except (ValueError, KeyError, IndexError, TypeError):
            return None
    return value + half


def as_number(value: float) -> int | float:
    """Integral floats become ints so JSON shows 5000, not 5000.0."""
    return int(value) if float(value).is_integer() else round(value, 3)


def spoken_digits_to_arabic(text: str, min_len: int = 7) -> str:
    """Runs of spoken digits (幺三八 一二三四 五六七八) become Arabic digits.

    Only runs of at least `min_len` digit characters are touched, so 一千 or 五一前
    are left alone: phone numbers read aloud are long."""
    table = str.maketrans("零〇幺一二两三四五六七八九洞", "00112234567890")

    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        digits = re.sub(r"[\s-]", "", run)
        if len(digits) < min_len or re.search(r"1[3-9]\d{9}", digits):
            return run  # 廖四九13011805655: a name's numerals glued to a written phone
        return run.translate(table)

    return re.sub(r"[零〇幺一二两三四五六七八九洞](?:[\s-]?[零〇幺一二两三四五六七八九洞\d]){6,}", repl, text)
