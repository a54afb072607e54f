"""English and mixed purchase orders (`socket cap screw M6x25 SS316 500pcs`,
`hex nut M10 zinc 300pcs`, `ETA 5/20`): the trade's English words mapped to the
Chinese words the catalog and the other readers already know.

This is vocabulary, like materials.py: a catalog names its products in Chinese and
carries Chinese aliases, so an English term is read as the Chinese term the catalog
uses for the same part, and every later step (specs, materials, quantities, dates)
runs unchanged. Longer phrases are replaced first (socket head cap screw before screw).
"""

from __future__ import annotations

import re
from functools import lru_cache

# English term → the Chinese word used in catalog names/aliases.
TERMS: dict[str, str] = {
    "socket head cap screw": "内六角螺钉",
    "socket cap screw": "内六角螺钉",
    "socket head screw": "内六角螺钉",
    "hex socket screw": "内六角螺钉",
    "allen bolt": "内六角螺钉",
    "allen screw": "内六角螺钉",
    "shcs": "内六角螺钉",
    "hex head bolt": "外六角螺栓",
    "hexagon bolt": "外六角螺栓",
    "hex bolt": "外六角螺栓",
    "hex cap screw": "外六角螺栓",
    "nylon insert lock nut": "尼龙锁紧螺母",
    "nylon lock nut": "尼龙锁紧螺母",
    "nyloc nut": "尼龙锁紧螺母",
    "lock nut": "尼龙锁紧螺母",
    "flange nut": "法兰螺母",
    "hex nut": "六角螺母",
    "hexagon nut": "六角螺母",
    "spring lock washer": "弹簧垫圈",
    "spring washer": "弹簧垫圈",
    "lock washer": "弹簧垫圈",
    "split washer": "弹簧垫圈",
    "flat washer": "平垫圈",
    "plain washer": "平垫圈",
    "washer": "平垫圈",
    "self drilling screw": "钻尾螺丝",
    "self-drilling screw": "钻尾螺丝",
    "tek screw": "钻尾螺丝",
    "countersunk tapping screw": "沉头自攻螺丝",
    "csk tapping screw": "沉头自攻螺丝",
    "pan head tapping screw": "十字盘头自攻",
    "self tapping screw": "自攻螺丝",
    # A head type on its own (Item2 countersunk ST4.2x25): the catalog knows 沉头 / 盘头 alone.
    "countersunk": "沉头",
    "csk": "沉头",
    "flat head": "沉头",
    "pan head": "盘头",
    "round head": "圆头",
    "self-tapping screw": "自攻螺丝",
    "tapping screw": "自攻螺丝",
    "expansion bolt": "膨胀螺栓",
    "anchor bolt": "膨胀螺栓",
    "wedge anchor": "膨胀螺栓",
    "blind rivet": "抽芯铆钉",
    "pop rivet": "抽芯铆钉",
    "rivet": "铆钉",
    "deep groove ball bearing": "深沟球轴承",
    "ball bearing": "轴承",
    "bearing": "轴承",
    "o-ring": "O型圈",
    "o ring": "O型圈",
    "oring": "O型圈",
    "brake pads": "刹车片",
    "brake pad": "刹车片",
    "oil filter": "机油滤芯",
    "air filter": "空气滤芯",
    "o ring kit": "O型圈组合",
    "o-ring kit": "O型圈组合",
    # car models the parts trade writes in English
    "corolla": "卡罗拉",
    "lavida": "朗逸",
    "sylphy": "轩逸",
    "camry": "凯美瑞",
    "civic": "思域",
    "accord": "雅阁",
    "bora": "宝来",
    "sagitar": "速腾",
    "front": "前片",
    "rear": "后片",
    "ceramic": "陶瓷",
    "semi-metallic": "半金属",
    "semi metallic": "半金属",
    "nut": "螺母",
    "bolt": "螺栓",
    "screw": "螺丝",
    # materials and finishes
    "stainless steel": "不锈钢",
    "stainless": "不锈钢",
    "zinc plated": "镀锌",
    "zinc-plated": "镀锌",
    "galvanized": "镀锌",
    "galvanised": "镀锌",
    "zinc": "镀锌",
    "carbon steel": "碳钢",
    "black oxide": "发黑",
    "aluminium": "铝",
    "aluminum": "铝",
    "brass": "黄铜",
    "viton": "氟橡胶",
    "nitrile": "丁腈",
    # delivery words the date reader knows in Chinese
    "eta": "交期",
    "deliver by": "交期",
    "delivery by": "交期",
    "delivery date": "交期",
    "asap": "尽快",
    "urgent": "加急",
}
# "grade 8.8" / "class 10.9" → 8.8级: the grade word says it is a strength grade.
_GRADE = re.compile(r"\b(?:grade|class|gr\.?)\s*(8\.8|10\.9|12\.9)\b", re.IGNORECASE)
# "qty 300", "qty: 300 pcs", "x 300": the count word itself carries nothing.
_QTY_WORD = re.compile(r"\b(?:qty|quantity)\s*[:：]?\s*(?=\d)", re.IGNORECASE)
# Pack words after a count: 2 boxes → 2盒 (the catalog's pack words are Chinese).
_PACKS = {
    "box": "盒",
    "boxes": "盒",
    "carton": "箱",
    "cartons": "箱",
    "ctn": "箱",
    "ctns": "箱",
    "case": "箱",
    "cases": "箱",
    "bag": "包",
    "bags": "包",
    "pack": "包",
    "packs": "包",
    "roll": "卷",
    "rolls": "卷",
    "set": "套",
    "sets": "套",
    "pair": "对",
    "pairs": "对",
    "pc": "个",
    "pcs": "个",
    "piece": "个",
    "pieces": "个",
}
_PACK = re.compile(
    r"(?<=\d)\s*(" + "|".join(sorted(_PACKS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
# "before 3/18", "by 3/18", "no later than 3.18": month/day, the US order people write.
_BEFORE_DATE = re.compile(r"\b(?:before|by|no later than|not later than)\s+(\d{1,2})[/.](\d{1,2})\b", re.IGNORECASE)
# Delivery 8/28, deliver 3/25, ship date 4/2, required 5/1: a month/day after a delivery word.
_DELIVERY_DATE = re.compile(
    r"\b(?:delivery(?:\s+date)?|deliver(?:ed)?(?:\s+(?:on|at))?|ship(?:ping)?\s+date|required|need(?:ed)?(?:\s+on)?|due)\s*[:：]?\s*(\d{1,2})/(\d{1,2})\b",
    re.IGNORECASE,
)
_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
# "June 3rd", "3 June", "Jun. 3": a month by name.
_MONTH_DAY = re.compile(
    r"\b(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b"
    r"|\b(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m2>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DAY_ZH = dict(zip(_DAYS, "一二三四五六日", strict=True))
_DAY = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\b\.?"
_FULL_DAY = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
# Relative days: "friday next week", "next friday", "this friday".
_RELATIVE = [
    (re.compile(rf"\b{_DAY}\s+next\s+week\b", re.IGNORECASE), "下周{}"),
    (re.compile(rf"\bnext\s+{_DAY}", re.IGNORECASE), "下周{}"),
    (re.compile(rf"\b(?:this\s+)?{_FULL_DAY}\b", re.IGNORECASE), "周{}"),
]
_PLAIN_DAYS = [
    (re.compile(r"\b(?:by\s+|before\s+)?(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month\b", re.IGNORECASE), " 月底 "),
    (re.compile(r"\b(?:by\s+|before\s+)?(?:the\s+)?end\s+of\s+next\s+month\b", re.IGNORECASE), " 下月底 "),
    (re.compile(r"\b(?:ship|send|deliver|dispatch)\s+(?:it\s+|them\s+|out\s+)?today\b", re.IGNORECASE), " 今天要发 "),
    (re.compile(r"\bday\s+after\s+tomorrow\b", re.IGNORECASE), " 后天 "),
    (re.compile(r"\btomorrow\b", re.IGNORECASE), " 明天 "),
]
_PLURAL = re.compile(r"(?<=[a-z])s\b")


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    terms = sorted(TERMS, key=len, reverse=True)
    alt = "|".join(re.escape(t).replace(r"\ ", r"[\s_-]+") + "(?:e?s)?" for t in terms)
    return re.compile(rf"(?<![A-Za-z])(?:{alt})(?![A-Za-z])", re.IGNORECASE)


def _lookup(word: str) -> str | None:
    key = re.sub(r"[\s_-]+", " ", word.lower()).strip()
    for cand in (key, _PLURAL.sub("", key), re.sub(r"es$", "", key)):
        if cand in TERMS:
            return TERMS[cand]
        if cand.replace(" ", "-") in TERMS:
            return TERMS[cand.replace(" ", "-")]
    return None


def _english_dates(text: str) -> str:
    """English day words → the Chinese ones the date reader knows (before June 3rd → 6月3日前)."""

    def month_day(m: re.Match[str]) -> str:
        mon = _MONTHS[(m.group("m") or m.group("m2")).lower()[:3]]
        return f" {mon}月{int(m.group('d') or m.group('d2'))}日 "

    text = _MONTH_DAY.sub(month_day, text)
    text = re.sub(r"\b(?:before|by|no later than)\s+(\d{1,2}月\d{1,2}日)", r"\1前", text, flags=re.IGNORECASE)
    for rx, zh in _PLAIN_DAYS:
        text = rx.sub(zh, text)
    for rx, fmt in _RELATIVE:
        text = rx.sub(lambda m, fmt=fmt: " " + fmt.format(_weekday_zh(m.group("wd"))) + " ", text)
    return text


def _weekday_zh(word: str) -> str:
    return next(zh for day, zh in _DAY_ZH.items() if day.startswith(word.lower()[:3]))


# O-ring kit 386pcs, 200pcs assortment box: how many pieces the kit holds, not how many kits.
_KIT_CONTENT = re.compile(
    r"\b(kit|set|assortment|box)\s+(?:of\s+)?(\d+)(?:\s*(?:pcs|pieces)\b|(?=\s+\d+\s*(?:box|boxes|sets?|kits?|pcs|cartons?|bags?|ctns?)\b))"
    r"|\b(\d+)\s*(?:pcs|pieces)\s+(kit|assortment)\b",
    re.IGNORECASE,
)


def english_to_trade(text: str) -> str:
    """English fastener words → the Chinese trade words (a no-op on Chinese text)."""
    if not re.search(r"[A-Za-z]{3,}", text):
        return text
    text = _KIT_CONTENT.sub(lambda m: f"{m.group(1)} {m.group(2)}只装" if m.group(1) else f"{m.group(4)} {m.group(3)}只装", text)
    text = _GRADE.sub(lambda m: f" {m.group(1)}级 ", text)
    text = _QTY_WORD.sub("", text)
    text = _BEFORE_DATE.sub(lambda m: f" {m.group(1)}月{m.group(2)}日前 ", text)
    text = _DELIVERY_DATE.sub(lambda m: f" 交期 {m.group(1)}/{m.group(2)} ", text)
    text = _english_dates(text)
    text = _PACK.sub(lambda m: _PACKS[m.group(1).lower()], text)

    def repl(m: re.Match[str]) -> str:
        zh = _lookup(m.group(0))
        return f" {zh} " if zh else m.group(0)

    return _pattern().sub(repl, text)
