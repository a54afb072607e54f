"""Pages photographed sideways or upside down, with no EXIF to say so."""

from __future__ import annotations

import statistics

import cv2
import numpy as np

from .engine import OcrEngine, TextBox


def _quality(boxes: list[TextBox]) -> float:
    return sum(b.score * len(b.text) for b in boxes if b.score >= 0.6)


def upright(engine: OcrEngine, image: np.ndarray,
            boxes: list[TextBox]) -> tuple[list[TextBox], np.ndarray, int]:
    """(boxes, image, degrees turned) for the page read the right way up.

    Sideways text shows as tall boxes; the recogniser turns tall crops a quarter
    anticlockwise, so if they still read well the page was turned clockwise. Upside-down
    text reads badly everywhere; then the page is read once more turned round and the
    better reading kept. Upright pages with normal scores cost nothing extra.
    """
    if len(boxes) < 4:
        return boxes, image, 0
    scores = statistics.median(b.score for b in boxes)
    wordy = [b for b in boxes if len(b.text) >= 2] or boxes     # a lone "1" is always tall
    tall = sum(b.bottom - b.top > 1.5 * (b.right - b.left) for b in wordy) / len(wordy)
    if tall > 0.6:
        turn = cv2.ROTATE_90_COUNTERCLOCKWISE if scores >= 0.8 else cv2.ROTATE_90_CLOCKWISE
        turned = cv2.rotate(image, turn)
        return engine.read(turned), turned, (-90 if scores >= 0.8 else 90)
    if scores < 0.75:
        turned = cv2.rotate(image, cv2.ROTATE_180)
        again = engine.read(turned)
        if _quality(again) > 1.5 * _quality(boxes):
            return again, turned, 180
    return boxes, image, 0
