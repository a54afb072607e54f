"""Score drafts of a blind set overall and per damage kind with the shared scorer.

    python -m tests.ocr.forms_blind.score CASES.jsonl DRAFTS.jsonl
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SCORER = Path(__file__).resolve().parents[4] / "shared" / "eval" / "score_extraction.py"


def score(cases_path: str | Path, drafts_path: str | Path) -> dict[str, str]:
    """{'all': scorer output, '<kind>': scorer output on that kind's cases}."""
    cases = [json.loads(line) for line in open(cases_path, encoding="utf-8") if line.strip()]
    kinds = sorted({c["meta"]["kind"] for c in cases})
    out = {"all": _run(cases_path, drafts_path)}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            sub = Path(tmp) / f"{kind}.jsonl"
            sub.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases
                                   if c["meta"]["kind"] == kind), encoding="utf-8")
            out[kind] = _run(sub, drafts_path)
    return out


def _run(cases: str | Path, drafts: str | Path) -> str:
    return subprocess.run([sys.executable, str(SCORER), str(cases), str(drafts)],
                          capture_output=True, text=True, check=True).stdout


def overall(text: str) -> float:
    """The scorer's last figure, `overall F1 <x>`."""
    return float(text.strip().splitlines()[-1].split()[-1])


def main(argv: list[str]) -> int:
    results = score(argv[1], argv[2])
    print(results["all"])
    for kind, text in results.items():
        if kind != "all":
            n = text.split()[1]
            lines = dict(ln.rsplit(" ", 1) for ln in text.strip().splitlines()[1:])
            print(f"{kind:11s} n={n}  " + "  ".join(f"{k.split()[0]}={v}" for k, v in lines.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
