"""Events added inside events_together() land in one insert at the block's end, in the order
they were added, with the time and visibility given; nothing on an error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from orderbot.db import make_sessionmaker
from orders.actors import Actor
from orders.events import EventType, add_event, events_together
from orders.models import Customer, Order, OrderEvent, as_utc


async def an_order(sm) -> int:  # type: ignore[no-untyped-def]
    async with sm() as s, s.begin():
        s.add(Customer(id=1, name="张工"))
        order = Order(number="SO20260302-0001", customer_id=1, status="draft", total=Decimal("10"))
        s.add(order)
        await s.flush()
        return order.id


async def events(sm) -> list[OrderEvent]:  # type: ignore[no-untyped-def]
    async with sm() as s:
        return list((await s.exec(select(OrderEvent).order_by(col(OrderEvent.id)))).all())


async def test_events_written_together_keep_their_order_time_and_visibility(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    order_id = await an_order(sm)
    async with sm() as s, s.begin():
        async with events_together(s):
            add_event(s, order_id, EventType.CREATED, Actor.system("test"), to_status="draft",
                      changes={"total": [None, Decimal("10.50")]})
            add_event(s, order_id, EventType.SUBMITTED, Actor.system("test"), from_status="draft",
                      to_status="pending", visible_to_customer=False, at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
            assert await events(sm) == []  # nothing written before the block ends
    got = await events(sm)
    assert [(e.type, e.to_status, e.visible_to_customer) for e in got] == [
        ("created", "draft", True), ("submitted", "pending", False)]
    assert got[0].changes == {"total": [None, "10.5"]} and got[0].at is not None
    assert as_utc(got[1].at) == dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)  # the time given, not now


async def test_no_event_is_written_when_the_block_fails(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    order_id = await an_order(sm)
    with pytest.raises(RuntimeError):
        async with sm() as s, s.begin(), events_together(s):
            add_event(s, order_id, EventType.CREATED, Actor.system("test"))
            raise RuntimeError("refused")
    assert await events(sm) == []
