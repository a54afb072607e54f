"""The routing table as a file that changes without a deploy (ORDERBOT_ROUTING_RULES).

`RulesFile.current()` stats the file on each call and re-reads it when its mtime or size
changed, so an edit takes effect on the next order in every process. A file that fails to
parse or validate is logged and ignored: the last good table stays in force, an operator's
typo never stops routing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from orderbot.rule_tables import TableFile, checker, load_table
from orders.routing import RuleSet

DEFAULT_RULES_PATH = Path(__file__).with_name("routing_rules.yaml")


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Parse and validate one rule file (YAML, so JSON works too); errors name the line."""
    return load_table(path, RuleSet.from_dict)


class RulesFile(TableFile[RuleSet]):
    """A rule file and the last good table read from it (orderbot/rule_tables.py)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(path or DEFAULT_RULES_PATH, RuleSet.from_dict, "routing rules")


def rules_file_from_settings(settings: Any) -> RulesFile:
    """The configured file (ORDERBOT_ROUTING_RULES), else the shipped default."""
    return RulesFile(getattr(settings, "routing_rules", "") or None)


def main(argv: list[str] | None = None) -> int:
    """Check a rule file before deploying it, and show which rule an order would hit:

        python -m orderbot.routing_rules [FILE] [--explain province=江苏省 amount=60000 channel=wechat]

    Exit 0 when the file is valid, 1 when it is not (the error says which field)."""
    from decimal import Decimal

    from orders.routing import OrderFacts

    args, rules = checker("python -m orderbot.routing_rules", main.__doc__, DEFAULT_RULES_PATH,
                          "province, city, amount, categories (a,b), tier, channel, rush (true/false)", argv, load_rules)
    if rules is None:
        return 1
    print(f"OK {args.file}: version {rules.version!r}, {len(rules.rules)} rules, fallback team {rules.fallback_team!r}")
    for rule in rules.rules:
        target = f"rep {rule.rep}" if rule.rep else f"team {rule.team} ({rule.strategy})"
        print(f"  {rule.priority:>4} {rule.id:<20} → {target}  {rule.description}")
    if args.explain is not None:
        given = dict(item.split("=", 1) for item in args.explain if "=" in item)
        facts = OrderFacts(
            amount=Decimal(given.get("amount", "0")), province=given.get("province"), city=given.get("city"),
            categories=frozenset(c for c in given.get("categories", "").split(",") if c),
            tier=given.get("tier", "standard"), channel=given.get("channel", "wechat"),
            rush=given.get("rush", "").lower() in {"1", "true", "yes"},
        )
        hit = next((r for r in rules.rules if r.matches(facts)), None)
        if hit is None:
            print(f"no rule matches: fallback team {rules.fallback_team!r}")
        else:
            policy = rules.policy_for(hit.id)
            print(f"first matching rule: {hit.id} → {hit.rep or hit.team}; remind after "
                  f"{policy.remind_after(facts.rush)}, escalate after {policy.escalate_after(facts.rush)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
