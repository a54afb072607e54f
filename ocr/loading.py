"""Decode an untrusted upload into a grayscale page, or refuse it with ImageRejected.

Order of checks matters: bytes first (cheap), then the signature, then the declared
dimensions from the header (before any pixel is decoded, which is what stops
decompression bombs), then a full decode that notices truncation.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import ImageRejected, RejectCode

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP")


DECODE_LONG_SIDE = 2200   # photos are decoded no larger than about this (the OCR never needs more)


def sniff(data: bytes) -> str | None:
    """The image format named by the file's first bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in SIGNATURES if data.startswith(magic)), None)


def read_bytes(source: str | os.PathLike | bytes, max_bytes: int) -> bytes:
    """The upload's bytes, refusing oversize files before reading them."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as e:
            raise ImageRejected(RejectCode.unreadable, f"{path}: {e.strerror}") from e
        if size > max_bytes:
            raise ImageRejected(RejectCode.too_large, f"{size} bytes > {max_bytes}")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise ImageRejected(RejectCode.too_large, f"{len(data)} bytes > {max_bytes}")
    return data


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """The image with its header read and its dimensions checked; no pixel decoded yet.
    Call inside `_refusals()`."""
    if not data or sniff(data) is None:
        head = data[:8]
        raise ImageRejected(RejectCode.not_an_image, f"starts with {head!r}")
    im = Image.open(io.BytesIO(data), formats=FORMATS)
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageRejected(RejectCode.unreadable, f"size {w}x{h}")
    if w * h > max_pixels:
        raise ImageRejected(RejectCode.too_many_pixels, f"{w}x{h} > {max_pixels} pixels")
    return im


@contextmanager
def _refusals() -> Iterator[None]:
    """Whatever PIL raises on hostile bytes, as ImageRejected with its code."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageRejected(RejectCode.too_many_pixels, str(e)) from e
    except UnidentifiedImageError as e:
        raise ImageRejected(RejectCode.not_an_image, str(e)) from e
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as e:
        raise ImageRejected(RejectCode.truncated, f"{type(e).__name__}: {e}") from e


def inspect(data: bytes, max_pixels: int) -> tuple[str, int, int]:
    """(format, width, height) from the header alone, or ImageRejected: cheap enough for a
    request handler, so an upload that could never be read is refused before it is queued."""
    with _refusals():
        im = _open(data, max_pixels)
        return str(im.format), im.size[0], im.size[1]


def decode(data: bytes, max_pixels: int) -> np.ndarray:
    """Grayscale uint8 page, upright per EXIF; ImageRejected for anything else."""
    with _refusals():
        im = _open(data, max_pixels)
        w, h = im.size
        im.seek(0)
        if im.format == "JPEG" and max(w, h) > 2 * DECODE_LONG_SIDE:
            # A 12-megapixel phone photo: let libjpeg decode at 1/2, 1/4 or 1/8 scale.
            im.draft("L", (w * DECODE_LONG_SIDE // max(w, h), h * DECODE_LONG_SIDE // max(w, h)))
        im.load()
    try:
        im = ImageOps.exif_transpose(im) or im
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the page
        pass
    if im.mode in ("RGBA", "LA", "P", "PA"):
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im.convert("RGBA"))
    if im.mode != "L":
        try:
            im = im.convert("L") if im.mode in ("1", "RGB", "RGBA") else im.convert("RGB").convert("L")
        except (OSError, ValueError) as e:
            raise ImageRejected(RejectCode.unreadable, f"mode {im.mode}: {e}") from e
    return np.asarray(im)


def load_page(source: str | os.PathLike | bytes, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    """read_bytes + decode: the single door every image passes through."""
    return decode(read_bytes(source, max_bytes), max_pixels)
