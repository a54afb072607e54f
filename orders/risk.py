"""The hold (risk) table: which facts about an order put it on hold. Pure decisions.

The hub gathers the facts the enabled rules need (orders/checks.py `risk_facts`), then
`evaluate` returns one Hit per rule that fires; each becomes a `risk_hit` event naming the
rule and a count in /metrics (orderbot_risk_hits_total). Rule kinds:

- credit_limit: open receivables + this order above the customer's limit × (1 + margin);
- stock_short: not enough on hand for this order;
- safety_stock: what is left after this order falls below the product's safety_stock;
- rush_unmeetable: a rush order whose delivery date is before the earliest we can deliver
  (today + lead_days in China; one day later after cutoff_hour);
- parcel_locker: the address is a parcel locker / pickup point and the total ≥ min_amount;
- order_rate: more than max_orders orders within window_minutes per customer, phone or ip;
- return_rate: the phone's returned share of its orders above max_rate (min_orders first);
- first_order: a new customer's first order at or above min_amount;
- overdue: the customer owes a receivable more than max_days past its due date.

`hold_sla` is the response timer of a held order: remind the manager, then escalate.
The same file carries the desk's other settings: `duplicates` (orders/duplicates.py),
`late_orders` (orders/late.py) and `overdue_alerts` (orders/overdue.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orders.duplicates import DuplicateRules
from orders.late import LateOrderRules
from orders.overdue import OverdueAlertRules
from orders.sla import SlaPolicy


class RiskKind(StrEnum):
    CREDIT_LIMIT = "credit_limit"
    STOCK_SHORT = "stock_short"
    SAFETY_STOCK = "safety_stock"
    RUSH_UNMEETABLE = "rush_unmeetable"
    PARCEL_LOCKER = "parcel_locker"
    ORDER_RATE = "order_rate"
    RETURN_RATE = "return_rate"
    FIRST_ORDER = "first_order"
    OVERDUE = "overdue"


class RatePer(StrEnum):
    CUSTOMER = "customer"
    PHONE = "phone"
    IP = "ip"


LOCKER_WORDS = ("代收点", "驿站", "快递柜", "丰巢", "自提柜")


class RiskRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: RiskKind
    enabled: bool = True
    description: str = ""
    margin: Decimal = Field(Decimal(0), ge=0)  # credit_limit: 0.1 allows 10 % over the limit
    lead_days: int = Field(1, ge=0)  # rush_unmeetable
    cutoff_hour: int = Field(16, ge=0, le=24)  # rush_unmeetable, China time
    min_amount: Decimal = Field(Decimal(0), ge=0)  # parcel_locker, first_order
    keywords: tuple[str, ...] = LOCKER_WORDS  # parcel_locker
    per: RatePer = RatePer.CUSTOMER  # order_rate
    max_orders: int = Field(5, ge=1)  # order_rate: more than this many → hold
    window_minutes: int = Field(60, ge=1)
    max_rate: Decimal = Field(Decimal("0.3"), ge=0, le=1)  # return_rate
    min_orders: int = Field(3, ge=1)  # return_rate: the rate is read only after this many
    max_days: int = Field(30, ge=0)  # overdue


class HoldSla(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    remind_after_minutes: float = Field(30, gt=0)
    escalate_after_minutes: float = Field(120, gt=0)

    @model_validator(mode="after")
    def _order(self) -> HoldSla:
        if self.escalate_after_minutes < self.remind_after_minutes:
            raise ValueError("escalate_after_minutes must not be before remind_after_minutes")
        return self

    def policy(self) -> SlaPolicy:
        """As a confirmation SLA policy (held orders have no rush pair: same timings)."""
        r, e = self.remind_after_minutes, self.escalate_after_minutes
        return SlaPolicy(r, e, r, e)


class RiskTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = "unversioned"
    rules: tuple[RiskRule, ...] = ()
    hold_sla: HoldSla = HoldSla()
    # Not holds, but the same desk's settings (issue 14 parts 4 and 6, overdue alerts):
    duplicates: DuplicateRules = DuplicateRules()  # orders/duplicates.py: the rep's 重复订单提醒
    late_orders: LateOrderRules = LateOrderRules()  # orders/late.py, workers/late_orders.py
    overdue_alerts: OverdueAlertRules = OverdueAlertRules()  # orders/overdue.py, workers/overdue_alerts.py

    @model_validator(mode="after")
    def _unique_ids(self) -> RiskTable:
        ids = [r.id for r in self.rules]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup is not None:
            raise ValueError(f"rule id {dup!r} appears twice")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskTable:
        return cls.model_validate(data)

    def active(self) -> list[RiskRule]:
        return [r for r in self.rules if r.enabled]

    def kinds(self) -> frozenset[RiskKind]:
        return frozenset(r.kind for r in self.active())


# Without a configured table the hub holds as it always did: credit and stock.
DEFAULT_TABLE = RiskTable(
    version="built-in",
    rules=(RiskRule(id="credit", kind=RiskKind.CREDIT_LIMIT), RiskRule(id="stock", kind=RiskKind.STOCK_SHORT)),
)


@dataclass(frozen=True)
class StockFact:
    on_hand: int
    needed: int
    safety: int


@dataclass
class RiskFacts:
    """What the rules look at; the hub fills only what the enabled kinds need."""

    total: Decimal
    now: dt.datetime  # UTC
    today: dt.date  # in China
    rush: bool = False
    delivery_date: dt.date | None = None
    address: str = ""
    credit_limit: Decimal = Decimal(0)
    open_receivable: Decimal = Decimal(0)  # other unpaid orders less payments and prepaid balance
    stock: Mapping[str, StockFact] = field(default_factory=dict)
    recent_orders: Mapping[tuple[RatePer, int], int] = field(default_factory=dict)  # incl. this one
    phone_orders: int = 0
    phone_returns: int = 0
    earlier_orders: int = 0  # the customer's orders before this one (not drafts or cancelled)
    max_overdue_days: int = 0


@dataclass(frozen=True)
class Hit:
    rule_id: str
    kind: str
    reason: str  # Chinese, shown to the manager


def _credit(rule: RiskRule, f: RiskFacts) -> str | None:
    if f.credit_limit <= 0:
        return None
    allowed = f.credit_limit * (1 + rule.margin)
    if f.open_receivable + f.total <= allowed:
        return None
    margin = f"（含 {rule.margin:%} 宽限）" if rule.margin else ""
    return (f"信用超限：未结应收 {f.open_receivable:.2f} 元 + 本单 {f.total:.2f} 元，"
            f"超过额度 {f.credit_limit:.2f} 元{margin}")


def _stock(rule: RiskRule, f: RiskFacts) -> str | None:
    short = {sku: s for sku, s in sorted(f.stock.items()) if s.on_hand < s.needed}
    if not short:
        return None
    return "库存不足：" + "；".join(f"{sku} 库存 {s.on_hand}，需要 {s.needed}" for sku, s in short.items())


def _safety(rule: RiskRule, f: RiskFacts) -> str | None:
    low = {sku: s for sku, s in sorted(f.stock.items())
           if s.safety > 0 and s.on_hand >= s.needed and s.on_hand - s.needed < s.safety}
    if not low:
        return None
    return "低于安全库存：" + "；".join(
        f"{sku} 下单后剩 {s.on_hand - s.needed}，安全库存 {s.safety}" for sku, s in low.items())


def earliest_delivery(rule: RiskRule, now_china: dt.datetime) -> dt.date:
    extra = 1 if now_china.hour >= rule.cutoff_hour else 0
    return now_china.date() + dt.timedelta(days=rule.lead_days + extra)


def _rush(rule: RiskRule, f: RiskFacts) -> str | None:
    if not f.rush or f.delivery_date is None:
        return None
    china = f.now.astimezone(dt.timezone(dt.timedelta(hours=8)))
    earliest = earliest_delivery(rule, china)
    if f.delivery_date >= earliest:
        return None
    return f"加急交期 {f.delivery_date.isoformat()} 赶不上：最早 {earliest.isoformat()} 能送到"


def _locker(rule: RiskRule, f: RiskFacts) -> str | None:
    word = next((w for w in rule.keywords if w in f.address), None)
    if word is None or f.total < rule.min_amount:
        return None
    return f"收货地址是{word}，金额 {f.total:.2f} 元（≥ {rule.min_amount:.2f} 元）"


def _rate(rule: RiskRule, f: RiskFacts) -> str | None:
    n = f.recent_orders.get((rule.per, rule.window_minutes), 0)
    if n <= rule.max_orders:
        return None
    who = {RatePer.CUSTOMER: "同一客户", RatePer.PHONE: "同一电话", RatePer.IP: "同一IP"}[rule.per]
    return f"{who} {rule.window_minutes} 分钟内下单 {n} 次（上限 {rule.max_orders}）"


def _returns(rule: RiskRule, f: RiskFacts) -> str | None:
    if f.phone_orders < rule.min_orders or f.phone_orders == 0:
        return None
    rate = Decimal(f.phone_returns) / Decimal(f.phone_orders)
    if rate <= rule.max_rate:
        return None
    return f"该电话退货率高：{f.phone_orders} 单退 {f.phone_returns} 单（{rate:.0%}）"


def _first(rule: RiskRule, f: RiskFacts) -> str | None:
    if f.earlier_orders > 0 or f.total < rule.min_amount:
        return None
    return f"新客户首单金额 {f.total:.2f} 元（≥ {rule.min_amount:.2f} 元）"


def _overdue(rule: RiskRule, f: RiskFacts) -> str | None:
    if f.max_overdue_days <= rule.max_days:
        return None
    return f"有应收款逾期 {f.max_overdue_days} 天（上限 {rule.max_days} 天）"


CHECKS: dict[RiskKind, Callable[[RiskRule, RiskFacts], str | None]] = {
    RiskKind.CREDIT_LIMIT: _credit, RiskKind.STOCK_SHORT: _stock, RiskKind.SAFETY_STOCK: _safety,
    RiskKind.RUSH_UNMEETABLE: _rush, RiskKind.PARCEL_LOCKER: _locker, RiskKind.ORDER_RATE: _rate,
    RiskKind.RETURN_RATE: _returns, RiskKind.FIRST_ORDER: _first, RiskKind.OVERDUE: _overdue,
}


def evaluate(table: RiskTable, facts: RiskFacts) -> list[Hit]:
    """Every enabled rule that fires, in file order."""
    hits = []
    for rule in table.active():
        reason = CHECKS[rule.kind](rule, facts)
        if reason:
            hits.append(Hit(rule.id, rule.kind.value, reason))
    return hits


# Counting hits in /metrics without the domain importing the metrics library: orderbot
# registers a listener (orderbot/metrics.py); tests may add their own.
_listeners: list[Callable[[Hit], None]] = []


def on_hit(listener: Callable[[Hit], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def report(hits: list[Hit]) -> None:
    for hit in hits:
        for listener in _listeners:
            listener(hit)
