"""The customer pushes and the rep cards of a batch of outbox rows, sent together (the batch
handlers of OutboxKind.NOTIFY_CUSTOMER and NOTIFY_REP; workers/runner.py hands each every
such row of a claim).

One row at a time (workers/notify.notify_customer) a reply costs a session, a customer read,
the 48-hour window query and two ledger commits around the call. Here a batch costs one
customer query, one window query (push_router.load_windows, with the keys' ledger states),
one insert of every `sending` ledger row before the calls (push_router.begin_many) and one
update after them (finish_many), whatever its size. The rules do not change: the send ledger
is written before each call, so a crash mid-batch repeats a message at most once and counts
it; a key found `sent` is not sent again, and one found in any other state (an earlier
attempt) goes through notify_customer, which counts the repeat; a customer's messages go out
in the order of their rows; a customer-service message only while the window is open and its
budget lasts. A row the fast path cannot carry (no open window, a mini-program-only
customer, WeChat saying the window is closed) goes through notify_customer, which tries the
subscribe and template channels.

Rep cards (notify_reps) the same way: a new pending order's card one at a time costs a
session, the order, its lines, its duplicate flag, its customer, the ledger row and two
ledger commits; a batch reads orders, lines, flags and customers with one query each and
writes the ledger with begin_many / finish_many. Anything else a NOTIFY_REP row carries
(texts, reminders, a card for an order no longer pending, an earlier attempt's key) goes
through workers/notify.notify_rep as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from bot import cards
from orderbot.jobs import JobContext, PermanentError
from orders.models import Customer, Outbox, PushDelivery, utcnow
from orders.notifications import load_rep_card_payloads, rep_card_payload
from orders.status import OrderStatus
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
            if windows.delivered(row.dedup_key):
                continue  # sent before this attempt (a redelivery): done
            if not openid or row.dedup_key in windows.ledger:
                slow.append(row)  # mini-program only, no WeChat, or an earlier attempt: one at a time
            else:
                queues.setdefault(openid, []).append(row)
        texts = {row.dedup_key: notify.customer_text(row.payload) for q in queues.values() for row in q}
        written = await router.begin_many(session, [
            router.Delivery(row.dedup_key, router.Channel.CS, openid, text=texts[row.dedup_key],
                            order_id=row.payload.get("order_id"))
            for openid, q in queues.items() for row in q
        ], now)
        for openid in list(queues):  # a key another worker wrote meanwhile: the slow path decides
            slow += [row for row in queues[openid] if row.dedup_key not in written]
            queues[openid] = [row for row in queues[openid] if row.dedup_key in written]
        failures: dict[int, BaseException] = {}
        sent: list[str] = []
        unsent: list[str] = []

        async def send_all(openid: str, queue: list[Outbox]) -> None:
            budget = router.Reach(windows.last_inbound.get(openid), windows.cs_sent.get(openid, 0), 0)
            for i, row in enumerate(queue):
                if router.Channel.CS not in router.plan_customer(budget, now, can_subscribe=False):
                    slow.extend(queue[i:])  # window closed or budget spent: the other channels
                    unsent.extend(r.dedup_key for r in queue[i:])
                    return
                try:
                    await notify.push_api(ctx).send_cs_text(openid, texts[row.dedup_key])
                except Exception as exc:  # noqa: BLE001 — classified as push_router does
                    unsent.extend(r.dedup_key for r in queue[i + 1:])
                    async with ctx.sessionmaker() as own:
                        if router.errcode_of(exc) in router.CS_CLOSED:
                            await own.exec(delete(PushDelivery).where(  # type: ignore[call-overload]
                                PushDelivery.dedup_key == row.dedup_key))
                            await own.commit()  # refused before delivery: the other channels, afresh
                            slow.extend(queue[i:])
                            return
                        await router.fail_send(own, row.dedup_key, exc)
                    failed = router.classify(exc)
                    failed.__cause__ = exc
                    for rest in queue[i:]:  # keep this customer's order: the rest wait too
                        failures[rest.id or 0] = failed
                    return
                sent.append(row.dedup_key)
                budget = router.Reach(budget.last_inbound_at, budget.cs_sent_in_window + 1, 0)

        await asyncio.gather(*(send_all(openid, queue) for openid, queue in queues.items()))
        await router.finish_many(session, sent, unsent, now)
    for _ in sent:
        notify.PUSH_SENT.labels(router.Channel.CS.value).inc()
    return await _slow_rows_then_alerts(ctx, rows, slow, failures, notify.notify_customer)


async def notify_reps(ctx: JobContext, rows: Sequence[Outbox]) -> Mapping[int, BaseException]:
    """Send every row's rep card (or, off the fast path, whatever notify.notify_rep sends);
    the rows that failed, with why (the rest are done)."""
    now = utcnow()
    failures: dict[int, BaseException] = {}
    slow: list[Outbox] = []
    cards_due: list[Outbox] = []
    for row in rows:
        kind = str(row.payload.get("event") or row.payload.get("type") or "")
        if row.target and kind in notify.CARD_EVENTS and row.payload.get("order_id"):
            cards_due.append(row)
        else:
            slow.append(row)
    sent: list[str] = []
    async with ctx.sessionmaker() as session:
        found = await load_rep_card_payloads(session, sorted({int(r.payload["order_id"]) for r in cards_due}))
        ids = {o.customer_id for o, _, _ in found.values()}
        customers: dict[int, Customer] = {}
        if ids:
            got = await session.exec(select(Customer).where(col(Customer.id).in_(ids)))
            customers = {c.id: c for c in got.all() if c.id is not None}
        ledger = (await router.load_windows(session, [], [r.dedup_key for r in cards_due])).ledger
        bodies: dict[str, dict[str, Any]] = {}
        texts: dict[str, str] = {}
        due: list[Outbox] = []
        for row in cards_due:
            if ledger.get(row.dedup_key) == router.Ledger.SENT.value:
                continue  # sent before this attempt (a redelivery): done
            item = found.get(int(row.payload["order_id"]))
            if item is None or item[0].status != OrderStatus.PENDING.value or row.dedup_key in ledger:
                slow.append(row)  # gone, no longer pending, or an earlier attempt: one at a time
                continue
            order, lines, duplicate_of = item
            kind = str(row.payload.get("event") or row.payload.get("type") or "")
            # As notify_rep: the card shows the order as it is now, with its version; the
            # task_id follows the row, so a redelivered card is the same card to WeCom.
            payload = rep_card_payload(kind, order, lines)
            if duplicate_of:
                payload["duplicate_of"] = duplicate_of
            if "on_behalf_of" in row.payload:
                payload["on_behalf_of"] = row.payload["on_behalf_of"]
            card = cards.order_card(notify.card_data(payload, customers.get(order.customer_id)),
                                    nonce=hashlib.sha1(row.dedup_key.encode()).hexdigest()[:8])
            bodies[row.dedup_key] = cards.send_body(row.target, notify._agentid(ctx), card)
            texts[row.dedup_key] = f"card {payload.get('number')}"
            due.append(row)
        written = await router.begin_many(session, [
            router.Delivery(row.dedup_key, router.Channel.WECOM_CARD, str(bodies[row.dedup_key].get("touser", "")),
                            text=texts[row.dedup_key], order_id=row.payload.get("order_id"))
            for row in due
        ], now)
        slow += [row for row in due if row.dedup_key not in written]  # another worker wrote it meanwhile
        due = [row for row in due if row.dedup_key in written]
        remote: dict[str, str] = {}

        async def send(row: Outbox) -> None:
            try:
                answer = await notify.push_api(ctx).send_wecom(bodies[row.dedup_key])
            except Exception as exc:  # noqa: BLE001 — classified as push_router does
                async with ctx.sessionmaker() as own:
                    await router.fail_send(own, row.dedup_key, exc)
                failed = router.classify(exc)
                failed.__cause__ = exc
                failures[row.id or 0] = failed
                return
            sent.append(row.dedup_key)
            code = answer.get("response_code") or answer.get("msgid")
            if code:
                remote[row.dedup_key] = str(code)

        await asyncio.gather(*(send(row) for row in due))
        await router.finish_many(session, sent, [], now, remote_ids=remote)
    for _ in sent:
        notify.PUSH_SENT.labels(router.Channel.WECOM_CARD.value).inc()
    return await _slow_rows_then_alerts(ctx, rows, slow, failures, notify.notify_rep)


async def _slow_rows_then_alerts(ctx: JobContext, rows: Sequence[Outbox], slow: Sequence[Outbox],
                                 failures: dict[int, BaseException],
                                 one: Callable[[JobContext, Outbox], Awaitable[None]]) -> Mapping[int, BaseException]:
    """The rows off the fast path one at a time (their own handler), then the managers' alert for
    each fast-path row that will be parked, as notify.watched does for one row."""
    for row in sorted(slow, key=lambda r: r.id or 0):
        try:
            await one(ctx, row)
        except Exception as exc:  # noqa: BLE001 — the runner retries or parks this row alone
            failures[row.id or 0] = exc
    for row in rows:
        exc = failures.get(row.id or 0)
        if exc is not None and row not in slow and (
                isinstance(exc, PermanentError) or row.attempts >= ctx.settings.outbox_max_attempts):
            await notify.parked_alert(ctx, row, str(exc))
    return failures
