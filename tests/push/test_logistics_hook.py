"""POST /hooks/logistics: signatures, stale timestamps, mapped codes, tracking pushes, repeats."""

from __future__ import annotations

import time

import pytest

from bot.logistics_hook import TrackingEvent
from tests.push.harness import CUSTOMER_OPENID, REP_ID, World


@pytest.fixture
def world(embedded_world: World) -> World:
    """These run on the embedded profile; the two-profile tests cover the database paths."""
    return embedded_world


async def confirmed_order(world: World) -> tuple[int, str]:
    await world.customer_wrote(hours_ago=1)
    order_id = await world.place_order()
    await world.drain()
    from orders import actions
    from orders.actors import Actor

    await actions.confirm(world.sm, order_id, Actor.rep(world.ids["rep"], REP_ID))
    await world.drain()
    return order_id, (await world.order(order_id)).number


def customer_texts(world: World) -> list[str]:
    return [e["payload"]["text"]["content"] for e in world.sent("custom_send", to=CUSTOMER_OPENID)]


async def test_bad_or_stale_signatures_are_refused_and_change_nothing(world: World) -> None:
    order_id, number = await confirmed_order(world)
    event = {"system": "wms", "code": "shipped", "order_number": number, "waybill_no": "SF1"}
    assert (await world.signed_hook(event, secret="not-the-secret")).status == 401
    assert (await world.signed_hook(event, timestamp=time.time() - 600)).status == 401
    assert (await world.signed_hook(event, timestamp=time.time() + 600)).status == 401
    resp = await world.app_client.post("/hooks/logistics", json=event)
    assert resp.status == 401
    assert (await world.order(order_id)).status == "confirmed"


async def test_tracking_goes_to_the_customer_and_delivery_closes_the_trip(world: World) -> None:
    order_id, number = await confirmed_order(world)
    events = [
        {"system": "wms", "code": "shipped", "order_number": number, "event_id": "e1",
         "carrier": "中通快递", "waybill_no": "ZT778899"},
        {"system": "wms", "code": "in_transit", "order_number": number, "event_id": "e2",
         "description": "已到达无锡转运中心"},
        {"system": "wms", "code": "delivered", "order_number": number, "event_id": "e3"},
    ]
    resp = await world.signed_hook({"events": events})
    body = await resp.json()
    assert resp.status == 200, body
    assert [r["status"] for r in body["results"]] == ["shipped", "shipped", "delivered"]
    await world.drain()
    texts = customer_texts(world)
    assert any("ZT778899" in t and "中通快递" in t for t in texts)
    assert any("无锡转运中心" in t for t in texts)
    assert any("已签收" in t for t in texts)
    assert (await world.order(order_id)).status == "delivered"


async def test_an_in_transit_scan_with_a_waybill_ships_a_confirmed_order(world: World) -> None:
    order_id, number = await confirmed_order(world)
    resp = await world.signed_hook({"system": "wms", "code": "in_transit", "order_number": number,
                                    "carrier": "顺丰速运", "waybill_no": "SF42"})
    assert resp.status == 200
    order = await world.order(order_id)
    assert (order.status, order.waybill_no) == ("shipped", "SF42")


async def test_unmapped_codes_and_unknown_orders_are_clear_errors(world: World) -> None:
    _, number = await confirmed_order(world)
    resp = await world.signed_hook({"system": "wms", "code": "teleported", "order_number": number})
    assert resp.status == 422 and (await resp.json())["results"][0]["error"] == "unmapped_external_status"
    resp = await world.signed_hook({"system": "wms", "code": "shipped", "order_number": "SO20990101-0009",
                                    "waybill_no": "X"})
    assert (await resp.json())["results"][0]["error"] == "order_not_found"
    resp = await world.signed_hook({"system": "wms"})
    assert resp.status == 400


async def test_a_refused_event_can_be_sent_again(world: World) -> None:
    # shipping without a waybill is refused by the hub; the carrier's corrected retry goes through
    order_id, number = await confirmed_order(world)
    bad = {"system": "wms", "code": "shipped", "order_number": number, "event_id": "s1"}
    assert (await world.signed_hook(bad)).status == 422
    good = {**bad, "waybill_no": "YT1"}
    resp = await world.signed_hook(good)
    assert resp.status == 200 and (await resp.json())["results"][0]["duplicate"] is False
    assert (await world.order(order_id)).status == "shipped"


def test_events_without_an_id_are_identified_by_their_content() -> None:
    a = TrackingEvent.from_json({"code": "in_transit", "order_number": "SO1", "description": "到达"})
    b = TrackingEvent.from_json({"code": "in_transit", "order_number": "SO1", "description": "到达"})
    c = TrackingEvent.from_json({"code": "in_transit", "order_number": "SO1", "description": "派送中"})
    assert a.dedup_key == b.dedup_key != c.dedup_key
