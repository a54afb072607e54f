"""The outbox handler for "ocr_job": an image (a chat message, a rep's WeCom message, or a
mini-program upload) → a draft.

The image is either stored on the OcrJob row (mini-program uploads) or still on WeChat's or
WeCom's side (downloaded through the media API with the job's media_id; an expired one is a
failed job the sender hears about). The result lands on the row; for a chat image the
customer's conversation carries on with it, for a WeCom image the rep's inquiry does.
Idempotent: a job already done or failed is not run again, so a redelivered row is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.chat import Chat
from bot.clients import clients_for
from bot.clients.errors import APIError
from bot.wecom_inquiry import InquiryFlow
from ocr.jobs import run_ocr_job_async
from orderbot.jobs import JobContext, PermanentError, TransientError
from orders.drafts import today_in_china
from orders.models import Customer, OcrJob, utcnow

log = logging.getLogger(__name__)

MEDIA_EXPIRED = 40007  # WeChat / WeCom keep media 3 days
EXPIRED_TEXT = "这张图片已失效，请重新发送。"


class MediaExpired(Exception):
    """The platform no longer has the image: the job fails, the sender is asked again."""


async def _image_of(ctx: JobContext, job: OcrJob) -> bytes:
    if job.image:
        return job.image
    if not job.media_id:
        raise PermanentError(f"ocr job {job.id} has neither an image nor a media_id")
    clients = clients_for(ctx)
    api = clients.wecom if job.source == "wecom" else clients.wechat
    if api is None:
        raise PermanentError(f"no {job.source} API credentials are set: cannot download media")
    try:
        media = await api.download_media(job.media_id)
    except APIError as err:
        if err.transient:
            raise TransientError(str(err)) from err
        if getattr(err, "errcode", None) == MEDIA_EXPIRED:
            raise MediaExpired from err
        raise PermanentError(str(err)) from err
    return media.data


async def run_ocr(ctx: JobContext, row: Any) -> None:
    job_id = int(row.payload["job_id"])
    async with ctx.sessionmaker() as s, s.begin():
        job = await s.get(OcrJob, job_id)
        if job is None:
            raise PermanentError(f"ocr job {job_id} does not exist")
        if job.state in ("done", "failed"):
            return
        job.state, job.updated_at = "running", utcnow()
        s.add(job)
    try:
        image = await _image_of(ctx, job)
    except MediaExpired:
        result: dict[str, Any] = {"ok": False, "error": {"message_zh": EXPIRED_TEXT}}
    else:
        result = await run_ocr_job_async(image, today_in_china(), await ctx.catalogs.get())
    draft = result.get("draft") if result.get("ok") else None
    error = None if result.get("ok") else (result.get("error") or {}).get("message_zh") or "识别失败"
    async with ctx.sessionmaker() as s, s.begin():
        job = await s.get(OcrJob, job_id)
        assert job is not None
        job.state = "done" if draft is not None else "failed"
        job.draft, job.error, job.updated_at = draft, error, utcnow()
        job.image = None if job.media_id else job.image  # WeChat / WeCom keep their copy
        s.add(job)
        customer = await s.get(Customer, job.customer_id) if job.customer_id else None
    if job.source == "wechat" and customer is not None and customer.openid:
        await Chat.from_context(ctx).on_ocr_result(customer.openid, draft, error, job_id=job_id)
    elif job.source == "wecom" and row.target:
        await InquiryFlow.from_context(ctx).on_ocr_result(row.target, draft, error, job_id=job_id)
