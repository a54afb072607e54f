"""The OCR job the queue runs for an image message or a mini-program upload.

`run_ocr_job` never raises: a refused image (bomb, not an image, truncated, too big)
and an engine failure both come back as {"ok": false, "error": {...}} with a Chinese
message for the customer, so one bad upload cannot take a worker down. It is
synchronous and CPU-bound: call it from async code with `run_ocr_job_async`, which
runs it in a thread so the event loop keeps serving callbacks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from nlp import Catalog

from .errors import ImageRejected
from .pipeline import draft_from_image
from .settings import OcrSettings

log = logging.getLogger(__name__)

FAILED_ZH = "订货单识别失败，请稍后重试或直接发送文字订单"


def run_ocr_job(image_bytes: bytes, today: dt.date, catalog: Catalog,
                settings: OcrSettings | None = None) -> dict[str, Any]:
    """Image bytes → {"ok": true, "draft": DRAFT, "seconds": s} or {"ok": false, "error": ...}.

    The draft is the extraction contract's DRAFT plus `source: "ocr"`,
    `field_confidence` and `to_confirm` (fields the customer or rep should check).
    Idempotent: the same bytes give the same result, so a retried job is harmless.
    """
    t0 = time.perf_counter()
    try:
        draft = draft_from_image(image_bytes, today=today, catalog=catalog, settings=settings)
    except ImageRejected as e:
        log.info("ocr job refused an image: %s", e)
        return {"ok": False, "error": e.to_dict()}
    except Exception as e:  # noqa: BLE001 - the worker must survive any engine failure
        log.exception("ocr job failed")
        return {"ok": False, "error": {"code": "ocr_failed", "message_zh": FAILED_ZH,
                                       "message_en": "OCR failed", "detail": repr(e)}}
    return {"ok": True, "draft": draft.to_dict(), "seconds": round(time.perf_counter() - t0, 3)}


async def run_ocr_job_async(image_bytes: bytes, today: dt.date, catalog: Catalog,
                            settings: OcrSettings | None = None) -> dict[str, Any]:
    """run_ocr_job in a worker thread (the engine serialises pages itself)."""
    return await asyncio.to_thread(run_ocr_job, image_bytes, today, catalog, settings)
