"""`orderbot serve`: the web service; in the embedded profile also the outbox worker.

Refuses to start on a database that is not migrated: better a clear message at start than
"no such table" on the first WeChat message.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from orderbot.settings import get_settings

if TYPE_CHECKING:
    from aiohttp import web


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 in containers)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one)")


async def database_problem(url: str) -> str | None:
    """Why the database at `url` cannot be served, or None when it is at the migration head."""
    from orderbot.db import make_engine
    from orderbot.migrations import MigrationRequired, ensure_current

    engine = make_engine(url)
    try:
        await ensure_current(engine)
        return None
    except MigrationRequired as exc:
        return str(exc)
    except Exception as exc:
        return f"cannot reach the database ({type(exc).__name__}: {exc})"
    finally:
        await engine.dispose()


def refuse_if_unmigrated(command: str) -> int | None:
    """Exit status 2 with a message on stderr when the database is not ready, else None."""
    settings = get_settings()
    problem = asyncio.run(database_problem(settings.database_url))
    if problem is None:
        return None
    print(
        f"orderbot {command}: refusing to start: {problem}.\n"
        f"  database: {_redacted(settings.database_url)}\n"
        "  run `orderbot migrate` first (with the same ORDERBOT_DATABASE_URL).",
        file=sys.stderr,
    )
    return 2


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


async def _warm_up(app: web.Application) -> None:
    """The catalog index and reader ready, the heap settled, before the first request."""
    from orderbot import appkeys
    from orderbot.warmup import warm_up

    worker = app.get(appkeys.WORKER)
    await warm_up(worker.ctx.catalogs if worker is not None else None)


def run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from orderbot.event_loop import choose_event_loop
    from orderbot.logging import setup_logging
    from service.app import create_app

    settings = get_settings()
    setup_logging(settings.log_level)
    refused = refuse_if_unmigrated("serve")
    if refused is not None:
        return refused
    choose_event_loop(settings.event_loop)
    app = create_app(settings)
    app.on_startup.append(_warm_up)  # after the resources and the in-process worker are set up
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        access_log=None,  # orderbot.middlewares logs each request with its id
        shutdown_timeout=15,
        print=lambda msg: print(msg, file=sys.stderr),
    )
    return 0
