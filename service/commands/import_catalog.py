"""`orderbot import-catalog FILE.csv`: upsert products from a catalog CSV.

Rows are validated first (orders.catalog_import); good rows are added or updated by SKU,
bad rows are reported with their line number and reason. Stock, safety stock and the
active flag belong to the warehouse side and are never touched, so running the same file
twice changes nothing. Exit status: 0 all rows good, 1 some rows rejected (the good ones
are imported), 2 the file or the database cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from tqdm import tqdm

from orders.catalog_import import CatalogFormatError, CatalogRow, changed_fields, parse_catalog

BATCH = 500


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="catalog CSV (shared/eval/catalog.csv format)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


async def upsert_products(
    engine: AsyncEngine, rows: Sequence[CatalogRow], progress: bool = True
) -> ImportCounts:
    """Add or update products by SKU, one transaction per batch of rows."""
    from orderbot.db import make_sessionmaker
    from orders.models import Product, utcnow

    counts = ImportCounts()
    sm = make_sessionmaker(engine)
    with tqdm(total=len(rows), unit="row", desc="import", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            async with sm() as s, s.begin():
                skus = [r.sku for r in batch]
                found = {p.sku: p for p in (await s.exec(select(Product).where(Product.sku.in_(skus)))).all()}
                for row in batch:
                    product = found.get(row.sku)
                    if product is None:
                        s.add(Product(**row.product_fields()))
                        counts.added += 1
                    elif changes := changed_fields(product.model_dump(), row):
                        for key, (_, new) in changes.items():
                            setattr(product, key, new)
                        product.updated_at = utcnow()
                        counts.updated += 1
                    else:
                        counts.unchanged += 1
            bar.update(len(batch))
    return counts


async def _import(url: str, rows: Sequence[CatalogRow], progress: bool) -> ImportCounts:
    from orderbot import migrations
    from orderbot.db import make_engine

    engine = make_engine(url)
    try:
        await migrations.ensure_current(engine)
        return await upsert_products(engine, rows, progress)
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    from orderbot.migrations import MigrationRequired
    from orderbot.settings import get_settings

    try:
        with args.file.open(encoding="utf-8-sig", newline="") as fh:
            parsed = parse_catalog(fh)
    except (OSError, UnicodeDecodeError, CatalogFormatError) as exc:
        print(f"orderbot import-catalog: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        counts = asyncio.run(_import(get_settings().database_url, parsed.rows, not args.no_progress))
    except MigrationRequired as exc:
        print(f"orderbot import-catalog: {exc}", file=sys.stderr)
        return 2
    print(
        f"{args.file}: added {counts.added}, updated {counts.updated}, "
        f"unchanged {counts.unchanged}, rejected {len(parsed.rejected)}"
    )
    for bad in parsed.rejected:
        print(f"  line {bad.line}{f' ({bad.sku})' if bad.sku else ''}: {bad.reason}")
    return 1 if parsed.rejected else 0
