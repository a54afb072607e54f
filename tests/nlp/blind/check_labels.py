#!/usr/bin/env python3
"""Pure data checks on the blind labelled sets, so a label error is not scored as a reader error.

    python tests/nlp/blind/check_labels.py [FILE.jsonl ...]

With no arguments it checks every *.jsonl beside this script. It never runs the
reader: it only reads the cases, the shared catalog and the region table shipped
in the `cpca` package (adcodes.csv), and prints one line per problem, then a
summary. Exit status 1 when any problem is found.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG_CSV = HERE.parents[3] / "shared" / "eval" / "catalog.csv"
EXPECT_KEYS = {"items", "contact", "phone", "address", "delivery_date", "rush"}
CASE_KEYS = {"id", "today", "channel", "text", "expect"}
ADDRESS_KEYS = {"province", "city", "district", "detail"}
PACK_UNITS = {"箱", "盒", "包"}
MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}
MOBILE = re.compile(r"1[3-9]\d{9}")
# Area code 010/02x (3 digits) + 8 digits, or 0xxx (4 digits) + 7 or 8 digits.
LANDLINE = re.compile(r"(?:010|02\d)\d{8}|0[3-9]\d{2}\d{7,8}")
SPOKEN_DIGITS = str.maketrans("零〇幺一二三四五六七八九", "001123456789")


def load_catalog(path: Path) -> dict[str, str]:
    """sku -> catalog unit."""
    with path.open(encoding="utf-8") as f:
        return {row["sku"]: row["unit"] for row in csv.DictReader(f)}


def load_regions() -> set[tuple[str, str, str | None]]:
    """Every (province, city, district) the cpca table knows, plus (province, city, None):
    a message may name a city without a district, and some cities have none (东莞市, 中山市).

    adcodes are PPCCDD000000: province PP0000, city PPCC00, district PPCCDD; the city of a
    municipality is listed as 市辖区 and is labelled with the municipality's own name.
    """
    import cpca  # data only: the region table, not the reader

    table = Path(cpca.__file__).parent / "resources" / "adcodes.csv"
    names: dict[str, str] = {}
    with table.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["adcode"][:6]] = row["name"]
    combos: set[tuple[str, str, str | None]] = set()
    for code, name in names.items():
        province = names.get(code[:2] + "0000")
        if code[2:] == "0000" or province is None:
            continue
        if province in MUNICIPALITIES:
            city: str | None = province
        else:
            city = name if code[4:] == "00" else names.get(code[:4] + "00")
        if city is None:
            continue
        if code[4:] == "00":
            combos.add((province, city, None))
        elif name != "市辖区":
            combos.add((province, city, name))
    return combos


def squash(s: str) -> str:
    return "".join(s.split())


def check_case(case: dict, catalog: dict[str, str], regions: set, waybill: bool) -> list[str]:
    """Problems with one case, as readable strings."""
    errs: list[str] = []
    if set(case) != CASE_KEYS:
        errs.append(f"case keys {sorted(case)} != {sorted(CASE_KEYS)}")
        return errs
    text, exp = case["text"], case["expect"]
    try:
        today = dt.date.fromisoformat(case["today"])
    except (TypeError, ValueError):
        return [f"today {case['today']!r} is not an ISO date"]
    if set(exp) != EXPECT_KEYS:
        errs.append(f"expect keys {sorted(exp)} != {sorted(EXPECT_KEYS)}")
        return errs
    for item in exp["items"]:
        sku, unit, qty = item.get("sku"), item.get("unit"), item.get("quantity")
        if sku not in catalog:
            errs.append(f"sku {sku!r} not in catalog")
            continue
        if unit != catalog[sku] and unit not in PACK_UNITS:
            errs.append(f"{sku}: unit {unit!r} is neither {catalog[sku]} nor a pack word")
        if not isinstance(qty, (int, float)) or qty <= 0:
            errs.append(f"{sku}: quantity {qty!r}")
    skus = [(i.get("sku"), i.get("unit")) for i in exp["items"]]
    if len(skus) != len(set(skus)):
        errs.append("same sku and unit listed twice")
    phone = exp["phone"]
    if phone is not None:
        if not (MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone)):
            errs.append(f"phone {phone!r} is not an 11-digit mobile or area-code landline")
        digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text).translate(SPOKEN_DIGITS))
        if phone not in digits:
            errs.append(f"phone {phone} not found in the text's digits")
    contact = exp["contact"]
    if contact is not None and contact not in text:
        errs.append(f"contact {contact!r} not in text")
    date = exp["delivery_date"]
    if date is not None:
        try:
            if dt.date.fromisoformat(date) < today:
                errs.append(f"delivery_date {date} before today {today}")
        except ValueError:
            errs.append(f"delivery_date {date!r} is not an ISO date")
    if not isinstance(exp["rush"], bool):
        errs.append(f"rush {exp['rush']!r} is not a bool")
    addr = exp["address"]
    if addr is not None:
        if set(addr) != ADDRESS_KEYS:
            errs.append(f"address keys {sorted(addr)}")
        else:
            combo = (addr["province"], addr["city"], addr["district"])
            if combo not in regions:
                errs.append(f"region {combo} not in the cpca table")
            detail = addr["detail"]
            if detail is not None and (detail != squash(detail) or detail not in squash(text)):
                errs.append(f"detail {detail!r} is not the text minus spaces")
    if waybill:
        if exp["items"] or date is not None or exp["rush"]:
            errs.append("a waybill line has no items, no date and no rush")
        if contact is None or phone is None or addr is None:
            errs.append("a waybill line names a contact, a phone and an address")
    return errs


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv[1:]] or sorted(HERE.glob("*.jsonl"))
    catalog = load_catalog(CATALOG_CSV)
    regions = load_regions()
    seen: dict[str, str] = {}
    problems = 0
    total = 0
    for path in paths:
        waybill = path.name.startswith("waybill")
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        for n, line in enumerate(lines, 1):
            total += 1
            try:
                case = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{path.name}:{n}: not JSON ({e})")
                problems += 1
                continue
            cid = case.get("id")
            if cid in seen:
                print(f"{path.name}:{n}: id {cid!r} already used in {seen[cid]}")
                problems += 1
            seen[cid] = path.name
            for err in check_case(case, catalog, regions, waybill):
                print(f"{path.name}:{n} {cid}: {err}")
                problems += 1
        print(f"{path.name}: {len(lines)} cases")
    print(f"checked {total} cases in {len(paths)} files: {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
