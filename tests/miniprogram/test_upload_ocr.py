"""A photographed order form uploaded from the mini-program becomes a draft: upload → the
"ocr_job" outbox row → the worker's handler (real OCR engine) → GET /jobs/{id} shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import FormData

from .conftest import Mp

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


async def test_uploaded_form_is_read_into_a_draft(mp: Mp, tmp_path: Path, shared_dir: Path) -> None:
    from ocr.testforms.generate import generate
    from tests.needs import cjk_fonts_or_skip

    cjk_fonts_or_skip()

    case = generate(tmp_path, shared_dir / "eval" / "catalog.csv", n=1, seed=3, kinds=("scan",))[0]
    token = await mp.login("photo-taker")
    form = FormData()
    form.add_field("file", case.image.read_bytes(), filename=case.image.name, content_type="image/png")
    job = await (await mp.client.post("/mp/v1/uploads", data=form, headers=mp.auth(token))).json()
    assert job["state"] == "queued"

    await mp.run_ocr_job()

    done = await (await mp.client.get(f"/mp/v1/jobs/{job['id']}", headers=mp.auth(token))).json()
    assert done["state"] == "done", done
    expected = {(i["sku"], i["quantity"]) for i in case.expect["items"]}
    read = {(i["sku"], i["quantity"]) for i in done["draft"]["items"]}
    assert len(expected & read) >= len(expected) // 2, (expected, read)
    assert done["draft"]["phone"] == case.expect["phone"]
