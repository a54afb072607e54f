"""The managers' daily digest in WeCom: yesterday's counts, today's reds, top exceptions, a link.

Self-scheduling through the outbox, so no timer process is needed: a `board_digest` row is
due at ORDERBOT_DIGEST_AT (China time) with dedup key board_digest:<day>; its handler writes
one `notify_rep` text row per active manager (board_digest:<day>:<userid>) and the next
day's `board_digest` row, in one transaction. The web app enqueues the first row at
startup; the dedup keys make every replica's startup, and every redelivery, harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from board import queries
from board.links import board_base_url
from orderbot.jobs import JobContext
from orderbot.settings import Settings
from orders.desk_buckets import Bucket
from orders.drafts import today_in_china
from orders.models import Outbox, SalesRep, utcnow
from orders.numbering import SHANGHAI
from orders.outbox import OutboxKind, enqueue

log = logging.getLogger(__name__)

KIND = OutboxKind.BOARD_DIGEST
TEXT_KIND = OutboxKind.NOTIFY_REP
COUNTED = {"submitted": "下单", "confirmed": "确认", "held": "挂起", "released": "放行",
           "rejected": "拒绝", "cancelled": "取消", "shipped": "发货", "delivered": "签收"}


def parse_at(value: str) -> dt.time | None:
    """"08:30" → 08:30; empty → None (no digest). Anything else is a configuration error."""
    if not value.strip():
        return None
    m = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
    if not m:
        raise ValueError(f"ORDERBOT_DIGEST_AT={value!r}: use HH:MM (China time), e.g. 08:30")
    return dt.time(int(m.group(1)), int(m.group(2)))


def run_at(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, SHANGHAI).astimezone(dt.UTC)


def next_day(now: dt.datetime, at: dt.time) -> dt.date:
    """The first China day whose digest time is still ahead of `now`."""
    today = today_in_china(now)
    return today if run_at(today, at) > now else today + dt.timedelta(days=1)


async def schedule(session: AsyncSession, day: dt.date, at: dt.time) -> bool:
    return await enqueue(session, KIND, "", {"day": day.isoformat()}, f"{KIND}:{day.isoformat()}",
                         not_before=run_at(day, at))


async def digest_text(sm: async_sessionmaker[AsyncSession], day: dt.date, board_url: str,
                      now: dt.datetime | None = None) -> str:
    """The digest sent on the morning of `day`: counts of the day before, reds as of now."""
    from orders.models import OrderEvent

    yesterday = day - dt.timedelta(days=1)
    async with sm() as s:
        kinds = (await s.exec(
            select(OrderEvent.type).where(col(OrderEvent.type).in_(COUNTED),
                                          OrderEvent.at >= queries.day_start(yesterday),
                                          OrderEvent.at < queries.day_start(day))
        )).all()
        top = await queries.exceptions_on(s, yesterday, limit=5)
    counts = Counter(kinds)
    snap = await queries.board_snapshot(sm, now=now)
    reds = snap.buckets[Bucket.RED]
    lines = [f"【订单日报】{yesterday:%m月%d日}",
             "，".join(f"{label} {counts.get(k, 0)}" for k, label in COUNTED.items()),
             f"当前红色 {len(reds)} 单，黄色 {snap.count(Bucket.YELLOW)} 单，绿色 {snap.count(Bucket.GREEN)} 单"]
    for o in reds[:5]:
        lines.append(f"· {o.number} {o.customer} ¥{o.total:,.0f}：{'、'.join(o.reasons)}")
    if top:
        lines.append("昨日主要异常：")
        lines += [f"· {e.number} {COUNTED.get(e.type, e.type)} {e.reason[:40]}" for e in top]
    lines.append(f"看板：{board_url}/board/（或在此回复「看板」获取登录链接）")
    return "\n".join(lines)


async def ensure_scheduled(sm: async_sessionmaker[AsyncSession], settings: Settings,
                           now: dt.datetime | None = None) -> dt.date | None:
    """Enqueue the next digest unless already there; None when ORDERBOT_DIGEST_AT is empty."""
    at = parse_at(settings.digest_at)
    if at is None:
        return None
    day = next_day(now or utcnow(), at)
    async with sm() as s, s.begin():
        await schedule(s, day, at)
    return day


async def send_digest(ctx: JobContext, row: Outbox) -> None:
    day = dt.date.fromisoformat(str(row.payload["day"]))
    text = await digest_text(ctx.sessionmaker, day, board_base_url(ctx.settings))
    async with ctx.sessionmaker() as s, s.begin():
        managers = (await s.exec(select(SalesRep).where(SalesRep.active, SalesRep.is_manager))).all()
        for m in managers:
            await enqueue(s, TEXT_KIND, m.wecom_userid, {"type": "text", "texts": [text]},
                          f"{KIND}:{day.isoformat()}:{m.wecom_userid}")
        at = parse_at(ctx.settings.digest_at)
        if at is not None:
            await schedule(s, day + dt.timedelta(days=1), at)
    log.info("digest for %s queued for %d manager(s)", day, len(managers))
