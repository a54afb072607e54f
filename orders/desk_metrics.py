"""How well orders flow through the desk, computed from the order event log alone.

Pure functions: `summarize` defines, from event rows (anything with the attributes of
`EventRow`, grouped by order, oldest first), one `OrderSummary` per order and its hold
spans; `from_summaries` turns those into the numbers. orderbot/desk_report.py has the
database compute the same summaries in one aggregate query (a million events never reach
Python), and a test holds the two definitions equal.

Measures (over the orders placed — first `submitted` — in the window):
* state accuracy: share of orders an external system (actor "hook:…") reported on whose
  current status is still the status that system last moved it to;
* exception response time: from each hold to the release or cancellation that follows it;
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
from typing import Any, Protocol

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
class _Flow:
    """Counts and times shared by the whole window and each of its days."""

    placed: int = 0
    held: int = 0
    touches: int = 0
    confirmation_seconds: list[float] = field(default_factory=list)
    response_seconds: list[float] = field(default_factory=list)

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
class DayMetrics(_Flow):
    """One China-calendar day (by the day orders were placed)."""

    day: dt.date = dt.date.min


@dataclass
class RepMetrics:
    confirmation_seconds: list[float] = field(default_factory=list)
    sla_breaches: int = 0

    @property
    def confirmation_median(self) -> float | None:
        return _median(self.confirmation_seconds)


@dataclass
class DeskMetrics(_Flow):
    with_external: int = 0
    external_agree: int = 0
    stage_seconds: dict[str, list[float]] = field(default_factory=lambda: {s[0]: [] for s in STAGES})
    days: dict[dt.date, DayMetrics] = field(default_factory=dict)
    reps: dict[int, RepMetrics] = field(default_factory=lambda: defaultdict(RepMetrics))

    @property
    def state_accuracy(self) -> float | None:
        return self.external_agree / self.with_external if self.with_external else None

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
            out.append(self.days.get(day) or DayMetrics(day=day))
            day += dt.timedelta(days=1)
        return out


def _median(values: list[float]) -> float | None:
    return float(median(values)) if values else None


_CHINA = dt.timedelta(hours=8)


def china_day(at: dt.datetime) -> dt.date:
    """The China calendar day of a UTC time (naive = UTC, as SQLite returns it)."""
    offset = at.utcoffset()
    if offset is None or not offset:  # the common case, and 100,000 times per report: no astimezone
        return (at + _CHINA).date()
    return at.astimezone(SHANGHAI).date()


def _seconds(a: dt.datetime, b: dt.datetime) -> float:
    if (a.tzinfo is None) != (b.tzinfo is None):  # SQLite hands back naive UTC
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (b - a).total_seconds()


@dataclass
class OrderSummary:
    """One placed order as the metrics need it (the SQL in orderbot/desk_report.py yields
    the same fields straight from the database, one row per order)."""

    order_id: int
    status: str | None
    rep_id: int | None
    created_at: dt.datetime | None
    placed_at: dt.datetime | None  # first `submitted`
    confirmed_at: dt.datetime | None  # first `confirmed`
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    held: bool  # held at least once
    touches: int  # events by people
    escalations: int  # SLA escalations
    last_external: str | None  # to_status of the last event by an external system ("hook:…")


@dataclass(frozen=True)
class HoldSpan:
    """One hold and the release or cancellation that followed it (None: still open)."""

    order_id: int
    held_at: dt.datetime
    ended_at: dt.datetime | None


class HoldRow(Protocol):
    order_id: int
    type: str
    at: dt.datetime


def hold_spans(rows: Iterable[HoldRow]) -> list[HoldSpan]:
    """Holds paired with the next release or cancellation of the same order, from the
    held / released / cancelled events grouped by order, oldest first."""
    spans = []
    for order_id, group in groupby(rows, key=lambda e: e.order_id):
        evs = list(group)
        for i, e in enumerate(evs):
            if e.type == "held":
                end = next((x.at for x in evs[i + 1:] if x.type in HOLD_ENDS), None)
                spans.append(HoldSpan(order_id, e.at, end))
    return spans


def summarize(
    events: Iterable[EventRow],
    *,
    current_status: Mapping[int, str] | None = None,
    order_rep: Mapping[int, int | None] | None = None,
) -> tuple[list[OrderSummary], list[HoldSpan]]:
    """The reference definition: event rows (grouped by order, oldest first) → summaries and
    hold spans. Each hold is answered by the next release or cancellation of that order."""
    current_status = current_status or {}
    order_rep = order_rep or {}
    summaries, holds = [], []
    for order_id, group in groupby(events, key=lambda e: e.order_id):
        evs = list(group)
        first: dict[str, dt.datetime] = {}
        for e in evs:
            first.setdefault(e.type, e.at)
        last_external = None
        for e in evs:
            if (e.actor_id or "").startswith("hook:") and e.to_status:
                last_external = e.to_status
        holds += hold_spans(e for e in evs if e.type == "held" or e.type in HOLD_ENDS)
        summaries.append(OrderSummary(
            order_id, current_status.get(order_id), order_rep.get(order_id), first.get("created"),
            first.get("submitted"), first.get("confirmed"), first.get("shipped"), first.get("delivered"),
            "held" in first, sum(1 for e in evs if e.actor_kind in PEOPLE),
            sum(1 for e in evs if e.type == "escalated"), last_external,
        ))
    return summaries, holds


def compute(
    events: Iterable[EventRow],
    *,
    current_status: Mapping[int, str] | None = None,
    order_rep: Mapping[int, int | None] | None = None,
    since: dt.datetime | None = None,
) -> DeskMetrics:
    """The desk metrics of the orders placed at or after `since` (all when None), from events.

    `current_status` (order id → status) enables state accuracy; `order_rep` (order id →
    rep id) the per-rep figures. Orders never placed (drafts) are left out entirely.
    """
    summaries, holds = summarize(events, current_status=current_status, order_rep=order_rep)
    return from_summaries(summaries, holds, since=since)


def from_summaries(
    summaries: Iterable[OrderSummary | Any], holds: Iterable[HoldSpan], *, since: dt.datetime | None = None
) -> DeskMetrics:
    m = DeskMetrics()
    placed_day: dict[int, DayMetrics] = {}
    for o in summaries:
        if o.placed_at is None or (since is not None and _seconds(since, o.placed_at) < 0):
            continue
        placed_on = china_day(o.placed_at)
        day = m.days.setdefault(placed_on, DayMetrics(day=placed_on))
        placed_day[o.order_id] = day
        m.placed += 1
        day.placed += 1
        m.touches += o.touches
        day.touches += o.touches
        if o.held:
            m.held += 1
            day.held += 1
        if o.rep_id is not None and o.escalations:
            m.reps[o.rep_id].sla_breaches += o.escalations
        if o.last_external is not None and o.status is not None:
            m.with_external += 1
            m.external_agree += o.status == o.last_external
        if o.confirmed_at is not None:
            seconds = _seconds(o.placed_at, o.confirmed_at)
            m.confirmation_seconds.append(seconds)
            day.confirmation_seconds.append(seconds)
            if o.rep_id is not None:
                m.reps[o.rep_id].confirmation_seconds.append(seconds)
        times = {"created": o.created_at, "submitted": o.placed_at, "confirmed": o.confirmed_at,
                 "shipped": o.shipped_at, "delivered": o.delivered_at}  # rows with these names do too
        for name, start, end in STAGES:
            if times[start] is not None and times[end] is not None:
                m.stage_seconds[name].append(_seconds(times[start], times[end]))
    for h in holds:
        day = placed_day.get(h.order_id)
        if day is not None and h.ended_at is not None:
            seconds = _seconds(h.held_at, h.ended_at)
            m.response_seconds.append(seconds)
            day.response_seconds.append(seconds)
    return m


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


# --- stored form: what the board shows, small enough to keep in one row ---------------------


def _flow_stored(f: _Flow) -> dict[str, Any]:
    return {"placed": f.placed, "held": f.held, "touches": f.touches,
            "confirmation": f.confirmation_median, "response": f.response_median}


def _one(value: float | None) -> list[float]:
    """A median kept as a one-value list: its median is itself, so every figure reads the same."""
    return [] if value is None else [value]


def _flow_values(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"placed": int(d["placed"]), "held": int(d["held"]), "touches": int(d["touches"]),
            "confirmation_seconds": _one(d.get("confirmation")), "response_seconds": _one(d.get("response"))}


def to_stored(m: DeskMetrics) -> dict[str, Any]:
    """The metrics as JSON: counts kept, each list of durations kept as its median (all the
    board, /metrics and the report read of them), so `from_stored` gives the same figures."""
    return {
        **_flow_stored(m), "with_external": m.with_external, "external_agree": m.external_agree,
        "stages": m.stage_medians(),
        "days": {d.isoformat(): _flow_stored(day) for d, day in m.days.items()},
        "reps": {str(r): [rm.confirmation_median, rm.sla_breaches] for r, rm in m.reps.items()},
    }


def from_stored(data: Mapping[str, Any]) -> DeskMetrics:
    m = DeskMetrics(**_flow_values(data), with_external=int(data["with_external"]),
                    external_agree=int(data["external_agree"]))
    m.stage_seconds = {name: _one(data["stages"].get(name)) for name, _, _ in STAGES}
    for iso, d in data["days"].items():
        day = dt.date.fromisoformat(iso)
        m.days[day] = DayMetrics(**_flow_values(d), day=day)
    for rep, (confirmation, breaches) in data["reps"].items():
        m.reps[int(rep)] = RepMetrics(_one(confirmation), int(breaches))
    return m
