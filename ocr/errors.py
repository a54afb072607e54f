"""Why an image was refused, in words a customer (中文) and an operator (English) can act on."""

from __future__ import annotations

from enum import StrEnum


class RejectCode(StrEnum):
    too_large = "too_large"                # more bytes than ORDERBOT_OCR_MAX_BYTES
    too_many_pixels = "too_many_pixels"    # decompression bomb or absurd dimensions
    not_an_image = "not_an_image"          # empty, text, PDF, zip...: no image signature
    truncated = "truncated"                # an image signature, but the data is cut or corrupt
    unreadable = "unreadable"              # decoded, but nothing usable (e.g. zero-sized)


MESSAGES: dict[RejectCode, tuple[str, str]] = {
    RejectCode.too_large: ("图片文件太大，请压缩后重新发送", "image file is too large"),
    RejectCode.too_many_pixels: ("图片尺寸过大，请缩小后重新发送",
                                 "image has too many pixels (possible decompression bomb)"),
    RejectCode.not_an_image: ("无法识别的文件，请发送订货单的照片或扫描件（JPG/PNG/TIFF）",
                              "not an image (expected JPEG, PNG, TIFF, BMP, GIF or WebP)"),
    RejectCode.truncated: ("图片不完整或已损坏，请重新发送", "image data is truncated or corrupt"),
    RejectCode.unreadable: ("图片无法读取，请重新拍照发送", "image could not be read"),
}


class ImageRejected(ValueError):
    """An input the OCR path refuses; the worker reports it instead of crashing.

    `code` is stable for programs; `message_zh` goes to the customer, `message_en` to logs.
    """

    def __init__(self, code: RejectCode, detail: str = "") -> None:
        self.code = RejectCode(code)
        self.message_zh, self.message_en = MESSAGES[self.code]
        self.detail = detail
        super().__init__(f"{self.code}: {self.message_en} / {self.message_zh}"
                         + (f" ({detail})" if detail else ""))

    def to_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message_zh": self.message_zh,
                "message_en": self.message_en, "detail": self.detail}


class EngineUnavailable(RuntimeError):
    """The configured OCR engine cannot run here (not installed, or no local model files)."""
