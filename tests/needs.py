"""What some tests need from the machine, checked one way: under CI=true a missing piece
fails the run (a CI that silently skipped OCR would pass without testing it); elsewhere the
tests skip with a loud warning."""

from __future__ import annotations

import os
import warnings

import pytest

from ocr.fonts import CjkFont, cjk_fonts

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str, fix: str) -> None:
    """Fail under CI, else skip loudly."""
    msg = f"{what} — {fix}"
    if IN_CI:
        pytest.fail(f"{msg} (mandatory under CI=true)", pytrace=False)
    warnings.warn(f"SKIPPING: {msg}", stacklevel=2)
    pytest.skip(msg)


def cjk_fonts_or_skip() -> tuple[CjkFont, ...]:
    """The CJK fonts the OCR test forms are rendered with."""
    found = cjk_fonts()
    if not found:
        missing("no CJK font to render OCR test forms", "install fonts-wqy-microhei (scripts/setup does it as root)")
    return found
