"""When the web handlers last took a request, for the worker that shares their event loop.

Embedded profile: the outbox worker runs inside `orderbot serve`, on the loop that
acknowledges WeChat's callbacks. Before each round it waits for a quiet moment (no request
for `gap` seconds), but never longer than `most` seconds, so that a burst of callbacks is
acknowledged first and the customers are answered right after, while a steady stream of
requests still leaves the worker a round every `most` seconds.

Why 20 ms and 1 s (bench/README.md, 2026-12-06): with 3 ms and 50 ms a round of 50 messages
(≈ 0.25 s of the loop on a slow 2-core machine) ran between every few callbacks, and intake
with the conversation running fell to 0.25× a bare handler (p99 82 ms); with 20 ms and 1 s it
is 0.49× (p99 15 ms), and the 600-customer burst is answered no slower (its callbacks are all
acknowledged in 0.36 s instead of 1.2 s, and the answers come in fuller rounds). A customer
writing during a flood of callbacks waits at most a second longer for the answer; WeChat
waits 5 s for the acknowledgement and then sends the callback again.
"""

from __future__ import annotations

import asyncio
import time


class WebActivity:
    def __init__(self, *, gap: float = 0.02, most: float = 1.0) -> None:
        self.gap, self.most = gap, most
        self.last = float("-inf")

    def seen(self) -> None:
        """A request came in (the middleware calls this for every one)."""
        self.last = time.monotonic()

    async def quiet(self) -> None:
        """Return once no request has come for `gap` seconds, or after `most` seconds."""
        now = time.monotonic()
        deadline = now + self.most
        while now - self.last < self.gap and now < deadline:
            await asyncio.sleep(min(self.gap, deadline - now))
            now = time.monotonic()
