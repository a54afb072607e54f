"""Photo uploads of order forms: stored as an OCR job, read later by a worker, polled here.

The request checks the header (format, dimensions: a decompression bomb is 422
too_many_pixels, a cut-off header 422 truncated), stores the image and queues the job (Outbox kind "ocr_job", payload
{"job_id": id}) in one transaction: OCR takes about a second per image and never runs in
a request handler.
"""

from __future__ import annotations

from aiohttp import BodyPartReader
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy import func
from sqlmodel import col, select

from miniprogram_api.endpoints import Call, Reply
from miniprogram_api.errors import ApiError, not_found
from miniprogram_api.schemas import JobOut
from ocr.errors import ImageRejected, RejectCode
from ocr.loading import inspect
from ocr.settings import get_ocr_settings
from orders.models import OcrJob
from orders.outbox import OutboxKind, enqueue

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_OPEN_JOBS = 5  # queued or running per customer: OCR is CPU-heavy, one customer must not hog it
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"BM", "image/bmp"),
    (b"GIF8", "image/gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image type from its first bytes; the client's Content-Type is not trusted."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


async def _read_capped(part: BodyPartReader) -> bytes:
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > MAX_IMAGE_BYTES:
            raise ApiError(413, "payload_too_large", f"图片不能超过 {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def _image_from_request(call: Call) -> bytes:
    request = call.request
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, "unsupported_media_type", "请以 multipart/form-data 上传图片（字段名 file）")
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return await _read_capped(part)
    except (ValueError, AssertionError, HttpProcessingError) as exc:  # a malformed multipart body
        raise ApiError(400, "bad_request", "上传内容格式有误") from exc
    raise ApiError(422, "validation_error", "请求参数有误：file", errors=[{"field": "file", "error": "missing"}])


async def upload_image(call: Call) -> Reply:
    data = await _image_from_request(call)
    kind = sniff_image(data)
    if not data or kind is None:
        raise ApiError(415, "unsupported_media_type", "只支持 JPEG、PNG、WebP、BMP、GIF 图片")
    try:  # the header alone: a decompression bomb or a cut-off header is refused before it is queued
        inspect(data, get_ocr_settings().max_pixels)
    except ImageRejected as exc:
        status = 415 if exc.code is RejectCode.not_an_image else 422
        raise ApiError(status, str(exc.code), exc.message_zh) from None
    async with call.services.sessionmaker() as session, session.begin():
        open_jobs = (
            await session.exec(
                select(func.count()).select_from(OcrJob).where(
                    OcrJob.customer_id == call.me.customer_id, col(OcrJob.state).in_(("queued", "running"))
                )
            )
        ).one()
        if open_jobs >= MAX_OPEN_JOBS:
            raise ApiError(429, "too_many_jobs", f"已有 {open_jobs} 张图片在识别中，请稍后再传")
        job = OcrJob(customer_id=call.me.customer_id, source="miniprogram", content_type=kind,
                     image=data, created_at=call.services.clock(), updated_at=call.services.clock())
        session.add(job)
        await session.flush()
        assert job.id is not None
        await enqueue(session, OutboxKind.OCR_JOB, call.me.openid, {"job_id": job.id}, f"ocr_job:{job.id}")
        out = JobOut.model_validate(job)
    return Reply(out, status=202)


async def get_job(call: Call) -> JobOut:
    async with call.services.sessionmaker() as session:
        job = await session.get(OcrJob, call.params["job_id"])
        if job is None or job.customer_id != call.me.customer_id:
            raise not_found("任务", "job_not_found")
        return JobOut.model_validate(job)
