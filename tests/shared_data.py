"""The one place that knows where ../shared (labelled data, case tables) lives.

A bare clone of the project has no ../shared beside it. Then every test that needs its data
skips (outside CI) with the same reason, and the run ends with one line saying so; under
CI=true a missing file fails the run. Nothing here reads a file when a test module is
imported: paths are resolved and files read only when a test runs or is parametrized.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ORDERBOT_SHARED_DIR") or ROOT.parent / "shared")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SKIP_REASON = f"needs ../shared (not found at {SHARED})"


class SharedDataMissing(Exception):
    """A file of ../shared is absent; under CI=true that fails the run."""


def shared_available(rel: str = "") -> bool:
    return (SHARED / rel).exists()


def shared_path(rel: str) -> Path:
    """The path of ../shared/<rel>, for use inside a test or fixture (never at import)."""
    path = SHARED / rel
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(f"../shared/{rel} not found at {path}; under CI=true it is mandatory",
                    pytrace=False)
    pytest.skip(SKIP_REASON)


def read_json(rel: str) -> Any:
    return json.loads(shared_path(rel).read_text(encoding="utf-8"))


def shared_cases(argnames: str, rel: str, build: Callable[[Any], Iterable[Any]]) -> pytest.MarkDecorator:
    """Parametrize a test with cases built from the JSON file ../shared/<rel>.

    The file is read when pytest collects the test (tests/conftest.py's
    pytest_generate_tests), not when the module is imported; when it is absent the test
    becomes one skipped case, or a collection error under CI=true.
    """
    return pytest.mark.shared_cases(argnames, rel, build)


def cases_for(argnames: str, rel: str, build: Callable[[Any], Iterable[Any]]) -> list[Any]:
    """The parameter list for a `shared_cases` mark."""
    path = SHARED / rel
    if path.exists():
        return list(build(json.loads(path.read_text(encoding="utf-8"))))
    if IN_CI:
        raise SharedDataMissing(f"../shared/{rel} not found at {path}; under CI=true it is mandatory")
    n = len([a for a in argnames.split(",") if a.strip()])
    return [pytest.param(*([None] * n), id="no-shared-data", marks=pytest.mark.skip(reason=SKIP_REASON))]
