"""Confirmed orders pushed to the stand-in WMS: signed, once per order version, retried, parked."""

from __future__ import annotations

import pytest

from orders import actions
from orders.actors import Actor
from tests.push.harness import HOOK_SECRET, MANAGER_ID, REP_ID, World
from workers.runner import OutboxWorker, WorkerConfig

ATTEMPTS = 12


def wms_world(world: World, **wms: object) -> OutboxWorker:
    """Point ORDERBOT_OUTBOUND at the stand-in's WMS; a worker that tries each row 12 times."""
    url = str(world.standin_client.make_url("/__wms__/orders"))
    world.settings.outbound = f"wms={url}"
    world.settings.outbox_max_attempts = ATTEMPTS
    world.settings.outbound_timeout = 0.2
    w = world.standin.wms
    w.secret = HOOK_SECRET
    for k, v in wms.items():
        setattr(w, k, v)
    return OutboxWorker(world.sm, world.ctx, clock=world.clock.now, rng=lambda: 0.0,
                        config=WorkerConfig(max_attempts=ATTEMPTS, backoff_base=1.0, backoff_max=30.0,
                                            lease_seconds=60.0))


async def settle(world: World, worker: OutboxWorker, rounds: int = 40) -> None:
    """Run the worker, moving the clock past each backoff, until nothing is pending."""
    for _ in range(rounds):
        await worker.drain()
        if not await world.outbox(state="pending"):
            return
        world.advance(31)
    raise AssertionError("outbox still has pending rows")


async def confirmed_order(world: World) -> int:
    order_id = await world.place_order()
    await actions.confirm(world.sm, order_id, Actor.rep(world.ids["rep"], REP_ID))
    return order_id


async def test_each_confirmed_order_reaches_a_flaky_wms_exactly_once(world: World) -> None:
    worker = wms_world(world, mode="flaky", fail_rate=0.3, seed=15)
    numbers = []
    for _ in range(60):
        numbers.append((await world.order(await confirmed_order(world))).number)
    await settle(world, worker)
    wms = world.standin.wms
    keys = {f"{n}:v3" for n in numbers}  # created v1, submitted v2, confirmed v3
    assert set(wms.orders) == keys  # none lost, nothing else sent
    assert all(wms.accepted[k] == 1 for k in keys)  # accepted once each: no resend after success
    assert wms.calls > len(keys)  # the 30 % failures were really retried
    assert not await world.outbox(state="parked")
    ledger = await world.ledger(channel="outbound")
    assert len(ledger) == 60 and all(d.remote_id and "WMS 已建单" in d.text for d in ledger)
    doc = wms.orders[f"{numbers[0]}:v3"]
    assert doc["event"] == "confirmed" and doc["lines"][0]["sku"] == "HB-M6X20-304"


async def test_edit_and_cancel_of_a_confirmed_order_are_pushed_as_new_versions(world: World) -> None:
    worker = wms_world(world)
    order_id = await confirmed_order(world)
    manager = Actor.manager(world.ids["manager"], MANAGER_ID)
    await actions.edit(world.sm, order_id, manager, actions.OrderEdit(fields={"remarks": "下午送"}), reason="客户来电")
    await actions.cancel(world.sm, order_id, manager, "客户撤单")
    await settle(world, worker)
    number = (await world.order(order_id)).number
    events = {k: d["event"] for k, d in world.standin.wms.orders.items()}
    assert events == {f"{number}:v3": "confirmed", f"{number}:v4": "edited", f"{number}:v5": "cancelled"}
    assert world.standin.wms.orders[f"{number}:v4"]["remarks"] == "下午送"


async def test_pending_orders_and_unconfigured_systems_push_nothing(world: World) -> None:
    await world.place_order()
    worker = wms_world(world)
    await settle(world, worker)
    world.settings.outbound = ""
    await confirmed_order(world)
    await settle(world, worker)
    assert world.standin.wms.calls == 0


@pytest.mark.parametrize("mode", ["reject", "timeout"])
async def test_a_wms_that_keeps_failing_parks_the_push_and_alerts_the_managers(world: World, mode: str) -> None:
    worker = wms_world(world, mode=mode, delay=1.0)
    order_id = await confirmed_order(world)
    await settle(world, worker)
    [parked] = await world.outbox(state="parked", kind="outbound_push")
    assert parked.attempts == (1 if mode == "reject" else ATTEMPTS)
    alerts = [r for r in await world.outbox(kind="alert_manager") if r.payload.get("type") == "outbound_failed"]
    number = (await world.order(order_id)).number
    assert len(alerts) == 1 and number in alerts[0].payload["text"] and "requeue" in alerts[0].payload["text"]
    assert world.standin.wms.orders == {}


async def test_a_bad_signature_is_refused_by_the_wms(world: World) -> None:
    worker = wms_world(world, mode="accept")
    world.settings.outbound_secret = "not-the-wms-secret"
    await confirmed_order(world)
    await settle(world, worker)
    assert world.standin.wms.orders == {} and await world.outbox(state="parked", kind="outbound_push")


async def test_a_wms_answering_shipped_ships_the_order_as_the_hook_with_an_event(world: World) -> None:
    """The answer's mapped status moves the order through the state machine (actor hook:wms)."""
    from sqlmodel import select

    from orders.models import OrderEvent

    worker = wms_world(world, mode="accept", shipment_status="shipped", waybill_no="SF1234567890", carrier="顺丰")
    order_id = await confirmed_order(world)
    await settle(world, worker)
    order = await world.order(order_id)
    assert (order.status, order.waybill_no, order.carrier) == ("shipped", "SF1234567890", "顺丰")
    async with world.sm() as s:
        shipped = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                         OrderEvent.type == "shipped"))).one()
    assert (shipped.actor_kind, shipped.actor_id, shipped.to_status) == ("system", "hook:wms", "shipped")
    texts = [r.payload.get("event") for r in await world.outbox(kind="notify_customer")]
    assert "shipped" in texts  # the customer hears of it like any shipment


async def test_a_wms_answering_created_leaves_the_order_confirmed(world: World) -> None:
    worker = wms_world(world, mode="accept")
    order_id = await confirmed_order(world)
    await settle(world, worker)
    assert (await world.order(order_id)).status == "confirmed"


async def test_a_wms_rejection_holds_the_order_with_its_reason(world: World) -> None:
    from sqlmodel import select

    from orders.models import OrderEvent

    worker = wms_world(world, mode="reject")
    order_id = await confirmed_order(world)
    await settle(world, worker)
    order = await world.order(order_id)
    assert order.status == "on_hold" and "拒收" in (order.hold_reason or "")
    async with world.sm() as s:
        held = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                      OrderEvent.type == "held"))).one()
    assert held.actor_id == "hook:wms" and "仓库不接受该订单" in (held.reason or "")
    holds = [r for r in await world.outbox(kind="alert_manager") if r.payload.get("order_id") == order_id]
    assert holds  # the managers hear of the hold


async def test_an_erp_voiding_a_confirmed_order_holds_it_for_a_person(world: World) -> None:
    """A system may not cancel a confirmed order (role table): the order is held instead."""
    from orders.external_status import apply_answer

    order_id = await confirmed_order(world)
    number = (await world.order(order_id)).number
    applied = await apply_answer(world.sm, "erp", number, 9)
    order = await world.order(order_id)
    assert applied.outcome == "held" and order.status == "on_hold" and "ERP 作废" in (order.hold_reason or "")
    again = await apply_answer(world.sm, "erp", number, 9)  # a repeat changes nothing more
    assert again.outcome == "ignored" and (await world.order(order_id)).status == "on_hold"
