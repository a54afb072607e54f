"""A customer photographs an order form and sends it in chat: the image is downloaded through
the media API (stand-in), read by OCR in a queued job, and comes back as a draft to confirm."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chat.conftest import Chat
from tests.needs import cjk_fonts_or_skip


@pytest.fixture
def form(tmp_path: Path, catalog_csv: Path) -> tuple[Path, dict]:
    fonts = cjk_fonts_or_skip()
    from ocr.testforms.generate import generate

    [case] = generate(tmp_path, catalog_csv, n=1, seed=7, kinds=("scan",), fonts=fonts[:1])
    return case.image, case.expect


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_photo_of_a_form_becomes_a_draft_to_confirm(chat: Chat, form: tuple[Path, dict]) -> None:
    image, expect = form
    replies = await chat.send("o_photo", {"image": str(image)})
    # first the bot says it is reading, then (after the OCR job) the draft comes back
    assert replies[0].startswith("收到图片")
    answer = replies[-1]
    assert "请核对订单" in answer or "还差" in answer or "哪一种" in answer
    first = expect["items"][0]
    assert str(first["quantity"]) in answer


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_image_that_is_not_a_form_gets_a_clear_answer(chat: Chat, tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), "white").save(path)
    replies = await chat.send("o_blank", {"image": str(path)})
    assert replies[0].startswith("收到图片")
    assert "没能识别" in replies[-1]
