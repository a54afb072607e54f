"""The monthly COEI survey (orders/coei.py, orders/coei_survey.py), self-scheduling like the
daily digest: a `coei_survey` row for month M is due on the 1st of M+1 at ORDERBOT_COEI_AT
(China time), dedup key coei_survey:M. Its handler asks M's sample — one CoeiSurvey row and
one `notify_customer` row (the first question) per sampled order — and writes M+1's row, in
one transaction; a redelivered row asks nobody twice. The web app writes the current month's
row at start-up (`ensure_scheduled`, harmless on every replica and restart).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from board.digest import parse_at
from orderbot.jobs import JobContext
from orderbot.settings import Settings
from orders import coei_survey
from orders.drafts import today_in_china
from orders.models import Outbox, utcnow

log = logging.getLogger(__name__)


async def ensure_scheduled(sm: async_sessionmaker[AsyncSession], settings: Settings,
                           now: dt.datetime | None = None) -> str | None:
    """Enqueue this month's survey unless already there; None when ORDERBOT_COEI_AT is empty."""
    at = parse_at(settings.coei_at)
    if at is None:
        return None
    month = coei_survey.month_of(today_in_china(now or utcnow()))
    async with sm() as s, s.begin():
        await coei_survey.schedule(s, month, at)
    return month


async def ask_month(sm: async_sessionmaker[AsyncSession], settings: Settings, month: str,
                    now: dt.datetime | None = None) -> int:
    """Ask `month`'s sample now (the handler and `orderbot coei --send`); how many were asked."""
    async with sm() as s, s.begin():
        return await coei_survey.start_month(s, month, size=settings.coei_sample_size, now=now or utcnow(),
                                             answer_days=settings.coei_answer_days)


async def send_survey(ctx: JobContext, row: Outbox) -> None:
    month = str(row.payload["month"])
    now = utcnow()
    async with ctx.sessionmaker() as s, s.begin():
        asked = await coei_survey.start_month(s, month, size=ctx.settings.coei_sample_size, now=now,
                                              answer_days=ctx.settings.coei_answer_days)
        at = parse_at(ctx.settings.coei_at)
        if at is not None:
            await coei_survey.schedule(s, coei_survey.next_month(month), at)
    log.info("COEI survey for %s: %d customer(s) asked", month, asked)
    wake = ctx.extra.get("wake")
    if callable(wake):
        wake()
