"""Validating catalog CSV rows (`sku,name,category,spec,material,unit,pack_unit,pack_size,
price,aliases`, aliases separated by `|`). Pure: no database, no files opened here.

A bad row is rejected with its line number and the reason, and the good rows are kept, so
one typo does not block a 10 000-row catalog. A file whose header lacks a column is refused
as a whole (CatalogFormatError): every row would be wrong in the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

COLUMNS = ("sku", "name", "category", "spec", "material", "unit", "pack_unit", "pack_size", "price", "aliases")
REQUIRED = ("sku", "name", "unit", "price")


class CatalogFormatError(ValueError):
    """The file as a whole cannot be a catalog (missing header columns, empty file)."""


@dataclass(frozen=True)
class CatalogRow:
    sku: str
    name: str
    category: str
    spec: str
    material: str
    unit: str
    pack_unit: str | None
    pack_size: int | None
    price: Decimal
    aliases: list[str]

    def product_fields(self) -> dict[str, Any]:
        """Values for the Product columns this file owns (stock and flags are left alone)."""
        return asdict(self)


@dataclass(frozen=True)
class RejectedRow:
    line: int  # physical line in the file; the header is line 1
    sku: str | None
    reason: str


@dataclass
class ParsedCatalog:
    rows: list[CatalogRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class _Bad(ValueError):
    pass


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise _Bad(f"price「{text}」is not a number") from None
    if not price.is_finite() or price < 0:
        raise _Bad(f"price {text} must be zero or more")
    if price != price.quantize(Decimal("0.0001")):
        raise _Bad(f"price {text} has more than 4 decimals")
    return price


def _pack(unit: str, pack_unit: str, pack_size: str) -> tuple[str | None, int | None]:
    if not pack_unit and not pack_size:
        return None, None
    if not pack_unit or not pack_size:
        raise _Bad("pack_unit and pack_size go together")
    if not pack_size.isdigit() or int(pack_size) <= 0:
        raise _Bad(f"pack_size「{pack_size}」must be a whole number above zero")
    if pack_unit == unit:
        raise _Bad(f"pack_unit「{pack_unit}」is the same as unit")
    return pack_unit, int(pack_size)


def validate_row(raw: Mapping[str, str | None]) -> CatalogRow:
    """One CatalogRow, or ValueError saying what is wrong with the row."""
    if None in raw:
        raise _Bad(f"{len(COLUMNS) + len(raw[None] or [])} fields, expected {len(COLUMNS)}")  # type: ignore[index]
    values = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    if any(raw.get(k) is None for k in COLUMNS):
        raise _Bad(f"too few fields, expected {len(COLUMNS)}")
    empty = [k for k in REQUIRED if not values[k]]
    if empty:
        raise _Bad(f"empty {', '.join(empty)}")
    if any(c.isspace() for c in values["sku"]):
        raise _Bad(f"sku「{values['sku']}」contains spaces")
    pack_unit, pack_size = _pack(values["unit"], values["pack_unit"], values["pack_size"])
    aliases = [a.strip() for a in values["aliases"].split("|") if a.strip()]
    return CatalogRow(
        sku=values["sku"], name=values["name"], category=values["category"], spec=values["spec"],
        material=values["material"], unit=values["unit"], pack_unit=pack_unit, pack_size=pack_size,
        price=_price(values["price"]), aliases=list(dict.fromkeys(aliases)),
    )


def parse_catalog(lines: Iterable[str]) -> ParsedCatalog:
    """Every row validated; duplicates of an earlier SKU are rejected, the first one kept."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames
    if not header:
        raise CatalogFormatError("the file is empty: expected a header " + ",".join(COLUMNS))
    missing = [c for c in COLUMNS if c not in [h.strip() for h in header]]
    if missing:
        raise CatalogFormatError(f"header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    reader.fieldnames = [h.strip() for h in header]
    parsed, seen = ParsedCatalog(), {}
    for raw in reader:
        line = reader.line_num
        if not any((v or "").strip() for k, v in raw.items() if k is not None):
            continue  # blank line
        sku = (raw.get("sku") or "").strip() or None
        try:
            row = validate_row(raw)
        except _Bad as bad:
            parsed.rejected.append(RejectedRow(line, sku, str(bad)))
            continue
        if row.sku in seen:
            parsed.rejected.append(RejectedRow(line, row.sku, f"duplicate sku, first on line {seen[row.sku]}"))
            continue
        seen[row.sku] = line
        parsed.rows.append(row)
    return parsed


def changed_fields(current: Mapping[str, Any], row: CatalogRow) -> dict[str, list[Any]]:
    """{field: [stored, new]} for the catalog-owned fields that differ."""
    changes = {}
    for key, new in row.product_fields().items():
        old = current.get(key)
        if key == "price":
            same = old is not None and Decimal(old) == new
        else:
            same = old == new
        if not same:
            changes[key] = [old, new]
    return changes
