from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from nlp import Catalog


@pytest.fixture(scope="session")
def catalog(catalog_csv: Path) -> Catalog:
    return Catalog.from_csv(catalog_csv)


@pytest.fixture
def wednesday() -> dt.date:
    return dt.date(2026, 3, 4)
