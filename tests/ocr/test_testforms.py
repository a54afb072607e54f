"""The generator writes what `orderbot extract` and score_extraction.py read."""

from __future__ import annotations

import json

from PIL import Image

from ocr.testforms.generate import generate, write_jsonl


def test_generator_writes_images_requests_and_contract_labels(tmp_path, fonts, catalog_csv):
    cases = generate(tmp_path, catalog_csv, n=8, seed=3)
    write_jsonl(cases, tmp_path / "req.jsonl", tmp_path / "lab.jsonl")
    reqs = [json.loads(x) for x in (tmp_path / "req.jsonl").read_text("utf-8").splitlines()]
    labs = [json.loads(x) for x in (tmp_path / "lab.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in reqs] == [lab["id"] for lab in labs] and len(reqs) == 8
    skus = {line.split(",")[0] for line in catalog_csv.read_text("utf-8").splitlines()[1:]}
    assert len({c.template for c in cases}) >= 3 and len({c.kind for c in cases}) >= 3
    for r, lab in zip(reqs, labs, strict=True):
        assert set(r) == {"id", "today", "image"}
        Image.open(r["image"]).verify()
        exp = lab["expect"]
        assert exp["items"] and all(i["sku"] in skus and i["quantity"] > 0 for i in exp["items"])
        assert exp["phone"].isdigit() and exp["delivery_date"] > r["today"]
        assert set(exp["address"]) == {"province", "city", "district", "detail"}


def test_same_seed_same_forms(tmp_path, fonts, catalog_csv):
    a = generate(tmp_path / "a", catalog_csv, n=2, seed=5)
    b = generate(tmp_path / "b", catalog_csv, n=2, seed=5)
    assert [c.expect for c in a] == [c.expect for c in b]
    assert all(x.image.read_bytes() == y.image.read_bytes() for x, y in zip(a, b, strict=True))
