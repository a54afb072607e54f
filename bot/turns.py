"""What every conversation turn does around the pure step (bot/conversation.py), for both
runners: the customer's WeChat chat (bot/chat.py) and a rep's inquiry in WeCom
(bot/wecom_inquiry.py).

- `user_lock`: one turn at a time per user, across processes (the store's lock);
- `load_session` / `save_session`: the open draft, forgotten after SESSION_TTL untouched;
- `mark_handled`: the inbound message's handled mark — written in the same transaction as
  the new session and the replies, so a redelivered outbox row finds it and does nothing;
- `queue_ocr`: a photo becomes an OcrJob and an `ocr_job` outbox row (workers/ocr_jobs.py
  reads it and calls the runner back), in that same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import SessionState
from orderbot.jobs import OutboxKind, enqueue
from orderbot.stores import KeyValueStore
from orders.models import ChatSession, InboundMessage, OcrJob
from orders.upsert import insert_for_dialect, once_per_database

SESSION_TTL = dt.timedelta(hours=72)  # an untouched draft is forgotten after this
LOCK_TIMEOUT = 60.0


def user_lock(store: KeyValueStore, channel: str, user_key: str) -> AbstractAsyncContextManager[None]:
    return store.lock(f"chat:{channel}:{user_key}", timeout=LOCK_TIMEOUT)


def user_locks(store: KeyValueStore, channel: str, user_keys: Sequence[str]) -> AbstractAsyncContextManager[None]:
    """user_lock on many users at once (a batch of their messages)."""
    return store.lock_many([f"chat:{channel}:{k}" for k in user_keys], timeout=LOCK_TIMEOUT)


async def _row(s: AsyncSession, channel: str, user_key: str) -> ChatSession | None:
    return (await s.exec(select(ChatSession).where(
        ChatSession.channel == channel, ChatSession.user_key == user_key))).first()


async def load_session(s: AsyncSession, channel: str, user_key: str, now: dt.datetime) -> ChatSession | None:
    """The user's session row; a draft untouched for SESSION_TTL reads as idle."""
    row = await _row(s, channel, user_key)
    if row is not None and row.expires_at is not None and row.expires_at < now:
        row.stage, row.draft, row.pending_choice = "idle", None, None
    return row


def state_of(row: ChatSession | None) -> SessionState:
    if row is None:
        return SessionState()
    return SessionState(row.stage, row.draft, row.pending_choice)


async def save_session(s: AsyncSession, channel: str, user_key: str, customer_id: int | None,
                       state: SessionState, now: dt.datetime) -> None:
    row = await _row(s, channel, user_key) or ChatSession(channel=channel, user_key=user_key)
    row.customer_id = customer_id
    row.stage, row.draft, row.pending_choice = state.stage, state.draft, state.pending_choice
    row.version += 1
    row.updated_at, row.expires_at = now, now + SESSION_TTL
    s.add(row)


async def load_sessions(s: AsyncSession, channel: str, user_keys: Sequence[str],
                        now: dt.datetime) -> dict[str, ChatSession]:
    """load_session for many users in one query, by user key."""
    rows = (await s.exec(select(ChatSession).where(
        ChatSession.channel == channel, col(ChatSession.user_key).in_(user_keys)))).all()
    for row in rows:
        if row.expires_at is not None and row.expires_at < now:
            row.stage, row.draft, row.pending_choice = "idle", None, None
    return {row.user_key: row for row in rows}


async def save_sessions(s: AsyncSession, channel: str, states: dict[str, tuple[int | None, SessionState]],
                        now: dt.datetime) -> None:
    """save_session for many users in ONE statement (insert, or update on the unique
    (channel, user_key)): {user_key: (customer_id, state)}."""
    if not states:
        return
    values = [
        {"channel": channel, "user_key": key, "customer_id": cid, "stage": st.stage, "draft": st.draft,
         "pending_choice": st.pending_choice, "version": 1, "updated_at": now, "expires_at": now + SESSION_TTL}
        for key, (cid, st) in states.items()
    ]
    await s.exec(_save_statement(s), params=values)  # type: ignore[call-overload]


def _build_save(dialect: str) -> Any:
    """save_sessions' upsert (built once per database: every conversation batch runs it)."""
    table = ChatSession.__table__  # type: ignore[attr-defined]
    stmt = insert_for_dialect(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.channel, table.c.user_key],
        set_={"customer_id": stmt.excluded.customer_id, "stage": stmt.excluded.stage,
              "draft": stmt.excluded.draft, "pending_choice": stmt.excluded.pending_choice,
              "version": table.c.version + 1, "updated_at": stmt.excluded.updated_at,
              "expires_at": stmt.excluded.expires_at},
    )


_save_statement = once_per_database(_build_save)


async def mark_many_handled(s: AsyncSession, message_ids: Sequence[int], now: dt.datetime) -> int:
    """Mark the messages handled in ONE statement; returns how many were not handled before
    (fewer than asked means another turn got to some of them: the caller rolls back)."""
    if not message_ids:
        return 0
    stmt = (update(InboundMessage)
            .where(col(InboundMessage.id).in_(message_ids), InboundMessage.state != "handled")
            .values(state="handled", handled_at=now)
            .execution_options(synchronize_session=False))
    return int((await s.exec(stmt)).rowcount or 0)


async def mark_handled(s: AsyncSession, message_id: int, now: dt.datetime) -> bool:
    """Mark the message handled in `s`; False when it was handled before (a redelivery)."""
    msg = await s.get(InboundMessage, message_id)
    if msg is None or msg.state == "handled":
        return False
    msg.state, msg.handled_at = "handled", now
    s.add(msg)
    return True


async def queue_ocr(s: AsyncSession, *, source: str, target: str, media_id: str,
                    customer_id: int | None, dedup_key: str) -> None:
    """Read the photo `media_id` later, in the worker: `target` is who hears the result."""
    job = OcrJob(customer_id=customer_id, source=source, media_id=media_id, content_type="image")
    s.add(job)
    await s.flush()
    await enqueue(s, kind=OutboxKind.OCR_JOB, target=target, payload={"job_id": job.id}, dedup_key=dedup_key)
