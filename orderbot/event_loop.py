"""Which asyncio event loop the long-running commands use.

uvloop (libuv underneath) runs the same asyncio code with less CPU per callback, socket read
and thread hand-off (aiosqlite wakes the loop once per statement): measured in bench/chat_e2e.py.
ORDERBOT_EVENT_LOOP=asyncio keeps the standard library's loop; without uvloop installed the
standard loop is used and said so once.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def choose_event_loop(wanted: str) -> str:
    """Install the event loop policy for `wanted` ("uvloop" or "asyncio"); returns the one in use."""
    if wanted == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("ORDERBOT_EVENT_LOOP=uvloop but uvloop is not installed: using asyncio's loop")
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        log.info("event loop: uvloop")
        return "uvloop"
    asyncio.set_event_loop_policy(None)
    log.info("event loop: asyncio")
    return "asyncio"
