"""Cost of the price table: pricing one order of 20 lines against 200 active promotions.

    .venv/bin/python bench/pricing.py [--lines 20] [--promotions 200] [--runs 5000]

Times `orders.promotions.price_order` (the whole table decision the hub runs on every
create and edit: price rules, promotions by priority with groups and stacking, gifts,
freight and service lines) per order, p50 and p99 in milliseconds, beside the same order
against an empty table (no promotions: list prices only). The synthetic table mixes every
kind, scoped by SKU, category, tier and channel, with windows that include now, so every
promotion is active and most lines are in some promotion's scope. Target: p99 ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orders.promotions import EMPTY_TABLE, LineInput, PriceTable, PricingContext, price_order  # noqa: E402

CATEGORIES = [f"cat{i}" for i in range(12)]
KINDS = ["full_reduction", "percentage", "fixed_price", "gift"]


def _scope(i: int, skus: list[str], rng: random.Random, worst: bool) -> dict[str, object]:
    """Worst case: every other promotion covers every line. Mixed: as a desk's table
    looks — most rows name SKUs or categories, some a tier, a channel or one customer."""
    if worst:
        return [{"skus": rng.sample(skus, 3)}, {"categories": rng.sample(CATEGORIES, 2)},
                {"tiers": ["gold", "standard"]}, {"channels": ["wechat", "miniprogram"]}][i % 4]
    return [{"skus": rng.sample(skus, 5)}, {"skus": rng.sample(skus, 5)}, {"skus": rng.sample(skus, 5)},
            {"skus": rng.sample(skus, 5)}, {"categories": rng.sample(CATEGORIES, 1)},
            {"categories": rng.sample(CATEGORIES, 1)}, {"categories": rng.sample(CATEGORIES, 1)},
            {"tiers": [rng.choice(["gold", "vip", "silver"])]}, {"channels": [rng.choice(["wechat", "miniprogram"])]},
            {"customers": [rng.choice(["恒锐五金", "宏达机电", "三友紧固件", "华东轴承"])]}][i % 10]


def synthetic_table(n: int, skus: list[str], rng: random.Random, worst: bool = False) -> PriceTable:
    promos = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        row: dict[str, object] = {
            "id": f"p{i}", "kind": kind, "priority": rng.randint(1, 500),
            "valid_from": "2020-01-01", "valid_to": "2099-12-31",
        }
        row.update(_scope(i, skus, rng, worst))
        if i % 5 == 0:
            row["group"] = f"g{i % 7}"
        if kind == "full_reduction":
            row.update(threshold=rng.choice([500, 1000, 5000]), reduction=rng.choice([10, 50, 100]), repeat=i % 2 == 0)
        elif kind == "percentage":
            row["percent"] = rng.choice([1, 2, 5])
        elif kind == "fixed_price":
            row["price"] = rng.choice(["0.05", "0.10", "0.20"])
        else:
            row.update(buy_qty=rng.choice([1000, 5000]), gift_qty=rng.choice([10, 50]))
        promos.append(row)
    prices = [{"id": f"c{i}", "kind": "contract", "customers": ["恒锐五金"], "skus": [skus[i]], "price": "0.2"}
              for i in range(10)]
    prices.append({"id": "ladder", "kind": "ladder", "categories": CATEGORIES[:3],
                   "ladder": [{"min_qty": 1000, "price": "0.3"}, {"min_qty": 10000, "price": "0.25"}]})
    return PriceTable.from_dict({
        "version": "bench", "prices": prices, "promotions": promos,
        "freight": [{"id": "f", "under_amount": 500, "amount": 20}],
        "services": [{"id": "s", "categories": [CATEGORIES[0]], "per_unit": "0.001"}],
    })


def timings(table: PriceTable, ctx: PricingContext, lines: list[LineInput], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        price_order(table, ctx, lines)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--promotions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(14)
    skus = [f"SKU{i:04d}" for i in range(400)]
    lines = [
        LineInput(i, sku, rng.choice(CATEGORIES), Decimal(rng.choice([200, 1000, 5000, 20000])), Decimal("0.35"))
        for i, sku in enumerate(rng.sample(skus, args.lines))
    ]
    ctx = PricingContext(frozenset({"7", "恒锐五金"}), "gold", "wechat", dt.datetime.now(dt.UTC), "江苏省", "常州市")
    t0 = time.perf_counter()
    sum(range(3_000_000))
    print(f"machine reference: sum(range(3e6)) {(time.perf_counter() - t0) * 1000:.0f} ms "
          f"(compare runs on different or busy machines by this)")
    timings(EMPTY_TABLE, ctx, lines, 200)  # warm up
    base = timings(EMPTY_TABLE, ctx, lines, args.runs)
    print(f"{args.lines} lines; no promotions: p50 {statistics.median(base):.3f} ms  p99 {pct(base, 0.99):.3f} ms")
    for name, worst in (("mixed table", False), ("worst case", True)):
        table = synthetic_table(args.promotions, skus, random.Random(14), worst)
        result = price_order(table, ctx, lines)
        timings(table, ctx, lines, 200)
        full = timings(table, ctx, lines, args.runs)
        print(f"{args.promotions} promotions, {name} ({len(result.applied)} rules applied, {len(result.gifts)} gift "
              f"lines): p50 {statistics.median(full):.3f} ms  p99 {pct(full, 0.99):.3f} ms  "
              f"(p50 {statistics.median(full) / statistics.median(base):.0f}× the no-promotion run; "
              f"target p99 ≤ 2 ms {'met' if pct(full, 0.99) <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
