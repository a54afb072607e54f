"""WeCom template_card payloads for a rep's order: pure builders, no I/O.

A rep gets one `button_interaction` card per pending order, its buttons the actions the state
machine allows the rep now (确认 / 修改 / 转交 / 拒绝 / 取消), remarks on it; a manager
one per held order (放行 / 取消订单). When someone acts, the card is replaced by the same card
with the outcome in `replace_text` (a grey button nobody can press again). WeCom hands us a `response_code` for each card,
usable once and for 72 hours only: `ResponseCodeTicket` keeps that rule in plain values.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from orders.money import money

RESPONSE_CODE_TTL = timedelta(hours=72)

# Button key → the hub action it stands for.
BUTTONS: tuple[tuple[str, str, int], ...] = (
    ("confirm", "确认", 1),  # style 1: blue, the primary action
    ("edit", "修改", 2),
    ("reassign", "转交", 2),
    ("reject", "拒绝", 3),  # style 3: red
)
# Every button a card may carry (key → label, style), in display order; a rep's card shows
# the ones orders.status.buttons_for allows now (the payload's "actions"). The rep's 取消
# (cancel_order) asks for the reason by text: a button press cannot carry one.
BUTTON_LOOK: dict[str, tuple[str, int]] = {
    "confirm": ("确认", 1), "release": ("放行", 1), "edit": ("修改", 2), "reassign": ("转交", 2),
    "reject": ("拒绝", 3), "cancel_order": ("取消", 3),
}
_ACTION_KEY = {"cancel": "cancel_order"}  # the state machine's action → the rep card's key


def buttons_for(actions: tuple[str, ...] | list[str]) -> tuple[tuple[str, str, int], ...]:
    """The rep card's buttons for the hub's allowed actions (orders.status.buttons_for)."""
    keys = [_ACTION_KEY.get(a, a) for a in actions]
    return tuple((k, *BUTTON_LOOK[k]) for k in BUTTON_LOOK if k in keys)


# A held order on its manager's card: release it (the manager's override) or cancel it.
HOLD_BUTTONS: tuple[tuple[str, str, int], ...] = (
    ("release", "放行", 1),
    ("cancel", "取消订单", 3),
)
# A pending order that looks like an earlier one of the same customer (orders/duplicates.py):
# the rep may fold it into that one (合并: its lines join the earlier order, it is cancelled).
MERGE_BUTTON: tuple[str, str, int] = ("merge", "合并", 2)
OUTCOME_TEXT: dict[str, str] = {
    "merged": "已合并",
    "released": "已放行",
    "confirmed": "已确认",
    "rejected": "已拒绝",
    "cancelled": "已取消",
    "reassigned": "已转交",
    "on_hold": "已挂起",
    "edited": "已修改",
    "expired": "已失效",
    "pending": "待确认",
    "shipped": "已发货",
    "delivered": "已签收",
    "closed": "已完成",
}

# WeCom field limits (characters): long values are cut, never rejected by the API.
_TITLE_MAX, _DESC_MAX, _KEYNAME_MAX, _VALUE_MAX, _QUOTE_MAX = 26, 30, 5, 26, 300
_KEY_SAFE = re.compile(r"[^0-9A-Za-z_\-@]")


@dataclass(frozen=True)
class CardLine:
    name: str
    quantity: Decimal | int | float | str
    unit: str
    amount: Decimal | None = None
    line_type: str = "main"  # main / gift / freight / service


@dataclass(frozen=True)
class OrderCardData:
    """What a rep needs to decide on an order, already read from the hub."""

    number: str
    customer: str
    lines: tuple[CardLine, ...]
    total: Decimal
    delivery_date: date | None = None
    company: str | None = None
    phone: str | None = None
    address: str | None = None
    rush: bool = False
    version: int = 1
    on_behalf_of: str | None = None  # a rep who entered it for the customer
    promotions: tuple[str, ...] = ()  # price rules applied (orders.promotions.applied_summary)
    duplicate_of: str | None = None  # the earlier order this one looks like (重复订单提醒)
    remarks: str | None = None  # the customer's 备注
    rep_remarks: str | None = None  # the desk's own note
    actions: tuple[str, ...] | None = None  # what the rep may do now; None: the classic four


@dataclass(frozen=True)
class ButtonPress:
    """A parsed EventKey: which action, on which order, as the card showed it."""

    action: str
    number: str
    version: int | None


def _qty(q: Decimal | int | float | str) -> str:
    return f"{Decimal(str(q)).normalize():f}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_text(line: CardLine) -> str:
    if line.line_type in ("freight", "service"):
        return f"{line.name} {money(line.amount or 0)}"
    gift = "【赠】" if line.line_type == "gift" else ""
    return f"{gift}{line.name} × {_qty(line.quantity)}{line.unit}"


def button_key(action: str, number: str, version: int) -> str:
    """`confirm@SO20260302-0001@3`: only the characters WeCom allows in keys."""
    return f"{action}@{_KEY_SAFE.sub('', number)}@{version}"


def parse_button_key(key: str) -> ButtonPress | None:
    parts = (key or "").split("@")
    if len(parts) < 2 or parts[0] not in {
            *BUTTON_LOOK, *(b[0] for b in (*BUTTONS, *HOLD_BUTTONS, MERGE_BUTTON))}:
        return None
    version = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return ButtonPress(parts[0], parts[1], version)


def task_id(number: str, version: int, nonce: str | None = None) -> str:
    """Unique per app (WeCom refuses a reused task_id): number, version and a random tail."""
    tail = nonce or secrets.token_hex(4)
    return _KEY_SAFE.sub("", f"{number}_{version}_{tail}")[:128]


def _card_body(data: OrderCardData, title: str) -> dict[str, Any]:
    who = data.company or data.customer
    desc = data.customer if data.company and data.customer != data.company else ""
    if data.on_behalf_of:
        desc = f"{desc} · {data.on_behalf_of}代客下单".strip(" ·")
    horizontal: list[dict[str, Any]] = [
        {"keyname": "客户", "value": _cut(who, _VALUE_MAX)},
        {"keyname": "金额", "value": money(data.total)},
        *([{"keyname": "优惠", "value": _cut("；".join(data.promotions), _VALUE_MAX)}] if data.promotions else []),
        {"keyname": "交期", "value": data.delivery_date.isoformat() if data.delivery_date else "未定"},
    ]
    if data.phone:
        horizontal.append({"keyname": "电话", "value": data.phone})
    if data.address:
        horizontal.append({"keyname": "地址", "value": _cut(data.address, _VALUE_MAX)})
    lines = "\n".join(line_text(line) for line in data.lines) or "（无明细）"
    remarks = [f"客户备注：{data.remarks}" if data.remarks else "",
               f"业务员备注：{data.rep_remarks}" if data.rep_remarks else ""]
    lines = "\n".join(x for x in (*remarks, lines) if x)  # remarks first: the quote is cut at its end
    return {
        "card_type": "button_interaction",
        "source": {"desc": "订单助手", "desc_color": 0},
        "main_title": {"title": _cut(title, _TITLE_MAX), "desc": _cut(desc, _DESC_MAX)},
        "quote_area": {"type": 0, "title": f"明细（{len(data.lines)}项）", "quote_text": _cut(lines, _QUOTE_MAX)},
        "sub_title_text": _cut(f"{'【加急】' if data.rush else ''}订单 {data.number}", 112),
        "horizontal_content_list": [
            {**h, "keyname": _cut(h["keyname"], _KEYNAME_MAX)} for h in horizontal[:6]
        ],
    }


def order_card(data: OrderCardData, *, nonce: str | None = None) -> dict[str, Any]:
    """The `template_card` object for message/send: a pending order with the buttons of the
    actions the rep may take now (data.actions), remarks above the lines."""
    title = f"{'加急' if data.rush else '新'}订单待确认 {data.number}"
    card = _card_body(data, title)
    card["task_id"] = task_id(data.number, data.version, nonce)
    buttons = BUTTONS if data.actions is None else buttons_for(data.actions)
    card["button_list"] = [
        {"text": text, "style": style, "key": button_key(action, data.number, data.version)}
        for action, text, style in buttons
    ]
    return with_duplicate_warning(card, data)


def duplicate_warning(data: OrderCardData) -> str | None:
    """重复订单提醒 for a card whose order looks like an earlier one; None otherwise."""
    return f"重复订单提醒：与 {data.duplicate_of} 相似，请核实是否合并" if data.duplicate_of else None


def merge_buttons(data: OrderCardData) -> list[dict[str, Any]]:
    """The 合并 button of a suspected duplicate (none otherwise)."""
    if not data.duplicate_of:
        return []
    action, text, style = MERGE_BUTTON
    return [{"text": text, "style": style, "key": button_key(action, data.number, data.version)}]


def with_duplicate_warning(card: dict[str, Any], data: OrderCardData) -> dict[str, Any]:
    """Add the duplicate warning (sub-title) and the 合并 button to an order card."""
    warning = duplicate_warning(data)
    if warning:
        card["sub_title_text"] = _cut(f"{card['sub_title_text']}\n{warning}", 112)
        card["button_list"] = [*card["button_list"], *merge_buttons(data)][:6]  # WeCom shows 6 at most
    return card


def hold_card(data: OrderCardData, reason: str, *, nonce: str | None = None) -> dict[str, Any]:
    """The manager's card for a held order: why it is held, and 放行 / 取消订单."""
    card = _card_body(data, f"订单挂起 {data.number}")
    card["sub_title_text"] = _cut(f"挂起原因：{reason or '规则拦截'}", 112)
    card["task_id"] = task_id(data.number, data.version, nonce)
    card["button_list"] = [
        {"text": text, "style": style, "key": button_key(action, data.number, data.version)}
        for action, text, style in HOLD_BUTTONS
    ]
    return card


def outcome_card(
    data: OrderCardData, outcome: str, *, by: str | None = None, note: str | None = None,
    buttons: tuple[tuple[str, str, int], ...] | None = None,
) -> dict[str, Any]:
    """The replacement card after someone acted: same facts, buttons greyed with the outcome."""
    label = OUTCOME_TEXT.get(outcome, outcome)
    title = f"订单{label} {data.number}"
    card = _card_body(data, title)
    extra = "，".join(x for x in (f"{by}处理" if by else "", note or "") if x)
    if extra:
        card["sub_title_text"] = _cut(f"{card['sub_title_text']}（{extra}）", 112)
    if buttons is None:
        buttons = BUTTONS if data.actions is None else buttons_for(data.actions) or BUTTONS
    card["button_list"] = [
        {"text": text, "style": style, "key": button_key(action, data.number, data.version)}
        for action, text, style in buttons
    ]
    card["replace_text"] = label
    return card


def send_body(userid: str, agentid: str | int, card: dict[str, Any]) -> dict[str, Any]:
    """message/send body for one rep; WeCom drops an identical card re-sent within 30 min."""
    return {
        "touser": userid,
        "msgtype": "template_card",
        "agentid": _agentid(agentid),
        "template_card": card,
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 1800,
    }


def update_body(userids: list[str], agentid: str | int, response_code: str, card: dict[str, Any]) -> dict[str, Any]:
    """message/update_template_card body replacing the whole card for these users."""
    return {
        "userids": userids,
        "agentid": _agentid(agentid),
        "response_code": response_code,
        "template_card": card,
    }


def _agentid(agentid: str | int) -> int | str:
    return int(agentid) if str(agentid).isdigit() else agentid


@dataclass(frozen=True)
class ResponseCodeTicket:
    """A card's response_code with the time WeCom issued it: single use, 72 hours."""

    code: str
    issued_at: datetime

    def expired(self, now: datetime) -> bool:
        return now - self.issued_at >= RESPONSE_CODE_TTL

    def usable(self, now: datetime, used: bool) -> bool:
        return bool(self.code) and not used and not self.expired(now)
