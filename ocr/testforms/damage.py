"""Turn a clean 200-dpi page into what really arrives: a scan, a phone photo, a fax.

Each function takes the clean page ('L', 200 dpi) and returns (image bytes, file suffix).
"""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
from PIL import Image

from .render import DPI

KINDS = ("scan", "photo", "fax", "fax_lowres")


def _resize_dpi(img: np.ndarray, dpi_x: float, dpi_y: float | None = None) -> np.ndarray:
    dpi_y = dpi_y or dpi_x
    h, w = img.shape[:2]
    size = (round(w * dpi_x / DPI), round(h * dpi_y / DPI))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _rotate(img: np.ndarray, degrees: float, fill: int | tuple = 255) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def _png(img: np.ndarray | Image.Image, **kw) -> bytes:
    pil = img if isinstance(img, Image.Image) else Image.fromarray(img)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _jpeg(img: np.ndarray, quality: int, exif_orientation: int | None = None) -> bytes:
    pil = Image.fromarray(img)
    buf = io.BytesIO()
    kw = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kw["exif"] = exif.tobytes()
    pil.save(buf, format="JPEG", quality=quality, **kw)
    return buf.getvalue()


def scan(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    """A flatbed scan: 150–200 dpi, a slight tilt, light noise, JPEG or PNG."""
    img = np.asarray(page)
    img = _resize_dpi(img, rng.choice([150, 200]))
    img = _rotate(img, rng.uniform(-1.0, 1.0))
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 4, img.shape)
    img = np.clip(img.astype(np.float32) * 0.97 + 6 + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        return _jpeg(img, rng.randint(75, 92)), ".jpg"
    return _png(img), ".png"


def photo(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    """A phone photo: perspective, a desk around the sheet, uneven light, blur, colour, EXIF."""
    g = np.random.default_rng(rng.randrange(1 << 30))
    img = _resize_dpi(np.asarray(page), 150)
    h, w = img.shape
    pad = int(0.06 * w)
    out_w, out_h = w + 2 * pad, h + 2 * pad
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = 0.035 * w
    dst = np.float32([[pad + rng.uniform(-j, j), pad + rng.uniform(-j, j)],
                      [pad + w + rng.uniform(-j, j), pad + rng.uniform(-j, j)],
                      [pad + w + rng.uniform(-j, j), pad + h + rng.uniform(-j, j)],
                      [pad + rng.uniform(-j, j), pad + h + rng.uniform(-j, j)]])
    m = cv2.getPerspectiveTransform(src, dst)
    desk = tuple(int(v) for v in g.integers(60, 140, 3))
    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    rgb = cv2.warpPerspective(rgb, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=desk)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    cx, cy = rng.uniform(0, out_w), rng.uniform(0, out_h)
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / np.hypot(out_w, out_h)
    light = (1.0 - rng.uniform(0.25, 0.45) * dist)[..., None]
    tint = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.9, 1.0), rng.uniform(0.8, 0.95)])
    rgb = np.clip(rgb.astype(np.float32) * light * tint + g.normal(0, 3, rgb.shape), 0, 255)
    rgb = cv2.GaussianBlur(rgb.astype(np.uint8), (0, 0), rng.uniform(0.5, 1.1))
    orientation = None
    if rng.random() < 0.3:   # the phone stored it sideways and says so in EXIF
        orientation = rng.choice([6, 8, 3])
        rot = {6: cv2.ROTATE_90_COUNTERCLOCKWISE, 8: cv2.ROTATE_90_CLOCKWISE, 3: cv2.ROTATE_180}
        rgb = cv2.rotate(rgb, rot[orientation])
    return _jpeg(rgb, rng.randint(70, 90), orientation), ".jpg"


def _binarise_with_speckles(img: np.ndarray, rng: random.Random,
                            angle: float | None = None) -> np.ndarray:
    g = np.random.default_rng(rng.randrange(1 << 30))
    if angle is None:
        angle = rng.choice([-1, 1]) * rng.uniform(0.5, 3.0)
    img = _rotate(img, angle)
    img = img.astype(np.float32) + g.normal(0, 18, img.shape)
    bw = np.where(img < rng.uniform(140, 175), 0, 255).astype(np.uint8)
    flips = g.random(bw.shape) < rng.uniform(0.001, 0.004)   # salt and pepper
    bw[flips] = 255 - bw[flips]
    for _ in range(rng.randint(0, 3)):                       # scanner streaks
        y = rng.randrange(bw.shape[0])
        bw[y:y + rng.randint(1, 2), :] = np.where(g.random(bw.shape[1]) < 0.6, 0, 255)
    return bw


def fax(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    """A fine-mode fax: 150 dpi, rotated up to ±3°, black and white, speckled."""
    bw = _binarise_with_speckles(_resize_dpi(np.asarray(page), 150), rng)
    if rng.random() < 0.4:
        pil = Image.fromarray(bw).convert("1")
        buf = io.BytesIO()
        pil.save(buf, format="TIFF", compression="group4", dpi=(150, 150))
        return buf.getvalue(), ".tif"
    return _png(Image.fromarray(bw).convert("1")), ".png"


def fax_lowres(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    """A standard-mode fax: about 100 dpi across and down, so text must be upscaled."""
    bw = _binarise_with_speckles(_resize_dpi(np.asarray(page), 100, rng.choice([100, 98])), rng)
    return _png(Image.fromarray(bw).convert("1")), ".png"


def apply(kind: str, page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    return {"scan": scan, "photo": photo, "fax": fax, "fax_lowres": fax_lowres}[kind](page, rng)
