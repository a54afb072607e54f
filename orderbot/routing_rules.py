"""The routing table as a file that changes without a deploy (ORDERBOT_ROUTING_RULES).

`RulesFile.current()` stats the file on each call and re-reads it when its mtime or size
changed, so an edit takes effect on the next order in every process. A file that fails to
parse or validate is logged and ignored: the last good table stays in force, an operator's
typo never stops routing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from orders.routing import RuleSet

log = logging.getLogger(__name__)

DEFAULT_RULES_PATH = Path(__file__).with_name("routing_rules.yaml")


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Parse and validate one rule file (YAML, so JSON works too)."""
    text = Path(path).read_text(encoding="utf-8")
    data: Any = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the rule file must be a mapping with a 'rules' list")
    return RuleSet.from_dict(data)


class RulesFile:
    """A rule file and the last good table read from it."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else DEFAULT_RULES_PATH
        self._stamp: tuple[int, int] | None = None
        self._rules: RuleSet | None = None
        self.last_error: str | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> RuleSet:
        """The table in force now, re-read if the file changed since the last call."""
        stamp = self._stat()
        if self._rules is not None and stamp == self._stamp:
            return self._rules
        try:
            rules = load_rules(self.path)
        except (OSError, ValueError, ValidationError, yaml.YAMLError) as exc:
            self.last_error = str(exc)
            if self._rules is None:
                raise
            log.error("routing rules %s not reloaded, keeping version %r: %s",
                      self.path, self._rules.version, exc)
            self._stamp = stamp  # do not re-parse the same broken file on every call
            return self._rules
        if self._rules is not None:
            log.info("routing rules reloaded from %s (version %r)", self.path, rules.version)
        self._rules, self._stamp, self.last_error = rules, stamp, None
        return rules


def rules_file_from_settings(settings: Any) -> RulesFile:
    """The configured file (ORDERBOT_ROUTING_RULES), else the shipped default."""
    return RulesFile(getattr(settings, "routing_rules", "") or None)


def main(argv: list[str] | None = None) -> int:
    """Check a rule file before deploying it, and show which rule an order would hit:

        python -m orderbot.routing_rules [FILE] [--explain province=江苏省 amount=60000 channel=wechat]

    Exit 0 when the file is valid, 1 when it is not (the error says which field)."""
    import argparse
    from decimal import Decimal

    from orders.routing import OrderFacts

    parser = argparse.ArgumentParser(prog="python -m orderbot.routing_rules", description=main.__doc__)
    parser.add_argument("file", nargs="?", default=str(DEFAULT_RULES_PATH))
    parser.add_argument("--explain", nargs="*", metavar="FIELD=VALUE",
                        help="province, city, amount, categories (a,b), tier, channel, rush (true/false)")
    args = parser.parse_args(argv)
    try:
        rules = load_rules(args.file)
    except (OSError, ValueError, ValidationError, yaml.YAMLError) as exc:
        print(f"INVALID {args.file}:\n{exc}")
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
