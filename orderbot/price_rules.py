"""The price and promotion table as a file (ORDERBOT_PRICE_RULES, else the shipped
orderbot/price_rules.yaml), re-read when it changes; see orders/promotions.py for the rules.

Check a table before deploying it, and see what an order would get:

    python -m orderbot.price_rules my_prices.yaml --explain sku=HB-M6X20-304 qty=5000 price=0.25 \
        customer=恒锐五金 tier=gold channel=wechat province=江苏省 category=螺栓

(`price` is the list price per base unit after the tier; several lines: sku=A,B qty=10,20.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from orderbot.rule_tables import TableKind, checker, explain_args
from orders.promotions import LineInput, PriceTable, PricingContext, customer_keys, price_order

DEFAULT_PRICE_RULES_PATH = Path(__file__).with_name("price_rules.yaml")


PRICE_TABLES = TableKind(DEFAULT_PRICE_RULES_PATH, PriceTable.from_dict, "price rules", "price_rules")
load_price_rules, price_rules_file = PRICE_TABLES.load, PRICE_TABLES.file
price_rules_from_settings = PRICE_TABLES.from_settings  # ORDERBOT_PRICE_RULES, else the shipped file


def _explain(table: PriceTable, given: dict[str, str]) -> None:
    def split(key: str, default: str) -> list[str]:
        return [v for v in given.get(key, default).split(",") if v]

    skus, qtys, list_prices = split("sku", "SKU"), split("qty", "1"), split("price", "1")
    cats = split("category", "")
    at = dt.datetime.fromisoformat(given["at"]) if "at" in given else dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    lines = [
        LineInput(i, sku, cats[i] if i < len(cats) else (cats[-1] if cats else ""),
                  Decimal(qtys[min(i, len(qtys) - 1)]), Decimal(list_prices[min(i, len(list_prices) - 1)]))
        for i, sku in enumerate(skus)
    ]
    ctx = PricingContext(
        customer_keys=customer_keys(None, given.get("customer")), tier=given.get("tier", "standard"),
        channel=given.get("channel", "wechat"), at=at, province=given.get("province"), city=given.get("city"),
    )
    result = price_order(table, ctx, lines, explain=True)
    for ln in lines:
        rule = result.price_rules.get(ln.index, "list price")
        print(f"line {ln.sku} × {ln.base_quantity}: unit price {result.unit_prices[ln.index]} ({rule})")
    for gift in result.gifts:
        print(f"gift {gift.sku} × {gift.base_quantity} (rule {gift.rule_id})")
    for extra in result.extras:
        print(f"{extra.line_type} line {extra.name} {extra.amount} (rule {extra.rule_id})")
    print(f"goods {result.goods:.2f}, discount {result.discount:.2f}")
    for a in result.applied:
        print(f"  applied {a.rule_id:<20} {a.kind:<15} {a.effect:>10.2f}  {a.detail}")
    for rule_id, why in result.skipped:
        print(f"  skipped {rule_id:<20} {why}")


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the file is valid, 1 when it is not (the error names the line)."""
    args, table = checker("python -m orderbot.price_rules", __doc__, DEFAULT_PRICE_RULES_PATH,
                          "sku, qty, price, category, customer, tier, channel, province, city, at", argv,
                          load_price_rules)
    if table is None:
        return 1
    print(f"OK {args.file}: version {table.version!r}, {len(table.prices)} prices, "
          f"{len(table.promotions)} promotions, {len(table.freight)} freight, {len(table.services)} services")
    if args.explain is not None:
        _explain(table, explain_args(args.explain))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
