"""`orderbot extract` per contracts/extraction.md, and the dev-set score as a floor."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from service.commands.extract import run_stream
from tests.shared_data import shared_path

ROOT = Path(__file__).resolve().parents[2]


def _run(lines: list[str], catalog) -> list[dict]:
    out = io.StringIO()
    run_stream(io.StringIO("\n".join(lines) + "\n"), out, catalog)
    return [json.loads(x) for x in out.getvalue().splitlines()]


def test_one_output_per_line_in_order_bad_lines_reported(catalog):
    got = _run(
        [
            json.dumps({"id": "a", "text": "M6螺母 304 100个", "today": "2026-03-04"}),
            "not json",
            json.dumps({"text": "no id"}),
            json.dumps({"id": "b", "text": "你好", "today": "2026-03-04"}),
        ],
        catalog,
    )
    assert [g["id"] for g in got] == ["a", None, None, "b"]
    assert got[0]["draft"]["items"][0]["sku"] == "HN-M6-304"
    assert "error" in got[1] and "error" in got[2]
    assert got[3]["draft"]["items"] == [] and "items" in got[3]["draft"]["missing"]


def test_image_line_is_delegated_to_ocr_or_reported(catalog, monkeypatch):
    import types

    import nlp

    fake = types.ModuleType("ocr.pipeline")

    def draft_from_image(path, today, catalog):
        return nlp.extract_draft("M8螺母 304 10个", today, catalog)

    fake.draft_from_image = draft_from_image
    monkeypatch.setitem(sys.modules, "ocr.pipeline", fake)
    got = _run([json.dumps({"id": "i", "image": "x.png", "text": "电话13812345678", "today": "2026-03-04"})], catalog)
    assert got[0]["draft"]["items"][0]["sku"] == "HN-M8-304"
    assert got[0]["draft"]["phone"] == "13812345678"

    monkeypatch.setitem(sys.modules, "ocr.pipeline", None)  # import fails
    got = _run([json.dumps({"id": "j", "image": "x.png", "today": "2026-03-04"})], catalog)
    assert got[0]["id"] == "j" and "error" in got[0]


def test_unreadable_catalog_exits_nonzero(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "extract", "--catalog", str(tmp_path / "nope.csv")],
        input="", capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode != 0


def test_dev_set_score_floor(tmp_path, catalog_csv):
    """The real command scored by the real scorer: a regression floor, not a target."""
    dev, scorer = shared_path("eval/messages_dev.jsonl"), shared_path("eval/score_extraction.py")
    drafts = tmp_path / "drafts.jsonl"
    with open(dev, encoding="utf-8") as inp, open(drafts, "w", encoding="utf-8") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "service.cli", "extract", "--catalog", str(catalog_csv)],
            stdin=inp, stdout=out, cwd=ROOT,
        )
    assert proc.returncode == 0
    score = subprocess.run(
        [sys.executable, str(scorer), str(dev), str(drafts)], capture_output=True, text=True, check=True
    ).stdout
    overall = float(score.strip().splitlines()[-1].split()[-1])
    items_f1 = float(next(line for line in score.splitlines() if line.startswith("items")).split()[-1])
    assert overall >= 0.95, score
    assert items_f1 >= 0.95, score


def test_a_line_with_an_id_always_gets_a_draft(catalog):
    got = _run([json.dumps({"id": "t", "text": 12345, "today": "not a date"}), json.dumps({"id": "u"})], catalog)
    assert [g["id"] for g in got] == ["t", "u"]
    assert all("draft" in g for g in got)


def test_waybill_receiver_block_beats_sender_block(catalog):
    import datetime as dt

    from nlp import extract_draft

    text = "寄件人：李四 13912345678 深圳市福田区福华路1号\n收件人：张三 13812345678 广州市天河区体育西路100号"
    d = extract_draft(text, dt.date(2026, 3, 4), catalog)
    assert (d.contact, d.phone, d.address.district, d.address.detail) == ("张三", "13812345678", "天河区", "体育西路100号")


def test_waybill_blocks_on_separate_lines(catalog):
    import datetime as dt

    from nlp import extract_draft

    text = (
        "寄件人：李四\n电话：13912345678\n地址：深圳市福田区福华路1号\n"
        "收件人：张三\n电话：13812345678\n地址：广州市天河区体育西路100号"
    )
    d = extract_draft(text, dt.date(2026, 3, 4), catalog)
    assert (d.contact, d.phone, d.address.district) == ("张三", "13812345678", "天河区")
