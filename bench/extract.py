"""Extraction speed and quality on a 100,000-product catalog, beside a naive baseline.

    .venv/bin/python bench/extract.py [--products 100000] [--rounds 5] [--baseline-messages 40]

The catalog is grown from ../shared/eval/catalog.csv: every real product stays, and new
ones are generated from its product types with more sizes, more materials, series
(GB/DIN standards) and brands, more bearing numbers, more car models and filter part
numbers. Generated products never copy a real product's type + size + material, so the
labelled dev set keeps one right answer.

Two readers run over the dev set (../shared/eval/messages_dev.jsonl) in this process:
- ours: nlp.extract_draft (index built once; a spec/word block, then scoring);
- naive: the same pipeline, but each item's product is
  rapidfuzz.process.extractOne(item text, all product names) (the default WRatio scorer).
For each: p50 / p99 milliseconds per message and the dev-set score from the real
scorer (score_extraction.py). Targets: ours p50 <= 3 ms, p99 <= 15 ms, >= 10x faster
than naive at equal or better F1.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from nlp import Catalog, extract_draft  # noqa: E402
from nlp.catalog import Match  # noqa: E402

CATALOG = SHARED / "eval" / "catalog.csv"
DEV = SHARED / "eval" / "messages_dev.jsonl"
SCORER = SHARED / "eval" / "score_extraction.py"

MATERIALS = [
    ("碳钢镀锌", "ZN", "镀锌|碳钢镀锌|碳钢|铁"),
    ("304不锈钢", "304", "304|不锈钢|SUS304|304不锈钢"),
    ("316不锈钢", "316", "316|SUS316|316不锈钢"),
    ("201不锈钢", "201", "201|SUS201|201不锈钢"),
    ("8.8级", "88", "8.8|8.8级"),
    ("10.9级", "109", "10.9|10.9级"),
    ("12.9级", "129", "12.9|12.9级"),
    ("碳钢发黑", "BK", "发黑|黑色|碳钢发黑"),
    ("达克罗", "DC", "达克罗"),
    ("黄铜", "CU", "黄铜|铜"),
]
SERIES = ["", "GB", "DIN", "ISO", "JIS", "ANSI"]
BRANDS = ["", "晋亿", "东明", "恒锐", "宁波", "邯郸", "永年", "高强", "精工"]
DIAMETERS = [3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 27, 30, 33, 36]
LENGTHS = [6, 8, 10, 12, 16, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 180, 200, 220, 250, 300]
EXTRA_TYPES = [
    ("六角法兰面螺栓", "法兰螺栓|法兰面螺栓|六角法兰螺栓", "FB", True),
    ("圆头方颈螺栓", "马车螺栓|方颈螺栓|圆头方颈", "CB", True),
    ("沉头内六角螺钉", "沉头内六角|平头内六角|沉头杯头", "CS", True),
    ("紧定螺钉", "机米|顶丝|紧定螺丝|无头螺丝", "SS", True),
    ("吊环螺钉", "吊环|吊环螺丝|吊环螺栓", "EY", False),
    ("盖形螺母", "盖形螺母|盖帽螺母|装饰螺母", "AN", False),
    ("焊接螺母", "焊接螺母|点焊螺母", "WN", False),
    ("双头螺柱", "双头螺栓|双头螺丝|牙条", "ST", True),
]
CARS = ["大众帕萨特", "大众迈腾", "大众速腾", "大众宝来", "丰田凯美瑞", "丰田雷凌", "丰田汉兰达", "本田雅阁", "本田思域", "本田飞度",
        "日产天籁", "日产骐达", "别克君威", "别克凯越", "雪佛兰科鲁兹", "福特福克斯", "现代伊兰特", "起亚K3", "长安逸动", "吉利帝豪",
        "哈弗H6", "比亚迪秦", "奇瑞瑞虎", "马自达6", "宝骏510"]


def grow_catalog(n: int, seed: int = 7) -> list[dict]:
    """The real catalog plus generated products up to `n` rows."""
    rnd = random.Random(seed)
    with open(CATALOG, encoding="utf-8") as f:
        real = list(csv.DictReader(f))
    rows = list(real)
    taken = {(r["name"].split(" ")[0], r["spec"], r["material"]) for r in real}
    skus = {r["sku"] for r in real}
    # Fastener types from the real catalog: head name, its type aliases, unit, packing.
    types: dict[str, dict] = {}
    for r in real:
        head = r["name"].split(" ")[0]
        if r["spec"].startswith(("M", "ST")) and head not in types:
            mat_words = {w for _m, _c, ws in MATERIALS for w in ws.split("|")} | {"4.8级", "SUS304"}
            aliases = "|".join(a for a in r["aliases"].split("|") if a not in mat_words)
            types[head] = {"alias": aliases, "unit": r["unit"], "pack": r["pack_unit"],
                           "prefix": r["sku"].split("-")[0], "has_len": "×" in r["spec"],
                           "st": r["spec"].startswith("ST"), "category": r["category"]}
    for name, alias, prefix, has_len in EXTRA_TYPES:
        types[name] = {"alias": alias, "unit": "个", "pack": "盒", "prefix": prefix, "has_len": has_len,
                       "st": False, "category": name}

    def add(row: dict) -> None:
        if row["sku"] in skus:
            return
        skus.add(row["sku"])
        rows.append(row)

    type_list = list(types.items())

    def random_combo():
        head, t = rnd.choice(type_list)
        d = rnd.choice([2.9, 3.5, 3.9, 4.2, 4.8, 5.5, 6.3] if t["st"] else DIAMETERS)
        length = None
        if t["has_len"]:
            length = rnd.choice([x for x in LENGTHS if x <= max(d * 15, 20)])
        mat, mcode, malias = rnd.choice(MATERIALS)
        return head, t, d, length, mat, mcode, malias, rnd.choice(SERIES), rnd.choice(BRANDS)
    # Bearings: more numbers and seals, and brands, never a real number+seal.
    real_bearings = {r["spec"] for r in real if r["category"] == "轴承"}
    for base in [f"60{i:02d}" for i in range(0, 20)] + [f"62{i:02d}" for i in range(0, 20)] + [f"63{i:02d}" for i in range(0, 16)] + ["608", "609", "625", "626", "688", "699"] + [f"160{i:02d}" for i in range(0, 12)]:
        for seal, seal_alias in (("2RS", "2RS|胶封|胶盖|双面胶封"), ("ZZ", "ZZ|铁封|铁盖|钢盖"), ("OPEN", "开式|无盖")):
            spec = f"{base}-{seal}" if seal != "OPEN" else base
            for brand in ("", "NSK", "SKF", "HRB", "ZWZ", "LYC", "FAG"):
                if not brand and spec in real_bearings:
                    continue
                if spec in real_bearings:
                    continue
                add({"sku": f"BRG-{spec}-{brand or 'STD'}", "name": f"深沟球轴承 {spec} {brand}".strip(), "category": "轴承",
                     "spec": spec, "material": "轴承钢GCr15", "unit": "只", "pack_unit": "盒", "pack_size": "10",
                     "price": f"{rnd.uniform(1, 30):.2f}", "aliases": f"轴承|深沟球轴承|{seal_alias}|{brand}".strip("|")})
    for i, car in enumerate(CARS):
        for pos, pos_alias in (("前轮", "前片"), ("后轮", "后片")):
            for mat, code in (("陶瓷", "TC"), ("半金属", "BJ")):
                add({"sku": f"BP-G{i}-{pos[0]}-{code}", "name": f"刹车片 {car} {pos} {mat}", "category": "刹车片",
                     "spec": f"{car} {pos}", "material": mat, "unit": "套", "pack_unit": "箱", "pack_size": "10",
                     "price": "99", "aliases": f"刹车片|刹车皮|来令片|{car[2:]}|{car}|{pos_alias}|{mat}"})
        code = f"{rnd.randint(10000, 99999)}-{rnd.choice('ABCDEFGHJK')}{rnd.randint(100, 999)}"
        add({"sku": f"OF-G{i}", "name": f"机油滤芯 {car} {code}", "category": "机油滤芯", "spec": code,
             "material": "滤纸+钢壳", "unit": "个", "pack_unit": "箱", "pack_size": "50", "price": "15",
             "aliases": f"机油滤芯|机滤|机油格|{code}|{code.replace('-', '')}|{car}"})
    attempts = 0
    while len(rows) < n and attempts < n * 20:
        attempts += 1
        head, t, d, length, mat, mcode, malias, series, brand = random_combo()
        pre = "ST" if t["st"] else "M"
        spec = f"{pre}{d}×{length}" if length else f"{pre}{d}"
        if (head, spec, mat) in taken:
            continue
        tail = " ".join(x for x in (series, brand) if x)
        sku = f"{t['prefix']}-{pre}{d}{'X' + str(length) if length else ''}-{mcode}{'-' + series if series else ''}{'-' + brand if brand else ''}"
        add({"sku": sku, "name": f"{head} {spec} {mat} {tail}".strip(), "category": t["category"], "spec": spec,
             "material": mat, "unit": t["unit"], "pack_unit": t["pack"], "pack_size": "500",
             "price": f"{rnd.uniform(0.01, 5):.3f}", "aliases": "|".join(x for x in (t["alias"], malias, series, brand) if x)})
    return rows[:n] if len(rows) > n else rows


class NaiveCatalog(Catalog):
    """Same pipeline, but each item is matched by extractOne over every product name."""

    def match(self, specs, words, material, text, context_words=None, context_material=None) -> Match:
        from rapidfuzz import process

        if not hasattr(self, "_names"):
            self._names = [p.name for p in self.products]
        best = process.extractOne(text, self._names)
        if not best or best[1] < 50:
            return Match(None, 0.0)
        return Match(self.products[best[2]], round(best[1] / 100, 2))


def run_reader(catalog: Catalog, cases: list[dict], rounds: int) -> tuple[list[float], list[float], list[dict]]:
    """Wall and CPU milliseconds per message (CPU time is what the machine's other
    load cannot inflate), and the first round's drafts."""
    wall: list[float] = []
    cpu: list[float] = []
    out: list[dict] = []
    for r in range(rounds):
        for c in cases:
            today = dt.date.fromisoformat(c["today"])
            t0, c0 = time.perf_counter(), time.process_time()
            d = extract_draft(c["text"], today, catalog)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)
            if r == 0:
                out.append({"id": c["id"], "draft": d.to_dict()})
    return wall, cpu, out


def score(cases_path: Path, drafts: list[dict]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for d in drafts:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
        path = f.name
    res = subprocess.run([sys.executable, str(SCORER), str(cases_path), path], capture_output=True, text=True, check=True)
    Path(path).unlink()
    return res.stdout


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def figure(text: str, prefix: str) -> str:
    line = next(x for x in text.splitlines() if x.startswith(prefix))
    return line.split()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5, help="timed passes over the dev set (ours)")
    ap.add_argument("--baseline-messages", type=int, default=40, help="dev messages for the naive reader")
    args = ap.parse_args()

    cases = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    t0 = time.perf_counter()
    rows = grow_catalog(args.products)
    t1 = time.perf_counter()
    catalog = Catalog.from_rows(rows)
    t2 = time.perf_counter()
    print(f"catalog: {len(rows)} products (generated in {t1 - t0:.1f} s), index built in {t2 - t1:.2f} s")

    extract_draft("预热 M6螺母 1个", dt.date(2026, 1, 1), catalog)  # first-call imports
    ours_t, ours_cpu, ours_out = run_reader(catalog, cases, args.rounds)
    ours_score = score(DEV, ours_out)

    naive = NaiveCatalog.from_rows(rows)
    base_cases = cases[: args.baseline_messages]
    naive_t, naive_cpu, naive_out = run_reader(naive, base_cases, 1)
    naive_path = DEV
    if len(base_cases) < len(cases):
        tmp = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        tmp.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in base_cases) + "\n", encoding="utf-8")
        naive_path = tmp
    naive_score = score(naive_path, naive_out)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include waiting for a CPU)")
    print(f"{'reader':8s} {'messages':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 cpu':>8s} {'p99 cpu':>8s} "
          f"{'items F1':>9s} {'overall':>8s}")
    for name, t, cpu, sc, n in (
        ("ours", ours_t, ours_cpu, ours_score, len(cases)),
        ("naive", naive_t, naive_cpu, naive_score, len(base_cases)),
    ):
        print(f"{name:8s} {n:8d} {pct(t, 0.5):8.2f} {pct(t, 0.99):8.2f} {pct(cpu, 0.5):8.2f} {pct(cpu, 0.99):8.2f} "
              f"{figure(sc, 'items'):>9s} {figure(sc, 'overall'):>8s}")
    print(f"speed-up (median per message): wall {pct(naive_t, 0.5) / pct(ours_t, 0.5):.0f}x, "
          f"cpu {pct(naive_cpu, 0.5) / max(pct(ours_cpu, 0.5), 1e-6):.0f}x")
    print("targets: p50 <= 3 ms, p99 <= 15 ms, >= 10x faster, F1 ours >= naive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
