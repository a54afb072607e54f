"""The customer pushes of a batch of outbox rows, sent together (the batch handler of
OutboxKind.NOTIFY_CUSTOMER; workers/runner.py hands it every such row of a claim).

One row at a time (workers/notify.notify_customer) a reply costs a session, a customer read,
the 48-hour window query and a ledger insert with its own commit. Here a batch costs one
customer query, one window query (push_router.load_windows), one query for keys already
delivered and one ledger insert (push_router.record_many), whatever its size. The rules do
not change: a key already in the ledger is not sent again; a customer's messages go out in
the order of their rows; a customer-service message only while the window is open and its
budget lasts. A row the fast path cannot carry (no open window, a mini-program-only
customer, WeChat saying the window is closed) goes through notify_customer, which tries the
subscribe and template channels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from sqlmodel import col, select

from orderbot.jobs import JobContext, PermanentError
from orders.models import Customer, Outbox, utcnow
from workers import notify
from workers import push_router as router

log = logging.getLogger(__name__)


async def notify_customers(ctx: JobContext, rows: Sequence[Outbox]) -> Mapping[int, BaseException]:
    """Send every row's message; the rows that failed, with why (the rest are done)."""
    now = utcnow()
    ids = {int(r.payload["customer_id"]) for r in rows if r.payload.get("customer_id")}
    async with ctx.sessionmaker() as session:
        customers: dict[int, Customer] = {}
        if ids:
            found = await session.exec(select(Customer).where(col(Customer.id).in_(ids)))
            customers = {c.id: c for c in found.all() if c.id is not None}
        openid_of: dict[int, str] = {}
        for row in rows:
            cid = row.payload.get("customer_id")
            customer = customers.get(int(cid)) if cid else None
            openid_of[row.id or 0] = (customer.openid or "") if customer else row.target
        windows = await router.load_windows(session, sorted({o for o in openid_of.values() if o}),
                                            [r.dedup_key for r in rows])
        # The rows of one customer go one after another, in row order; customers in parallel.
        queues: dict[str, list[Outbox]] = {}
        slow: list[Outbox] = []
        for row in rows:
            openid = openid_of[row.id or 0]
            if row.dedup_key in windows.delivered:
                continue  # sent before this attempt (a redelivery): done
            if not openid:
                slow.append(row)  # mini-program only, or no WeChat at all: notify_customer decides
            else:
                queues.setdefault(openid, []).append(row)
        failures: dict[int, BaseException] = {}
        sent: list[router.Delivery] = []

        async def send_all(openid: str, queue: list[Outbox]) -> None:
            budget = router.Reach(windows.last_inbound.get(openid), windows.cs_sent.get(openid, 0), 0)
            for i, row in enumerate(queue):
                if router.Channel.CS not in router.plan_customer(budget, now, can_subscribe=False):
                    slow.extend(queue[i:])  # window closed or budget spent: the other channels
                    return
                text = notify.customer_text(row.payload)
                try:
                    await notify.push_api(ctx).send_cs_text(openid, text)
                except Exception as exc:  # noqa: BLE001 — classified as push_router does
                    if router.errcode_of(exc) in router.CS_CLOSED:
                        slow.extend(queue[i:])
                    else:
                        failed = router.classify(exc)
                        failed.__cause__ = exc
                        for rest in queue[i:]:  # keep this customer's order: the rest wait too
                            failures[rest.id or 0] = failed
                    return
                sent.append(router.Delivery(row.dedup_key, router.Channel.CS, openid, text=text,
                                            order_id=row.payload.get("order_id")))
                budget = router.Reach(budget.last_inbound_at, budget.cs_sent_in_window + 1, 0)

        await asyncio.gather(*(send_all(openid, queue) for openid, queue in queues.items()))
        await router.record_many(session, sent, now)
    for _ in sent:
        notify.PUSH_SENT.labels(router.Channel.CS.value).inc()
    for row in sorted(slow, key=lambda r: r.id or 0):
        try:
            await notify.notify_customer(ctx, row)
        except Exception as exc:  # noqa: BLE001 — the runner retries or parks this row alone
            failures[row.id or 0] = exc
    for row in rows:
        exc = failures.get(row.id or 0)
        if exc is not None and row not in slow and (
                isinstance(exc, PermanentError) or row.attempts >= ctx.settings.outbox_max_attempts):
            await notify.parked_alert(ctx, row, str(exc))  # as notify.watched does for one row
    return failures

