"""Which channel a customer's push takes: the 48-hour window, its budget, consents, templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderbot.standin.state import WECHAT
from orders import outbox as queue
from tests.push.harness import CUSTOMER_MP_OPENID, CUSTOMER_OPENID, World
from workers import push_router
from workers.push_router import Channel, Reach, plan_customer

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_plan_inside_the_window_uses_customer_service_first() -> None:
    reach = Reach(NOW - timedelta(hours=47, minutes=59), cs_sent_in_window=4, consents=1)
    assert plan_customer(reach, NOW) == [Channel.CS, Channel.SUBSCRIBE, Channel.TEMPLATE]


def test_plan_after_48_hours_or_5_messages_skips_customer_service() -> None:
    late = Reach(NOW - timedelta(hours=48), cs_sent_in_window=0, consents=1)
    spent = Reach(NOW - timedelta(hours=1), cs_sent_in_window=5, consents=0)
    never = Reach(None, 0, 0)
    assert plan_customer(late, NOW) == [Channel.SUBSCRIBE, Channel.TEMPLATE]
    assert plan_customer(spent, NOW) == [Channel.TEMPLATE]
    assert plan_customer(never, NOW) == [Channel.TEMPLATE]


def test_plan_for_a_mini_program_only_customer_has_only_subscribe() -> None:
    reach = Reach(None, 0, consents=2)
    assert plan_customer(reach, NOW, has_oa=False) == [Channel.SUBSCRIBE]
    assert plan_customer(Reach(None, 0, 0), NOW, has_oa=False) == []


async def notify(world: World, key: str, event: str = "confirmed", **extra: object) -> None:
    payload = {"event": event, "number": "SO20260302-0001", "status_label": "已确认", "total": "35.00",
               "customer_id": world.ids["customer"], **extra}
    async with world.sm() as s, s.begin():
        await queue.enqueue(s, kind="notify_customer", dedup_key=key, payload=payload, target=CUSTOMER_OPENID)


def apis(world: World) -> list[str]:
    return [e["api"] for e in world.sent() if e["api"] in {"custom_send", "subscribe_send", "template_send"}]


async def test_window_running_out_falls_back_to_subscribe_then_template(world: World) -> None:
    # given a customer who wrote 47 hours ago and granted one subscribe consent
    await world.customer_wrote(hours_ago=47)
    async with world.sm() as s, s.begin():
        await push_router.grant_consent(s, CUSTOMER_MP_OPENID, "order_status_subscribe")
    world.standin.add_consent(CUSTOMER_MP_OPENID, "order_status_subscribe")
    # when one push goes now, and two more after the window has closed
    await notify(world, "k1")
    await world.drain()
    world.advance(2 * 3600)
    await notify(world, "k2", event="shipped", carrier="顺丰速运", waybill_no="SF100")
    await notify(world, "k3", event="delivered")
    await world.drain()
    # then: customer service, then the one consent, then a template message; nothing parked
    assert apis(world) == ["custom_send", "subscribe_send", "template_send"]
    assert "已确认" in world.sent("custom_send")[0]["payload"]["text"]["content"]
    assert [r.state for r in await world.outbox(kind="notify_customer")] == ["done"] * 3


async def test_five_messages_spend_the_window_budget(world: World) -> None:
    await world.customer_wrote(hours_ago=1)
    for i in range(7):
        await notify(world, f"b{i}", event="tracking", tracking=f"第{i}站")
        await world.drain()
    assert apis(world) == ["custom_send"] * 5 + ["template_send"] * 2
    # a new message from the customer opens a new window with a new budget
    await world.customer_wrote(hours_ago=0)
    await notify(world, "after")
    await world.drain()
    assert apis(world)[-1] == "custom_send"


async def test_when_wechat_says_the_window_is_closed_the_template_goes_at_once(world: World) -> None:
    # our books think the window is open, the server does not (45015): same delivery falls back
    await world.customer_wrote(hours_ago=1)
    world.standin.windows.pop(CUSTOMER_OPENID)
    await notify(world, "w1")
    await world.drain()
    assert apis(world) == ["template_send"]
    row = (await world.outbox(dedup_key="w1"))[0]
    assert row.state == "done" and row.attempts == 1


async def test_a_token_invalidated_mid_run_is_refreshed_and_nothing_is_lost(world: World) -> None:
    await world.customer_wrote(hours_ago=1)
    await notify(world, "t1")
    await world.drain()
    fetches = world.standin.token_fetches.get(WECHAT, 0)
    # another process force-refreshes the Official Account's stable token: ours is now revoked
    cfg = world.standin.config
    world.standin.stable_token(cfg.wechat_appid, cfg.wechat_secret, "client_credential", True)
    await notify(world, "t2")
    await notify(world, "t3")
    await world.drain()
    assert apis(world) == ["custom_send"] * 3
    assert world.standin.token_fetches[WECHAT] == fetches + 1  # the revoked one, refreshed once
    assert {r.state for r in await world.outbox(kind="notify_customer")} == {"done"}


async def test_a_worker_killed_between_send_and_ack_does_not_send_twice(world: World) -> None:
    await world.customer_wrote(hours_ago=1)
    await notify(world, "kill-1")
    # a worker claims the row and sends, then dies before marking it done
    async with world.sm() as s, s.begin():
        claimed = await queue.claim(s, worker_id="doomed", now=world.clock.now(), limit=10,
                                    lease_seconds=30, max_attempts=4)
    assert len(claimed) == 1
    handler = world.worker.handlers.get("notify_customer")
    assert handler is not None
    await handler(world.ctx, claimed[0])
    assert len(world.sent("custom_send")) == 1
    # when the lease runs out another worker gets the same row, same dedup key
    world.advance(31)
    assert await world.drain() == 1
    row = (await world.outbox(dedup_key="kill-1"))[0]
    assert row.state == "done" and row.attempts == 2
    # then the customer still has one message, and the ledger one entry for that key
    assert len(world.sent("custom_send")) == 1
    assert [d.dedup_key for d in await world.ledger()] == ["kill-1"]


async def test_an_unknown_customer_is_parked_visible_and_reported(robot_world: World) -> None:
    world = robot_world
    world.standin.oa_users.clear()  # 40003 for everyone: template cannot help either
    await notify(world, "lost-1")
    await world.drain()
    parked = await world.outbox(state="parked")
    assert [r.dedup_key for r in parked] == ["lost-1"]
    async with world.sm() as s:
        listed = await queue.list_parked(s)
    assert [r.dedup_key for r in listed] == ["lost-1"]
    # a manager hears of it through the group robot
    robot = world.sent("robot_send")
    assert len(robot) == 1 and "推送失败" in robot[0]["payload"]["text"]["content"]
    from orderbot.metrics import REGISTRY

    assert (REGISTRY.get_sample_value("orderbot_push_parked_total", {"kind": "notify_customer"}) or 0) >= 1


async def test_template_messages_carry_the_dedup_key_as_wechats_anti_reentry_id(world: World) -> None:
    await notify(world, "order:7:v3:notify_customer")  # no window: a template message
    await world.drain()
    [sent] = world.sent("template_send")
    assert sent["payload"]["client_msg_id"] == "order:7:v3:notify_customer"
    assert len(push_router.client_msg_id("x" * 100)) == 40
