"""Ways a blind form reaches us, each written here apart from ocr/testforms/damage.py.

Kinds: scan (tilt, blur, JPEG), photo (perspective, lighting, background, JPEG), fax (204×196
dpi fine mode, thresholded, speckles, streaks), fax_std (204×98 standard mode, rows doubled),
stain_fold (coffee stains and fold creases on a scan), moire (halftone screen resampled).
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

KINDS = ("scan", "photo", "fax", "fax_std", "stain_fold", "moire")
DPI = 200


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _scale(img: Image.Image, sx: float, sy: float | None = None,
           resample=Image.LANCZOS) -> Image.Image:
    sy = sx if sy is None else sy
    return img.resize((max(1, round(img.width * sx)), max(1, round(img.height * sy))), resample)


def _tilt(img: Image.Image, rng: random.Random, most: float, fill: int = 250) -> Image.Image:
    return img.rotate(rng.uniform(-most, most), resample=Image.BICUBIC, expand=True, fillcolor=fill)


def scan(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    img = _tilt(page, rng, 2.0, fill=rng.choice([235, 245]))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.0)))
    img = _scale(img, rng.choice([0.75, 0.9, 1.0]))
    a = np.asarray(img, dtype=np.float32) * rng.uniform(0.9, 0.97) + rng.uniform(5, 15)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return _encode(img, "JPEG", quality=rng.randint(45, 75)), ".jpg"


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """PIL's 8 coefficients mapping output points dst to input points src."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    b = np.array([c for p in src for c in p], dtype=np.float64)
    return list(np.linalg.solve(np.array(rows, dtype=np.float64), b))


def photo(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    w, h = page.size
    pad = int(0.08 * w)
    canvas = Image.new("L", (w + 2 * pad, h + 2 * pad), rng.randint(60, 120))
    canvas.paste(page, (pad, pad))
    cw, ch = canvas.size
    j = lambda s: rng.uniform(0, s)  # noqa: E731
    dst = [(j(0.05 * cw), j(0.04 * ch)), (cw - j(0.05 * cw), j(0.04 * ch)),
           (cw - j(0.03 * cw), ch - j(0.03 * ch)), (j(0.03 * cw), ch - j(0.03 * ch))]
    src = [(pad * 0.3, pad * 0.3), (cw - pad * 0.3, pad * 0.3), (cw - pad * 0.3, ch - pad * 0.3),
           (pad * 0.3, ch - pad * 0.3)]
    img = canvas.transform(canvas.size, Image.PERSPECTIVE, _perspective_coeffs(src, dst),
                           Image.BICUBIC, fillcolor=90)
    img = img.rotate(rng.uniform(-3, 3), resample=Image.BICUBIC, fillcolor=90)
    yy, xx = np.mgrid[0:img.height, 0:img.width].astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25), rng.uniform(-0.3, 0.1)
    light = 1 + gx * (xx / img.width - 0.5) + gy * (yy / img.height - 0.5)
    vign = 1 - 0.25 * (((xx / img.width - 0.5) ** 2 + (yy / img.height - 0.5) ** 2) * 2)
    a = np.asarray(img, dtype=np.float32) * light * vign
    a += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 5, a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(rng.uniform(0.8, 1.4)))
    img = _scale(img, rng.uniform(0.85, 1.1))
    tint = [rng.uniform(0.9, 1.0), rng.uniform(0.9, 1.0), rng.uniform(0.85, 1.0)]
    rgb = Image.merge("RGB", [img.point(lambda v, t=t: int(v * t)) for t in tint])
    return _encode(rgb, "JPEG", quality=rng.randint(60, 85)), ".jpg"


def _binarise(img: Image.Image, rng: random.Random, level: int) -> np.ndarray:
    a = np.asarray(img, dtype=np.int16)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 18, a.shape)
    bw = (a + noise) > level
    r = np.random.default_rng(rng.randint(0, 2**31))
    bw &= r.random(bw.shape) > 0.0015                     # black speckles
    for _ in range(rng.randint(0, 3)):                    # a scanner streak across the page
        y = rng.randint(0, bw.shape[0] - 3)
        bw[y:y + rng.randint(1, 2), :] &= r.random(bw.shape[1]) > 0.6
    return bw


def fax(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    img = _tilt(page, rng, 1.2, fill=255).filter(ImageFilter.GaussianBlur(0.6))
    img = _scale(img, 204 / DPI, 196 / DPI, Image.BILINEAR)
    bw = _binarise(img, rng, rng.randint(150, 185))
    return _encode(Image.fromarray(bw), "PNG"), ".png"


def fax_std(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    img = _tilt(page, rng, 0.8, fill=255)
    img = _scale(img, 204 / DPI, 98 / DPI, Image.BOX)
    bw = _binarise(img, rng, rng.randint(160, 190))
    out = Image.fromarray(bw).resize((bw.shape[1], bw.shape[0] * 2), Image.NEAREST)
    return _encode(out, "PNG"), ".png"


def stain_fold(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    w, h = page.size
    layer = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(layer)
    for _ in range(rng.randint(2, 4)):                    # coffee rings and blots
        cx, cy, r = rng.randint(100, w - 100), rng.randint(300, h - 200), rng.randint(60, 190)
        if rng.random() < 0.5:
            d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=rng.randint(120, 170), width=rng.randint(8, 18))
        else:
            d.ellipse((cx - r, cy - r * 0.7, cx + r, cy + r * 0.7), fill=rng.randint(185, 215))
    layer = layer.filter(ImageFilter.GaussianBlur(9))
    a = np.asarray(page, dtype=np.float32) * np.asarray(layer, dtype=np.float32) / 255
    for frac in rng.sample([1 / 3, 1 / 2, 2 / 3], rng.randint(1, 2)):   # fold creases
        y = int(h * frac + rng.uniform(-30, 30))
        yy = np.arange(h, dtype=np.float32)[:, None]
        a *= 1 - 0.28 * np.exp(-((yy - y) / 5) ** 2) + 0.06 * np.exp(-((yy - y - 14) / 12) ** 2)
    if rng.random() < 0.5:
        x = int(w * rng.uniform(0.4, 0.6))
        xx = np.arange(w, dtype=np.float32)[None, :]
        a *= 1 - 0.22 * np.exp(-((xx - x) / 5) ** 2)
    img = _tilt(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), rng, 1.5, fill=240)
    img = _scale(img.filter(ImageFilter.GaussianBlur(0.6)), 0.8)
    return _encode(img, "JPEG", quality=rng.randint(55, 80)), ".jpg"


def moire(page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    """A copy of a halftoned print: a dot screen beating against the resampling grid."""
    w, h = page.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = np.deg2rad(rng.choice([15, 45, 75]))
    period = rng.uniform(3.2, 4.6)
    u = (xx * np.cos(ang) + yy * np.sin(ang)) * 2 * np.pi / period
    v = (-xx * np.sin(ang) + yy * np.cos(ang)) * 2 * np.pi / period
    screen = 0.5 + 0.25 * (np.cos(u) + np.cos(v))
    a = np.asarray(page, dtype=np.float32) / 255
    shade = 1 - 0.3 * (1 - screen)                         # grey background dot pattern
    a = np.where(a > screen * 0.95, 1.0, a) * shade
    img = Image.fromarray(np.clip(a * 255, 0, 255).astype(np.uint8))
    img = _scale(img, rng.uniform(0.68, 0.8), resample=Image.NEAREST)
    img = _tilt(img, rng, 1.0, fill=245).filter(ImageFilter.GaussianBlur(0.5))
    return _encode(img, "JPEG", quality=rng.randint(70, 88)), ".jpg"


def apply(kind: str, page: Image.Image, rng: random.Random) -> tuple[bytes, str]:
    return {"scan": scan, "photo": photo, "fax": fax, "fax_std": fax_std,
            "stain_fold": stain_fold, "moire": moire}[kind](page, rng)
