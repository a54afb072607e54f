"""Manager alerts: the group robot's 20-a-minute limit, the digest past it, deduplication."""

from __future__ import annotations

import pytest

from orderbot.stores_memory import MemoryStore
from orders import outbox as queue
from tests.push.harness import MANAGER_ID, World
from workers.push_router import RobotLimiter, digest_text


async def alert(world: World, key: str, text: str, target: str = "", **extra: object) -> None:
    async with world.sm() as s, s.begin():
        await queue.enqueue(s, kind="alert_manager", dedup_key=key, target=target,
                            payload={"type": "held", "text": text, **extra})


async def test_robot_limit_holds_and_the_overflow_goes_out_as_one_digest(robot_world: World) -> None:
    world = robot_world
    # given 26 different alerts in the same minute
    for i in range(26):
        await alert(world, f"a{i}", f"订单 SO20260302-{i:04d} 挂起", order_id=i + 1)
    await world.drain()
    # then 20 went out one by one, and the stand-in never had to refuse one (no 45009)
    robot = world.sent("robot_send")
    assert len(robot) == 20
    assert {r.state for r in await world.outbox(kind="alert_manager")} == {"done"}
    digests = await world.outbox(kind="robot_digest")
    assert len(digests) == 1 and digests[0].state == "pending"
    # when the minute has passed, the other 6 arrive together
    world.advance(61)
    await world.drain()
    robot = world.sent("robot_send")
    assert len(robot) == 21
    digest = robot[-1]["payload"]["text"]["content"]
    assert "共 6 条" in digest
    assert all(f"SO20260302-{i:04d}" in digest for i in range(20, 26))
    assert [r.state for r in await world.outbox(kind="robot_digest")] == ["done"]


async def test_the_same_alert_topic_reaches_managers_once(robot_world: World) -> None:
    world = robot_world
    await alert(world, "x1", "订单 SO20260302-0007 挂起：信用超限", order_id=7)
    await alert(world, "x2", "订单 SO20260302-0007 挂起：信用超限", order_id=7)  # another row, same topic
    await world.drain()
    assert len(world.sent("robot_send")) == 1


async def test_without_a_robot_alerts_go_to_the_manager_as_app_messages(world: World) -> None:
    await alert(world, "m1", "订单 SO20260302-0009 超时未确认", target=MANAGER_ID, order_id=9)
    await world.drain()
    sent = world.sent("wecom_send", to=MANAGER_ID)
    assert len(sent) == 1 and "超时未确认" in sent[0]["payload"]["text"]["content"]


@pytest.mark.parametrize("store_kind", ["memory", pytest.param("redis", marks=pytest.mark.redis)], indirect=True)
async def test_robot_window_is_shared_by_every_process(store_kind: str, request: pytest.FixtureRequest) -> None:
    if store_kind == "redis":
        from orderbot.stores_redis import RedisStore

        store = RedisStore(request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("key_prefix"))
    else:
        store = MemoryStore()
    now = [1000.0]
    a, b = RobotLimiter(store, clock=lambda: now[0]), RobotLimiter(store, clock=lambda: now[0])
    granted = [await (a if i % 2 else b).acquire("k") == 0.0 for i in range(25)]
    assert granted.count(True) == 20
    now[0] += 30
    assert await a.acquire("k") > 0  # still inside the sliding minute
    now[0] += 31
    assert await b.acquire("k") == 0.0
    await store.close()


def test_digest_text_fits_the_robot_size_limit() -> None:
    text = digest_text([f"订单 SO20260302-{i:04d} 挂起：库存不足，客户常州恒锐五金有限公司" for i in range(200)])
    assert len(text.encode()) <= 2048 and "另有" in text and text.startswith("【告警汇总】")
    assert text.count("\n") >= 10  # as many whole alerts as fit, then the count of the rest


async def test_a_named_manager_gets_an_app_message_even_with_a_robot(robot_world: World) -> None:
    world = robot_world
    await alert(world, "n1", "订单 SO20260302-0011 挂起：信用超限", target=MANAGER_ID, order_id=11)
    await world.drain()
    assert world.sent("robot_send") == []
    assert len(world.sent("wecom_send", to=MANAGER_ID)) == 1
