"""Render a labelled set of order forms: images plus requests and labelled JSONL."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..fonts import CjkFont, cjk_fonts
from . import damage
from .content import load_products, make_order
from .render import TEMPLATES, render


@dataclass(frozen=True)
class Case:
    id: str
    image: Path
    today: str
    expect: dict
    template: str
    kind: str
    font: str

    def request(self) -> dict:
        return {"id": self.id, "today": self.today, "image": str(self.image)}

    def labelled(self) -> dict:
        return {**self.request(), "expect": self.expect,
                "meta": {"template": self.template, "kind": self.kind, "font": self.font}}


def generate(out_dir: str | Path, catalog: str | Path, *, n: int = 12, seed: int = 1,
             templates: tuple[str, ...] = TEMPLATES, kinds: tuple[str, ...] = damage.KINDS,
             fonts: tuple[CjkFont, ...] | None = None) -> list[Case]:
    """Write n forms to out_dir, cycling through templates × damage kinds × fonts."""
    fonts = fonts if fonts is not None else cjk_fonts()
    if not fonts:
        raise RuntimeError("no CJK font found: install fonts-wqy-microhei (see scripts/setup)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    products = load_products(catalog)
    rng = random.Random(seed)
    combos = list(itertools.product(templates, kinds))
    rng.shuffle(combos)
    cases = []
    for i in range(n):
        template, kind = combos[i % len(combos)]
        font = fonts[i % len(fonts)]
        style = "name" if rng.random() < 0.3 else "split"
        order = make_order(rng, products, style=style)
        page = render(order, font, template, rng, style=style)
        data, suffix = damage.apply(kind, page, rng)
        path = out / f"form{seed:02d}-{i:03d}-{template}-{kind}{suffix}"
        path.write_bytes(data)
        cases.append(Case(f"img{seed:02d}-{i:03d}", path.resolve(), order.today.isoformat(),
                          order.expect(), template, kind, font.name))
    return cases


def write_jsonl(cases: list[Case], requests_path: str | Path, labelled_path: str | Path) -> None:
    """requests: what `orderbot extract` reads; labelled: what score_extraction.py reads."""
    with open(requests_path, "w", encoding="utf-8") as req, \
            open(labelled_path, "w", encoding="utf-8") as lab:
        for c in cases:
            req.write(json.dumps(c.request(), ensure_ascii=False) + "\n")
            lab.write(json.dumps(c.labelled(), ensure_ascii=False) + "\n")
