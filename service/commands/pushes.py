"""`orderbot pushes`: the pushes that failed for good (parked), and sending one again.

    orderbot pushes                 # parked pushes, oldest first: id, kind, target, error
    orderbot pushes --kind notify_customer
    orderbot pushes --requeue 42    # after fixing the cause (e.g. the customer followed again)

The same rows are counted by the metrics orderbot_outbox_parked and orderbot_push_parked_total.
"""

from __future__ import annotations

import argparse
import asyncio

from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import get_settings
from orders import outbox


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", help="only this outbox kind (notify_customer, notify_rep, alert_manager, ...)")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--requeue", type=int, metavar="ID", help="send this parked row again")


async def _run(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings().database_url)
    try:
        sm = make_sessionmaker(engine)
        if args.requeue is not None:
            async with sm() as s, s.begin():
                done = await outbox.requeue(s, args.requeue)
            print(f"row {args.requeue} requeued" if done else f"row {args.requeue} is not parked")
            return 0 if done else 1
        async with sm() as s:
            rows = await outbox.list_parked(s, kind=args.kind, limit=args.limit)
        for r in rows:
            error = (r.last_error or "").replace("\n", " ")[:160]
            print(f"{r.id}\t{r.kind}\t{r.target or '-'}\tattempts={r.attempts}\t{r.created_at:%Y-%m-%d %H:%M}\t{error}")
        print(f"{len(rows)} parked push(es)")
        return 0
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
