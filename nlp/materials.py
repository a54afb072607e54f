"""Materials and grades: the words people use, grouped into one class per material.

This is trade vocabulary (304 = 不锈钢 = SUS304; 镀锌 = 碳钢 = 铁; 8.8级), not a
catalog: a catalog's own material cells and aliases are added to it when the catalog
is loaded (see catalog.py), so a new material needs no code change.
"""

from __future__ import annotations

import re
from functools import lru_cache

# class → words. "不锈钢" alone means 304 in the trade (316 is always named).
MATERIAL_WORDS: dict[str, tuple[str, ...]] = {
    "304": ("304不锈钢", "SUS304", "SS304", "A2-70", "304", "不锈钢", "不锈", "白钢"),
    "316": ("316不锈钢", "SUS316", "SS316", "A4-70", "316L", "316"),
    "201": ("201不锈钢", "SUS201", "201"),
    "ZN": ("碳钢镀锌", "热镀锌", "冷镀锌", "电镀锌", "镀白锌", "镀蓝白锌", "热浸锌", "蓝锌", "镀锌", "白锌", "蓝白锌", "彩锌", "镀彩", "碳钢", "4.8级", "铁"),
    "8.8": ("8.8级", "8.8"),
    "10.9": ("10.9级", "10.9"),
    "12.9": ("12.9级", "12.9"),
    "AL": ("铝合金", "铝"),
    "NBR": ("丁腈橡胶", "丁腈", "NBR"),
    "FKM": ("氟橡胶", "氟胶", "氟素", "FKM", "VITON"),
    "CERAMIC": ("陶瓷",),
    "SEMIMETAL": ("半金属",),
    "BRASS": ("黄铜", "铜"),
    "BLACK": ("发黑", "黑色"),
    "DACRO": ("达克罗",),
}

# Numeric grades must not be read inside other numbers (M8*30 4..., 13048...).
_NUMERIC = re.compile(r"^[\d.]+$")


def word_pattern(word: str) -> str:
    """Regex for one material word; bare numbers need number-free surroundings and
    must not be followed by a unit (304个 is a quantity)."""
    esc = re.escape(word)
    if _NUMERIC.match(word) or re.match(r"^[\d.]+[A-Za-z]?$", word):
        return (
            rf"(?<![\d.A-Za-z]){esc}(?![\d.])"
            r"(?!\s*(?:个|只|件|套|箱|盒|包|片|颗|粒|pcs|PCS|米|条|根|支|元|块|号|万|千))"
        )
    return esc


@lru_cache(maxsize=4096)
def material_class(text: str) -> str | None:
    """Class of a material cell (碳钢镀锌 → ZN): the longest known word inside it wins,
    then the rightmost (碳钢发黑 is black oxide, the finish named last)."""
    best: tuple[int, int, str] | None = None
    up = text.upper()
    for word, cls in iter_vocab():
        pos = up.rfind(word.upper())
        if pos >= 0 and (best is None or (len(word), pos) > best[:2]):
            best = (len(word), pos, cls)
    return best[2] if best else None


def iter_vocab():
    for cls, words in MATERIAL_WORDS.items():
        for w in words:
            yield w, cls
