"""Production wake-ups: a web process publishes through Redis, workers elsewhere react at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot import appkeys
from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.stores_memory import MemoryStore
from orderbot.stores_redis import RedisStore
from orders import outbox
from orders.models import Outbox
from service.app import create_app
from workers.handlers import HandlerRegistry, JobContext
from workers.runner import OutboxWorker, WorkerConfig
from workers.wakeup import WAKE_CHANNEL, listen_for_wakeups, make_waker

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_store(redis_url: str, key_prefix: str):
    s = RedisStore(redis_url, prefix=key_prefix)
    yield s
    await s.close()


async def test_published_wakeup_reaches_a_worker_in_another_process(
    engine: AsyncEngine, redis_store: RedisStore, redis_url: str, key_prefix: str, handlers: HandlerRegistry
) -> None:
    got = asyncio.Event()

    @handlers.register("cs_message")
    async def h(ctx, row: Outbox) -> None:
        got.set()

    # The worker's own connection, as in a separate `orderbot worker` process.
    worker_store = RedisStore(redis_url, prefix=key_prefix)
    sm = make_sessionmaker(engine)
    ctx = JobContext(Settings(_env_file=None), engine, sm, worker_store, None, "w-remote")
    worker = OutboxWorker(sm, ctx, config=WorkerConfig(poll_interval=30.0), handlers=handlers)
    run = asyncio.create_task(worker.run())
    listen = asyncio.create_task(listen_for_wakeups(worker_store, worker))
    try:
        await asyncio.sleep(0.2)  # subscribed and idle
        async with sm() as s, s.begin():
            await outbox.enqueue(s, kind="cs_message", dedup_key="wake:1")
        wake, publisher = make_waker(redis_store)
        wake()
        await asyncio.wait_for(got.wait(), timeout=10)  # well before the 30 s poll
        assert publisher is not None
        await publisher.aclose()
    finally:
        worker.stop()
        await asyncio.wait_for(asyncio.gather(run, listen), timeout=10)
        await worker_store.close()


async def test_web_app_in_production_publishes_wakeups(
    aiohttp_client, db_url: str, engine: AsyncEngine, redis_store: RedisStore, redis_url: str
) -> None:
    settings = Settings(_env_file=None, ORDERBOT_DATABASE_URL=db_url, ORDERBOT_REDIS_URL=redis_url)
    app = create_app(settings, engine=engine, store=redis_store, features=())
    await aiohttp_client(app)
    async with redis_store.subscribe(WAKE_CHANNEL) as subscription:
        app[appkeys.WAKE_OUTBOX]()
        msg = None
        for _ in range(20):
            msg = await subscription.get(0.5)
            if msg:
                break
    assert msg == "1"


def test_no_redis_no_publishing() -> None:
    wake, publisher = make_waker(MemoryStore())
    assert publisher is None
    wake()  # harmless
