"""`orderbot extract` reads image lines; bad images give an error line, the run goes on."""

from __future__ import annotations

import json

from ocr.testforms.generate import generate, write_jsonl
from service.cli import main

from .test_loading import png_bomb


def test_extract_reads_image_lines_and_reports_bad_ones(tmp_path, fonts, catalog_csv, capsys):
    cases = generate(tmp_path, catalog_csv, n=1, seed=7, templates=("bordered",), kinds=("scan",),
                     fonts=fonts[:1])
    write_jsonl(cases, tmp_path / "requests.jsonl", tmp_path / "labelled.jsonl")
    (tmp_path / "bomb.png").write_bytes(png_bomb())
    (tmp_path / "notes.png").write_text("this is not a picture", encoding="utf-8")
    with open(tmp_path / "requests.jsonl", "a", encoding="utf-8") as f:
        for rid, name in (("bomb", "bomb.png"), ("text", "notes.png")):
            f.write(json.dumps({"id": rid, "today": "2026-03-01", "image": str(tmp_path / name)}) + "\n")
    rc = main(["extract", "--catalog", str(catalog_csv), "--input", str(tmp_path / "requests.jsonl")])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and [o["id"] for o in out] == [cases[0].id, "bomb", "text"]
    draft = out[0]["draft"]
    want = cases[0].expect
    assert draft["phone"] == want["phone"] and draft["delivery_date"] == want["delivery_date"]
    assert {i["sku"] for i in draft["items"]} & {i["sku"] for i in want["items"]}
    assert "too_many_pixels" in out[1]["error"] and "not_an_image" in out[2]["error"]
