"""How well orders flow through the desk, computed from the order event log alone.

Pure functions over event rows (anything with the attributes of `EventRow`, e.g. a
SQLAlchemy result row), so the board, `/metrics` and `orderbot report` agree and the
numbers are tested without a database. Events must come grouped by order, oldest first
within an order (ORDER BY order_id, id).

Measures (over the orders placed — first `submitted` — in the window):
* state accuracy: share of orders an external system (actor "hook:…") reported on whose
  current status is still the status that system last moved it to;
* exception response time: from each hold to the release or cancellation that ended it;
* manual touches per order: events by people (rep, manager, admin), customers excluded;
* interception rate: orders held at least once / orders placed;
* confirmation time: placed → first confirmation;
* stage timings: created → placed → confirmed → shipped → delivered (medians).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from statistics import median
from typing import Protocol

from orders.numbering import SHANGHAI

PEOPLE = frozenset({"rep", "manager", "admin"})
HOLD_ENDS = frozenset({"released", "cancelled"})
STAGES: tuple[tuple[str, str, str], ...] = (
    ("created→placed", "created", "submitted"),
    ("placed→confirmed", "submitted", "confirmed"),
    ("confirmed→shipped", "confirmed", "shipped"),
    ("shipped→delivered", "shipped", "delivered"),
)


class EventRow(Protocol):
    order_id: int
    type: str
    actor_kind: str
    actor_id: str | None
    at: dt.datetime
    to_status: str | None


@dataclass
class DayMetrics:
    """One China-calendar day (by the day orders were placed)."""

    day: dt.date
    placed: int = 0
    held: int = 0
    confirmation_seconds: list[float] = field(default_factory=list)
    response_seconds: list[float] = field(default_factory=list)
    touches: int = 0

    @property
    def interception_rate(self) -> float | None:
        return self.held / self.placed if self.placed else None

    @property
    def confirmation_median(self) -> float | None:
        return _median(self.confirmation_seconds)

    @property
    def response_median(self) -> float | None:
        return _median(self.response_seconds)

    @property
    def touches_per_order(self) -> float | None:
        return self.touches / self.placed if self.placed else None


@dataclass
class RepMetrics:
    confirmation_seconds: list[float] = field(default_factory=list)
    sla_breaches: int = 0

    @property
    def confirmation_median(self) -> float | None:
        return _median(self.confirmation_seconds)


@dataclass
class DeskMetrics:
    placed: int = 0
    held: int = 0
    touches: int = 0
    with_external: int = 0
    external_agree: int = 0
    confirmation_seconds: list[float] = field(default_factory=list)
    response_seconds: list[float] = field(default_factory=list)
    stage_seconds: dict[str, list[float]] = field(default_factory=lambda: {s[0]: [] for s in STAGES})
    days: dict[dt.date, DayMetrics] = field(default_factory=dict)
    reps: dict[int, RepMetrics] = field(default_factory=lambda: defaultdict(RepMetrics))

    @property
    def state_accuracy(self) -> float | None:
        return self.external_agree / self.with_external if self.with_external else None

    @property
    def interception_rate(self) -> float | None:
        return self.held / self.placed if self.placed else None

    @property
    def touches_per_order(self) -> float | None:
        return self.touches / self.placed if self.placed else None

    @property
    def confirmation_median(self) -> float | None:
        return _median(self.confirmation_seconds)

    @property
    def response_median(self) -> float | None:
        return _median(self.response_seconds)

    def stage_medians(self) -> dict[str, float | None]:
        return {name: _median(v) for name, v in self.stage_seconds.items()}

    def summary(self) -> dict[str, float | None]:
        """The headline numbers (seconds for times, 0–1 for rates), for /metrics and the CLI."""
        out: dict[str, float | None] = {
            "orders_placed": float(self.placed),
            "state_accuracy": self.state_accuracy,
            "exception_response_median_seconds": self.response_median,
            "manual_touches_per_order": self.touches_per_order,
            "interception_rate": self.interception_rate,
            "confirmation_median_seconds": self.confirmation_median,
        }
        for name, value in self.stage_medians().items():
            out[f"stage_median_seconds[{name}]"] = value
        return out

    def day_series(self, since: dt.date, until: dt.date) -> list[DayMetrics]:
        """Every day from `since` to `until` inclusive, empty days included (for charts)."""
        out, day = [], since
        while day <= until:
            out.append(self.days.get(day) or DayMetrics(day))
            day += dt.timedelta(days=1)
        return out


def _median(values: list[float]) -> float | None:
    return float(median(values)) if values else None


def china_day(at: dt.datetime) -> dt.date:
    aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(SHANGHAI).date()


def _seconds(a: dt.datetime, b: dt.datetime) -> float:
    if (a.tzinfo is None) != (b.tzinfo is None):  # SQLite hands back naive UTC
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (b - a).total_seconds()


def compute(
    events: Iterable[EventRow],
    *,
    current_status: Mapping[int, str] | None = None,
    order_rep: Mapping[int, int | None] | None = None,
    since: dt.datetime | None = None,
) -> DeskMetrics:
    """The desk metrics of the orders placed at or after `since` (all orders when None).

    `current_status` (order id → status) enables state accuracy; `order_rep` (order id →
    rep id) the per-rep figures. Orders never placed (drafts) are left out entirely.
    """
    m = DeskMetrics()
    current_status = current_status or {}
    order_rep = order_rep or {}
    for order_id, group in groupby(events, key=lambda e: e.order_id):
        add_order(m, list(group), current_status.get(order_id), order_rep.get(order_id), since)
    return m


def add_order(
    m: DeskMetrics, evs: list[EventRow], status: str | None, rep_id: int | None,
    since: dt.datetime | None = None,
) -> None:
    """Fold one order's events (oldest first) into `m`: for callers streaming many orders."""
    first: dict[str, dt.datetime] = {}
    for e in evs:
        first.setdefault(e.type, e.at)
    placed_at = first.get("submitted")
    if placed_at is None or (since is not None and _seconds(since, placed_at) < 0):
        return
    day = m.days.setdefault(china_day(placed_at), DayMetrics(china_day(placed_at)))
    m.placed += 1
    day.placed += 1
    touches = sum(1 for e in evs if e.actor_kind in PEOPLE)
    m.touches += touches
    day.touches += touches

    held_at: dt.datetime | None = None
    was_held = False
    last_external: str | None = None
    for e in evs:
        if e.type == "held":
            was_held = True
            held_at = held_at or e.at
        elif e.type in HOLD_ENDS and held_at is not None:
            seconds = _seconds(held_at, e.at)
            m.response_seconds.append(seconds)
            day.response_seconds.append(seconds)
            held_at = None
        if e.type == "escalated" and rep_id is not None:
            m.reps[rep_id].sla_breaches += 1
        if (e.actor_id or "").startswith("hook:") and e.to_status:
            last_external = e.to_status
    if was_held:
        m.held += 1
        day.held += 1
    if last_external is not None and status is not None:
        m.with_external += 1
        m.external_agree += status == last_external

    confirmed_at = first.get("confirmed")
    if confirmed_at is not None:
        seconds = _seconds(placed_at, confirmed_at)
        m.confirmation_seconds.append(seconds)
        day.confirmation_seconds.append(seconds)
        if rep_id is not None:
            m.reps[rep_id].confirmation_seconds.append(seconds)
    for name, start, end in STAGES:
        if start in first and end in first:
            m.stage_seconds[name].append(_seconds(first[start], first[end]))


def human_duration(seconds: float | None) -> str:
    """"—", "45 秒", "12 分", "3.5 小时", "2.0 天": how the board and the report show times."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} 秒"
    if seconds < 3600:
        return f"{seconds / 60:.0f} 分"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86400:.1f} 天"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
