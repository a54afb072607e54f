"""Write a blind set: images, cases.jsonl (extract requests with labels) from one seed.

    python -m tests.ocr.forms_blind.generate OUT_DIR [--n 36] [--seed 20261204]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from pathlib import Path

from . import damage
from .content import _safe_name_aliases, load_products, make_form
from .render import LAYOUTS, TABLE_STYLES, render

CATALOG = Path(__file__).resolve().parents[4] / "shared" / "eval" / "catalog.csv"
BLIND_SEED = 20261204


def generate(out_dir: str | Path, *, n: int = 36, seed: int = BLIND_SEED,
             catalog: str | Path = CATALOG) -> list[dict]:
    """n forms cycling damage kinds × layouts × table styles; returns the labelled cases."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    products = load_products(catalog)
    aliases = _safe_name_aliases(products)
    rng = random.Random(seed)
    combos = list(itertools.product(damage.KINDS, LAYOUTS, TABLE_STYLES))
    rng.shuffle(combos)
    combos.sort(key=lambda c: damage.KINDS.index(c[0]))          # kinds round-robin below
    by_kind = {k: [c for c in combos if c[0] == k] for k in damage.KINDS}
    order = [by_kind[k][i] for i in range(len(combos) // len(damage.KINDS)) for k in damage.KINDS]
    cases = []
    for i in range(n):
        kind, layout, style = order[i % len(order)]
        form = make_form(rng, products, aliases)
        page = render(form, layout, style, rng)
        data, suffix = damage.apply(kind, page, rng)
        name = f"blind{seed % 1000:03d}-{i:03d}-{kind}-{layout}-{style}{suffix}"
        (out / name).write_bytes(data)
        cases.append({"id": f"blind-{seed}-{i:03d}-{kind}", "today": form.today.isoformat(),
                      "image": str((out / name).resolve()), "expect": form.expect(),
                      "meta": {"kind": kind, "layout": layout, "table": style}})
    with open(out / "cases.jsonl", "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    return cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=36)
    ap.add_argument("--seed", type=int, default=BLIND_SEED)
    args = ap.parse_args(argv)
    cases = generate(args.out, n=args.n, seed=args.seed)
    print(f"{len(cases)} forms in {args.out}/cases.jsonl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
