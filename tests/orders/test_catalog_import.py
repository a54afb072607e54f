"""Catalog import: row validation with line numbers, and the command's upsert on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from orderbot import migrations
from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import get_settings
from orders.catalog_import import CatalogFormatError, parse_catalog
from orders.models import Product
from service.cli import main

HEADER = "sku,name,category,spec,material,unit,pack_unit,pack_size,price,aliases\n"
BAD_CSV = HEADER + (
    "GOOD-1,好螺栓 M6,螺栓,M6,碳钢,个,盒,1000,0.095,螺栓|M6\n"  # line 2
    "BAD-PRICE,坏价格,螺栓,M6,碳钢,个,盒,1000,abc,\n"  # line 3
    ",没有编号,螺栓,M6,碳钢,个,盒,1000,0.1,\n"  # line 4
    "BAD-PACK,只有包装单位,螺栓,M6,碳钢,个,盒,,0.1,\n"  # line 5
    "GOOD-1,重复,螺栓,M6,碳钢,个,盒,1000,0.2,\n"  # line 6
    "BAD-NEG,负价,螺栓,M6,碳钢,个,,,-1,\n"  # line 7
    "\n"  # line 8: blank, ignored
    "GOOD-2,好垫片 M8,垫片,M8,304,片,包,500,0.03,\n"  # line 9
    "BAD-WIDE,多一列,螺栓,M6,碳钢,个,盒,1000,0.1,a,extra\n"  # line 10
)


@pytest.fixture
def catalog_csv(shared_dir: Path) -> Path:
    return shared_dir / "eval" / "catalog.csv"


def test_shared_catalog_is_all_good(catalog_csv: Path) -> None:
    with catalog_csv.open(encoding="utf-8-sig", newline="") as fh:
        parsed = parse_catalog(fh)
    assert (len(parsed.rows), parsed.rejected) == (189, [])
    bolt = next(r for r in parsed.rows if r.sku == "HB-M6X20-ZN")
    assert (bolt.unit, bolt.pack_unit, bolt.pack_size, bolt.price) == ("个", "盒", 1000, Decimal("0.095"))
    assert "六角螺栓" in bolt.aliases


def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    parsed = parse_catalog(BAD_CSV.splitlines(keepends=True))
    assert [r.sku for r in parsed.rows] == ["GOOD-1", "GOOD-2"]
    assert parsed.rows[0].name == "好螺栓 M6"  # the first of the duplicates wins
    got = {bad.line: (bad.sku, bad.reason) for bad in parsed.rejected}
    assert sorted(got) == [3, 4, 5, 6, 7, 10]
    assert got[3][0] == "BAD-PRICE" and "price" in got[3][1]
    assert got[4] == (None, "empty sku")
    assert "pack_unit and pack_size" in got[5][1]
    assert got[6] == ("GOOD-1", "duplicate sku, first on line 2")
    assert "zero or more" in got[7][1]
    assert "expected 10" in got[10][1]


def test_missing_column_refuses_the_file() -> None:
    with pytest.raises(CatalogFormatError, match="price"):
        parse_catalog(["sku,name,unit\n", "A,B,个\n"])


@pytest.fixture
def migrated_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    asyncio.run(migrations.upgrade(db_url))
    monkeypatch.setenv("ORDERBOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


async def _products(url: str) -> dict[str, Product]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return {p.sku: p for p in (await s.exec(select(Product))).all()}
    finally:
        await engine.dispose()


async def _set_stock(url: str, sku: str, stock: int) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            (await s.get(Product, sku)).stock = stock
    finally:
        await engine.dispose()


def test_import_twice_changes_nothing(
    migrated_url: str, catalog_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-catalog", str(catalog_csv), "--no-progress"]) == 0
    assert "added 189, updated 0, unchanged 0, rejected 0" in capsys.readouterr().out
    asyncio.run(_set_stock(migrated_url, "HB-M6X20-ZN", 4200))  # the warehouse's number

    assert main(["import-catalog", str(catalog_csv), "--no-progress"]) == 0
    assert "added 0, updated 0, unchanged 189, rejected 0" in capsys.readouterr().out
    products = asyncio.run(_products(migrated_url))
    assert len(products) == 189
    assert products["HB-M6X20-ZN"].stock == 4200  # imports never touch stock
    assert products["HB-M6X20-304"].aliases[:2] == ["外六角", "六角螺丝"]


def test_changed_price_updates_one_product(
    migrated_url: str, catalog_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-catalog", str(catalog_csv), "--no-progress"]) == 0
    text = catalog_csv.read_text(encoding="utf-8-sig")
    changed = tmp_path / "catalog.csv"
    changed.write_text(text.replace("HB-M6X20-ZN,外六角螺栓 M6×20 碳钢镀锌,外六角螺栓,M6×20,碳钢镀锌,个,盒,1000,0.095,",
                                    "HB-M6X20-ZN,外六角螺栓 M6×20 碳钢镀锌,外六角螺栓,M6×20,碳钢镀锌,个,盒,1000,0.099,"),
                       encoding="utf-8")
    capsys.readouterr()
    assert main(["import-catalog", str(changed), "--no-progress"]) == 0
    assert "added 0, updated 1, unchanged 188" in capsys.readouterr().out
    assert asyncio.run(_products(migrated_url))["HB-M6X20-ZN"].price == Decimal("0.099")


def test_bad_file_imports_good_rows_and_lists_the_rest(
    migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    assert main(["import-catalog", str(bad), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "added 2, updated 0, unchanged 0, rejected 6" in out
    assert "line 3 (BAD-PRICE): price" in out and "line 6 (GOOD-1): duplicate sku" in out
    assert set(asyncio.run(_products(migrated_url))) == {"GOOD-1", "GOOD-2"}


def test_unmigrated_database_is_refused(
    db_url: str, monkeypatch: pytest.MonkeyPatch, catalog_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORDERBOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        assert main(["import-catalog", str(catalog_csv), "--no-progress"]) == 2
    finally:
        get_settings.cache_clear()
    assert "orderbot migrate" in capsys.readouterr().err
