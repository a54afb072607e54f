"""Which sales rep gets an order: a pure function of the order's facts, the rule table,
the reps and their current load.

Order of precedence (DESIGN.md, "Routing"):
1. the customer's own rep, when that rep is active;
2. the first rule, by priority, whose conditions all match (province / city, amount range,
   product category, customer tier, channel, rush) and whose target has an active rep —
   a named rep, or a team spread by round robin or fewest open orders;
3. the rule table's fallback team; then any active rep.

Every decision names the rule that produced it, so the hub's "routed" event says why.
The caller passes open-order counts and the round-robin cursor, so this stays pure;
`RuleSet.from_dict` validates the rule table (the file loader lives in
orderbot/routing_rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orders.sla import SlaPolicy

OWN_REP = "own_rep"  # rule id when the customer's own rep takes the order
FALLBACK = "fallback"  # rule id when no rule matched and the fallback team took it
ANY_REP = "any_rep"  # rule id when even the fallback team had nobody active
UNROUTED = "unrouted"  # no active rep at all


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"  # next rep after the team's last assignee
    FEWEST_OPEN = "fewest_open"  # the rep with the fewest pending/on-hold orders


class SlaSpec(BaseModel):
    """Per-rule confirmation deadlines, in minutes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    remind_after_minutes: float = Field(30, gt=0)
    escalate_after_minutes: float = Field(120, gt=0)
    rush_remind_after_minutes: float = Field(10, gt=0)
    rush_escalate_after_minutes: float = Field(30, gt=0)
    reassign_on_escalate: bool = False

    @model_validator(mode="after")
    def _escalate_after_remind(self) -> SlaSpec:
        if self.escalate_after_minutes < self.remind_after_minutes:
            raise ValueError("escalate_after_minutes must not be before remind_after_minutes")
        if self.rush_escalate_after_minutes < self.rush_remind_after_minutes:
            raise ValueError("rush_escalate_after_minutes must not be before rush_remind_after_minutes")
        return self

    def policy(self) -> SlaPolicy:
        return SlaPolicy(**self.model_dump())


class Rule(BaseModel):
    """One row of the routing table. Empty condition lists match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    priority: int = 100  # lower runs first; ties keep file order
    description: str = ""
    provinces: tuple[str, ...] = ()  # 江苏省 or 江苏 (a prefix of the full name)
    cities: tuple[str, ...] = ()  # 常州市 or 常州
    min_amount: Decimal | None = None  # inclusive
    max_amount: Decimal | None = None  # exclusive
    categories: tuple[str, ...] = ()  # matches when any line is in one of them
    tiers: tuple[str, ...] = ()  # customer tier: standard / silver / gold / vip
    channels: tuple[str, ...] = ()  # wechat / miniprogram / wecom / api
    rush: bool | None = None  # only rush (true) or only non-rush (false) orders
    rep: str | None = None  # a rep's WeCom userid
    team: str | None = None
    strategy: Strategy = Strategy.ROUND_ROBIN
    sla: SlaSpec | None = None

    @model_validator(mode="after")
    def _has_target(self) -> Rule:
        if not self.rep and not self.team:
            raise ValueError(f"rule {self.id!r} names neither a rep nor a team")
        if self.min_amount is not None and self.max_amount is not None:
            if self.min_amount >= self.max_amount:
                raise ValueError(f"rule {self.id!r}: min_amount must be below max_amount")
        return self

    def matches(self, facts: OrderFacts) -> bool:
        if self.provinces and not _place_in(facts.province, self.provinces):
            return False
        if self.cities and not _place_in(facts.city, self.cities):
            return False
        if self.min_amount is not None and facts.amount < self.min_amount:
            return False
        if self.max_amount is not None and facts.amount >= self.max_amount:
            return False
        if self.categories and not set(self.categories) & set(facts.categories):
            return False
        if self.tiers and facts.tier not in self.tiers:
            return False
        if self.channels and facts.channel not in self.channels:
            return False
        return self.rush is None or self.rush == facts.rush


class RuleSet(BaseModel):
    """The whole routing table, rules sorted by priority (stable for equal priorities)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = ""
    fallback_team: str = "default"
    fallback_strategy: Strategy = Strategy.ROUND_ROBIN
    sla: SlaSpec = SlaSpec()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen or rule.id in {OWN_REP, FALLBACK, ANY_REP, UNROUTED}:
                raise ValueError(f"duplicate or reserved rule id {rule.id!r}")
            seen.add(rule.id)
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """Validate a parsed rule file; raises pydantic.ValidationError with the bad field."""
        ruleset = cls.model_validate(dict(data))
        ordered = sorted(ruleset.rules, key=lambda r: r.priority)  # sorted() is stable
        return ruleset.model_copy(update={"rules": tuple(ordered)})

    def rule(self, rule_id: str | None) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def policy_for(self, rule_id: str | None) -> SlaPolicy:
        """The SLA of the rule that routed an order, else the table's default."""
        rule = self.rule(rule_id)
        return (rule.sla if rule is not None and rule.sla is not None else self.sla).policy()


def _place_in(value: str | None, wanted: Iterable[str]) -> bool:
    """江苏 matches 江苏省, 常州 matches 常州市: rule files may use short names."""
    if not value:
        return False
    return any(value == w or value.startswith(w) for w in wanted)


@dataclass(frozen=True)
class OrderFacts:
    """What routing looks at: the order's place, size, goods and origin."""

    amount: Decimal = Decimal("0")
    province: str | None = None
    city: str | None = None
    categories: frozenset[str] = frozenset()
    tier: str = "standard"
    channel: str = "wechat"
    rush: bool = False
    own_rep_id: int | None = None  # Customer.rep_id


class RepLike(Protocol):
    """SalesRep rows, or anything shaped like them."""

    id: int | None
    wecom_userid: str
    team: str
    active: bool
    is_manager: bool


@dataclass(frozen=True)
class TeamLoad:
    """The state routing needs but does not own: open orders per rep id, and the last
    rep id each team gave an order to (the round-robin cursor)."""

    open_orders: Mapping[int, int] = field(default_factory=dict)
    last_assigned: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The chosen rep (None only when no rep is active at all) and why."""

    rep_id: int | None
    rule_id: str
    team: str | None
    sla: SlaPolicy
    reason: str

    @property
    def event_changes(self) -> dict[str, Any]:
        """What the hub's "routed" event records."""
        return {"rule": self.rule_id, "team": self.team, "rep_id": self.rep_id}


def team_members(reps: Sequence[RepLike], team: str) -> list[RepLike]:
    """Active reps of a team in a stable order; managers take orders only in a team of managers."""
    active = sorted((r for r in reps if r.team == team and r.active), key=lambda r: r.id or 0)
    workers = [r for r in active if not r.is_manager]
    return workers or active


def pick_in_team(
    members: Sequence[RepLike], strategy: Strategy, team: str, load: TeamLoad
) -> RepLike | None:
    """Spread orders inside a team. Fewest-open ties go round-robin from the cursor."""
    if not members:
        return None
    last = load.last_assigned.get(team)
    ids = [m.id or 0 for m in members]
    # Rotation: members after the last assignee first, then from the start.
    start = next((i for i, rid in enumerate(ids) if last is not None and rid > last), 0)
    rotation = list(members[start:]) + list(members[:start])
    if strategy == Strategy.FEWEST_OPEN:
        return min(rotation, key=lambda m: load.open_orders.get(m.id or 0, 0))
    return rotation[0]


def route(
    facts: OrderFacts,
    rules: RuleSet,
    reps: Sequence[RepLike],
    load: TeamLoad | None = None,
) -> Decision:
    """Choose the rep for an order. Pure: same inputs, same answer."""
    load = load or TeamLoad()
    by_id = {r.id: r for r in reps}
    default_sla = rules.sla.policy()

    own = by_id.get(facts.own_rep_id) if facts.own_rep_id is not None else None
    if own is not None and own.active:
        return Decision(own.id, OWN_REP, own.team, default_sla, f"客户专属业务员 {own.wecom_userid}")

    for rule in rules.rules:
        if not rule.matches(facts):
            continue
        sla = rules.policy_for(rule.id)
        if rule.rep:
            named = next((r for r in reps if r.wecom_userid == rule.rep and r.active), None)
            if named is not None:
                return Decision(named.id, rule.id, named.team, sla, f"规则 {rule.id} 指定 {rule.rep}")
        if rule.team:
            chosen = pick_in_team(team_members(reps, rule.team), rule.strategy, rule.team, load)
            if chosen is not None:
                return Decision(
                    chosen.id, rule.id, rule.team, sla, f"规则 {rule.id} → {rule.team} ({rule.strategy})"
                )
        # The rule matched but nobody it names is active: the next rule may still apply.

    team = rules.fallback_team
    chosen = pick_in_team(team_members(reps, team), rules.fallback_strategy, team, load)
    if chosen is not None:
        return Decision(chosen.id, FALLBACK, team, default_sla, f"无规则命中，兜底团队 {team}")
    everyone = sorted((r for r in reps if r.active), key=lambda r: r.id or 0)
    workers = [r for r in everyone if not r.is_manager] or everyone
    chosen = pick_in_team(workers, rules.fallback_strategy, "*", load)
    if chosen is not None:
        return Decision(chosen.id, ANY_REP, chosen.team, default_sla, "兜底团队无人，任一在岗业务员")
    return Decision(None, UNROUTED, None, default_sla, "没有在岗业务员")


def facts_from_order(
    order: Any, *, categories: Iterable[str] = (), tier: str = "standard", own_rep_id: int | None = None
) -> OrderFacts:
    """OrderFacts from an Order row (duck-typed: province, city, total, channel, rush)."""
    return OrderFacts(
        amount=Decimal(str(order.total or 0)),
        province=order.province,
        city=order.city,
        categories=frozenset(c for c in categories if c),
        tier=tier or "standard",
        channel=order.channel or "wechat",
        rush=bool(order.rush),
        own_rep_id=own_rep_id,
    )
