"""Writing side effects into the outbox, inside the transaction of the change causing them.

The delivery worker (workers/) reads these rows after commit; a rolled-back action leaves
no row behind. `enqueue` is idempotent on `dedup_key`: a retried action, or an event seen
twice, writes one row, so keys must be deterministic (see `dedup_key`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import Outbox, utcnow
from orders.upsert import insert_for


class OutboxKind(StrEnum):
    """Every kind of outbox row; each has exactly one handler (workers/handlers.py, checked
    at start-up). The payload each kind carries is described beside it."""

    # Carry out a stored message: {"message_id"} (bot/intake.py → bot/chat.py, bot/wecom_commands.py)
    INBOUND = "inbound"  # a customer's WeChat message: the conversation
    WECOM_INBOUND = "wecom_inbound"  # a rep's WeCom message or card press
    # Tell people: orders/notifications.py payloads ({"event", "order_id", "number", …}),
    # a conversation's {"type": "chat_reply", "text"} / {"type": "text", "texts": […]},
    # or the SLA sweep's {"type", "text"}.
    NOTIFY_CUSTOMER = "notify_customer"  # to the customer (WeChat)
    NOTIFY_REP = "notify_rep"  # card with buttons, or texts, to a rep (WeCom)
    ALERT_MANAGER = "alert_manager"  # holds, escalations, parked pushes (WeCom app or robot)
    WECOM_CARD_UPDATE = "wecom_card_update"  # {"order_id", "userid", "response_code", "outcome", …}
    ROBOT_DIGEST = "robot_digest"  # {"robot_key"}: alerts folded while the robot was rate-limited
    OCR_JOB = "ocr_job"  # {"job_id"}: read an image into a draft (ocr/), chat and mini-program


def dedup_key(order_id: int, version: int, kind: str, target: str = "") -> str:
    """The key of one side effect of one order version: same change, same key."""
    key = f"order:{order_id}:v{version}:{kind}"
    return f"{key}:{target}" if target else key


async def enqueue(
    session: AsyncSession,
    kind: str,
    target: str = "",
    payload: dict[str, Any] | None = None,
    dedup_key: str = "",
    *,
    not_before: datetime | None = None,
) -> bool:
    """Add an outbox row in the caller's transaction; True when new, False when a row with
    this dedup_key already exists (a retried request enqueues nothing twice). The one way
    anything in orderbot asks for a side effect."""
    if not dedup_key:
        raise ValueError("an outbox row needs a dedup_key: a retry must carry the same one")
    stmt = (
        insert_for(session, Outbox)
        .values(
            kind=kind,
            target=target or "",
            payload=payload or {},
            dedup_key=dedup_key,
            state="pending",
            attempts=0,
            next_attempt_at=not_before or utcnow(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[Outbox.dedup_key])
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)
