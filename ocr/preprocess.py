"""Make a page easier to read: right size, level, clean.

Everything here runs on a grayscale uint8 array and costs a few tens of milliseconds,
a small fraction of the OCR itself (the bench checks the ratio).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TARGET_LONG_SIDE = 1754     # an A4 page at 150 dpi: the detector's sweet spot for forms
LOW_RES_LONG_SIDE = 1000    # below this (under ~90 dpi for A4) text is too small to detect well
MAX_LONG_SIDE = 2200        # larger photos are shrunk first (the engine would anyway)
MAX_SKEW = 6.0              # degrees searched either way


@dataclass(frozen=True)
class Prepared:
    """The page handed to the engine, and what was done to it (for logs and tests)."""

    image: np.ndarray
    scale: float
    skew: float
    bilevel: bool
    denoised: bool
    flattened: bool = False     # a photographed sheet was found and warped flat


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl."""
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def find_sheet(gray: np.ndarray) -> np.ndarray | None:
    """Corners of a sheet of paper photographed on a darker background, or None.

    The paper is the largest bright region; it counts only if it is a convex
    quadrilateral covering a good part of the photo but not all of it (a scan or a
    fax has no background to find).
    """
    h, w = gray.shape[:2]
    f = 400.0 / max(h, w)
    small = cv2.GaussianBlur(cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA),
                             (5, 5), 0)
    _, mask = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    sh, sw = small.shape
    if not 0.3 * sh * sw < area < 0.95 * sh * sw:
        return None
    approx = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
    if len(approx) != 4 or not cv2.isContourConvex(approx):
        return None
    corners = approx.reshape(4, 2).astype(np.float32) / f
    margin = 0.015 * min(h, w)
    inside = ((corners[:, 0] > margin) & (corners[:, 0] < w - margin)
              & (corners[:, 1] > margin) & (corners[:, 1] < h - margin))
    return _order_corners(corners) if inside.sum() >= 3 else None


def flatten_sheet(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Warp the photographed sheet to a rectangle (undoes perspective, crops the desk)."""
    tl, tr, br, bl = corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    dst = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    m = cv2.getPerspectiveTransform(corners, dst)
    return cv2.warpPerspective(gray, m, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def resize_for_ocr(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Upscale low-resolution faxes, shrink huge photos; returns (image, scale)."""
    long_side = max(gray.shape[:2])
    if long_side < LOW_RES_LONG_SIDE:
        scale = min(2.5, TARGET_LONG_SIDE / long_side)
        return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), scale
    if long_side > MAX_LONG_SIDE:
        scale = TARGET_LONG_SIDE / long_side
        return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale
    return gray, 1.0


def is_bilevel(gray: np.ndarray) -> bool:
    """A fax or a thresholded scan: almost every pixel is pure black or pure white."""
    sample = gray[::4, ::4]
    return float(np.mean((sample < 16) | (sample > 239))) > 0.97


def _ink(gray: np.ndarray) -> np.ndarray:
    """Binary ink mask (255 = ink), robust to uneven light."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)


def estimate_skew(gray: np.ndarray) -> float:
    """The rotation (degrees, counter-clockwise positive) that levels the page.

    Text lines and table rules give the sharpest horizontal profile when level; searched
    coarse-to-fine on a small copy so it costs a few milliseconds.
    """
    h, w = gray.shape[:2]
    f = 600.0 / max(h, w)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    ink = _ink(small)
    # Fax scanner streaks are level in the image whatever the paper's tilt: drop them.
    streaks = ink.mean(axis=1) > 0.35 * 255
    if streaks.any():
        streaks |= np.roll(streaks, 1) | np.roll(streaks, -1)
        ink[streaks] = 0
    sh, sw = ink.shape
    centre = (sw / 2, sh / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rot = cv2.warpAffine(ink, m, (sw, sh), flags=cv2.INTER_NEAREST, borderValue=0)
        profile = rot.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(profile) ** 2))

    best, step = 0.0, 1.0
    candidates = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, step)
    for _ in range(3):
        scores = [sharpness(a) for a in candidates]
        best = float(candidates[int(np.argmax(scores))])
        step /= 4
        candidates = np.arange(best - 4 * step, best + 4 * step + 1e-9, step)
    return best


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def remove_speckles(gray: np.ndarray, max_area: int = 2, clearance: int = 3) -> np.ndarray:
    """Drop isolated black dots (fax line noise): tiny blobs with no other ink nearby.

    Removing every tiny blob also eats broken strokes and decimal points (measured: fewer
    strings read), so only dots at least `clearance` pixels from real ink go.
    """
    ink = (gray < 128).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False
    if not small[1:].any():
        return gray
    big = (~small[labels] & (labels > 0)).astype(np.uint8)
    k = 2 * clearance + 1
    near = cv2.dilate(big, np.ones((k, k), np.uint8)) > 0
    drop = small[labels] & ~near
    out = gray.copy()
    out[drop] = 255
    return out


def prepare(gray: np.ndarray, *, deskew: bool = True, min_skew: float = 0.2) -> Prepared:
    """Resize, deskew and denoise a grayscale page for the engine."""
    bilevel = is_bilevel(gray)
    denoised = flattened = False
    if bilevel:
        gray = remove_speckles(gray)
        denoised = True
    else:
        if max(gray.shape[:2]) > 1.5 * MAX_LONG_SIDE:      # shrink a big photo before warping
            f = MAX_LONG_SIDE / max(gray.shape[:2])
            gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        corners = find_sheet(gray)
        if corners is not None:
            gray = flatten_sheet(gray, corners)
            flattened = True
    gray, scale = resize_for_ocr(gray)
    skew = estimate_skew(gray) if deskew else 0.0
    if abs(skew) >= min_skew:
        gray = rotate(gray, skew)
    return Prepared(gray, scale, skew, bilevel, denoised, flattened)
