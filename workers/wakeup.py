"""Waking workers as soon as an outbox row is committed, instead of at their next poll.

Embedded profile: the worker is in the same process, so waking is `worker.wake()`.
Production: the web process publishes on the store's WAKE_CHANNEL and every `orderbot worker`
subscribes (KeyValueStore.publish / subscribe; Redis pub/sub behind a shared store). A lost
wake-up costs at most one poll interval (polling stays the safety net), so publishing is
fire-and-forget and a listener that loses the store just subscribes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from orderbot.stores import KeyValueStore
from workers.runner import OutboxWorker

log = logging.getLogger(__name__)

Wake = Callable[[], None]
WAKE_CHANNEL = "outbox:wake"


class WakePublisher:
    """`wake()` publishes on the store's channel from a task it keeps until done."""

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        task = asyncio.get_running_loop().create_task(self._publish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self) -> None:
        try:
            await self.store.publish(WAKE_CHANNEL, "1")
        except Exception as exc:  # the poll interval covers a lost wake-up
            log.debug("outbox wake-up not published: %s", exc)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def make_waker(store: KeyValueStore) -> tuple[Wake, WakePublisher | None]:
    """What a web process calls after committing outbox rows: a publish when the store is
    shared with worker processes, else nothing (the in-process worker is woken directly)."""
    if store.shared:
        publisher = WakePublisher(store)
        return publisher.wake, publisher
    return (lambda: None), None


async def listen_for_wakeups(store: KeyValueStore, worker: OutboxWorker, *, retry: float = 1.0) -> None:
    """Call worker.wake() for every message on the channel until the worker stops."""
    while not worker.stopping:
        try:
            async with store.subscribe(WAKE_CHANNEL) as subscription:
                while not worker.stopping:
                    if await subscription.get(0.5) is not None:
                        worker.wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("outbox wake-up listener lost the store (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.stop_event.wait(), retry)
