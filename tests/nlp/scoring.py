"""Scoring a labelled set the way every check does: the real `orderbot extract` command, then
../shared's scorer; one place for the floor tests of the held-out and blind sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.shared_data import shared_path

ROOT = Path(__file__).resolve().parents[2]
WAYBILL_FIELDS = ("contact", "phone", "province", "city", "district", "detail")


def figures(score: str) -> dict[str, float]:
    """The scorer's printout as numbers: items F1, overall F1 and each field's accuracy."""
    out = {}
    for line in score.splitlines():
        parts = line.split()
        if line.startswith("items"):
            out["items"] = float(parts[-1])
        elif len(parts) == 3 and parts[1] == "accuracy":
            out[parts[0]] = float(parts[2])
        elif line.startswith("overall"):
            out["overall"] = float(parts[-1])
    return out


def score(cases: Path, catalog_csv: Path, workdir: Path) -> tuple[dict[str, float], str]:
    """(figures, the scorer's text with errors shown) for a JSONL set of labelled cases."""
    drafts = workdir / f"{cases.stem}.drafts.jsonl"
    with open(cases, encoding="utf-8") as inp, open(drafts, "w", encoding="utf-8") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "service.cli", "extract", "--catalog", str(catalog_csv)],
            stdin=inp, stdout=out, cwd=ROOT,
        )
    assert proc.returncode == 0
    text = subprocess.run(
        [sys.executable, str(shared_path("eval/score_extraction.py")), str(cases), str(drafts), "--show-errors"],
        capture_output=True, text=True, check=True,
    ).stdout
    return figures(text), text
