"""Overdue receivables for the managers: once a day, every order whose payment is more than
`min_days` past due (orders/receivables.py decides when it falls due) is listed to the manager
of its rep (else the managers' group robot). The hold rule `overdue` stops new orders of such a
customer; this alert is what makes someone chase the money. Pure decisions here;
workers/overdue_alerts.py gathers the receivables and sends the alerts.

Settings: the `overdue_alerts` section of orderbot/risk_rules.yaml (OverdueAlertRules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from orders.money import money

CHINA = ZoneInfo("Asia/Shanghai")
MAX_LISTED = 15  # lines in one alert; the rest are counted


class OverdueAlertRules(BaseModel):
    """Which receivables the daily alert lists, and when it goes out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_days: int = Field(0, ge=0)  # listed when more than this many whole days past due
    at_hour: int = Field(9, ge=0, le=23)  # China time; the day's alert goes out from this hour on


@dataclass(frozen=True)
class OverdueItem:
    order_id: int
    number: str
    customer: str
    outstanding: Decimal
    days: int
    manager: str  # WeCom userid of the rep's manager; "" = the managers' robot / every manager


def due_today(now: dt.datetime, rules: OverdueAlertRules, last_day: dt.date | None) -> dt.date | None:
    """The China day whose alert is due at `now`, or None (off, too early, or already sent)."""
    local = now.astimezone(CHINA)
    if not rules.enabled or local.hour < rules.at_hour:
        return None
    day = local.date()
    return None if last_day == day else day


def is_listed(days: int, outstanding: Decimal, rules: OverdueAlertRules) -> bool:
    return outstanding > 0 and days > rules.min_days


def alert_texts(items: Iterable[OverdueItem], day: dt.date) -> dict[str, str]:
    """One text per manager (userid, "" for nobody in particular), the most overdue first."""
    by_manager: dict[str, list[OverdueItem]] = {}
    for item in items:
        by_manager.setdefault(item.manager, []).append(item)
    texts = {}
    for manager, mine in by_manager.items():
        mine.sort(key=lambda i: (-i.days, -i.outstanding, i.number))
        total = sum((i.outstanding for i in mine), Decimal(0))
        lines = [f"【应收逾期】{day.month}月{day.day}日：{len(mine)} 笔逾期未收，共 {money(total)}"]
        lines += [f"{i.number} {i.customer} 欠 {money(i.outstanding)}，逾期 {i.days} 天" for i in mine[:MAX_LISTED]]
        if len(mine) > MAX_LISTED:
            lines.append(f"……另有 {len(mine) - MAX_LISTED} 笔")
        lines.append("请安排催收。")
        texts[manager] = "\n".join(lines)
    return texts
