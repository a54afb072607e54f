"""One OCR interface, the engine chosen by settings (ORDERBOT_OCR_ENGINE), loaded once.

`rapidocr` (default) runs PaddleOCR's PP-OCRv4 models shipped inside the
rapidocr-onnxruntime wheel. `paddleocr` is optional: it runs only when the package is
installed and ORDERBOT_OCR_PADDLE_*_DIR point at local model directories; nothing is
ever downloaded. Engines take seconds to load, so `get_engine()` keeps one per process
and serialises calls to it (two cores are better spent on one page at a time).
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import EngineUnavailable
from .settings import OcrSettings, get_ocr_settings


@dataclass(frozen=True)
class TextBox:
    """One recognised line fragment: its text, the recogniser's score, its quadrilateral."""

    text: str
    score: float
    quad: tuple[tuple[float, float], ...]   # 4 corners, clockwise from top-left, in pixels

    @property
    def left(self) -> float:
        return min(p[0] for p in self.quad)

    @property
    def right(self) -> float:
        return max(p[0] for p in self.quad)

    @property
    def top(self) -> float:
        return min(p[1] for p in self.quad)

    @property
    def bottom(self) -> float:
        return max(p[1] for p in self.quad)

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return sum(p[1] for p in self.quad) / 4

    @property
    def height(self) -> float:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.quad[:4]
        return max(1.0, ((y3 - y0) + (y2 - y1)) / 2)


class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[TextBox]:
        """Text boxes of a grayscale or BGR page, in no particular order."""
        ...


def _quad(points) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in points)


def _session_options(threads: int, spin: bool):
    """onnxruntime options for one page at a time on a small shared machine.

    RapidOCR's sessions leave the thread pool spinning: idle workers busy-wait for the
    next operator, which on 2 cores shared with other processes steals the very CPU the
    model needs (measured: half the wall time under load, same text). One sequential
    graph, `threads` intra-op workers (0 = all cores), arena and memory pattern on.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 4
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads if threads > 0 else (os.cpu_count() or 1)
    so.inter_op_num_threads = 1
    so.enable_cpu_mem_arena = True
    so.enable_mem_pattern = True
    flag = "1" if spin else "0"
    so.add_session_config_entry("session.intra_op.allow_spinning", flag)
    so.add_session_config_entry("session.inter_op.allow_spinning", flag)
    return so


def _tune_sessions(ocr, threads: int, spin: bool) -> None:
    """Re-open RapidOCR's detector and recogniser sessions with `_session_options`."""
    import onnxruntime as ort

    so = _session_options(threads, spin)
    for holder in (ocr.text_det.infer, ocr.text_rec.session):
        path = getattr(holder.session, "_model_path", None)
        if path:        # the same model file RapidOCR loaded; otherwise keep its session
            holder.session = ort.InferenceSession(path, sess_options=so,
                                                  providers=["CPUExecutionProvider"])


def _fast_det_preprocess(det) -> None:
    """Give RapidOCR's detector a normalisation that costs a table lookup.

    Its own computes `(x / 255 - mean) / std` in float64 over every pixel of the page
    (three channels) and casts back; a 256-entry table built with the same arithmetic
    gives bit-identical float32 input for a fraction of the time.
    """
    original = det.get_preprocess

    def get_preprocess(max_wh):
        op = original(max_wh)
        table = ((np.arange(256, dtype=np.float32) * op.scale - op.mean[:, None])
                 / op.std[:, None]).astype(np.float32)        # (3, 256), per channel

        def normalize(img: np.ndarray) -> np.ndarray:
            return np.stack([table[c][img[..., c]] for c in range(img.shape[2])], axis=-1)

        op.normalize = normalize
        return op

    det.get_preprocess = get_preprocess


class _NarrowRecogniser:
    """RapidOCR's recogniser, fed each short line at its own width instead of 320 px.

    RapidOCR (like PaddleOCR) pads every line to at least 320 px at height 48 before the
    model sees it; on a form most cells (a row number, 材质, 500个) are a third of that,
    so much of the recogniser's work is on blank padding. Here a line narrower than that
    is padded only to `min_width`; a wider one is resized exactly as RapidOCR does it
    (same arithmetic, so its text is the same), one line per call.
    """

    def __init__(self, rec, min_width: int, workers: int = 1, session=None) -> None:
        self._rec = rec
        self._min_width = min_width
        self._session = session or rec.session.session
        self._input = self._session.get_inputs()[0].name
        self._pool = None
        if workers > 1:     # lines are independent: each worker runs whole lines on one core
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ocr-rec")

    def __call__(self, img_list, return_word_box: bool = False):
        if return_word_box or self._rec.rec_batch_num != 1:
            return self._rec(img_list, return_word_box)
        imgs = [img_list] if isinstance(img_list, np.ndarray) else list(img_list)
        if self._pool is None or len(imgs) < 2:
            return [self._one(img) for img in imgs], 0.0
        # widest first, so the workers finish together
        order = sorted(range(len(imgs)), key=lambda i: -imgs[i].shape[1] / imgs[i].shape[0])
        out: list = [None] * len(imgs)
        for i, res in zip(order, self._pool.map(self._one, [imgs[i] for i in order]), strict=True):
            out[i] = res
        return out, 0.0

    def _one(self, img: np.ndarray):
        import cv2

        rec = self._rec
        _, height, _ = rec.rec_image_shape
        h, w = img.shape[:2]
        ratio = w / h
        width = max(self._min_width, int(height * ratio))
        resized_w = min(width, math.ceil(height * ratio))
        line = np.zeros((1, 3, height, width), dtype=np.float32)
        resized = cv2.resize(img, (resized_w, height)).astype(np.float32)
        line[0, :, :, :resized_w] = resized.transpose(2, 0, 1) / 255
        line[0, :, :, :resized_w] -= 0.5
        line[0, :, :, :resized_w] /= 0.5
        preds = self._session.run(None, {self._input: line})[0]
        return rec.postprocess_op(preds, False, wh_ratio_list=[ratio],
                                  max_wh_ratio=max(width / height, ratio))[0]


class RapidOcrEngine:
    """PP-OCRv4 det + rec through onnxruntime (models inside the rapidocr wheel)."""

    name = "rapidocr"

    def __init__(self, threads: int = 0, use_cls: bool = False, min_text_score: float = 0.5,
                 det_long_side: int = 0, spin: bool = False, rec_batch: int = 1,
                 rec_min_width: int = 0, det_box_thresh: float = 0.5,
                 rec_workers: int = 1) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:  # pragma: no cover - it is a declared dependency
            raise EngineUnavailable(f"rapidocr-onnxruntime is not installed: {e}") from e
        kw: dict[str, float | int] = {"text_score": min_text_score}
        if threads > 0:
            kw["intra_op_num_threads"] = threads
        self._ocr = RapidOCR(**kw)
        _tune_sessions(self._ocr, threads, spin)
        _fast_det_preprocess(self._ocr.text_det)
        self._ocr.text_rec.rec_batch_num = max(1, rec_batch)
        self._ocr.text_det.postprocess_op.box_thresh = det_box_thresh
        if rec_workers > 1 and rec_batch == 1:
            # one single-threaded session run from `rec_workers` threads at once
            import onnxruntime as ort

            path = self._ocr.text_rec.session.session._model_path
            single = ort.InferenceSession(path, sess_options=_session_options(1, spin),
                                          providers=["CPUExecutionProvider"])
            self._ocr.text_rec = _NarrowRecogniser(self._ocr.text_rec, rec_min_width or 320,
                                                   rec_workers, single)
        elif rec_min_width > 0:
            self._ocr.text_rec = _NarrowRecogniser(self._ocr.text_rec, rec_min_width)
        self._use_cls = use_cls
        self._min_score = min_text_score
        self._det_long_side = det_long_side

    def read(self, image: np.ndarray) -> list[TextBox]:
        if not self._det_long_side or max(image.shape[:2]) <= self._det_long_side:
            result, _ = self._ocr(image, use_cls=self._use_cls)
            return [TextBox(str(text), float(score), _quad(box))
                    for box, text, score in result or []]
        return self._read_scaled(image)

    def _read_scaled(self, image: np.ndarray) -> list[TextBox]:
        """Find lines on a smaller copy, read them from the full page.

        Detection costs as much as recognition and scales with pixels; lines of an A4
        page are as easy to find at ~1300 px as at 1754, while the recogniser still gets
        full-resolution crops. Uses RapidOCR's own detector, cropper and recogniser.
        """
        import cv2

        ocr = self._ocr
        page = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        f = self._det_long_side / max(page.shape[:2])
        small = cv2.resize(page, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        found, _ = ocr.text_det(small)
        if found is None or len(found) == 0:
            return []
        quads = [np.asarray(q, dtype=np.float32) / f for q in ocr.sorted_boxes(found)]
        crops = ocr.get_crop_img_list(page, quads)
        if self._use_cls:
            crops, _, _ = ocr.text_cls(crops)
        texts, _ = ocr.text_rec(crops)
        return [TextBox(str(t[0]), float(t[1]), _quad(q)) for q, t in zip(quads, texts, strict=True)
                if float(t[1]) >= self._min_score]


class PaddleOcrEngine:
    """The paddleocr package with local model directories (optional backend)."""

    name = "paddleocr"

    def __init__(self, settings: OcrSettings) -> None:
        dirs = {"det_model_dir": settings.paddle_det_dir, "rec_model_dir": settings.paddle_rec_dir}
        missing = [k for k, v in dirs.items() if not v or not Path(v).is_dir()]
        if missing:
            raise EngineUnavailable(
                "paddleocr needs local model directories (ORDERBOT_OCR_PADDLE_DET_DIR, "
                f"ORDERBOT_OCR_PADDLE_REC_DIR); missing: {', '.join(missing)}")
        try:
            from paddleocr import PaddleOCR
        except ImportError as e:
            raise EngineUnavailable(f"paddleocr is not installed: {e}") from e
        if settings.paddle_cls_dir:
            dirs["cls_model_dir"] = settings.paddle_cls_dir
        try:
            self._ocr = PaddleOCR(use_angle_cls=bool(settings.paddle_cls_dir), lang="ch",
                                  show_log=False, **dirs)
        except Exception as e:  # noqa: BLE001 - any failure here means "cannot run"
            raise EngineUnavailable(f"paddleocr failed to start offline: {e}") from e

    def read(self, image: np.ndarray) -> list[TextBox]:
        pages = self._ocr.ocr(image, cls=False) or []
        lines = pages[0] if pages and isinstance(pages[0], list) else pages
        return [TextBox(str(text), float(score), _quad(box))
                for box, (text, score) in (ln for ln in lines or [] if ln)]


class _Serialised:
    """Wraps an engine so concurrent callers take turns (and share one loaded model)."""

    def __init__(self, engine: OcrEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.name = engine.name

    def read(self, image: np.ndarray) -> list[TextBox]:
        with self._lock:
            return self._engine.read(image)


_engines: dict[str, OcrEngine] = {}
_engines_lock = threading.Lock()


def make_engine(settings: OcrSettings) -> OcrEngine:
    if settings.engine == "paddleocr":
        return PaddleOcrEngine(settings)
    return RapidOcrEngine(threads=settings.threads, min_text_score=settings.min_text_score,
                          det_long_side=settings.det_long_side, spin=settings.spin,
                          rec_batch=settings.rec_batch, rec_min_width=settings.rec_min_width,
                          det_box_thresh=settings.det_box_thresh,
                          rec_workers=settings.rec_workers or (os.cpu_count() or 1))


def get_engine(settings: OcrSettings | None = None) -> OcrEngine:
    """The process-wide engine named by settings, loaded on first use."""
    settings = settings or get_ocr_settings()
    with _engines_lock:
        engine = _engines.get(settings.engine)
        if engine is None:
            engine = _engines[settings.engine] = _Serialised(make_engine(settings))
        return engine
