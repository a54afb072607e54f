"""The engine is chosen by settings, loaded once per process, and never downloads."""

from __future__ import annotations

import numpy as np
import pytest

from ocr.engine import get_engine, make_engine
from ocr.errors import EngineUnavailable
from ocr.settings import OcrSettings


def test_engine_is_chosen_by_environment(monkeypatch):
    monkeypatch.setenv("ORDERBOT_OCR_ENGINE", "paddleocr")
    assert OcrSettings().engine == "paddleocr"
    monkeypatch.delenv("ORDERBOT_OCR_ENGINE")
    assert OcrSettings().engine == "rapidocr"


def test_paddleocr_without_local_models_says_what_is_missing(tmp_path):
    settings = OcrSettings(engine="paddleocr", paddle_det_dir=str(tmp_path / "nope"))
    with pytest.raises(EngineUnavailable, match="ORDERBOT_OCR_PADDLE_DET_DIR"):
        make_engine(settings)


def test_the_engine_is_loaded_once_and_reused(ocr_engine):
    assert get_engine() is ocr_engine
    assert get_engine(OcrSettings()) is ocr_engine


def test_a_blank_page_reads_as_nothing(ocr_engine):
    assert ocr_engine.read(np.full((400, 300), 255, np.uint8)) == []


def test_detection_on_a_smaller_copy_still_reads_full_size_text(fonts):
    from PIL import Image, ImageDraw, ImageFont

    from ocr.engine import RapidOcrEngine

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(fonts[0].path, 30, index=fonts[0].index)
    lines = ["联系人：张工", "电话：13812345678", "外六角螺栓 M6×20 5000个"]
    for k, text in enumerate(lines):
        draw.text((120, 200 + 80 * k), text, font=font, fill=0)
    boxes = RapidOcrEngine(det_long_side=900).read(np.asarray(page))
    read = "".join(b.text for b in sorted(boxes, key=lambda b: b.cy)).replace(" ", "")
    assert "13812345678" in read and "张工" in read and "5000" in read
    assert max(b.bottom for b in boxes) > 300          # boxes are in full-page pixels


def test_speed_knobs_come_from_the_environment(monkeypatch):
    assert OcrSettings().spin is False and OcrSettings().rec_batch == 1
    assert OcrSettings().det_long_side == 1280 and OcrSettings().rec_min_width == 0
    assert OcrSettings().det_box_thresh == 0.4
    monkeypatch.setenv("ORDERBOT_OCR_SPIN", "1")
    monkeypatch.setenv("ORDERBOT_OCR_REC_BATCH", "6")
    assert OcrSettings().spin is True and OcrSettings().rec_batch == 6


def test_line_by_line_recognition_reads_what_batches_read(fonts):
    """rec_batch=1 (no padding, the fast default) gives the text RapidOCR's batches of 6 give."""
    from PIL import Image, ImageDraw, ImageFont

    from ocr.engine import RapidOcrEngine

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(fonts[0].path, 28, index=fonts[0].index)
    lines = ["订货单", "联系人：李经理", "电话：13912345678", "平垫圈 M8 镀锌 2000个",
             "外六角螺栓 M10×40 8.8级 300个", "地址：江苏省苏州市工业园区星湖街328号", "交期：12月20日"]
    for k, text in enumerate(lines):
        draw.text((100, 150 + 70 * k), text, font=font, fill=0)
    image = np.asarray(page)

    def texts(engine):
        return [b.text for b in sorted(engine.read(image), key=lambda b: (b.cy, b.cx))]

    one = texts(RapidOcrEngine(rec_batch=1))
    assert one == texts(RapidOcrEngine(rec_batch=6))
    assert "13912345678" in "".join(one)


def test_short_lines_read_without_padding_and_in_parallel_read_the_same(fonts):
    """Lines padded only to their own width, and lines shared between two workers, read as
    RapidOCR's one-line-at-a-time recogniser reads them (a form's cells are mostly short)."""
    from PIL import Image, ImageDraw, ImageFont

    from ocr.engine import RapidOcrEngine

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(fonts[0].path, 28, index=fonts[0].index)
    cells = [("1", "平垫圈", "M8", "镀锌", "2000个"), ("2", "外六角螺栓", "M10×40", "8.8级", "300个")]
    for k, row in enumerate(cells):
        for x, text in zip((100, 180, 420, 620, 820), row, strict=True):
            draw.text((x, 300 + 70 * k), text, font=font, fill=0)
    draw.text((100, 500), "地址：江苏省苏州市工业园区星湖街328号 联系人：李经理 13912345678", font=font, fill=0)
    image = np.asarray(page)

    def texts(engine):
        return [b.text for b in sorted(engine.read(image), key=lambda b: (b.cy, b.cx))]

    rapid = texts(RapidOcrEngine(threads=1))
    assert texts(RapidOcrEngine(threads=1, rec_min_width=320)) == rapid
    assert texts(RapidOcrEngine(threads=1, rec_workers=2)) == rapid
    assert texts(RapidOcrEngine(threads=1, rec_min_width=96, rec_workers=2)) \
        == texts(RapidOcrEngine(threads=1, rec_min_width=96))
    narrow = "".join(texts(RapidOcrEngine(threads=1, rec_min_width=96)))
    for word in ("平垫圈", "M8", "2000个", "外六角螺栓", "300个", "13912345678"):
        assert word in narrow
