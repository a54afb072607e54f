"""Desk metrics and board buckets from plain event rows: the numbers a manager reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from orders.desk_buckets import Bucket, OrderFacts, classify
from orders.desk_metrics import compute, human_duration

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in China


@dataclass
class Ev:
    order_id: int
    type: str
    actor_kind: str
    at: dt.datetime
    actor_id: str | None = None
    to_status: str | None = None


def m(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def events() -> list[Ev]:
    return [
        # 1: placed, confirmed by the rep after 20 min, shipped by the WMS hook, delivered
        Ev(1, "created", "customer", m(0)), Ev(1, "submitted", "customer", m(1)),
        Ev(1, "confirmed", "rep", m(21), "zhangsan", "confirmed"),
        Ev(1, "shipped", "system", m(200), "hook:wms", "shipped"),
        Ev(1, "delivered", "system", m(2000), "hook:wms", "delivered"),
        # 2: held at once, released by a manager after 60 min, edited and confirmed
        Ev(2, "created", "customer", m(0)), Ev(2, "submitted", "customer", m(2)),
        Ev(2, "held", "system", m(2), "rule:stock", "on_hold"),
        Ev(2, "released", "manager", m(62), "boss", "pending"),
        Ev(2, "edited", "rep", m(70), "zhangsan", "pending"),
        Ev(2, "confirmed", "rep", m(102), "zhangsan", "confirmed"),
        Ev(2, "escalated", "system", m(100), "timer:sla"),
        # 3: held, cancelled by a manager after 30 min
        Ev(3, "created", "customer", m(0)), Ev(3, "submitted", "customer", m(5)),
        Ev(3, "held", "system", m(5), "rule:credit", "on_hold"),
        Ev(3, "cancelled", "manager", m(35), "boss", "cancelled"),
        # 4: a draft never placed: not counted anywhere
        Ev(4, "created", "customer", m(0)), Ev(4, "edited", "customer", m(3)),
    ]


def test_the_headline_numbers_follow_from_the_events() -> None:
    # order 1's WMS said delivered, but a person closed it since: status disagrees? no — it is
    # still delivered; order 2 had no external event.
    res = compute(events(), current_status={1: "delivered", 2: "confirmed", 3: "cancelled"},
                  order_rep={1: 7, 2: 7, 3: 8})
    assert res.placed == 3
    assert res.interception_rate == 2 / 3
    assert res.response_median == 45 * 60  # holds answered after 60 and 30 minutes
    assert res.confirmation_median == (20 * 60 + 100 * 60) / 2  # 20 and 100 minutes
    assert res.touches_per_order == 5 / 3  # rep confirm ×2, release, edit, cancel
    assert res.state_accuracy == 1.0
    assert res.stage_medians()["shipped→delivered"] == 1800 * 60
    assert res.reps[7].sla_breaches == 1 and res.reps[7].confirmation_median == 60 * 60


def test_state_accuracy_drops_when_the_hub_disagrees_with_the_last_external_status() -> None:
    res = compute(events(), current_status={1: "shipped"})
    assert (res.with_external, res.external_agree, res.state_accuracy) == (1, 0, 0.0)


def test_the_window_counts_orders_placed_since_and_days_are_china_days() -> None:
    res = compute(events(), since=m(3))
    assert res.placed == 1  # only order 3 was placed at or after minute 3
    day = dt.date(2026, 3, 2)
    series = res.day_series(day - dt.timedelta(days=1), day)
    assert [d.placed for d in series] == [0, 1] and series[1].held == 1
    late = [Ev(9, "submitted", "customer", dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC))]  # 01:00 on 3 March
    assert list(compute(late).days) == [dt.date(2026, 3, 3)]


def test_no_orders_means_no_numbers_rather_than_zero() -> None:
    res = compute([])
    assert res.interception_rate is None and res.confirmation_median is None
    assert human_duration(None) == "—" and human_duration(90 * 60) == "1.5 小时"


NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 2)


def facts(status: str, **kw) -> OrderFacts:
    return OrderFacts(status=status, updated_at=kw.pop("updated_at", NOW), **kw)


def test_buckets_red_for_holds_sla_breaches_and_missed_delivery_dates() -> None:
    assert classify(facts("on_hold"), NOW, TODAY)[0] is Bucket.RED
    late_pending = facts("pending", confirm_due_at=NOW - dt.timedelta(minutes=91))
    assert classify(late_pending, NOW, TODAY) == (Bucket.RED, ["确认超时（SLA）"])
    assert classify(facts("pending", escalated=True), NOW, TODAY)[0] is Bucket.RED
    missed = facts("confirmed", delivery_date=TODAY - dt.timedelta(days=1))
    assert classify(missed, NOW, TODAY) == (Bucket.RED, ["已过交货日期"])


def test_buckets_yellow_for_reminders_due_short_stock_and_long_transit() -> None:
    reminded = facts("pending", confirm_due_at=NOW - dt.timedelta(minutes=5))
    assert classify(reminded, NOW, TODAY) == (Bucket.YELLOW, ["待确认已过提醒时间"])
    assert classify(facts("confirmed", short_stock=True), NOW, TODAY)[0] is Bucket.YELLOW
    assert classify(facts("shipped", short_stock=True), NOW, TODAY)[0] is Bucket.GREEN  # already out
    transit = facts("shipped", updated_at=NOW - dt.timedelta(hours=49))
    assert classify(transit, NOW, TODAY) == (Bucket.YELLOW, ["运输超过48小时"])


def test_buckets_green_when_on_track() -> None:
    on_time = facts("pending", confirm_due_at=NOW + dt.timedelta(minutes=5),
                    delivery_date=TODAY, updated_at=NOW - dt.timedelta(hours=1))
    assert classify(on_time, NOW, TODAY) == (Bucket.GREEN, [])
    assert classify(facts("shipped", updated_at=NOW - dt.timedelta(hours=47)), NOW, TODAY)[0] is Bucket.GREEN


def test_stored_metrics_read_back_with_the_same_figures() -> None:
    """The board's snapshot row: every figure shown survives the round trip through JSON."""
    import json

    from orders.desk_metrics import HoldSpan, OrderSummary, from_stored, from_summaries, to_stored

    t0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    summaries = [
        OrderSummary(i, "confirmed", 1 + i % 2, t0, t0 + dt.timedelta(minutes=i), t0 + dt.timedelta(minutes=10 * i + 5),
                     None, None, i % 3 == 0, i % 4, i % 5 == 0, "confirmed" if i % 2 else None)
        for i in range(1, 12)
    ]
    holds = [HoldSpan(3, t0, t0 + dt.timedelta(minutes=17)), HoldSpan(6, t0, t0 + dt.timedelta(minutes=40))]
    m = from_summaries(summaries, holds)
    back = from_stored(json.loads(json.dumps(to_stored(m))))
    assert back.summary() == m.summary()
    day = dt.date(2026, 3, 2)
    assert [(d.placed, d.held, d.confirmation_median, d.response_median, d.touches_per_order)
            for d in back.day_series(day, day)] == [
        (d.placed, d.held, d.confirmation_median, d.response_median, d.touches_per_order) for d in m.day_series(day, day)]
    assert {r: (v.confirmation_median, v.sla_breaches) for r, v in back.reps.items()} == {
        r: (v.confirmation_median, v.sla_breaches) for r, v in m.reps.items()}
