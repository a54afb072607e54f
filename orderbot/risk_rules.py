"""The hold (risk) table as a file (ORDERBOT_RISK_RULES, else the shipped
orderbot/risk_rules.yaml), re-read when it changes; see orders/risk.py for the rule kinds.

Check a table before deploying it, and see which rules an order would trip:

    python -m orderbot.risk_rules my_risk.yaml --explain total=7500 rush=true delivery_date=2026-03-02 \
        address=常州武进菜鸟驿站 credit_limit=10000 open=4000 orders_per_hour=6 phone_orders=5 phone_returns=3 \
        earlier_orders=0 overdue_days=40 now=2026-03-01T09:00:00+08:00
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from orderbot.rule_tables import TableKind, checker, explain_args
from orders.risk import RiskFacts, RiskTable, evaluate

DEFAULT_RISK_RULES_PATH = Path(__file__).with_name("risk_rules.yaml")


RISK_TABLES = TableKind(DEFAULT_RISK_RULES_PATH, RiskTable.from_dict, "risk rules", "risk_rules")
load_risk_rules, risk_rules_file = RISK_TABLES.load, RISK_TABLES.file
risk_rules_from_settings = RISK_TABLES.from_settings  # ORDERBOT_RISK_RULES, else the shipped file


def _facts(table: RiskTable, given: dict[str, str]) -> RiskFacts:
    now = dt.datetime.fromisoformat(given["now"]) if "now" in given else dt.datetime.now(dt.UTC)
    now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    per_hour = int(given.get("orders_per_hour", "1"))
    return RiskFacts(
        total=Decimal(given.get("total", "0")), now=now, today=now.date(),
        rush=given.get("rush", "").lower() in {"1", "true", "yes"},
        delivery_date=dt.date.fromisoformat(given["delivery_date"]) if "delivery_date" in given else None,
        address=given.get("address", ""), credit_limit=Decimal(given.get("credit_limit", "0")),
        open_receivable=Decimal(given.get("open", "0")),
        recent_orders={(r.per, r.window_minutes): per_hour for r in table.rules},
        phone_orders=int(given.get("phone_orders", "0")), phone_returns=int(given.get("phone_returns", "0")),
        earlier_orders=int(given.get("earlier_orders", "1")), max_overdue_days=int(given.get("overdue_days", "0")),
    )


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the file is valid, 1 when it is not (the error names the line)."""
    args, table = checker("python -m orderbot.risk_rules", __doc__, DEFAULT_RISK_RULES_PATH,
                          "total, rush, delivery_date, address, credit_limit, open, orders_per_hour, phone_orders, "
                          "phone_returns, earlier_orders, overdue_days, now", argv, load_risk_rules)
    if table is None:
        return 1
    print(f"OK {args.file}: version {table.version!r}, {len(table.active())} of {len(table.rules)} rules enabled; "
          f"held orders remind after {table.hold_sla.remind_after_minutes} min, "
          f"escalate after {table.hold_sla.escalate_after_minutes} min")
    for rule in table.rules:
        print(f"  {'on ' if rule.enabled else 'off'} {rule.id:<20} {rule.kind.value:<16} {rule.description}")
    d, late, owed = table.duplicates, table.late_orders, table.overdue_alerts
    print(f"duplicates {'on' if d.enabled else 'off'}: {d.window_hours:g} h window, {d.min_overlap:%} of products alike "
          f"within ±{d.quantity_tolerance:%}{', by phone too' if d.match_phone else ''}")
    print(f"late orders {'on' if late.enabled else 'off'}: ship {late.cutoff_hours_before:g} h before the promised day, "
          f"new date +{late.reschedule_days} days, manager from miss {late.manager_from_miss}, "
          f"scan every {late.interval_minutes:g} min")
    print(f"overdue alerts {'on' if owed.enabled else 'off'}: daily from {owed.at_hour}:00 China time, "
          f"more than {owed.min_days} days past due")
    if args.explain is not None:
        hits = evaluate(table, _facts(table, explain_args(args.explain)))
        for hit in hits:
            print(f"HOLD {hit.rule_id}: {hit.reason}")
        if not hits:
            print("no rule fires: the order is not held")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
