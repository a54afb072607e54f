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

from .english import english_to_trade
from .units import UNIT_WORDS

# Cantonese / colloquial words mapped to the Mandarin words the extractors know.
# Same-length replacements keep offsets stable.
_COLLOQUIAL = {
    "唔急": "不急",
    "老细": "老板",
    "老細": "老板",
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
    "两Z": "ZZ",
    "双Z": "ZZ",
    "两z": "ZZ",
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
    # A lone surrogate (broken emoji from a client) cannot cross into OpenCC's C++.
    text = _SURROGATE.sub("\ufffd", text)
    return cc.convert(text) if cc else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def normalize(text: str) -> str:
    """Canonical text: NFKC (full-width → half-width), simplified, colloquial words
    mapped, CRLF → LF, tabs and ideographic spaces → space."""
    text = _CIRCLED.sub(lambda m: f"{ord(m.group(0)) - 0x245F}、", text or "")  # ② → 2、 (NFKC gives a bare 2)
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _SPOKEN_SEAL.sub("2RS", text)  # 两R S, 双 RS: the seal said aloud
    for k, v in _COLLOQUIAL.items():
        if k in text:
            text = text.replace(k, v)
    text = _UNIT_LABEL.sub(r"\1\2", text)  # 数量：20 单位：盒 → 20盒
    text = _O_FOR_ZERO.sub("0", text)  # M6*2O: the letter O typed for a zero inside a size
    text = _number_rows(text)
    text = _HEAD_AFTER.sub(lambda m: f"{m.group(3)}{m.group(1)}{m.group(2)} ", text)
    text = _STANDARD.sub(_standard_word, text)
    text = _M_DIGIT_LENGTH.sub(lambda m: f"{m.group(1)}*{m.group(3)}{m.group(2)}", text)
    text = spoken_numerals(english_to_trade(text))
    text = _SPLIT_PART_NO.sub(r"\1-\2", text)  # 九零九一五 YZZE1: one part number
    # M8 五十长的: the length said aloud reads as digits only now.
    return _M_DIGIT_LENGTH.sub(lambda m: f"{m.group(1)}*{m.group(3)}{m.group(2)}", text)


_SPOKEN_SEAL = re.compile(r"(?:两|双)\s?[Rr]\s?[Ss](?![A-Za-z])|(?<=\d)2\s[Rr]\s?[Ss](?![A-Za-z])|(?<=\d)(?:-?2)?[Rr]\s[Ss](?![A-Za-z])")
# A part number's digits and its letter suffix written apart (90915 YZZE1, 15400 RTA003):
# one part number, so the digits are read as no count.
_SPLIT_PART_NO = re.compile(r"(?<![\d.*xX×])(\d{4,6})\s+((?=[A-Z\d]*\d)(?=[A-Z\d]*[A-Z]{2})[A-Z\d]{3,8})(?![A-Za-z\d])")


# Standard numbers name the product (GB70 M8*30 is a socket cap screw; 70 is no count).
_STANDARDS = {
    "内六角": ("GB70", "DIN912", "ISO4762"),
    "外六角": ("GB5782", "GB5783", "DIN931", "DIN933", "ISO4014", "ISO4017"),
    "六角螺母": ("GB6170", "GB52", "DIN934", "ISO4032"),
    "平垫": ("GB97", "GB95", "DIN125", "ISO7089"),
    "弹垫": ("GB93", "DIN127"),
    "尼龙锁紧螺母": ("GB889", "DIN985", "DIN982"),
    "法兰螺母": ("GB6177", "DIN6923"),
    "十字盘头自攻": ("GB845", "DIN7981", "ISO7049"),
    "十字沉头自攻": ("GB846", "DIN7982", "ISO7050"),
    "钻尾": ("DIN7504", "GB15856"),
    "深沟球轴承": ("GB276",),
    "抽芯铆钉": ("GB12618",),
}
_STANDARD_OF = {code: word for word, codes in _STANDARDS.items() for code in codes}
_STANDARD = re.compile(r"(?<![A-Za-z])(GB|DIN|ISO)\s*(?:/\s*T)?\s*(\d{2,5})(?:\.\d)?(?:-\d{2,4})?(?![\d])", re.IGNORECASE)


def _standard_word(m: re.Match[str]) -> str:
    word = _STANDARD_OF.get(m.group(1).upper() + m.group(2))
    return f" {word} " if word else m.group(0)


_UNIT_LABEL = re.compile(
    r"(\d+(?:\.\d+)?)\s*[,，;；]?\s*单位\s*[：:]?\s*(" + "|".join(re.escape(u) for u in UNIT_WORDS) + r")(?![\u4e00-\u9fff])"
)
_O_FOR_ZERO = re.compile(r"(?<=[*xX×]\d)[oO](?![A-Za-z])|(?<=[*xX×]\d\d)[oO](?![A-Za-z])")
_CIRCLED = re.compile("[\u2460-\u2473]")
_CN_DIGIT = str.maketrans("零〇幺一二三四五六七八九", "001123456789")
# 五点五, 十二点九级: a decimal read aloud (两点四十, a time, is left alone).
_SPOKEN_DECIMAL = re.compile(r"(?<![零〇一二两三四五六七八九十百])([一二两三四五六七八九十]{1,3})点([零一二三四五六七八九]{1,3})(?![零一二三四五六七八九十百千万])")
# Spoken sizes: 四八乘十二 is 4.8×12 (two digits read one by one before 乘 are a diameter
# with its point dropped), M八四十长 is M8×40 (a thread size, then a length said with 长),
# M六三零四 is M6 in 304 (a thread size glued to a material code).
# 一五八点六二一零点三三四四: a mobile read digit by digit with 点 between the groups.
_SPOKEN_PHONE = re.compile(r"[幺一](?:\s?[点.]?\s?[零〇幺一二三四五六七八九]){10}(?![零〇幺一二三四五六七八九])")
_SPOKEN_DIAMETER = re.compile(r"(?<![零〇一二两三四五六七八九十百千万点.\d])([一二三四五六七八九])([零一二三四五六七八九])(?=\s*[乘xX×*])")
_M_SIZE = r"十[二四六八]?|二十[四]?|[三四五六八]"
_M_LENGTH = re.compile(
    rf"([Mm])\s*({_M_SIZE})\s*((?:[一二三四五六七八九]?十|[一二三]百)[零一二三四五六七八九]?)(?=\s*(?:长|毫米|mm))"
)
_M_MATERIAL = re.compile(rf"([Mm])\s*({_M_SIZE})(?=(?:三零四|三幺六|三一六|二零一)(?![零一二三四五六七八九十]))")
# Head type written after the size (自攻钉 4.2×25 沉头): the catalog names it with the
# product word (沉头自攻), so it moves in front.
_HEAD_AFTER = re.compile(r"(?<![沉盘平圆])(自攻[钉丝螺钉]*|钻尾[钉丝螺钉]*)([^\n，,。；;]{0,16}?)\s*(沉头|盘头|平头|圆头)(?![自钻])")
# M12膨胀螺丝100长的: a thread size, the product, then its length said with 长.
_M_DIGIT_LENGTH = re.compile(r"([Mm]\d{1,2})(?![\d.*xX×])([\u4e00-\u9fff]{0,6}?)\s*(\d{2,3})\s*(?:mm)?\s*长")
# Rows numbered 1 2 3 with a space (序号 column flattened): the number is the row, not a count.
_ROW_NUMBER = re.compile(r"(?m)^[ \t]*(\d{1,2})[ \t]+(?=[^\d\s])")
# 三零四, 三幺六: three or more digits read one by one are a code or a grade, never a
# count (three hundred and four is 三百零四); house numbers keep their spelling.
_DIGIT_RUN = re.compile(
    r"(?<![零〇一二两三四五六七八九十百千万幺])([零〇幺一二三四五六七八九]{3,})"
    r"(?![零〇一二两三四五六七八九十百千万幺号路弄栋楼室层幢街巷村组])"
)


def _number_rows(text: str) -> str:
    """1 膨胀螺栓 M8*60 3箱 / 2 膨胀螺栓 …: rows numbered 1, 2, 3… get a list marker (1、)."""
    nums = [int(m.group(1)) for m in _ROW_NUMBER.finditer(text)]
    if len(nums) < 2 or nums != list(range(nums[0], nums[0] + len(nums))) or nums[0] > 1:
        return text
    return _ROW_NUMBER.sub(lambda m: f"{m.group(1)}、", text)


def spoken_numerals(text: str) -> str:
    """Voice-to-text numerals that are codes, not counts, written in digits:
    五点五 → 5.5, 十二点九级 → 12.9级, 三零四 → 304. Counts (两千五) are left to numbers.py."""
    from .numbers import parse_number

    def decimal(m: re.Match[str]) -> str:
        whole = parse_number(m.group(1))
        if whole is None:
            return m.group(0)
        return f"{int(whole)}.{m.group(2).translate(_CN_DIGIT)}"

    text = _SPOKEN_PHONE.sub(lambda m: re.sub(r"[\s点.]", "", m.group(0)).translate(_CN_DIGIT), text)
    text = _SPOKEN_DIAMETER.sub(lambda m: f"{m.group(1).translate(_CN_DIGIT)}.{m.group(2).translate(_CN_DIGIT)}", text)
    text = _M_LENGTH.sub(lambda m: f"{m.group(1)}{_int(m.group(2))}*{_int(m.group(3))}", text)
    text = _M_MATERIAL.sub(lambda m: f"{m.group(1)}{_int(m.group(2))} ", text)
    text = _SPOKEN_DECIMAL.sub(decimal, text)
    return _DIGIT_RUN.sub(lambda m: m.group(1).translate(_CN_DIGIT), text)


def _int(word: str) -> str:
    from .numbers import parse_number

    value = parse_number(word)
    return str(int(value)) if value is not None else word


def compact(text: str) -> str:
    """Text with all whitespace removed (addresses and details are compared this way)."""
    return re.sub(r"\s+", "", text or "")


CJK = "\u4e00-\u9fff"


def as_written(fragment: str | None, original: str) -> str | None:
    """`fragment` (read from the normalised text, spaces removed) in the characters the
    customer typed: an address in traditional characters stays traditional (the
    contract's detail is "as written"). Unchanged when it cannot be lined up."""
    if not fragment:
        return fragment
    each = [unicodedata.normalize("NFKC", c) for c in original or ""]
    if all(len(c) == 1 for c in each):
        # Character by character: full-width digits (９号) and traditional characters stay as typed.
        flat = to_simplified("".join(each))
        if len(flat) == len(original) and flat != original:
            m = re.search(r"\s*".join(re.escape(c) for c in fragment), flat)
            if m:
                return compact(original[m.start() : m.end()])
    typed = unicodedata.normalize("NFKC", original or "")
    simple = to_simplified(typed)
    if simple == typed or len(simple) != len(typed):
        return fragment
    m = re.search(r"\s*".join(re.escape(c) for c in fragment), simple)
    return compact(typed[m.start() : m.end()]) if m else fragment
