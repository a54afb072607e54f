"""OCR knobs from the environment (ORDERBOT_OCR_*); defaults suit a 2-core machine."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class OcrSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    engine: Literal["rapidocr", "paddleocr"] = Field(
        "rapidocr", validation_alias=_env("ORDERBOT_OCR_ENGINE"))
    max_bytes: int = Field(20_000_000, validation_alias=_env("ORDERBOT_OCR_MAX_BYTES"))
    max_pixels: int = Field(50_000_000, validation_alias=_env("ORDERBOT_OCR_MAX_PIXELS"))
    threads: int = Field(0, validation_alias=_env("ORDERBOT_OCR_THREADS"),
                         description="onnxruntime intra-op threads; 0 means all cores")
    min_text_score: float = Field(0.3, validation_alias=_env("ORDERBOT_OCR_MIN_TEXT_SCORE"),
                                  description="recognised text below this score is dropped; "
                                  "kept text still flags its field for confirmation")
    spin: bool = Field(False, validation_alias=_env("ORDERBOT_OCR_SPIN"),
                       description="let onnxruntime's idle threads busy-wait (faster only on "
                       "an otherwise idle machine; off steals no CPU from other work)")
    rec_batch: int = Field(1, validation_alias=_env("ORDERBOT_OCR_REC_BATCH"),
                           description="text lines recognised per model call; 1 pads none")
    rec_min_width: int = Field(0, validation_alias=_env("ORDERBOT_OCR_REC_MIN_WIDTH"),
                               description="pad a short text line only to this width (px at "
                               "height 48) instead of RapidOCR's 320: about -25 % recognition "
                               "CPU, but short cells (M8, 6202-ZZ) read worse; 0 = 320")
    rec_workers: int = Field(0, validation_alias=_env("ORDERBOT_OCR_REC_WORKERS"),
                             description="text lines recognised at once, each on one core "
                             "(0 = one per core; 1 = one line at a time on `threads` threads)")
    det_long_side: int = Field(1280, validation_alias=_env("ORDERBOT_OCR_DET_LONG_SIDE"),
                               description="find text lines on a copy this long (px); 0 = full "
                               "size. 1280 halves detection on an A4 150-dpi page and reads "
                               "forms as well (bench/README.md, ocr.py)")
    det_box_thresh: float = Field(0.4, validation_alias=_env("ORDERBOT_OCR_DET_BOX_THRESH"),
                                  description="a found line is kept when its mean text "
                                  "probability reaches this; RapidOCR's 0.5 drops whole thin "
                                  "handwritten lines on the 1280-px copy (bench/README.md)")
    confirm_below: float = Field(0.85, validation_alias=_env("ORDERBOT_OCR_CONFIRM_BELOW"),
                                 description="fields read with less confidence are flagged")
    # paddleocr backend only: local model directories (nothing is downloaded)
    paddle_det_dir: str = Field("", validation_alias=_env("ORDERBOT_OCR_PADDLE_DET_DIR"))
    paddle_rec_dir: str = Field("", validation_alias=_env("ORDERBOT_OCR_PADDLE_REC_DIR"))
    paddle_cls_dir: str = Field("", validation_alias=_env("ORDERBOT_OCR_PADDLE_CLS_DIR"))


@lru_cache(maxsize=1)
def get_ocr_settings() -> OcrSettings:
    return OcrSettings()
