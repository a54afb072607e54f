"""Every upload either becomes a page or is refused with a coded, bilingual reason."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ocr.errors import ImageRejected, RejectCode
from ocr.loading import decode, load_page, read_bytes
from ocr.settings import OcrSettings

LIMITS = {"max_bytes": OcrSettings().max_bytes, "max_pixels": OcrSettings().max_pixels}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A valid PNG header declaring 3.6 gigapixels, with a tiny body: a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _encoded(fmt: str, size=(200, 100), **kw) -> bytes:
    img = Image.new("RGB", size, (255, 255, 255))
    img.paste((0, 0, 0), (20, 20, 120, 40))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _code(data: bytes, **limits) -> RejectCode:
    with pytest.raises(ImageRejected) as info:
        load_page(data, **{**LIMITS, **limits})
    assert info.value.message_zh and info.value.message_en
    return info.value.code


def test_a_decompression_bomb_is_refused_before_decoding():
    assert _code(png_bomb()) == RejectCode.too_many_pixels


def test_an_image_over_the_pixel_limit_is_refused():
    assert _code(_encoded("PNG", size=(300, 300)), max_pixels=50_000) == RejectCode.too_many_pixels


@pytest.mark.parametrize("data", [b"", b"hello, this is an order in plain text",
                                  b"%PDF-1.7\n1 0 obj<<>>endobj", b"PK\x03\x04zipfile"])
def test_non_images_are_refused_as_not_an_image(data):
    assert _code(data) == RejectCode.not_an_image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_truncated_file_is_refused_as_truncated(fmt):
    data = _encoded(fmt, size=(400, 300))
    assert _code(data[: len(data) // 2]) == RejectCode.truncated


def test_too_many_bytes_are_refused_without_reading_the_file(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_encoded("PNG") + b"\x00" * 5000)
    with pytest.raises(ImageRejected) as info:
        read_bytes(path, max_bytes=1000)
    assert info.value.code == RejectCode.too_large
    assert _code(path.read_bytes(), max_bytes=1000) == RejectCode.too_large


def test_rejection_explains_itself_in_chinese_and_english():
    with pytest.raises(ImageRejected) as info:
        load_page(b"not an image", **LIMITS)
    d = info.value.to_dict()
    assert d["code"] == "not_an_image"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in d["message_zh"])
    assert "image" in d["message_en"]


@pytest.mark.parametrize("fmt,kw", [("PNG", {}), ("JPEG", {"quality": 90}), ("BMP", {}),
                                    ("TIFF", {"compression": "group4"}), ("GIF", {}),
                                    ("WEBP", {})])
def test_common_formats_decode_to_a_grayscale_page(fmt, kw):
    img = Image.new("1" if fmt == "TIFF" else "RGB", (200, 100), 1 if fmt == "TIFF" else "white")
    img.paste(0 if fmt == "TIFF" else (0, 0, 0), (20, 20, 120, 40))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    page = decode(buf.getvalue(), max_pixels=100_000)
    assert page.shape == (100, 200) and page.dtype == np.uint8
    assert page[30, 50] < 60 and page[80, 180] > 200


def test_exif_orientation_is_applied():
    # Stored sideways (portrait pixels) with EXIF 6: the page must come out landscape.
    img = Image.new("L", (100, 200), 255)
    img.paste(0, (0, 0, 100, 20))                    # a bar along the stored top edge
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    page = decode(buf.getvalue(), max_pixels=10**6)
    assert page.shape == (100, 200)
    assert page[:, -10:].mean() < 80 and page[:, :50].mean() > 200   # rotated to the right edge


def test_transparent_png_gets_a_white_background():
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    assert decode(buf.getvalue(), max_pixels=10**6).min() == 255


def test_a_huge_phone_photo_is_decoded_at_a_reduced_scale():
    data = _encoded("JPEG", size=(6000, 4500), quality=70)
    page = decode(data, max_pixels=LIMITS["max_pixels"])
    assert 2200 <= max(page.shape) <= 3000          # libjpeg scaled it down while decoding
    assert page.shape[1] / page.shape[0] == pytest.approx(6000 / 4500, rel=0.01)
