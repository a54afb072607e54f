"""Red / yellow / green: how urgently each open order needs a manager, and why.

Pure: the board reads the facts (orders/… via board/queries.py) and asks `classify`.

* red    — on hold; confirmation SLA breached (escalated, or past the escalation time);
           delivery date missed (still not delivered after the promised day);
* yellow — pending past its reminder time; a line's product is below safety stock;
           overdue payer (the customer owes a receivable past its due date, orders/receivables.py);
           in transit for more than 48 h;
* green  — everything else still open: on track.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from orders.sla import DEFAULT_POLICY, SlaPolicy

IN_TRANSIT_LIMIT = dt.timedelta(hours=48)
# Orders the board watches: still moving. Drafts are the customer's, the rest are done.
ACTIVE_STATUSES = ("pending", "on_hold", "confirmed", "shipped")


class Bucket(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"

    @property
    def label(self) -> str:
        return {"red": "红：需要处理", "yellow": "黄：需要关注", "green": "绿：正常"}[self.value]


@dataclass(frozen=True)
class OrderFacts:
    """What classification needs of one order (times UTC)."""

    status: str
    updated_at: dt.datetime
    delivery_date: dt.date | None = None
    confirm_due_at: dt.datetime | None = None  # the reminder time of the current assignment
    rush: bool = False
    escalated: bool = False  # the SLA job escalated the current assignment
    short_stock: bool = False  # a line's product is below its safety stock
    overdue_days: int = 0  # the customer's oldest unpaid receivable is this many days past due


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def classify(
    f: OrderFacts, now: dt.datetime, today: dt.date, policy: SlaPolicy = DEFAULT_POLICY
) -> tuple[Bucket, list[str]]:
    """The bucket and the reasons (Chinese, shown on the board), most serious first."""
    red: list[str] = []
    yellow: list[str] = []
    if f.status == "on_hold":
        red.append("异常挂起")
    if f.status == "pending":
        due = _aware(f.confirm_due_at) if f.confirm_due_at else None
        gap = policy.escalate_after(f.rush) - policy.remind_after(f.rush)
        if f.escalated or (due is not None and now >= due + gap):
            red.append("确认超时（SLA）")
        elif due is not None and now >= due:
            yellow.append("待确认已过提醒时间")
    if f.delivery_date is not None and f.delivery_date < today:
        red.append("已过交货日期")
    if f.short_stock and f.status in ("pending", "on_hold", "confirmed"):
        yellow.append("库存低于安全库存")
    if f.overdue_days > 0:
        yellow.append(f"客户逾期未付款（{f.overdue_days} 天）")
    if f.status == "shipped" and now - _aware(f.updated_at) > IN_TRANSIT_LIMIT:
        yellow.append("运输超过48小时")
    if red:
        return Bucket.RED, red + yellow
    if yellow:
        return Bucket.YELLOW, yellow
    return Bucket.GREEN, []
