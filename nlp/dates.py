"""Delivery dates relative to the day a message arrived (Asia/Shanghai calendar).

明天, 后天, 大后天, 下周三, 这周五前, 下下周一, 月底, 3号, 3月5日, 十一月十号, 五一前,
元旦前, 国庆前, 今天必须发. "X前" means X itself; weeks run Monday to Sunday. A date in
the past (上周的货, an order number, a delivery already made) is never taken.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from lunardate import LunarDate

from .numbers import parse_number

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_N = r"[\d零一二两三四五六七八九十]{1,3}"
_DELIVERY_AFTER = r"\s*(?:之前|以前|前|左右|内|到|送|发|要|交|必须|务必|一定|能|可以|上午|下午|晚上|早上|中午)"
_DELIVERY_BEFORE = re.compile(
    r"(?:送达|送货|交货|到货|发货|交期|期望|要求|时间|日期|于|在|最迟|最晚|截止|before|前)[：:\s]*$"
)
_PAST_AFTER = re.compile(r"^\s*(?:发的|到的|收到|已|下的单|的货|的单|那批|那次|号码|订单)")
_HOLIDAYS = {"元旦": (1, 1), "五一": (5, 1), "劳动节": (5, 1), "国庆": (10, 1), "十一": (10, 1)}
# Festivals on the lunar calendar: (lunar month, lunar day).
_LUNAR_HOLIDAYS = {"春节": (1, 1), "元宵": (1, 15), "端午": (5, 5), "七夕": (7, 7), "中秋": (8, 15), "重阳": (9, 9)}
_CORRECTION_BEFORE = re.compile(r"(?:那就|那|就)?(?:改成|改为|改到|换成|推迟到|推到|延到|提前到|那就)\s*$")
# A correction between two dates: the later one replaces the earlier (周三到。日期说错了，周四到).
_SAID_WRONG = re.compile(r"说错|写错|搞错|弄错|打错|记错|改下|改一下|更正|不对|纠正|sorry", re.IGNORECASE)
# 明天见, 明天再说, 十月八号下单: a day named in talk or for another errand, not a delivery.
_TALK_AFTER = re.compile(r"^\s*(?:见|聊|再说|再聊|再联系|联系你|回复|答复|告诉你|给你回|回你|下单|订货|付款|打款|对账|开票)")


@dataclass(frozen=True)
class DateHit:
    date: dt.date
    start: int
    end: int
    same_day_demand: bool = False


def _num(s: str) -> int | None:
    v = parse_number(s)
    return int(v) if v is not None and float(v).is_integer() else None


def _safe(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _month_day(today: dt.date, m: int, d: int) -> dt.date | None:
    day = _safe(today.year, m, d)
    if day and day < today and (today - day).days > 31:
        day = _safe(today.year + 1, m, d)
    return day


def _holiday(name: str, year: int) -> dt.date | None:
    """The day a festival falls on in `year` (lunar festivals through lunardate)."""
    if name in _HOLIDAYS:
        return _safe(year, *_HOLIDAYS[name])
    try:
        return LunarDate(year, *_LUNAR_HOLIDAYS[name]).to_solar_date()
    except ValueError:
        return None


_NUMERIC_MONTH_DAY = (
    # 3.15前 / 9/5前送到: month.day only when a delivery word follows (4.8*12 is a size).
    re.compile(r"(?<![\d.*xX×/])(\d{1,2})[./](\d{1,2})(?![\d/])(?=\s*(?:号|日|之前|以前|前|到|送|发|交))"),
    # 交期 5/20, ETA 5.20: month/day right after a delivery word (English ETA reads as 交期).
    re.compile(r"(?:交期|交货期?|到货|送达|发货)[：:\s]*(\d{1,2})[./](\d{1,2})(?![\d./])"),
    # 11/3号: month/day with a day word.
    re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})\s*[号日]"),
)


def _candidates(text: str, today: dt.date):
    monday = today - dt.timedelta(days=today.weekday())
    # Full dates: 2026-03-11, 2026年3月11日, 2026/3/11 (not inside longer digit runs).
    for m in re.finditer(r"(?<!\d)(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?!\d)(?!\s*\d{1,2}:\d)", text):
        d = _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            yield d, m, True
    # Month + day: 3月5日, 十一月十号, 3/5 (slash form only with a delivery word after).
    for m in re.finditer(rf"(?<![\d年零一二两三四五六七八九十])({_N})\s*月\s*({_N})\s*[日号]?", text):
        mo, d = _num(m.group(1)), _num(m.group(2))
        if mo and d and 1 <= mo <= 12 and 1 <= d <= 31:
            day = _month_day(today, mo, d)
            if day:
                yield day, m, True
    # 明年1月5号, 今年12月20日: a month and day with the year said in words.
    for m in re.finditer(rf"(今年|明年|后年)\s*({_N})\s*月\s*({_N})\s*[日号]?", text):
        mo, d = _num(m.group(2)), _num(m.group(3))
        year = today.year + {"今年": 0, "明年": 1, "后年": 2}[m.group(1)]
        day = _safe(year, mo, d) if mo and d else None
        if day:
            yield day, m, True
    for rx in _NUMERIC_MONTH_DAY:
        for m in rx.finditer(text):
            mo, d = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12 and 1 <= d <= 31:
                day = _month_day(today, mo, d)
                if day:
                    yield day, m, True
    # Day of month: 3号, 15号之前 (needs a delivery word: 20号院 and 88号 are addresses).
    for m in re.finditer(rf"(?<![\d月路街道弄巷栋楼院室层区幢座村组\-#A-Za-z])({_N})\s*[号日](?=" + _DELIVERY_AFTER + ")", text):
        d = _num(m.group(1))
        if d and 1 <= d <= 31:
            day = _safe(today.year, today.month, d)
            if day is None or day < today:
                ny, nm = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
                day = _safe(ny, nm, d)
            if day:
                yield day, m, False
    for m in re.finditer(r"(?:本月|这个?月|当月)\s*(" + _N + r")\s*[号日]", text):
        day = _safe(today.year, today.month, _num(m.group(1)) or 0)
        if day:
            yield day, m, True
    for m in re.finditer(r"(?:下个?月|下月)\s*(" + _N + r")\s*[号日]", text):
        d = _num(m.group(1))
        ny, nm = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        day = _safe(ny, nm, d or 0)
        if day:
            yield day, m, True
    for m in re.finditer(r"大大后天|大后天|后天|明天|明早|明晚|明儿|今天|今晚|当天|马上|立刻|现在", text):
        w = m.group(0)
        off = {"大大后天": 4, "大后天": 3, "后天": 2, "明天": 1, "明早": 1, "明晚": 1, "明儿": 1}.get(w, 0)
        yield today + dt.timedelta(days=off), m, w in ("明天", "后天", "大后天")
    # Weeks: 下下周一, 下周三, 这周五, 本礼拜五, 周六, 星期天.
    for m in re.finditer(
        r"(上上|上|下下|下|这|本|今)?个?(?:(?:周|星期|礼拜)的?(?=周|星期|礼拜))?(?:周|星期|礼拜)([一二三四五六日天末1-7])", text
    ):
        which, wd = m.group(1) or "", m.group(2)
        idx = _WEEKDAY.get(wd, int(wd) - 1 if wd.isdigit() else 0)
        weeks = {"下下": 2, "下": 1, "上": -1, "上上": -2}.get(which, 0)
        day = monday + dt.timedelta(days=7 * weeks + idx)
        if not which and day < today:
            day += dt.timedelta(days=7)
        yield day, m, True
    for m in re.finditer(r"(下个?月|本月|这个?月)?(?:月底|月末)", text):
        base = today
        if m.group(1) and m.group(1).startswith("下"):
            base = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        yield base.replace(day=calendar.monthrange(base.year, base.month)[1]), m, True
    # Within weeks: 一周内, 两个礼拜之内 (a deadline N weeks from the day it arrived).
    for m in re.finditer(rf"({_N})\s*(?:周|个?星期|个?礼拜)\s*(?:之内|以内|内)", text):
        n = _num(m.group(1))
        if n and n <= 8:
            yield today + dt.timedelta(days=7 * n), m, True
    for m in re.finditer(r"(?:今年)?年底|年末", text):
        yield dt.date(today.year, 12, 31), m, True
    for m in re.finditer(r"(下个?月|本月|这个?月)?月中", text):
        base = today
        if m.group(1) and m.group(1).startswith("下"):
            base = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        mid = base.replace(day=15)
        yield (mid if mid >= today else (mid.replace(day=1) + dt.timedelta(days=32)).replace(day=15)), m, True
    for m in re.finditer(r"(?:下个?月|下月)(?:初)", text):
        base = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        yield base, m, True
    for m in re.finditer(
        r"(元旦|五一|劳动节|国庆|十一|春节|元宵|端午|七夕|中秋|重阳)节?(?=\s*(?:前|之前|以前|节前|放假前|假前|左右|到|送|发|要))", text
    ):
        day = _holiday(m.group(1), today.year)
        if day and day < today:
            day = _holiday(m.group(1), today.year + 1)
        if day:
            yield day, m, True
    # Lunar month and day: 腊月二十, 正月初八, 八月十五 said with 初/廿 (二月十号 is solar).
    for m in re.finditer(
        r"(正月|冬月|腊月|[一二三四五六七八九十]{1,2}月)(初[一二三四五六七八九十]|廿[一二三四五六七八九]|(?<=[正冬腊]月)(?:[二三]?十[一二三四五六七八九]?))",
        text,
    ):
        mo = {"正月": 1, "冬月": 11, "腊月": 12}.get(m.group(1)) or _num(m.group(1)[:-1])
        day_word = m.group(2).replace("初", "").replace("廿", "二十")
        d = _num(day_word)
        if mo and d and 1 <= mo <= 12:
            ly = LunarDate.from_solar_date(today.year, today.month, today.day).year
            for year in (ly, ly + 1):
                try:
                    day = LunarDate(year, mo, d).to_solar_date()
                except ValueError:
                    continue
                if day >= today:
                    yield day, m, True
                    break
    for m in re.finditer(rf"({_N})\s*(?:天|日)(?:内|之内|以内|后)", text):
        n = _num(m.group(1))
        if n and n <= 60:
            yield today + dt.timedelta(days=n), m, True


def find_dates(text: str, today: dt.date) -> list[DateHit]:
    """All delivery-date readings in `text`, distractors (past dates, order numbers,
    past deliveries) dropped."""
    out: list[DateHit] = []
    for day, m, _strong in _candidates(text, today):
        if day < today:
            continue
        after = text[m.end() : m.end() + 6]
        if _PAST_AFTER.match(after) or _TALK_AFTER.match(after):
            continue
        today_word = re.match(r"今天|今晚|当天", m.group(0))
        asks = re.match(r"[^，,。\n]{0,5}(?:吗|么|不|没|？|\?)", after)  # 今天发货吗 asks
        ships = bool(today_word and not asks and re.match(r"\s*(?:必须|务必|一定要?|就要|要|得|能)?\s*(?:发|送|到|出)", after))
        # A same-day *demand* (rush) needs an obligation word: 今天必须发, 今天一定要到.
        same_day = ships and bool(re.match(r"\s*(?:必须|务必|一定|就要|要|得)", after))
        if re.match(r"今天|今晚|当天|马上|立刻|现在", m.group(0)) and not ships:
            # 今天 without a demand to ship (今天下单, 今天有货吗) is not a delivery date.
            continue
        out.append(DateHit(day, m.start(), m.end(), same_day))
    # Drop readings contained in a longer one (3月20日 vs 20日).
    out.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[DateHit] = []
    for h in out:
        if kept and h.start < kept[-1].end:
            continue
        kept.append(h)
    return kept


def pick_date(text: str, hits: list[DateHit]) -> DateHit | None:
    """The delivery date: one the customer changed to (那就下周三, 改成5号), else the
    first reading with a delivery word next to it, else the first."""
    for h in reversed(hits):
        if _CORRECTION_BEFORE.search(text[max(0, h.start - 8) : h.start]):
            return h
    for i in range(len(hits) - 1, 0, -1):
        if _SAID_WRONG.search(text[hits[i - 1].end : hits[i].start]):
            return hits[i]  # 周三到…说错了，周四到: the corrected day
    for h in hits:
        after = text[h.end : h.end + 6]
        before = text[max(0, h.start - 8) : h.start]
        if re.match(_DELIVERY_AFTER, after) or _DELIVERY_BEFORE.search(before):
            return h
    return hits[0] if hits else None
