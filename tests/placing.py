"""Checks shared by the intake tests: a request delivered again after the order was placed
(the worker died before marking the message handled) must not make a second order."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.models import ChatSession, InboundMessage, Order, OrderEvent, Outbox

Snapshot = tuple[str, dict[str, Any] | None, dict[str, Any] | None]


async def conversation_state(sm: async_sessionmaker[AsyncSession], channel: str, user_key: str) -> Snapshot:
    """The open conversation of one user, to put back with `redeliver`."""
    async with sm() as s:
        row = (await s.exec(select(ChatSession).where(ChatSession.channel == channel,
                                                      ChatSession.user_key == user_key))).one()
        return row.stage, row.draft, row.pending_choice


async def redeliver(sm: async_sessionmaker[AsyncSession], message_id: int, channel: str, user_key: str,
                    before: Snapshot) -> None:
    """As after a crash between placing the order and the commit of the handled mark with the
    conversation's new state: the message is not handled, the conversation is where it was
    (`before`, still waiting for 确认), and the message's outbox row is due again."""
    async with sm() as s, s.begin():
        row_ = (await s.exec(select(ChatSession).where(ChatSession.channel == channel,
                                                       ChatSession.user_key == user_key))).one()
        row_.stage, row_.draft, row_.pending_choice = before
        s.add(row_)
        msg = await s.get(InboundMessage, message_id)
        assert msg is not None and msg.state == "handled"
        msg.state, msg.handled_at = "received", None
        s.add(msg)
        rows = (await s.exec(select(Outbox).where(Outbox.kind.in_(("inbound", "wecom_inbound"))))).all()  # type: ignore[attr-defined]
        row = next(r for r in rows if int(r.payload.get("message_id", 0)) == message_id)
        row.state, row.attempts, row.locked_by, row.lease_until = "pending", 0, None, None
        s.add(row)


async def one_routed_order(sm: async_sessionmaker[AsyncSession]) -> Order:
    """The only order, submitted through routing: one `routed` event and a confirmation
    deadline (what SLA reminders run on)."""
    async with sm() as s:
        [order] = (await s.exec(select(Order))).all()
        routed = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                        OrderEvent.type == "routed"))).all()
    assert order.status == "pending" and order.rep_id is not None
    assert len(routed) == 1, routed
    assert order.confirm_due_at is not None
    return order


async def last_message_id(sm: async_sessionmaker[AsyncSession], text: str) -> int:
    async with sm() as s:
        msg = (await s.exec(select(InboundMessage).where(InboundMessage.content == text)
                            .order_by(InboundMessage.id.desc()))).first()  # type: ignore[union-attr]
    assert msg is not None and msg.id is not None
    return msg.id
