"""Routing decisions: a table of orders and the rep each one must reach, and why."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from pydantic import ValidationError

from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
from orders.routing import (
    ANY_REP,
    FALLBACK,
    OWN_REP,
    UNROUTED,
    OrderFacts,
    RuleSet,
    TeamLoad,
    route,
)


@dataclass
class Rep:
    id: int
    wecom_userid: str
    team: str
    active: bool = True
    is_manager: bool = False
    manager_id: int | None = None


REPS = [
    Rep(1, "east-mgr", "east", is_manager=True),
    Rep(2, "east-a", "east", manager_id=1),
    Rep(3, "east-b", "east", manager_id=1),
    Rep(4, "south-a", "south"),
    Rep(5, "north-a", "north"),
    Rep(6, "ka-a", "key-accounts"),
    Rep(7, "ka-b", "key-accounts"),
    Rep(8, "parts-a", "auto-parts"),
    Rep(9, "online-a", "online"),
    Rep(10, "general-a", "general"),
    Rep(11, "gone", "east", active=False),
    Rep(12, "vip-only", "vip-desk"),
]

RULES = load_rules(DEFAULT_RULES_PATH)


def facts(**kw) -> OrderFacts:
    kw.setdefault("amount", Decimal("1000"))
    kw["amount"] = Decimal(str(kw["amount"]))
    kw["categories"] = frozenset(kw.get("categories", ()))
    return OrderFacts(**kw)


# (case, facts, expected rep userid, expected rule id)
CASES = [
    ("jiangsu full name", facts(province="江苏省", city="常州市"), "east-a", "east"),
    ("shanghai municipality", facts(province="上海市", city="上海市"), "east-a", "east"),
    ("zhejiang", facts(province="浙江省"), "east-a", "east"),
    ("guangdong", facts(province="广东省", city="佛山市"), "south-a", "south"),
    ("shandong", facts(province="山东省"), "north-a", "north"),
    ("big amount beats region", facts(province="江苏省", amount=80000), "ka-a", "key-accounts"),
    ("amount just below threshold", facts(province="江苏省", amount="49999.99"), "east-a", "east"),
    ("amount exactly at threshold", facts(province="广东省", amount=50000), "ka-a", "key-accounts"),
    ("auto parts category", facts(province="江苏省", categories={"刹车片"}), "parts-a", "auto-parts"),
    ("mixed basket with one auto part", facts(categories={"螺母", "轴承"}), "parts-a", "auto-parts"),
    ("fastener category falls to region", facts(province="广东省", categories={"螺母"}), "south-a", "south"),
    ("vip tier", facts(province="广东省", tier="vip"), "ka-a", "vip"),
    ("gold tier is not vip", facts(province="广东省", tier="gold"), "south-a", "south"),
    ("miniprogram from uncovered region", facts(province="四川省", channel="miniprogram"), "online-a", "miniprogram"),
    ("wechat from uncovered region", facts(province="四川省", channel="wechat"), "general-a", FALLBACK),
    ("no address at all", facts(), "general-a", FALLBACK),
    ("own rep first", facts(province="广东省", amount=90000, own_rep_id=5), "north-a", OWN_REP),
    ("inactive own rep is skipped", facts(province="广东省", own_rep_id=11), "south-a", "south"),
    ("unknown own rep is skipped", facts(province="广东省", own_rep_id=999), "south-a", "south"),
]


@pytest.mark.parametrize(("case", "order", "rep", "rule"), CASES, ids=[c[0] for c in CASES])
def test_routing_table(case: str, order: OrderFacts, rep: str, rule: str) -> None:
    decision = route(order, RULES, REPS)
    by_id = {r.id: r.wecom_userid for r in REPS}
    assert (by_id[decision.rep_id], decision.rule_id) == (rep, rule), decision.reason
    assert decision.event_changes["rule"] == rule


def test_managers_do_not_take_orders_while_their_team_has_reps() -> None:
    # given east's active members are a manager and two reps
    seen = {route(facts(province="江苏省"), RULES, REPS, TeamLoad(last_assigned={"east": last})).rep_id
            for last in (None, 1, 2, 3)}
    # then only the two reps ever get orders
    assert seen == {2, 3}


def test_round_robin_walks_the_team_from_the_cursor() -> None:
    order = facts(province="江苏省")
    assert route(order, RULES, REPS, TeamLoad(last_assigned={"east": 2})).rep_id == 3
    assert route(order, RULES, REPS, TeamLoad(last_assigned={"east": 3})).rep_id == 2  # wraps


def test_round_robin_spreads_evenly_over_many_orders() -> None:
    counts: dict[int, int] = {}
    last: dict[str, int] = {}
    for _ in range(10):
        d = route(facts(province="江苏省"), RULES, REPS, TeamLoad(last_assigned=last))
        counts[d.rep_id] = counts.get(d.rep_id, 0) + 1
        last = {"east": d.rep_id}
    assert counts == {2: 5, 3: 5}


def test_fewest_open_picks_the_least_loaded_rep() -> None:
    big = facts(amount=100000)
    assert route(big, RULES, REPS, TeamLoad(open_orders={6: 4, 7: 1})).rep_id == 7
    assert route(big, RULES, REPS, TeamLoad(open_orders={6: 0, 7: 1})).rep_id == 6


def test_a_matching_rule_whose_team_is_empty_falls_through_to_the_next() -> None:
    reps = [r for r in REPS if r.team != "key-accounts"]
    d = route(facts(province="广东省", amount=100000), RULES, reps)
    assert (d.rep_id, d.rule_id) == (4, "south")


def test_a_rule_naming_a_rep_uses_that_rep_and_skips_when_inactive() -> None:
    rules = RuleSet.from_dict({"fallback_team": "general", "rules": [
        {"id": "changzhou", "cities": ["常州"], "rep": "vip-only"},
        {"id": "jiangsu", "provinces": ["江苏"], "team": "east"},
    ]})
    order = facts(province="江苏省", city="常州市")
    assert route(order, rules, REPS).rule_id == "changzhou"
    gone = [Rep(12, "vip-only", "vip-desk", active=False), *[r for r in REPS if r.id != 12]]
    assert route(order, rules, gone).rule_id == "jiangsu"


def test_empty_fallback_team_uses_any_active_rep_then_reports_unrouted() -> None:
    reps = [Rep(4, "south-a", "south")]
    d = route(facts(province="西藏自治区"), RULES, reps)
    assert (d.rep_id, d.rule_id) == (4, ANY_REP)
    d = route(facts(), RULES, [Rep(4, "south-a", "south", active=False)])
    assert (d.rep_id, d.rule_id) == (None, UNROUTED)


def test_priority_orders_rules_not_file_position() -> None:
    rules = RuleSet.from_dict({"rules": [
        {"id": "late", "priority": 50, "provinces": ["广东"], "team": "south"},
        {"id": "early", "priority": 5, "provinces": ["广东"], "team": "north"},
    ]})
    assert route(facts(province="广东省"), rules, REPS).rule_id == "early"


def test_rule_sla_comes_with_the_decision() -> None:
    big = route(facts(amount=100000), RULES, REPS)
    plain = route(facts(province="江苏省"), RULES, REPS)
    assert big.sla.remind_after_minutes < plain.sla.remind_after_minutes
    assert big.sla.reassign_on_escalate and not plain.sla.reassign_on_escalate


@pytest.mark.parametrize("bad", [
    {"rules": [{"id": "x"}]},  # no target
    {"rules": [{"id": "x", "team": "t"}, {"id": "x", "team": "u"}]},  # duplicate id
    {"rules": [{"id": "x", "team": "t", "min_amount": 10, "max_amount": 5}]},
    {"rules": [{"id": "x", "team": "t", "strategy": "random"}]},
    {"rules": [{"id": "x", "team": "t", "provnices": ["江苏"]}]},  # typo is an error, not ignored
    {"sla": {"remind_after_minutes": 60, "escalate_after_minutes": 10}},
])
def test_invalid_rule_tables_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        RuleSet.from_dict(bad)
