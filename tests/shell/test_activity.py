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


async def test_quiet_waits_for_a_gap_between_requests() -> None:
    activity = WebActivity(gap=0.05, most=2.0)

    async def burst() -> None:
        for _ in range(10):  # a request every 10 ms for 100 ms
            activity.seen()
            await asyncio.sleep(0.01)

    sender = asyncio.create_task(burst())
    await asyncio.sleep(0)
    started = time.monotonic()
    await activity.quiet()
    waited = time.monotonic() - started
    await sender
    assert 0.1 <= waited < 1.0  # after the burst (100 ms) and its gap, well before `most`


async def test_a_steady_stream_still_leaves_the_worker_a_turn() -> None:
    activity = WebActivity(gap=0.05, most=0.2)
    stop = asyncio.Event()

    async def stream() -> None:
        while not stop.is_set():
            activity.seen()
            await asyncio.sleep(0.005)

    sender = asyncio.create_task(stream())
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await activity.quiet()
    waited = time.monotonic() - started
    stop.set()
    await sender
    assert 0.2 <= waited < 0.5  # requests never stopped: gave up waiting after `most`
