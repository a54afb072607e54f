"""Waybill lines (name, phone and address glued together, in any order): how well the
reader splits them, field by field, on PaddleNLP's express NER dev split.

    .venv/bin/python bench/waybill.py [--data bench/data/express_ner_dev.tsv] [--show-errors]
    .venv/bin/python bench/waybill.py --jionlp      # the same lines through jionlp (not a project
                                                    # dependency: PYTHONPATH to a venv that has it)

The data file holds the dev split re-encoded as text, name (P span) and detail (A4
span); the phone is the 11-digit T span and province/city/district are what the region
index reads from the rest (the A1-A3 spans on their own). Prints one accuracy per field
(contact, phone, province, city, district, detail), their mean and the lowest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp import Catalog, extract_draft  # noqa: E402
from nlp.address import find_address  # noqa: E402

FIELDS = ("contact", "phone", "province", "city", "district", "detail")


def load(path: Path) -> list[dict]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, name, detail = (line.split("\t") + ["", ""])[:3]
        phone = re.search(r"1[3-9]\d{9}", text.replace(name, "", 1).replace(detail, "", 1)) if detail else re.search(r"1[3-9]\d{9}", text)
        rest = text
        for part in (name, detail, phone.group(0) if phone else ""):
            if part:
                rest = rest.replace(part, "", 1)
        region = find_address(rest + detail) if rest else None  # the A1-A3 spans read before their detail
        a = region.address if region else None
        cases.append(
            {
                "text": text,
                "contact": name or None,
                "phone": phone.group(0) if phone else None,
                "province": a.province if a else None,
                "city": a.city if a else None,
                "district": a.district if a else None,
                "detail": detail or None,
            }
        )
    return cases


def ours(text: str, catalog: Catalog) -> dict:
    d = extract_draft(text, dt.date(2026, 3, 2), catalog)
    a = d.address
    return {
        "contact": d.contact,
        "phone": d.phone,
        "province": a.province if a else None,
        "city": a.city if a else None,
        "district": a.district if a else None,
        "detail": a.detail if a else None,
    }


def jio(text: str) -> dict:
    import jionlp  # optional comparison; not a dependency of the project

    r = jionlp.parse_location(text)
    found = jionlp.extract_phone_number(text)
    phones = [p if isinstance(p, str) else p.get("text") for p in found]
    return {
        "contact": None,  # jionlp has no person-name reader for such lines
        "phone": phones[0] if phones else None,
        "province": r.get("province"),
        "city": r.get("city"),
        "district": r.get("county"),
        "detail": r.get("detail"),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "bench" / "data" / "express_ner_dev.tsv"))
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--jionlp", action="store_true")
    args = ap.parse_args()
    cases = load(Path(args.data))
    catalog = Catalog([])
    ok = dict.fromkeys(FIELDS, 0)
    for c in cases:
        got = jio(c["text"]) if args.jionlp else ours(c["text"], catalog)
        errs = []
        for f in FIELDS:
            if (got[f] or None) == c[f]:
                ok[f] += 1
            else:
                errs.append(f"{f} want {c[f]!r} got {got[f]!r}")
        if args.show_errors and errs:
            print("---", c["text"])
            for e in errs:
                print("   ", e)
    n = len(cases)
    accs = {f: ok[f] / n for f in FIELDS}
    for f in FIELDS:
        print(f"{f:9s} {accs[f]:.3f}")
    print(f"lines {n}  mean {sum(accs.values()) / len(FIELDS):.3f}  lowest {min(accs.values()):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
