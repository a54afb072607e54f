"""Text normalisation shared by every extractor.

Customers write in simplified or traditional characters, full-width digits and
letters, Cantonese particles and typos; every extractor works on one canonical form
so each rule is written once. Every extractor reads the normalised text only, so replacements
may change lengths.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Cantonese / colloquial words mapped to the Mandarin words the extractors know.
# Same-length replacements keep offsets stable.
_COLLOQUIAL = {
    "唔急": "不急",
    "唔使急": "不用急",
    "听日": "明天",
    "後日": "后天",
    "后日": "后天",
    "今日": "今天",
    "明日": "明天",
    "禮拜": "礼拜",
    "星期日": "星期天",
    "度锌": "镀锌",
    "渡锌": "镀锌",
    "自功": "自攻",
    # Trade slang and common typos for catalog words (平华司 = 平垫片, 镙丝 = 螺丝).
    "弹簧华司": "弹簧垫片",
    "弹弓垫": "弹簧垫",
    "平华司": "平垫片",
    "华司": "垫片",
    "螺丝母": "螺母",
    "螺丝帽": "螺帽",
    "镙": "螺",
    "罗丝": "螺丝",
    "螺拴": "螺栓",
    "膨胀丝": "膨胀螺丝",
    "自攻丝": "自攻螺丝",
    "钻尾丝": "钻尾螺丝",
    "两RS": "2RS",
    "双RS": "2RS",
    "两rs": "2RS",
    "嘅": "的",
    "啲": "些",
    "冇": "没",
    "咗": "了",
    "俾": "给",
    "係": "是",
}


@lru_cache(maxsize=1)
def _opencc():
    try:
        import opencc
    except ImportError:  # pragma: no cover - opencc is a declared dependency
        return None
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC t2s), identity if unavailable."""
    cc = _opencc()
    return cc.convert(text) if cc else text


def normalize(text: str) -> str:
    """Canonical text: NFKC (full-width → half-width), simplified, colloquial words
    mapped, CRLF → LF, tabs and ideographic spaces → space."""
    text = unicodedata.normalize("NFKC", text or "")
    text = to_simplified(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    for k, v in _COLLOQUIAL.items():
        if k in text:
            text = text.replace(k, v)
    return text


def compact(text: str) -> str:
    """Text with all whitespace removed (addresses and details are compared this way)."""
    return re.sub(r"\s+", "", text or "")


CJK = "\u4e00-\u9fff"
