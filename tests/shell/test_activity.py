"""WebActivity: the embedded worker lets a burst of requests go first, but not for ever."""

from __future__ import annotations

import asyncio
import time

from orderbot.activity import WebActivity


async def test_quiet_returns_at_once_when_no_request_came() -> None:
    activity = WebActivity(gap=0.05, most=1.0)
    started = time.monotonic()
    await activity.quiet()
    assert time.monotonic() - started < 0.03


async def _requests(activity: WebActivity, every: float, stop: asyncio.Event, count: int | None = None) -> None:
    """A request every `every` seconds, `count` of them or until `stop`."""
    sent = 0
    while not stop.is_set() and (count is None or sent < count):
        activity.seen()
        sent += 1
        await asyncio.sleep(every)


async def _waited(activity: WebActivity, every: float, count: int | None) -> float:
    """How long quiet() waits while requests come every `every` seconds (`count`, or forever)."""
    stop = asyncio.Event()
    sender = asyncio.create_task(_requests(activity, every, stop, count))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await activity.quiet()
    waited = time.monotonic() - started
    stop.set()
    await sender
    return waited


async def test_quiet_waits_for_a_gap_between_requests() -> None:
    # a request every 10 ms for 100 ms: quiet after the burst and its gap, well before `most`
    assert 0.09 <= await _waited(WebActivity(gap=0.05, most=2.0), 0.01, count=10) < 1.0


async def test_a_steady_stream_still_leaves_the_worker_a_turn() -> None:
    # requests never stop: quiet() gives up waiting after `most`
    assert 0.2 <= await _waited(WebActivity(gap=0.05, most=0.2), 0.005, count=None) < 0.5
