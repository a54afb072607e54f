"""OCR bench: seconds per image for the raw engine and the full image → Draft path, measured
in the same run on the same A4 150-dpi faxes, and the field F1 on a rendered labelled set.

    .venv/bin/python bench/ocr.py [--n 24] [--seed 101] [--dir DIR] [--repeat 5]
    .venv/bin/python bench/ocr.py --n 8 --skip-f1 --baseline-root ../wt-base [--pairs 3]

With --baseline-root, this tree and another checkout (its own .venv) are timed in turn,
each in a fresh process on the same faxes, `--pairs` times; the ratio of each pair is
printed and their median is the figure to quote on a shared, loaded machine.

Targets (issue 5): <= 1.0 s median per A4 150-dpi fax on 2 cores; the full path within
+20 % of the raw engine; F1 >= 0.95. The F1 is score_extraction.py's `overall F1` on
forms rendered here (templates × scan/photo/fax/low-res fax × fonts), written to DIR so
`orderbot extract` can be scored on them the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
CATALOG = SHARED / "eval" / "catalog.csv"
SCORER = SHARED / "eval" / "score_extraction.py"


def raw_read(engine, path: Path) -> int:
    """The baseline: decode the file and hand it to the engine, nothing else."""
    img = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("L"))
    return len(engine.read(img))


def time_paths(cases, catalog, engine, repeat: int, rounds: int) -> dict[str, list[float]]:
    """Per image: raw and full alternately `rounds` times, best of each kept (the machine is
    shared, so the minimum is the figure least disturbed by other jobs)."""
    from ocr.pipeline import draft_from_image, read_form

    times: dict[str, list[float]] = {"raw": [], "full": [], "raw_cpu": [], "full_cpu": [],
                                     "prepare": [], "ocr": [], "layout": []}
    for k in range(repeat):
        case = cases[k % len(cases)]
        today = dt.date.fromisoformat(case["today"])
        best = {"raw": math.inf, "full": math.inf, "raw_cpu": math.inf, "full_cpu": math.inf}
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            raw_read(engine, Path(case["image"]))
            t1, c1 = time.perf_counter(), time.process_time()
            draft_from_image(case["image"], today=today, catalog=catalog, engine=engine)
            t2, c2 = time.perf_counter(), time.process_time()
            for key, value in (("raw", t1 - t0), ("full", t2 - t1), ("raw_cpu", c1 - c0),
                               ("full_cpu", c2 - c1)):
                best[key] = min(best[key], value)
        for key, value in best.items():
            times[key].append(value)
        stages = read_form(case["image"], engine=engine).seconds
        for key in ("prepare", "ocr", "layout"):
            times[key].append(stages[key])
    return times


def score(labelled: Path, drafts: Path) -> tuple[float, str]:
    out = subprocess.run([sys.executable, str(SCORER), str(labelled), str(drafts)],
                         capture_output=True, text=True, check=True).stdout
    overall = float(out.strip().splitlines()[-1].split()[-1])
    return overall, out


_FIGURE = re.compile(r"^(raw OCR engine|full image -> Draft)\s+median ([0-9.]+) s/image", re.M)


def timed_elsewhere(root: Path, out: Path, a: argparse.Namespace) -> dict[str, float]:
    """{'raw': s, 'full': s} from `root`'s own bench/ocr.py run on the set in `out`."""
    python = root / ".venv" / "bin" / "python"
    cmd = [str(python if python.exists() else sys.executable), str(root / "bench" / "ocr.py"),
           "--skip-f1", "--dir", str(out), "--repeat", str(a.repeat), "--rounds", str(a.rounds)]
    text = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True).stdout
    found = {("raw" if m[0].startswith("raw") else "full"): float(m[1]) for m in _FIGURE.findall(text)}
    if len(found) != 2:
        raise SystemExit(f"no figures from {root}/bench/ocr.py:\n{text}")
    return found


def compare(baseline: Path, out: Path, a: argparse.Namespace) -> int:
    """Alternate baseline and this tree `a.pairs` times; print each ratio and the median."""
    ratios: dict[str, list[float]] = {"raw": [], "full": []}
    print(f"this tree {ROOT} vs baseline {baseline}, {a.pairs} pairs, fresh process each")
    for k in range(a.pairs):
        load0 = os.getloadavg()[0]
        base = timed_elsewhere(baseline, out, a)
        ours = timed_elsewhere(ROOT, out, a)
        load1 = os.getloadavg()[0]
        for key in ratios:
            ratios[key].append(ours[key] / base[key])
        print(f"pair {k + 1}: full {ours['full']:.3f} s vs {base['full']:.3f} s "
              f"(x{ours['full'] / base['full']:.2f}), raw {ours['raw']:.3f} vs {base['raw']:.3f} s "
              f"(x{ours['raw'] / base['raw']:.2f}), load {load0:.1f}-{load1:.1f}")
    print(f"median ratio this/baseline: full x{statistics.median(ratios['full']):.2f}, "
          f"raw x{statistics.median(ratios['raw']):.2f} on {os.cpu_count()} cores")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=24, help="forms to render for the F1")
    p.add_argument("--seed", type=int, default=101)
    p.add_argument("--dir", help="use (or write) the labelled set here")
    p.add_argument("--repeat", type=int, default=5, help="faxes timed (median reported)")
    p.add_argument("--rounds", type=int, default=3, help="runs per fax (best kept)")
    p.add_argument("--skip-f1", action="store_true")
    p.add_argument("--baseline-root", type=Path,
                   help="another checkout (with its .venv) to time against, in turn")
    p.add_argument("--pairs", type=int, default=3, help="baseline/this runs with --baseline-root")
    a = p.parse_args(argv)

    from nlp import Catalog
    from ocr.engine import get_engine
    from ocr.pipeline import draft_from_image
    from ocr.testforms.generate import generate, write_jsonl

    out = Path(a.dir or tempfile.mkdtemp(prefix="ocr-bench-"))
    labelled = out / "labelled.jsonl"
    if not labelled.exists():
        cases = generate(out, CATALOG, n=a.n, seed=a.seed)
        write_jsonl(cases, out / "requests.jsonl", labelled)
    cases = [json.loads(line) for line in labelled.read_text("utf-8").splitlines()]
    catalog = Catalog.from_csv(CATALOG)
    if a.baseline_root:
        return compare(a.baseline_root.resolve(), out, a)

    t0 = time.perf_counter()
    engine = get_engine()
    print(f"engine {engine.name}: loaded in {time.perf_counter() - t0:.2f} s (once per process)")

    faxes = [c for c in cases if c.get("meta", {}).get("kind") == "fax"]
    if not faxes:     # an older set without meta: render five faxes for the timing
        fax_cases = generate(out / "faxes", CATALOG, n=5, seed=a.seed + 1, kinds=("fax",))
        faxes = [c.labelled() for c in fax_cases]
    raw_read(engine, Path(faxes[0]["image"]))               # warm-up
    times = time_paths(faxes, catalog, engine, a.repeat, a.rounds)
    raw, full = statistics.median(times["raw"]), statistics.median(times["full"])
    shape = Image.open(faxes[0]["image"]).size
    print(f"timed on {min(len(faxes), a.repeat)} A4 150-dpi faxes ({shape[0]}x{shape[1]} px), "
          f"best of {a.rounds} runs each, median over the faxes")
    print(f"raw OCR engine        median {raw:.3f} s/image")
    print(f"full image -> Draft   median {full:.3f} s/image")
    print(f"overhead vs raw       {100 * (full / raw - 1):+.1f} %   (median of per-image ratios "
          f"{100 * (statistics.median(f / r for f, r in zip(times['full'], times['raw'], strict=True)) - 1):+.1f} %)")
    rc, fc = statistics.median(times["raw_cpu"]), statistics.median(times["full_cpu"])
    print(f"CPU seconds (all threads; load-independent): raw {rc:.3f}, full {fc:.3f}, "
          f"overhead {100 * (fc / rc - 1):+.1f} %")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} during the run "
          "(other jobs inflate wall-clock figures)")
    print("stages (median s): " + ", ".join(
        f"{k} {statistics.median(times[k]):.3f}" for k in ("prepare", "ocr", "layout")))

    if a.skip_f1:
        return 0
    drafts_path = out / "drafts.jsonl"
    per_image = []
    with open(drafts_path, "w", encoding="utf-8") as f:
        for c in cases:
            t = time.perf_counter()
            try:
                d = draft_from_image(c["image"], today=dt.date.fromisoformat(c["today"]),
                                     catalog=catalog, engine=engine).to_dict()
                f.write(json.dumps({"id": c["id"], "draft": d}, ensure_ascii=False) + "\n")
            except Exception as e:  # noqa: BLE001 - a failure scores as an empty draft
                f.write(json.dumps({"id": c["id"], "error": repr(e)}) + "\n")
            per_image.append(time.perf_counter() - t)
    overall, report = score(labelled, drafts_path)
    print(f"\nfield F1 on {len(cases)} rendered forms (score_extraction.py), "
          f"median {statistics.median(per_image):.2f} s/form:")
    print("  " + report.strip().replace("\n", "\n  "))
    kinds = sorted({c.get("meta", {}).get("kind", "?") for c in cases})
    for kind in kinds:
        sub = out / f"labelled-{kind}.jsonl"
        sub.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases
                               if c.get("meta", {}).get("kind", "?") == kind), "utf-8")
        print(f"  {kind:10s} overall F1 {score(sub, drafts_path)[0]:.3f}")
    print(f"set: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
