from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from nlp import Catalog

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CATALOG_CSV = SHARED / "eval" / "catalog.csv"
EXTERNAL = SHARED / "external"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.from_csv(CATALOG_CSV)


@pytest.fixture
def wednesday() -> dt.date:
    return dt.date(2026, 3, 4)
