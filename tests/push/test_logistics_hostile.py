"""Hostile input to POST /hooks/logistics (issue 16, part 3), on both profiles.

Forged and stale hooks, bodies that are not JSON (truncated, deeply nested, oversized), and
control characters or SQL-looking text in every field: each is answered 4xx with a code
(never 5xx), and a refused hook changes no order and queues no push.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlmodel import select

from orders.models import InboundMessage
from tests.push.harness import HOOK_SECRET, World
from tests.push.test_logistics_hook import confirmed_order, customer_texts


async def _raw_hook(world: World, body: bytes, *, ts: str | None = None, sig: str | None = None):
    ts = ts if ts is not None else str(int(time.time()))
    sig = sig if sig is not None else hmac.new(HOOK_SECRET.encode(), ts.encode() + body, hashlib.sha256).hexdigest()
    return await world.app_client.post("/hooks/logistics", data=body, headers={
        "X-Orderbot-Timestamp": ts, "X-Orderbot-Signature": sig, "Content-Type": "application/json"})


async def _unchanged(world: World, order_id: int) -> None:
    assert (await world.order(order_id)).status == "confirmed"
    async with world.sm() as s:
        assert list(await s.exec(select(InboundMessage).where(InboundMessage.channel == "logistics"))) == []


async def test_forged_and_stale_hooks_get_a_code(world: World) -> None:
    order_id, number = await confirmed_order(world)
    event = json.dumps({"code": "shipped", "order_number": number, "waybill_no": "SF1"}).encode()
    ts = str(int(time.time()))
    good_sig = hmac.new(HOOK_SECRET.encode(), ts.encode() + event, hashlib.sha256).hexdigest()
    cases = {
        "bad_signature": await _raw_hook(world, event.replace(b"SF1", b"SF2"), ts=ts, sig=good_sig),
        "stale_timestamp": await _raw_hook(world, event, ts=str(int(time.time()) - 301)),
        "missing_signature": await world.app_client.post("/hooks/logistics", data=event),
        "bad_timestamp": await _raw_hook(world, event, ts="nan"),
    }
    for code, resp in cases.items():
        body = await resp.json()
        assert (resp.status, body["code"]) == (401, code), (code, body)
    future = await _raw_hook(world, event, ts=str(int(time.time()) + 3600))
    assert (await future.json())["code"] == "stale_timestamp"
    await _unchanged(world, order_id)


@pytest.mark.parametrize(("body", "status", "code"), [
    (b'{"code": "shipped", "order_number": "SO1"', 400, "invalid_json"),  # truncated
    (b"\xff\xfe{}", 400, "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),  # nesting deeper than any parser's stack
    (b'{"events": "not a list"}', 400, "no_events"),
    (b'{"events": []}', 400, "no_events"),
    (b'[1, 2]', 400, "invalid_event"),
    (b'{"events": [{"code": {"nested": 1}, "order_number": "SO1"}]}', 400, "invalid_event"),
    (b'{"system": "wms"}', 400, "invalid_event"),
    (b"x" * 300_000, 413, "body_too_large"),
])
async def test_bodies_that_are_not_events_are_4xx_with_a_code(world: World, body: bytes, status: int,
                                                              code: str) -> None:
    order_id, _ = await confirmed_order(world)
    resp = await _raw_hook(world, body)
    assert (resp.status, (await resp.json())["code"]) == (status, code)
    await _unchanged(world, order_id)


@pytest.mark.parametrize("field", ["system", "code", "order_number", "event_id", "carrier", "waybill_no",
                                   "description", "occurred_at"])
async def test_control_characters_in_any_field_are_refused(world: World, field: str) -> None:
    order_id, number = await confirmed_order(world)
    event = {"system": "wms", "code": "shipped", "order_number": number, "event_id": "c1",
             "carrier": "顺丰", "waybill_no": "SF9", "description": "已发出", "occurred_at": "2026-03-03"}
    for bad in ("\x00", "a\x1b[2Jb", "\x7f"):
        resp = await world.signed_hook({**event, field: f"{event[field]}{bad}"})
        body = await resp.json()
        assert (resp.status, body["code"]) == (400, "control_characters"), (field, bad, body)
        assert field in body["message"]
    await _unchanged(world, order_id)


async def test_sql_looking_text_is_carried_verbatim(world: World) -> None:
    order_id, number = await confirmed_order(world)
    sneaky = "已到达'); DROP TABLE orders; -- 仓库\t二号门"
    resp = await world.signed_hook({"system": "wms", "code": "shipped", "order_number": number,
                                    "event_id": "x'; --", "carrier": "顺丰' OR 1=1 --",
                                    "waybill_no": "SF1'--", "description": sneaky})
    assert resp.status == 200, await resp.text()
    resp = await world.signed_hook({"system": "wms", "code": "in_transit", "order_number": number,
                                    "event_id": "e2", "description": sneaky})
    assert resp.status == 200
    order = await world.order(order_id)
    assert (order.status, order.carrier, order.waybill_no) == ("shipped", "顺丰' OR 1=1 --", "SF1'--")
    await world.drain()
    assert any(sneaky.split("\t")[0] in t for t in customer_texts(world))
    resp = await world.signed_hook({"system": "wms", "code": "shipped", "order_number": "SO1' OR '1'='1",
                                    "waybill_no": "X"})
    assert (await resp.json())["results"][0]["error"] == "order_not_found"


async def test_an_event_cut_off_half_way_is_finished_by_its_retry(world: World, monkeypatch) -> None:
    """Found by bench/faults.py: the database connection dropped after the order moved but
    before the customer's push was queued; the carrier's retry was answered `duplicate` and
    the customer never heard of the delivery."""
    from bot import logistics_hook

    order_id, number = await confirmed_order(world)
    assert (await world.signed_hook({"system": "wms", "code": "shipped", "order_number": number,
                                     "event_id": "s1", "waybill_no": "SF7"})).status == 200
    real_push = logistics_hook._push_customer

    async def connection_lost(*args, **kwargs):
        raise ConnectionResetError("terminating connection due to administrator command")

    monkeypatch.setattr(logistics_hook, "_push_customer", connection_lost)
    delivered = {"system": "wms", "code": "delivered", "order_number": number, "event_id": "d1"}
    resp = await world.signed_hook(delivered)
    assert (resp.status, (await resp.json())["code"]) == (503, "try_again")
    assert (await world.order(order_id)).status == "delivered"  # the move itself went through
    monkeypatch.setattr(logistics_hook, "_push_customer", real_push)
    for _ in range(2):  # the carrier's retry finishes it; a further repeat is a plain duplicate
        resp = await world.signed_hook(delivered)
        assert resp.status == 200
    assert (await resp.json())["results"][0]["duplicate"] is True
    await world.drain()
    assert sum("已签收" in t for t in customer_texts(world)) == 1
