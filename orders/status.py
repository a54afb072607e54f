"""Order states, the actions that move them, and who may take each one.

The transition table is the single source of truth: `next_status` is a pure function of
plain values, so the whole table is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class OrderStatus(StrEnum):
    DRAFT = "draft"  # 待补全: understood, fields missing
    PENDING = "pending"  # 待确认: customer confirmed a complete draft; a rep is assigned
    ON_HOLD = "on_hold"  # 异常挂起: credit over limit, stock short, risk flags
    CONFIRMED = "confirmed"  # 已确认: rep confirmed; prices locked, stock reserved
    SHIPPED = "shipped"  # 已发货: a waybill number is attached
    DELIVERED = "delivered"  # 已签收: carrier or customer reports receipt
    CLOSED = "closed"  # 已完成: paid and invoiced, or closed by a manager
    CANCELLED = "cancelled"  # 已取消

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.DRAFT: "待补全",
    OrderStatus.PENDING: "待确认",
    OrderStatus.ON_HOLD: "异常挂起",
    OrderStatus.CONFIRMED: "已确认",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.DELIVERED: "已签收",
    OrderStatus.CLOSED: "已完成",
    OrderStatus.CANCELLED: "已取消",
}

TERMINAL_STATUSES = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED})
# Before shipping a customer may still cancel or change the order.
ORDER_EDITABLE_STATUSES = frozenset(
    {OrderStatus.DRAFT, OrderStatus.PENDING, OrderStatus.ON_HOLD, OrderStatus.CONFIRMED}
)
# Orders a rep still has to act on.
OPEN_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.ON_HOLD})


class Role(StrEnum):
    CUSTOMER = "customer"  # own orders only
    REP = "rep"  # assigned orders
    MANAGER = "manager"  # everything in their region; overrides holds
    ADMIN = "admin"  # rules, catalog, users
    SYSTEM = "system"  # rules, hooks and timers acting on their own

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


class Action(StrEnum):
    SUBMIT = "submit"  # customer confirms a complete draft
    HOLD = "hold"  # a rule blocks the order
    RELEASE = "release"  # a manager overrides the hold
    CONFIRM = "confirm"  # rep confirms (确认)
    REJECT = "reject"  # rep declines (拒绝)
    EDIT = "edit"  # change quantities, delivery date, address (修改)
    REASSIGN = "reassign"  # hand to another rep (转交)
    SHIP = "ship"  # waybill attached
    DELIVER = "deliver"  # receipt reported
    CLOSE = "close"  # paid and invoiced, or closed by a manager
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        """The word reps and customers see (the buttons and commands say the same)."""
        return ACTION_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.CUSTOMER: "客户", Role.REP: "业务员", Role.MANAGER: "经理", Role.ADMIN: "管理员",
    Role.SYSTEM: "系统",
}
ACTION_LABELS: dict[Action, str] = {
    Action.SUBMIT: "提交", Action.HOLD: "挂起", Action.RELEASE: "放行", Action.CONFIRM: "确认",
    Action.REJECT: "拒绝", Action.EDIT: "修改", Action.REASSIGN: "转交", Action.SHIP: "发货",
    Action.DELIVER: "签收", Action.CLOSE: "关闭", Action.CANCEL: "取消",
}


@dataclass(frozen=True)
class Transition:
    to: OrderStatus
    roles: frozenset[Role]


def _t(to: OrderStatus, *roles: Role) -> Transition:
    return Transition(to, frozenset(roles))


S, A, R = OrderStatus, Action, Role
_STAFF = (R.REP, R.MANAGER, R.ADMIN)

TRANSITIONS: dict[tuple[OrderStatus, Action], Transition] = {
    (S.DRAFT, A.SUBMIT): _t(S.PENDING, R.CUSTOMER, *_STAFF, R.SYSTEM),
    (S.DRAFT, A.EDIT): _t(S.DRAFT, R.CUSTOMER, *_STAFF),
    (S.DRAFT, A.CANCEL): _t(S.CANCELLED, R.CUSTOMER, *_STAFF, R.SYSTEM),
    (S.PENDING, A.CONFIRM): _t(S.CONFIRMED, R.REP, R.MANAGER, R.ADMIN),
    (S.PENDING, A.REJECT): _t(S.CANCELLED, R.REP, R.MANAGER, R.ADMIN),
    (S.PENDING, A.HOLD): _t(S.ON_HOLD, R.SYSTEM, R.MANAGER, R.ADMIN),
    (S.PENDING, A.EDIT): _t(S.PENDING, R.CUSTOMER, *_STAFF),
    (S.PENDING, A.REASSIGN): _t(S.PENDING, *_STAFF, R.SYSTEM),
    (S.PENDING, A.CANCEL): _t(S.CANCELLED, R.CUSTOMER, *_STAFF),
    (S.ON_HOLD, A.RELEASE): _t(S.PENDING, R.MANAGER, R.ADMIN),
    (S.ON_HOLD, A.EDIT): _t(S.ON_HOLD, *_STAFF),
    (S.ON_HOLD, A.REASSIGN): _t(S.ON_HOLD, R.MANAGER, R.ADMIN, R.SYSTEM),
    (S.ON_HOLD, A.CANCEL): _t(S.CANCELLED, R.CUSTOMER, *_STAFF),
    (S.CONFIRMED, A.HOLD): _t(S.ON_HOLD, R.SYSTEM, R.MANAGER, R.ADMIN),
    (S.CONFIRMED, A.EDIT): _t(S.CONFIRMED, *_STAFF),
    (S.CONFIRMED, A.REASSIGN): _t(S.CONFIRMED, R.MANAGER, R.ADMIN),
    (S.CONFIRMED, A.SHIP): _t(S.SHIPPED, *_STAFF, R.SYSTEM),
    (S.CONFIRMED, A.CANCEL): _t(S.CANCELLED, R.CUSTOMER, *_STAFF),
    (S.CONFIRMED, A.CLOSE): _t(S.CLOSED, R.MANAGER, R.ADMIN),
    (S.SHIPPED, A.SHIP): _t(S.SHIPPED, *_STAFF, R.SYSTEM),  # a corrected or extra waybill
    (S.SHIPPED, A.DELIVER): _t(S.DELIVERED, R.CUSTOMER, *_STAFF, R.SYSTEM),
    (S.SHIPPED, A.CLOSE): _t(S.CLOSED, R.MANAGER, R.ADMIN),
    (S.SHIPPED, A.CANCEL): _t(S.CANCELLED, R.MANAGER, R.ADMIN),  # lost in transit, written off
    (S.DELIVERED, A.CLOSE): _t(S.CLOSED, R.MANAGER, R.ADMIN, R.SYSTEM),
}


class TransitionError(Exception):
    """An action that the table does not allow; `code` is stable for APIs and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def next_status(status: OrderStatus, action: Action, role: Role) -> OrderStatus:
    """The state `action` leads to, or TransitionError (illegal_transition / role_forbidden)."""
    transition = TRANSITIONS.get((OrderStatus(status), Action(action)))
    if transition is None:
        raise TransitionError(
            "illegal_transition",
            f"订单状态为「{OrderStatus(status).label}」，不能{Action(action).label}",
        )
    if Role(role) not in transition.roles:
        raise TransitionError(
            "role_forbidden",
            f"{Role(role).label}无权{Action(action).label}「{OrderStatus(status).label}」的订单",
        )
    return transition.to


def allowed_actions(status: OrderStatus, role: Role) -> list[Action]:
    """Actions `role` may take on an order in `status` (for buttons and help texts)."""
    return [a for (s, a), t in TRANSITIONS.items() if s == status and role in t.roles]


# The actions a person takes from an order card, in the order the buttons show them
# (submit, ship, deliver and close come from customers, carriers and timers, not cards).
CARD_ACTIONS: tuple[Action, ...] = (
    Action.CONFIRM, Action.RELEASE, Action.EDIT, Action.REASSIGN, Action.REJECT, Action.CANCEL,
)


class _HasStatus(Protocol):
    status: str


def buttons_for(order: _HasStatus, role: Role = Role.REP) -> list[Action]:
    """The card's buttons: exactly the card actions the transition table lets `role` take on
    this order now — a confirmed order has no 确认, a rep's held order no 放行."""
    allowed = set(allowed_actions(OrderStatus(order.status), role))
    return [a for a in CARD_ACTIONS if a in allowed]
