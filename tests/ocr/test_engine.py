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
