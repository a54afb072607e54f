"""The held-out sets (tests/nlp/heldout*.jsonl: voice input, pasted chat logs, PO
tables, Cantonese and traditional text, waybills and address data, written apart from
the dev set; b, c and d were each scored blind before the fixes they led to; k — the
issue #12 kinds: spoken specs, circled lists, self-corrections, non-orders, English POs,
glued waybills, ambiguous districts — scored 0.965 overall, items 0.935, before its fixes;
l, more of them across trades, 0.953 before its fixes, one label and one text corrected;
m, mixed waybill/chat/English, 0.920 before its fixes, one date label corrected;
n, 8 more, 1.000 blind) scored
together with the real command and the real scorer: a regression floor, not a target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.shared_data import shared_path

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_SETS = sorted(Path(__file__).parent.glob("heldout*.jsonl"))


def _figures(score: str) -> dict[str, float]:
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


def test_heldout_sets_score_floor(tmp_path, catalog_csv):
    assert len(HELDOUT_SETS) >= 2
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(p.read_text(encoding="utf-8") for p in HELDOUT_SETS), encoding="utf-8")
    assert sum(1 for line in cases.read_text(encoding="utf-8").splitlines() if line.strip()) >= 80
    drafts = tmp_path / "drafts.jsonl"
    with open(cases, encoding="utf-8") as inp, open(drafts, "w", encoding="utf-8") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "service.cli", "extract", "--catalog", str(catalog_csv)],
            stdin=inp, stdout=out, cwd=ROOT,
        )
    assert proc.returncode == 0
    score = subprocess.run(
        [sys.executable, str(shared_path("eval/score_extraction.py")), str(cases), str(drafts), "--show-errors"],
        capture_output=True, text=True, check=True,
    ).stdout
    got = _figures(score)
    # All sets read 1.000 today; the floor sits just below so that one broken case fails.
    assert got["overall"] >= 0.995, score
    assert got["items"] >= 0.99, score
    assert min(v for k, v in got.items() if k not in ("overall", "items")) >= 0.99, score
