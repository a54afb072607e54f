"""Confirmation deadlines: when a pending order reminds its rep, and when it escalates.

Pure decisions over plain values and an explicit `now`, so the timings are tested with a
clock the test controls. The periodic job in `workers/sla.py` does the reading and writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class SlaPolicy:
    """How long a rep has to confirm; rush orders get the shorter pair."""

    remind_after_minutes: float = 30
    escalate_after_minutes: float = 120
    rush_remind_after_minutes: float = 10
    rush_escalate_after_minutes: float = 30
    reassign_on_escalate: bool = False

    def remind_after(self, rush: bool) -> timedelta:
        return timedelta(minutes=self.rush_remind_after_minutes if rush else self.remind_after_minutes)

    def escalate_after(self, rush: bool) -> timedelta:
        return timedelta(
            minutes=self.rush_escalate_after_minutes if rush else self.escalate_after_minutes
        )


DEFAULT_POLICY = SlaPolicy()


class SlaStep(StrEnum):
    REMIND = "remind"  # nudge the assigned rep (outbox kind notify_rep)
    ESCALATE = "escalate"  # alert the manager, maybe reassign (outbox kind alert_manager)


@dataclass(frozen=True)
class SlaState:
    """What the job knows about one pending order since its current rep got it."""

    assigned_at: datetime  # when the current rep was routed/reassigned the order
    rush: bool
    reminded: bool  # a reminder was already written for this assignment
    escalated: bool  # an escalation was already written for this assignment


def confirm_due_at(assigned_at: datetime, rush: bool, policy: SlaPolicy) -> datetime:
    """The moment the first reminder becomes due (stored on the order as confirm_due_at)."""
    return assigned_at + policy.remind_after(rush)


def next_step(state: SlaState, policy: SlaPolicy, now: datetime) -> SlaStep | None:
    """The one step due now, or None. Each step happens at most once per assignment.

    Escalation wins over a reminder not yet sent: an order found late (the job was down)
    goes straight to the manager instead of sending a stale reminder first.
    """
    waited = now - state.assigned_at
    if not state.escalated and waited >= policy.escalate_after(state.rush):
        return SlaStep.ESCALATE
    if not state.reminded and not state.escalated and waited >= policy.remind_after(state.rush):
        return SlaStep.REMIND
    return None


class RepLike(Protocol):
    id: int | None
    team: str
    active: bool
    is_manager: bool
    manager_id: int | None


R = TypeVar("R", bound=RepLike)


def manager_for(rep: R | None, reps: Sequence[R], team: str | None = None) -> R | None:
    """Whom to escalate to: the rep's own manager, else an active manager of the team,
    else any active manager."""
    by_id = {r.id: r for r in reps}
    if rep is not None and rep.manager_id is not None:
        boss = by_id.get(rep.manager_id)
        if boss is not None and boss.active:
            return boss
    team = team or (rep.team if rep is not None else None)
    managers = sorted((r for r in reps if r.is_manager and r.active), key=lambda r: r.id or 0)
    in_team = [m for m in managers if m.team == team and (rep is None or m.id != rep.id)]
    if in_team:
        return in_team[0]
    others = [m for m in managers if rep is None or m.id != rep.id]
    return others[0] if others else None
