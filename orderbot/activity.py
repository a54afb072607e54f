"""When the web handlers last took a request, for the worker that shares their event loop.

Embedded profile: the outbox worker runs inside `orderbot serve`, on the loop that
acknowledges WeChat's callbacks. Before each round it waits for a quiet moment (no request
for `gap` seconds), but never longer than `most` seconds, so that a burst of callbacks is
acknowledged first and the customers are answered right after, while a steady stream of
requests still leaves the worker a round every `most` seconds.
"""

from __future__ import annotations

import asyncio
import time


class WebActivity:
    def __init__(self, *, gap: float = 0.003, most: float = 0.05) -> None:
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
