"""place_order at most once per idempotency key, on both databases: the key's row names the
order it made and when it was claimed; a retry gets the first order back; the key reused for
another request is refused; a refusal leaves no key behind."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import col, func, select

from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
from orders import (
    Idempotency,
    IdempotencyConflict,
    Placed,
    actions,
    claimed_together,
    place_order,
    recorded_together,
)
from orders.errors import OrderError
from orders.models import IdempotencyRecord, Order, as_utc
from tests.orders.hub_factories import COMPLETE, World
from tests.rules.conftest import Tables

RULES = load_rules(DEFAULT_RULES_PATH)
AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


async def place(w: World, key: str, quantity: int = 3000, request_hash: str | None = None, **fields: object):
    async with w.sm() as s, s.begin():
        return await place_order(
            s, Idempotency(f"wechat:{w.customer.openid}", key, request_hash), customer_id=w.customer.id,
            lines=[actions.DraftLine("HB-M6X20-304", quantity)], actor=w.as_customer, channel="wechat",
            rules=RULES, fields={**COMPLETE, **fields}, now=AT,
        )


async def test_a_retry_gets_the_first_order_and_the_key_names_it(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    first = await place(w, "msg:1", request_hash="h1")
    again = await place(w, "msg:1", quantity=9999, request_hash="h1")
    assert not first.replayed and again.replayed and again.order.id == first.order.id
    other = await place(w, "msg:2")
    assert other.order.id != first.order.id
    async with w.sm() as s:
        rows = (await s.exec(select(IdempotencyRecord).order_by(col(IdempotencyRecord.id)))).all()
        assert await s.scalar(select(func.count()).select_from(Order)) == 2
    assert [(r.key, r.order_id, r.request_hash) for r in rows] == [
        ("msg:1", first.order.id, "h1"), ("msg:2", other.order.id, None)]
    assert all(as_utc(r.created_at) == AT for r in rows)


async def test_a_key_reused_for_another_request_or_a_refused_order_leaves_nothing(
        ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    await place(w, "msg:1", request_hash="h1")
    with pytest.raises(IdempotencyConflict) as err:
        await place(w, "msg:1", request_hash="h2")
    assert err.value.reason == "reused"
    with pytest.raises(OrderError):  # no phone: the hub refuses; the key is not kept
        await place(w, "msg:3", phone=None, contact=None)
    async with w.sm() as s:
        keys = (await s.exec(select(IdempotencyRecord.key))).all()
    assert keys == ["msg:1"]


async def test_orders_placed_together_name_their_keys_at_the_end_and_a_retry_inside_fails(
        ruled: tuple[World, Tables]) -> None:
    w, _ = ruled

    async def in_block(s: object, key: str) -> Placed:
        return await place_order(
            s, Idempotency(f"wechat:{w.customer.openid}", key), customer_id=w.customer.id,  # type: ignore[arg-type]
            lines=[actions.DraftLine("HB-M6X20-304", 3000)], actor=w.as_customer, channel="wechat",
            rules=RULES, fields=COMPLETE, now=AT,
        )

    async with w.sm() as s, s.begin():
        async with recorded_together(s):
            first, second = await in_block(s, "msg:1"), await in_block(s, "msg:2")
            with pytest.raises(IdempotencyConflict) as err:  # its key is not named yet: the batch fails
                await in_block(s, "msg:1")
            assert err.value.reason == "in_progress"
    async with w.sm() as s:
        rows = (await s.exec(select(IdempotencyRecord).order_by(col(IdempotencyRecord.id)))).all()
    assert [(r.key, r.order_id) for r in rows] == [("msg:1", first.order.id), ("msg:2", second.order.id)]
    again = await place(w, "msg:1")  # after the block: the first order back
    assert again.replayed and again.order.id == first.order.id


async def test_keys_claimed_together_place_each_order_once_and_replay_the_key_claimed_before(
        ruled: tuple[World, Tables]) -> None:
    from sqlalchemy import event

    w, _ = ruled
    earlier = await place(w, "msg:1")
    scope = f"wechat:{w.customer.openid}"
    claims: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO IDEMPOTENCY_RECORD"):
            claims.append(statement)

    async def in_block(s: object, key: str) -> Placed:
        return await place_order(
            s, Idempotency(scope, key), customer_id=w.customer.id,  # type: ignore[arg-type]
            lines=[actions.DraftLine("HB-M6X20-304", 3000)], actor=w.as_customer, channel="wechat",
            rules=RULES, fields=COMPLETE, now=AT,
        )

    async with w.sm() as s, s.begin():
        sync_engine = s.bind.sync_engine
        event.listen(sync_engine, "before_cursor_execute", seen)
        try:
            async with claimed_together(s, [(Idempotency(scope, k), AT) for k in ("msg:1", "msg:2", "msg:3")]):
                assert len(claims) == 1  # the three keys in one insert
                replay, second, third = [await in_block(s, k) for k in ("msg:1", "msg:2", "msg:3")]
                assert len(claims) == 2  # only the key claimed before the block asked again
                again = await in_block(s, "msg:2")  # the same request twice in the block
        finally:
            event.remove(sync_engine, "before_cursor_execute", seen)
    assert replay.replayed and replay.order.id == earlier.order.id
    assert not second.replayed and not third.replayed and second.order.id != third.order.id
    assert again.replayed and again.order.id == second.order.id
    async with w.sm() as s:
        rows = (await s.exec(select(IdempotencyRecord).order_by(col(IdempotencyRecord.id)))).all()
        assert await s.scalar(select(func.count()).select_from(Order)) == 3
    assert [(r.key, r.order_id) for r in rows] == [
        ("msg:1", earlier.order.id), ("msg:2", second.order.id), ("msg:3", third.order.id)]
