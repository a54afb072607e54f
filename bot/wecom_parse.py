"""A rep's WeCom text → one command. Pure: no database, no network.

    确认 SO20260302-0001            confirm
    拒绝 SO20260302-0001 缺货       reject, with the reason
    改 SO20260302-0001 交期 3月9日   change the delivery date (also 电话 / 地址 / 备注)
    改 SO20260302-0001 数量 第2项 3000  change a line's quantity (第N项 may go for one line)
    转 SO20260302-0001 李四          hand the order to another rep
    放行 SO20260302-0001 老客户      a manager releases a held order
    合并 SO20260302-0001 SO20260302-0007  fold the newer order into the older (duplicates)
    待办                             my orders waiting for me
    看板                             managers: a one-time link to the board (/board/)
Anything else is either a customer's inquiry the rep pasted or forwarded (it names
products, a phone, an address…) or gets a short help text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from nlp.dates import find_dates, pick_date
from nlp.numbers import parse_number

ORDER_NO = r"(SO\d{8}-\d{4})"
_SP = r"[\s:：,，]*"
_CONFIRM = re.compile(rf"^(?:确认|确定|同意|接单){_SP}{ORDER_NO}\s*$", re.IGNORECASE)
_REJECT = re.compile(rf"^(?:拒绝|拒单|驳回){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
_EDIT = re.compile(rf"^(?:改|修改|更改|变更){_SP}{ORDER_NO}{_SP}(交期|交货期|日期|送货日期|电话|手机|地址|备注|数量){_SP}(.+)$",
                   re.IGNORECASE | re.DOTALL)
_REASSIGN = re.compile(rf"^(?:转|转交|转给|移交){_SP}{ORDER_NO}{_SP}(?:给)?{_SP}(\S.*)$", re.IGNORECASE)
_RELEASE = re.compile(rf"^(?:放行|解除挂起|解挂){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
_MERGE = re.compile(rf"^(?:合并|并单){_SP}{ORDER_NO}{_SP}(?:和|与|到|至|及|[+＋])?{_SP}{ORDER_NO}\s*$", re.IGNORECASE)
_TODO = re.compile(r"^(?:待办|待处理|我的待办|todo)$", re.IGNORECASE)
_BOARD = re.compile(r"^(?:看板|订单看板|board)$", re.IGNORECASE)
_HELP = re.compile(r"^(?:帮助|help|\?|？|菜单)$", re.IGNORECASE)
_CUSTOMER_PREFIX = re.compile(r"^(?:客户|代客下单|代下单|给)[:：\s]*([^\s,，:：。]{2,30})[\s,，:：。]+(.+)$", re.DOTALL)

FIELD_NAMES = {"交期": "delivery_date", "交货期": "delivery_date", "日期": "delivery_date",
               "送货日期": "delivery_date", "电话": "phone", "手机": "phone", "地址": "address",
               "备注": "remarks", "数量": "quantity"}

HELP_TEXT = (
    "可用指令：\n"
    "确认 SO…　确认订单\n"
    "拒绝 SO… 原因　拒绝订单\n"
    "改 SO… 交期 3月9日　修改交期（也可改 电话/地址/备注）\n"
    "改 SO… 数量 第2项 3000　修改数量（只有一项时可省略「第N项」）\n"
    "转 SO… 姓名　转交给其他业务员\n"
    "放行 SO… 原因　经理放行挂起的订单\n"
    "合并 SO… SO…　把较新的订单并入较早的订单（重复下单）\n"
    "待办　查看待我处理的订单\n"
    "直接转发客户的询价文字或订单照片，可代客户下单。"
)


@dataclass(frozen=True)
class Confirm:
    number: str


@dataclass(frozen=True)
class Reject:
    number: str
    reason: str  # empty: the rep must give one


@dataclass(frozen=True)
class Edit:
    number: str
    field: str  # delivery_date / phone / address / remarks
    value: str
    date: dt.date | None = None  # parsed, for delivery_date


_LINE_QTY = re.compile(r"^(?:第\s*([0-9一二三四五六七八九十]+)\s*(?:项|行|个)?)?[\s:：,，]*(.+?)\s*$")


def parse_line_quantity(value: str) -> tuple[int | None, float | None]:
    """"第2项 3000" → (2, 3000.0); "三千" → (None, 3000.0); the unit, if any, is the line's own."""
    m = _LINE_QTY.match(value.strip())
    if not m:
        return None, None
    index = int(parse_number(m.group(1)) or 0) if m.group(1) else None
    amount = re.sub(r"(?:个|只|件|套|箱|盒|包|千克|公斤|吨|米|pcs)$", "", m.group(2), flags=re.IGNORECASE).strip()
    return index, parse_number(amount)


@dataclass(frozen=True)
class Reassign:
    number: str
    to_name: str


@dataclass(frozen=True)
class Release:
    number: str
    reason: str


@dataclass(frozen=True)
class Merge:
    """合并 two orders of one customer: the newer one's lines go into the older one."""

    number: str
    other: str


@dataclass(frozen=True)
class Todo:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class BoardLink:
    """看板: a manager asks for a one-time link to the board."""


@dataclass(frozen=True)
class Inquiry:
    """A customer's words the rep passed on; `customer_hint` when the rep named the customer."""

    text: str
    customer_hint: str | None = None


Command = Confirm | Reject | Edit | Reassign | Release | Merge | Todo | Help | BoardLink | Inquiry


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip())


def parse_date(value: str, today: dt.date) -> dt.date | None:
    """3月9日, 3/9, 2026-03-09, 明天, 下周三 … (never a past day)."""
    value = value.strip()
    try:
        day = dt.date.fromisoformat(value)
        return day if day >= today else None
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})", value)
    if m:
        value = f"{int(m.group(1))}月{int(m.group(2))}日"
    hit = pick_date(value, find_dates(value, today))
    return hit.date if hit else None


def parse_command(text: str, today: dt.date) -> Command:
    t = _norm(text)
    if not t or _HELP.match(t):
        return Help()
    if _TODO.match(t):
        return Todo()
    if _BOARD.match(t):
        return BoardLink()
    upper = re.sub(r"(?i)so(\d{8}-\d{4})", lambda m: "SO" + m.group(1), t)
    if m := _CONFIRM.match(upper):
        return Confirm(m.group(1))
    if m := _REJECT.match(upper):
        return Reject(m.group(1), m.group(2).strip())
    if m := _EDIT.match(upper):
        field, value = FIELD_NAMES[m.group(2)], m.group(3).strip()
        date = parse_date(value, today) if field == "delivery_date" else None
        return Edit(m.group(1), field, value, date)
    if m := _REASSIGN.match(upper):
        return Reassign(m.group(1), m.group(2).strip())
    if m := _RELEASE.match(upper):
        return Release(m.group(1), m.group(2).strip())
    if m := _MERGE.match(upper):
        return Merge(m.group(1), m.group(2))
    if re.match(r"^(?:确认|拒绝|改|修改|转|转交|放行|合并)\b", t) or re.fullmatch(r"(?:确认|拒绝|改|转|放行|合并)\s*", t):
        return Help()  # a command word without a usable order number
    if m := _CUSTOMER_PREFIX.match(t):
        return Inquiry(m.group(2).strip(), m.group(1))
    return Inquiry(t)
