"""Late orders: an order that will miss its delivery date because it has not shipped by the
cut-off before that date. Pure decisions; workers/late_orders.py scans and notifies.

An order not yet shipped (pending, on hold or confirmed) must leave the warehouse by
`cutoff_hours_before` hours before the start of its promised day (China time). Past that point it
is a *miss*: the customer gets an apology with a new date (`reschedule_days` after the later of
the promised day and today), the rep is alerted, and from the `manager_from_miss`-th miss on
(the new date missed too) also the rep's manager. Each miss is a `late_notice` event carrying the
new date, so the next miss is counted against that date and a re-scan never notifies twice.

Settings: the `late_orders` section of orderbot/risk_rules.yaml (LateOrderRules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orders.status import OrderStatus

CHINA = ZoneInfo("Asia/Shanghai")
# Not shipped yet: these can still miss their date.
WATCHED_STATUSES = (OrderStatus.PENDING.value, OrderStatus.ON_HOLD.value, OrderStatus.CONFIRMED.value)


class LateOrderRules(BaseModel):
    """When an unshipped order counts as late, and what the new date is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    cutoff_hours_before: float = Field(24, ge=0)  # must ship this long before the promised day starts
    reschedule_days: int = Field(2, ge=1)  # the new date: this many days after max(promised, today)
    manager_from_miss: int = Field(2, ge=1)  # the manager hears from this miss on
    interval_minutes: float = Field(30, gt=0)  # how often the worker scans

    @model_validator(mode="after")
    def _new_date_reachable(self) -> LateOrderRules:
        if self.reschedule_days * 24 <= self.cutoff_hours_before:
            raise ValueError("reschedule_days must leave time before the cut-off of the new date "
                             "(reschedule_days × 24 > cutoff_hours_before)")
        return self


@dataclass(frozen=True)
class Miss:
    """One missed date: the n-th for this order, the date missed and the one promised now."""

    number: int
    promised: dt.date
    new_date: dt.date
    alert_manager: bool

    def customer_text(self, order_number: str) -> str:
        return (f"非常抱歉，您的订单 {order_number} 未能按原定 {_day(self.promised)} 送达，"
                f"我们将尽快发货，新的预计送达日期为 {_day(self.new_date)}。给您带来不便，敬请谅解。")

    def history_text(self) -> str:
        """The line in the order's history (the event's reason)."""
        return f"交期延误：原定 {_day(self.promised)}，新交期 {_day(self.new_date)}"

    def rep_text(self, order_number: str, status_label: str) -> str:
        times = "" if self.number == 1 else f"（第{self.number}次延误）"
        return (f"【交期延误】订单 {order_number}{times} 赶不上交期 {_day(self.promised)}（当前：{status_label}），"
                f"已向客户致歉并告知新交期 {_day(self.new_date)}，请尽快安排发货。")


def _day(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def ship_deadline(promised: dt.date, rules: LateOrderRules) -> dt.datetime:
    """The moment (UTC) by which an order due on `promised` must have shipped."""
    start = dt.datetime.combine(promised, dt.time(0), tzinfo=CHINA)
    return (start - dt.timedelta(hours=rules.cutoff_hours_before)).astimezone(dt.UTC)


def current_promise(delivery_date: dt.date, notices: Iterable[Mapping[str, Any]]) -> tuple[dt.date, int]:
    """The date promised now and the misses so far, from the order's `late_notice` events'
    changes (oldest first): each notice's `new_date` replaces the promise."""
    promised, misses = delivery_date, 0
    for changes in notices:
        misses += 1
        new = changes.get("new_date")
        if new:
            promised = dt.date.fromisoformat(str(new))
    return promised, misses


def late_decision(
    status: str, delivery_date: dt.date | None, notices: Iterable[Mapping[str, Any]], now: dt.datetime,
    rules: LateOrderRules,
) -> Miss | None:
    """The miss to announce now, or None (not watched, no date, or still in time)."""
    if not rules.enabled or delivery_date is None or status not in WATCHED_STATUSES:
        return None
    promised, misses = current_promise(delivery_date, notices)
    if now < ship_deadline(promised, rules):
        return None
    today = now.astimezone(CHINA).date()
    new_date = max(promised, today) + dt.timedelta(days=rules.reschedule_days)
    number = misses + 1
    return Miss(number, promised, new_date, alert_manager=number >= rules.manager_from_miss)


def latest_due(now: dt.datetime, rules: LateOrderRules) -> dt.date:
    """The latest original delivery date that can be late at `now`: the scan's filter (a
    rescheduled promise is always later than the original, so this never skips one)."""
    return (now.astimezone(CHINA) + dt.timedelta(hours=rules.cutoff_hours_before)).date()
