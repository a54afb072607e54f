"""python -m ocr.testforms OUT_DIR [--n 24] [--seed 1] [--catalog ../shared/eval/catalog.csv]

Writes OUT_DIR/*.png|jpg|tif, OUT_DIR/requests.jsonl and OUT_DIR/labelled.jsonl, so that
    orderbot extract --catalog CATALOG < OUT_DIR/requests.jsonl > drafts.jsonl
    python ../shared/eval/score_extraction.py OUT_DIR/labelled.jsonl drafts.jsonl
scores the OCR path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..fonts import cjk_fonts
from . import damage
from .generate import generate, write_jsonl
from .render import TEMPLATES


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ocr.testforms", description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--catalog", default="../shared/eval/catalog.csv")
    p.add_argument("--templates", default=",".join(TEMPLATES))
    p.add_argument("--kinds", default=",".join(damage.KINDS))
    p.add_argument("--fonts", default="", help="comma-separated substrings of font names")
    a = p.parse_args(argv)
    for name, given, known in (("--templates", a.templates, TEMPLATES), ("--kinds", a.kinds, damage.KINDS)):
        unknown = sorted(set(given.split(",")) - set(known))
        if unknown:
            p.error(f"{name}: unknown {', '.join(unknown)} (choose from {', '.join(known)})")
    fonts = cjk_fonts()
    if a.fonts:
        fonts = tuple(f for f in fonts if any(s.lower() in f.name.lower() for s in a.fonts.split(",")))
    cases = generate(a.out_dir, a.catalog, n=a.n, seed=a.seed, templates=tuple(a.templates.split(",")),
                     kinds=tuple(a.kinds.split(",")), fonts=fonts)
    out = Path(a.out_dir)
    write_jsonl(cases, out / "requests.jsonl", out / "labelled.jsonl")
    print(f"wrote {len(cases)} forms to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
