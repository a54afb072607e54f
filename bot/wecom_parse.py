"""A rep's WeCom text → one command. Pure: no database, no network.

    确认 SO20260302-0001            confirm
    拒绝 SO20260302-0001 缺货       reject, with the reason
    改 SO20260302-0001 交期 3月9日   change the delivery date (also 电话 / 地址 / 备注)
    改 SO20260302-0001 数量 第2项 3000  change a line's quantity (第N项 may go for one line)
    转 SO20260302-0001 李四          hand the order to another rep
    放行 SO20260302-0001 老客户      a manager releases a held order
    合并 SO20260302-0001 SO20260302-0007  fold the newer order into the older (duplicates)
    加运费 SO20260302-0001 50 送上楼   add a freight line (¥50), with the reason
    加赠品 SO20260302-0001 M6平垫 100个 老客户  add a gift line (goes with its main line)
    加服务 SO20260302-0001 包装费 30 木箱  add a service line
    改 SO20260302-0001 交期 3月9日 原因 客户工地延期   every change of a placed order says why
    取消 SO20260302-0001 原因 客户不要了   cancel, with the reason
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
_EDIT = re.compile(rf"^(?:改|修改|更改|变更){_SP}{ORDER_NO}{_SP}(交期|交货期|日期|送货日期|电话|手机|地址|内部备注|业务员备注|备注|数量){_SP}(.+)$",
                   re.IGNORECASE | re.DOTALL)
_REASSIGN = re.compile(rf"^(?:转|转交|转给|移交){_SP}{ORDER_NO}{_SP}(?:给)?{_SP}(\S.*)$", re.IGNORECASE)
_ADD_FREIGHT = re.compile(rf"^(?:加运费|添加运费|补运费){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
_ADD_GIFT = re.compile(rf"^(?:加赠品|添加赠品|送赠品|赠送){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
_ADD_SERVICE = re.compile(rf"^(?:加服务|加服务费|添加服务){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
_CANCEL = re.compile(rf"^(?:取消|撤单|取消订单){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
# The verbs that need an order number: one without it gets a clear answer, not the help text.
NEEDS_NUMBER = {"确认": "确认 SO20260302-0001", "拒绝": "拒绝 SO20260302-0001 缺货",
                "改": "改 SO20260302-0001 交期 3月9日 原因 客户工地延期", "修改": "改 SO20260302-0001 交期 3月9日 原因 客户工地延期",
                "转": "转 SO20260302-0001 李四", "转交": "转 SO20260302-0001 李四", "放行": "放行 SO20260302-0001 老客户",
                "加运费": "加运费 SO20260302-0001 50 送上楼", "加赠品": "加赠品 SO20260302-0001 M6平垫 100个 老客户",
                "加服务": "加服务 SO20260302-0001 包装费 30 木箱", "取消": "取消 SO20260302-0001 原因 客户不要了",
                "合并": "合并 SO20260302-0001 SO20260302-0007"}
_VERB = re.compile(r"^(加运费|加赠品|加服务|取消订单|取消|确认|拒绝|修改|改|转交|转|放行|合并)(?![\u4e00-\u9fff])"
                   r"|^(加运费|加赠品|加服务)")
_REASON = re.compile(r"(?:^|\s)(?:原因|理由|因为)[\s:：]*(.*)$", re.DOTALL)
_AMOUNT = r"[¥￥]?\s*(\d+(?:\.\d{1,2})?)\s*(?:元|块)?"
_QTY_UNITS = r"个|只|件|套|箱|盒|包|袋|卷|根|片|支|颗|粒|千克|公斤|kg|pcs"
_RELEASE = re.compile(rf"^(?:放行|解除挂起|解挂){_SP}{ORDER_NO}{_SP}(.*)$", re.IGNORECASE | re.DOTALL)
_MERGE = re.compile(rf"^(?:合并|并单){_SP}{ORDER_NO}{_SP}(?:和|与|到|至|及|[+＋])?{_SP}{ORDER_NO}\s*$", re.IGNORECASE)
_TODO = re.compile(r"^(?:待办|待处理|我的待办|todo)$", re.IGNORECASE)
_BOARD = re.compile(r"^(?:看板|订单看板|board)$", re.IGNORECASE)
_HELP = re.compile(r"^(?:帮助|help|\?|？|菜单)$", re.IGNORECASE)
_CUSTOMER_PREFIX = re.compile(r"^(?:客户|代客下单|代下单|给)[:：\s]*([^\s,，:：。]{2,30})[\s,，:：。]+(.+)$", re.DOTALL)

FIELD_NAMES = {"内部备注": "rep_remarks", "业务员备注": "rep_remarks", "交期": "delivery_date", "交货期": "delivery_date", "日期": "delivery_date",
               "送货日期": "delivery_date", "电话": "phone", "手机": "phone", "地址": "address",
               "备注": "remarks", "数量": "quantity"}

HELP_TEXT = (
    "可用指令：\n"
    "确认 SO…　确认订单\n"
    "拒绝 SO… 原因　拒绝订单\n"
    "改 SO… 交期 3月9日 原因 …　修改交期（也可改 电话/地址/备注/内部备注），须写原因\n"
    "改 SO… 数量 第2项 3000 原因 …　修改数量（只有一项时可省略「第N项」）\n"
    "加运费 SO… 50 原因　加运费\n"
    "加赠品 SO… 产品 数量 原因　加赠品（跟在同一产品或金额最大的那一行）\n"
    "加服务 SO… 名称 金额 原因　加服务费\n"
    "取消 SO… 原因 …　取消订单\n"
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
    field: str  # delivery_date / phone / address / remarks / rep_remarks / quantity
    value: str
    date: dt.date | None = None  # parsed, for delivery_date
    reason: str = ""  # empty: the rep must give one (the order is placed)


@dataclass(frozen=True)
class AddLine:
    """加运费 / 加赠品 / 加服务: a line the desk adds by hand (orders/special_lines.py).
    `problem` says what could not be read (the rep gets it back with an example)."""

    number: str
    line_type: str  # freight / gift / service
    amount: str | None = None  # freight / service, yuan
    name: str | None = None  # service name, or the gift's product text
    quantity: float | None = None  # gift
    unit: str | None = None  # gift
    reason: str = ""
    problem: str | None = None


@dataclass(frozen=True)
class Cancel:
    number: str
    reason: str  # empty: the rep must give one


@dataclass(frozen=True)
class MissingNumber:
    """A command word without a usable order number."""

    verb: str
    example: str


def split_reason(text: str) -> tuple[str, str]:
    """"3月9日 原因 客户工地延期" → ("3月9日", "客户工地延期"); no 原因 → (text, "")."""
    m = _REASON.search(text)
    if not m:
        return text.strip(), ""
    return text[: m.start()].strip(), m.group(1).strip()


def parse_add(kind: str, number: str, rest: str) -> AddLine:
    """The words after the order number of 加运费 / 加赠品 / 加服务."""
    rest = rest.strip()
    if kind == "freight":
        m = re.match(rf"^{_AMOUNT}(?:\s+|$)(.*)$", rest, re.DOTALL)
        if not m:
            return AddLine(number, kind, problem=f"没看懂运费金额，请写成：加运费 {number} 50 送上楼")
        return AddLine(number, kind, amount=m.group(1), name="运费", reason=_reason_text(m.group(2)))
    if kind == "service":
        m = re.match(rf"^(\S+?)\s*{_AMOUNT}(?:\s+|$)(.*)$", rest, re.DOTALL)
        if not m or re.fullmatch(r"[¥￥\d.]+", m.group(1)):
            return AddLine(number, kind, problem=f"请写服务名称和金额，例如：加服务 {number} 包装费 30 木箱")
        return AddLine(number, kind, amount=m.group(2), name=m.group(1), reason=_reason_text(m.group(3)))
    m = re.match(rf"^(.+?)\s*(?<![A-Za-z*×xX\d.])(\d+(?:\.\d+)?|[零一二三四五六七八九十百千万两]+)\s*({_QTY_UNITS})?(?:\s+(.*))?$",
                 rest, re.IGNORECASE | re.DOTALL)
    quantity = parse_number(m.group(2)) if m else None
    if not m or not quantity:
        return AddLine(number, kind, problem=f"请写赠品和数量，例如：加赠品 {number} M6平垫 100个 老客户")
    return AddLine(number, kind, name=m.group(1).strip(), quantity=quantity, unit=m.group(3) or None,
                   reason=_reason_text(m.group(4) or ""))


def _reason_text(text: str) -> str:
    text = text.strip()
    m = re.match(r"^(?:原因|理由|因为)[\s:：]*(.*)$", text, re.DOTALL)
    return (m.group(1) if m else text).strip()


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


Command = (Confirm | Reject | Edit | AddLine | Cancel | Reassign | Release | Merge | Todo | Help | BoardLink
           | Inquiry | MissingNumber)


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
        field = FIELD_NAMES[m.group(2)]
        value, reason = split_reason(m.group(3))
        date = parse_date(value, today) if field == "delivery_date" else None
        return Edit(m.group(1), field, value, date, reason)
    for pattern, kind in ((_ADD_FREIGHT, "freight"), (_ADD_GIFT, "gift"), (_ADD_SERVICE, "service")):
        if m := pattern.match(upper):
            return parse_add(kind, m.group(1), m.group(2))
    if m := _CANCEL.match(upper):
        return Cancel(m.group(1), _reason_text(m.group(2)))
    if m := _REASSIGN.match(upper):
        return Reassign(m.group(1), m.group(2).strip())
    if m := _RELEASE.match(upper):
        return Release(m.group(1), m.group(2).strip())
    if m := _MERGE.match(upper):
        return Merge(m.group(1), m.group(2))
    if (m := _VERB.match(t)) and not re.search(r"(?i)SO\d{8}-\d{4}", t):
        verb = m.group(1) or m.group(2)
        verb = "取消" if verb == "取消订单" else verb
        return MissingNumber(verb, NEEDS_NUMBER.get(verb, verb))
    if re.match(r"^(?:确认|拒绝|改|修改|转|转交|放行|合并)\b", t) or re.fullmatch(r"(?:确认|拒绝|改|转|放行|合并)\s*", t):
        return Help()  # a command word with an order number it could not read
    if m := _CUSTOMER_PREFIX.match(t):
        return Inquiry(m.group(2).strip(), m.group(1))
    return Inquiry(t)
