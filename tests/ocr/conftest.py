"""Fixtures for the OCR tests: the shared catalog, a CJK font, the loaded engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr.fonts import CjkFont
from tests.needs import cjk_fonts_or_skip


@pytest.fixture(scope="session")
def catalog(catalog_csv: Path):
    from nlp import Catalog

    return Catalog.from_csv(catalog_csv)


@pytest.fixture(scope="session")
def fonts() -> tuple[CjkFont, ...]:
    return cjk_fonts_or_skip()


@pytest.fixture(scope="session")
def ocr_engine():
    from ocr.engine import get_engine

    return get_engine()
