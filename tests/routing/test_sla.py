"""SLA timings with a clock the test controls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orders.sla import SlaPolicy, SlaState, SlaStep, confirm_due_at, manager_for, next_step

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = SlaPolicy(remind_after_minutes=30, escalate_after_minutes=120,
                   rush_remind_after_minutes=10, rush_escalate_after_minutes=30)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def state(rush: bool = False, reminded: bool = False, escalated: bool = False) -> SlaState:
    return SlaState(assigned_at=T0, rush=rush, reminded=reminded, escalated=escalated)


def test_normal_order_reminds_after_n_and_escalates_after_m() -> None:
    assert next_step(state(), POLICY, at(29.9)) is None
    assert next_step(state(), POLICY, at(30)) is SlaStep.REMIND
    assert next_step(state(reminded=True), POLICY, at(60)) is None
    assert next_step(state(reminded=True), POLICY, at(120)) is SlaStep.ESCALATE
    assert next_step(state(reminded=True, escalated=True), POLICY, at(999)) is None


def test_rush_order_has_shorter_deadlines() -> None:
    assert next_step(state(rush=True), POLICY, at(9)) is None
    assert next_step(state(rush=True), POLICY, at(10)) is SlaStep.REMIND
    assert next_step(state(rush=True, reminded=True), POLICY, at(30)) is SlaStep.ESCALATE
    assert confirm_due_at(T0, True, POLICY) < confirm_due_at(T0, False, POLICY)


def test_a_late_sweep_escalates_without_a_stale_reminder() -> None:
    assert next_step(state(), POLICY, at(500)) is SlaStep.ESCALATE
    assert next_step(state(escalated=True), POLICY, at(500)) is None


@dataclass
class Rep:
    id: int
    team: str
    active: bool = True
    is_manager: bool = False
    manager_id: int | None = None


def test_escalation_goes_to_own_manager_then_team_manager_then_any() -> None:
    boss, east_mgr, other_mgr = Rep(1, "x", is_manager=True), Rep(2, "east", is_manager=True), Rep(3, "south", is_manager=True)
    rep = Rep(4, "east", manager_id=1)
    reps = [boss, east_mgr, other_mgr, rep]
    assert manager_for(rep, reps) is boss
    boss.active = False
    assert manager_for(rep, reps) is east_mgr
    east_mgr.active = False
    assert manager_for(rep, reps) is other_mgr
    other_mgr.active = False
    assert manager_for(rep, reps) is None
