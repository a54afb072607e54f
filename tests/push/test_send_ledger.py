"""The send ledger (issue 16, part 2): a worker killed around an outbound call repeats that
send at most once, and the repeat is counted; where the platform dedups, the person still
sees it once. Both profiles (SQLite + memory store, PostgreSQL + Redis).

A crash is a `Killed` (a BaseException, as nothing in the handler may catch a process dying)
raised by the outbound API either before the request leaves or after WeChat has answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from orderbot.metrics import REGISTRY
from orders import outbox as queue
from tests.push.harness import CUSTOMER_OPENID, REP_ID, World
from workers import notify
from workers.push_router import PushApi


class Killed(BaseException):
    """The worker process dies here (kill -9): no handler code runs after it."""


class Crashing:
    """The real outbound API, except that `method` kills the worker before or after its call."""

    def __init__(self, real: PushApi, method: str, when: str) -> None:
        self.real, self.method, self.when = real, method, when

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if name != self.method:
            return attr

        async def call(*args: Any, **kw: Any) -> Any:
            if self.when == "before":
                raise Killed
            await attr(*args, **kw)
            raise Killed  # WeChat has it; we die before writing that down

        return call


def repeats_metric(kind: str, cause: str = "crash") -> float:
    return REGISTRY.get_sample_value("orderbot_push_repeats_total", {"kind": kind, "cause": cause}) or 0.0


async def crash_once(world: World, handler: Callable[..., Awaitable[None]], kind: str, method: str, when: str) -> None:
    """Run the pending `kind` row's handler with a worker that dies around `method`."""
    real = notify.push_api(world.ctx)
    world.ctx.extra["push_api"] = Crashing(real, method, when)
    (row,) = await world.outbox(kind=kind)
    with pytest.raises(Killed):
        await handler(world.ctx, row)
    world.ctx.extra["push_api"] = real


async def customer_push(world: World, key: str = "order:1:v2:notify_customer") -> None:
    payload = {"event": "confirmed", "number": "SO20260302-0001", "status_label": "已确认", "total": "35.00",
               "customer_id": world.ids["customer"]}
    async with world.sm() as s, s.begin():
        await queue.enqueue(s, kind="notify_customer", dedup_key=key, payload=payload, target=CUSTOMER_OPENID)


async def rep_text(world: World, text: str = "客户张工 询价：M6×20 304 外六角 5000个") -> None:
    async with world.sm() as s, s.begin():
        await queue.enqueue(s, kind="notify_rep", dedup_key="inquiry:42:notify_rep", target=REP_ID,
                            payload={"type": "text", "text": text})


def cs_texts(world: World) -> list[str]:
    return [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]


async def test_crash_before_the_call_sends_once_on_retry_and_counts_one_repeat(world: World) -> None:
    # given a customer inside the 48-hour window, and a worker that dies right after the
    # ledger row is written, before the request leaves
    await world.customer_wrote(hours_ago=1)
    await customer_push(world)
    before = repeats_metric("cs")
    await crash_once(world, notify.notify_customer, "notify_customer", "send_cs_text", "before")
    (row,) = await world.ledger()
    assert row.state == "sending" and cs_texts(world) == []
    # when another worker claims the row again
    await world.drain()
    # then the customer gets the reply once, and the ledger counts the send as a possible repeat
    assert len(cs_texts(world)) == 1 and "已确认" in cs_texts(world)[0]
    (row,) = await world.ledger()
    assert (row.state, row.channel, row.repeats, row.repeat_cause) == ("sent", "cs", 1, "crash")
    assert repeats_metric("cs") - before == 1
    assert [r.state for r in await world.outbox(kind="notify_customer")] == ["done"]


async def test_crash_after_the_call_repeats_at_most_once_and_counts_it(world: World) -> None:
    # given WeChat accepted the customer-service text and the worker died before recording it
    await world.customer_wrote(hours_ago=1)
    await customer_push(world)
    before = repeats_metric("cs")
    await crash_once(world, notify.notify_customer, "notify_customer", "send_cs_text", "after")
    assert len(cs_texts(world)) == 1
    # when the row is delivered again, and once more (a second redelivery after the record)
    await world.drain()
    (row,) = await world.outbox(kind="notify_customer")
    await notify.notify_customer(world.ctx, row)
    # then the text went out twice in all (customer service takes no dedup key), never three
    # times, and that one repeat is counted on the row and in the metric
    assert len(cs_texts(world)) == 2
    (ledger,) = await world.ledger()
    assert (ledger.state, ledger.repeats, ledger.attempts) == ("sent", 1, 2)
    assert repeats_metric("cs") - before == 1


async def test_template_repeat_after_a_crash_is_dropped_by_client_msg_id(world: World) -> None:
    # given a customer outside the window: the push is a template message with client_msg_id
    await customer_push(world)
    before = repeats_metric("template")
    await crash_once(world, notify.notify_customer, "notify_customer", "send_template", "after")
    # when the row is delivered again
    await world.drain()
    # then WeChat (the stand-in) delivered it once, answering the repeat as the first; counted
    assert len(world.sent("template_send", to=CUSTOMER_OPENID)) == 1
    assert world.standin.deduplicated.get("template_send") == 1
    (row,) = await world.ledger()
    assert (row.state, row.channel, row.repeats) == ("sent", "template", 1)
    assert repeats_metric("template") - before == 1


async def test_wecom_duplicate_check_delivers_a_repeated_rep_text_once(world: World) -> None:
    # given a rep text sent with WeCom's duplicate check, the worker dying after WeCom took it
    await rep_text(world)
    await crash_once(world, notify.notify_rep, "notify_rep", "send_wecom", "after")
    (first,) = world.sent("wecom_send", to=REP_ID)
    assert first["payload"]["enable_duplicate_check"] == 1
    # when the row is delivered again
    await world.drain()
    # then the rep has the text once; the repeat is on the ledger and was dropped by WeCom
    assert len(world.sent("wecom_send", to=REP_ID)) == 1
    assert world.standin.deduplicated.get("wecom_send") == 1
    (row,) = await world.ledger()
    assert (row.state, row.channel, row.repeats, row.repeat_cause) == ("sent", "wecom_app", 1, "crash")


async def test_the_same_text_asked_again_later_is_delivered_again(world: World) -> None:
    # the duplicate check only covers its interval: a rep asking the same thing an hour later
    # gets the answer again
    await rep_text(world)
    await world.drain()
    world.advance(3600)
    async with world.sm() as s, s.begin():
        await queue.enqueue(s, kind="notify_rep", dedup_key="inquiry:43:notify_rep", target=REP_ID,
                            payload={"type": "text", "text": "客户张工 询价：M6×20 304 外六角 5000个"})
    await world.drain()
    assert len(world.sent("wecom_send", to=REP_ID)) == 2


async def test_card_update_answered_already_spent_after_our_own_crash_counts_as_done(world: World) -> None:
    # given a pending order whose card the rep pressed: one response_code, one update allowed
    order_id = await world.place_order()
    code = world.standin.issue_response_code("task-1")
    async with world.sm() as s, s.begin():
        await queue.enqueue(s, kind="wecom_card_update", dedup_key=f"card:{order_id}:confirm", target=REP_ID,
                            payload={"order_id": order_id, "userid": REP_ID, "response_code": code,
                                     "outcome": "confirmed", "by": "张三"})
    # when the worker dies after WeCom applied the update, and the row runs again (40078)
    await crash_once(world, notify.update_card, "wecom_card_update", "update_wecom_card", "after")
    await world.drain()
    # then the card was updated once, no "card expired" text was sent, nothing parked
    assert len(world.sent("update_template_card")) == 1
    assert not [e for e in world.sent("wecom_send", to=REP_ID) if "卡片已过期" in str(e["payload"])]
    (row,) = await world.ledger(dedup_key=f"card:{order_id}:confirm")
    assert (row.state, row.channel, row.repeats) == ("sent", "card_update", 1)
    assert [r.state for r in await world.outbox(kind="wecom_card_update")] == ["done"]


async def test_a_timeout_leaves_the_send_unsure_and_its_retry_is_counted(world: World) -> None:
    # given the stand-in takes the text and the answer never arrives (a timeout on our side)
    await world.customer_wrote(hours_ago=1)
    await customer_push(world)
    real = notify.push_api(world.ctx)

    class Lost:
        def __getattr__(self, name: str) -> Any:
            attr = getattr(real, name)
            if name != "send_cs_text":
                return attr

            async def call(*args: Any, **kw: Any) -> Any:
                await attr(*args, **kw)
                raise TimeoutError("no answer")

            return call

    world.ctx.extra["push_api"] = Lost()
    before = repeats_metric("cs", "timeout")
    await world.drain()
    (row,) = await world.ledger()
    assert row.state == "unsure"
    # when the retry goes through
    world.ctx.extra["push_api"] = real
    world.advance(60)
    await world.drain()
    # then the text went twice (customer service has no dedup key) and the repeat is counted
    assert len(cs_texts(world)) == 2
    (row,) = await world.ledger()
    assert (row.state, row.repeats, row.repeat_cause) == ("sent", 1, "timeout")
    assert repeats_metric("cs", "timeout") - before == 1


async def test_a_call_cut_off_by_the_handler_timeout_is_unsure_and_its_retry_counted(world: World) -> None:
    # given the worker's handler timeout cancels a customer-service call that WeChat never answers
    await world.customer_wrote(hours_ago=1)
    await customer_push(world)
    real = notify.push_api(world.ctx)

    class Hanging:
        def __getattr__(self, name: str) -> Any:
            if name != "send_cs_text":
                return getattr(real, name)

            async def call(*args: Any, **kw: Any) -> Any:
                await asyncio.sleep(30)

            return call

    world.ctx.extra["push_api"] = Hanging()
    (row,) = await world.outbox(kind="notify_customer")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await notify.notify_customer(world.ctx, row)
    (ledger,) = await world.ledger()
    assert ledger.state == "unsure"
    # when it is delivered again, it goes once and counts as a repeat after a timeout
    world.ctx.extra["push_api"] = real
    before = repeats_metric("cs", "timeout")
    await world.drain()
    assert len(cs_texts(world)) == 1
    (ledger,) = await world.ledger()
    assert (ledger.state, ledger.repeats, ledger.repeat_cause) == ("sent", 1, "timeout")
    assert repeats_metric("cs", "timeout") - before == 1
