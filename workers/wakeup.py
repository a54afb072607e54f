"""Waking workers as soon as an outbox row is committed, instead of at their next poll.

Embedded profile: the worker is in the same process, so waking is `worker.wake()`.
Production: the web process publishes on a Redis channel and every `orderbot worker`
listens. A lost wake-up costs at most one poll interval (polling stays the safety net), so
publishing is fire-and-forget and a listener that loses Redis just reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from orderbot.stores import KeyValueStore
from orderbot.stores_redis import RedisStore
from workers.runner import OutboxWorker

log = logging.getLogger(__name__)

Wake = Callable[[], None]


def channel(store: RedisStore) -> str:
    return f"{store.prefix}outbox:wake"


class RedisWakePublisher:
    """`wake()` publishes on the store's channel from a task it keeps until done."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        task = asyncio.get_running_loop().create_task(self._publish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self) -> None:
        try:
            await self.store.client.publish(channel(self.store), "1")
        except Exception as exc:  # the poll interval covers a lost wake-up
            log.debug("outbox wake-up not published: %s", exc)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def make_waker(store: KeyValueStore) -> tuple[Wake, RedisWakePublisher | None]:
    """What a web process calls after committing outbox rows (no-op without Redis)."""
    if isinstance(store, RedisStore):
        publisher = RedisWakePublisher(store)
        return publisher.wake, publisher
    return (lambda: None), None


async def listen_for_wakeups(store: RedisStore, worker: OutboxWorker, *, retry: float = 1.0) -> None:
    """Call worker.wake() for every message on the channel until the worker stops."""
    while not worker.stopping:
        try:
            async with store.client.pubsub() as pubsub:
                await pubsub.subscribe(channel(store))
                while not worker.stopping:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if msg is not None:
                        worker.wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("outbox wake-up listener lost Redis (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.stop_event.wait(), retry)
