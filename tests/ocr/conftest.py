"""Fixtures for the OCR tests: the shared catalog, a CJK font, the loaded engine."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from ocr.fonts import CjkFont, cjk_fonts


@pytest.fixture(scope="session")
def catalog(catalog_csv: Path):
    from nlp import Catalog

    return Catalog.from_csv(catalog_csv)


@pytest.fixture(scope="session")
def fonts() -> tuple[CjkFont, ...]:
    found = cjk_fonts()
    if not found:
        msg = ("NO CJK FONT FOUND: OCR image tests skipped. "
               "Install fonts-wqy-microhei (scripts/setup does it as root).")
        warnings.warn(msg, stacklevel=1)
        pytest.skip(msg)
    return found


@pytest.fixture(scope="session")
def ocr_engine():
    from ocr.engine import get_engine

    return get_engine()
