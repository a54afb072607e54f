"""The customer's chat on the Official Account: stored inbound messages → the conversation.

One outbox row of kind "inbound" per stored message (bot/intake.py) lands here. Handling is
idempotent and never races for one customer:
- a per-customer lock in the shared store serialises two quick messages;
- the message's `handled` mark, the conversation state and the replies (outbox rows) commit
  in one transaction, so a redelivered row finds the mark and does nothing;
- an order placed by "确认" is created in its own transaction together with an
  IdempotencyRecord keyed by the message, so a crash before the second commit cannot
  produce a second order on redelivery.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import conversation, replies, survey
from bot.conversation import CreateOrder, Incoming, ListOrders, RunOcr, SessionState, ShowOrder
from bot.messages import MessageError, parse
from bot.turns import (
    load_session,
    load_sessions,
    mark_handled,
    mark_many_handled,
    queue_ocr,
    save_session,
    save_sessions,
    state_of,
    user_lock,
    user_locks,
)
from orderbot.jobs import JobContext, OutboxKind, TransientError, enqueue, enqueue_many
from orderbot.routing_rules import RulesFile
from orders import (
    Idempotency,
    claimed_together,
    duplicates_read_together,
    place_order,
    recorded_together,
)
from orders.actors import Actor
from orders.assignment import RoutingSnapshot
from orders.customers import join_by_phone, phones_read_together
from orders.drafts import (
    CatalogSource,
    draft_fields,
    draft_lines,
    recap_pricing,
    today_in_china,
)
from orders.errors import OrderError, OrderErrorCode
from orders.events import events_together
from orders.models import (
    Customer,
    InboundMessage,
    Order,
    OrderEvent,
    Product,
    row_defaults,
    utcnow,
)
from orders.numbering import numbers_together
from orders.outbox import written_together
from orders.status import OrderStatus
from orders.upsert import insert_skipping

log = logging.getLogger(__name__)

CHANNEL = "wechat"


@dataclass
class Turn:
    """Everything one message produced, written in one transaction."""

    replies: list[str]
    state: SessionState
    order_number: str | None = None


# --------------------------------------------------------------------------- customers


async def customer_for_openid(s: AsyncSession, openid: str, unionid: str | None = None) -> Customer:
    """The customer behind an openid; created on first contact, merged by unionid."""
    found = (await s.exec(select(Customer).where(Customer.openid == openid))).first()
    if found is None and unionid:
        found = (await s.exec(select(Customer).where(Customer.unionid == unionid))).first()
        if found is not None and found.openid is None:
            found.openid = openid
            s.add(found)
    if found is None:
        found = Customer(openid=openid, unionid=unionid)
        s.add(found)
        await s.flush()
    return found


async def merge_by_phone(s: AsyncSession, customer: Customer, phone: str | None) -> Customer:
    """A known customer (e.g. entered by a rep, or from the mini-program) who now writes
    from WeChat: the phone on their order joins the two records into the older one, and every
    row of the chat's own record (its draft, photos, orders) moves with it
    (orders/customers.py: nothing is left pointing at the removed record)."""
    return await join_by_phone(s, customer, phone, free="openid", keep_existing=True)


async def customers_for_openids(s: AsyncSession, openids: Sequence[str]) -> dict[str, Customer]:
    """The customer behind each openid, in one query; the new ones created in one insert
    (a row another worker inserted meanwhile is taken as it is) and read back."""
    found = await _customers_of(s, openids)
    new = [o for o in dict.fromkeys(openids) if o not in found]
    if new:
        await s.exec(_new_customers(s), params=[row_defaults(Customer, openid=o) for o in new])  # type: ignore[call-overload]
        found.update(await _customers_of(s, new))
    return found


async def _customers_of(s: AsyncSession, openids: Sequence[str]) -> dict[str, Customer]:
    rows = (await s.exec(_CUSTOMERS_OF, params={"openids": list(openids)})).all()  # type: ignore[call-overload]
    return {c.openid: c for c in rows if c.openid}


_CUSTOMERS_OF = select(Customer).where(col(Customer.openid).in_(bindparam("openids", expanding=True)))
_new_customers = insert_skipping(Customer.__table__, ["openid"])  # type: ignore[attr-defined]


async def _unhandled(s: AsyncSession, ids: Sequence[int]) -> list[InboundMessage]:
    """The messages among `ids` not handled yet, in the order they arrived."""
    rows = await s.exec(select(InboundMessage).where(
        col(InboundMessage.id).in_(ids), InboundMessage.state != "handled").order_by(col(InboundMessage.id)))
    return list(rows.all())


def profile_of(customer: Customer) -> dict[str, Any]:
    """What a returning customer is offered: last address, contact and phone."""
    return {
        "address": customer.last_address,
        "contact": customer.last_contact,
        "phone": (customer.phones or [None])[0],
    }


# --------------------------------------------------------------------------- messages


def incoming_of(msg: InboundMessage) -> Incoming | None:
    """The conversation's view of a stored message; None for what needs no answer."""
    if msg.msg_type in ("text", "voice"):
        return Incoming("text", text=msg.content or "") if msg.content else Incoming("text", text="")
    try:
        parsed = parse(msg.raw, "mp") if msg.raw else None
    except MessageError:
        parsed = None
    if msg.msg_type == "image":
        return Incoming("image", media_id=(parsed.media_id if parsed else None) or msg.content or "")
    if msg.msg_type == "location":
        label = (parsed.location.label if parsed and parsed.location else None) or msg.content or ""
        return Incoming("location", location_label=label)
    if msg.msg_type == "event":
        event = (parsed.event if parsed else None) or (msg.content or "")
        return Incoming("subscribe") if event == "subscribe" else None
    return Incoming("text", text="")


# --------------------------------------------------------------------------- the handler


class Chat:
    """Carries out conversation steps against the hub for one process."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], store: Any,
                 rules: RulesFile, catalogs: CatalogSource) -> None:
        self.sessionmaker, self.store, self.rules, self.catalogs = sessionmaker, store, rules, catalogs
        # Orders are placed one at a time: concurrent placing transactions only queue on the
        # database's write lock (on SQLite by sleeping in the busy handler: 17 → 36 orders/s in
        # bench/chat_e2e.py; on PostgreSQL on the day's order counter row, held to each commit).
        self._placing = asyncio.Lock()
        # Reading a message is about a millisecond of CPU: a batch's customers read back to back
        # would keep the event loop (and, embedded, the web handlers acknowledging callbacks on
        # it) busy for the whole batch. One read per turn of the loop, the others wait.
        self._reading = asyncio.Lock()
        self._orders: _OrderQueue | None = None  # during a batch: its confirmations, placed together

    @classmethod
    def from_context(cls, ctx: JobContext) -> Chat:
        return cls(ctx.sessionmaker, ctx.store, ctx.rules, ctx.catalogs)

    async def handle(self, message_id: int, *, now: dt.datetime | None = None) -> Turn | None:
        """Answer one stored message; None when it was handled before (a redelivery)."""
        turns, failures = await self.handle_many([message_id], now=now)
        if message_id in failures:
            raise failures[message_id]
        return turns.get(message_id)

    async def handle_many(self, message_ids: Sequence[int], *, now: dt.datetime | None = None,
                          ) -> tuple[dict[int, Turn], dict[int, BaseException]]:
        """Answer many stored messages together: (the turn of each message answered now,
        the messages that failed with why). Handled before (redeliveries) are in neither.

        The same promises as one message at a time, at a fraction of the cost: every
        customer's lock is held for the whole batch and their messages are stepped in the
        order they arrived; one read of the messages, customers and sessions (IN queries),
        then one transaction writing every handled mark (conditional: a message handled
        meanwhile fails the batch, which is retried), every session (one upsert) and every
        reply (one insert). An order is still placed in its own transaction, keyed by its
        message, before that commit, so a retry finds it instead of placing a second one."""
        now = now or utcnow()
        ids = sorted(set(message_ids))
        async with self.sessionmaker() as s:
            first = await _unhandled(s, ids)
        users = sorted({m.from_user for m in first})
        if not users:
            return {}, {}
        async with user_locks(self.store, CHANNEL, users):  # one round trip when all are free
            return await self._batch(ids, now)

    async def _batch(self, ids: list[int], now: dt.datetime) -> tuple[dict[int, Turn], dict[int, BaseException]]:
        async with self.sessionmaker() as s:
            msgs = await _unhandled(s, ids)  # again, under the locks
            openids = sorted({m.from_user for m in msgs})
            customers = await customers_for_openids(s, openids)
            sessions = await load_sessions(s, CHANNEL, openids, now)
            # the recap shows what 确认 will charge: each customer's price table context
            prices = {o: recap_pricing(s, customers[o], CHANNEL, now) for o in openids}
            await s.commit()
        by_user: dict[str, list[InboundMessage]] = {}
        for m in msgs:
            by_user.setdefault(m.from_user, []).append(m)
        readers: dict[str, Any] = {}
        for tier in sorted({c.tier for c in customers.values()}):
            readers[tier] = await self.catalogs.reader(today_in_china(now), tier)
        planned: dict[int, tuple[str, Customer, conversation.Step, list[str], str | None]] = {}
        failures: dict[int, BaseException] = {}
        surveyed: dict[int, Turn] = {}
        self._orders = orders = _OrderQueue(self._place_together, len(by_user))

        async def run_user(openid: str) -> None:
            try:
                await step_user(openid)
            finally:
                orders.leave()

        async def step_user(openid: str) -> None:
            customer = customers[openid]
            state = state_of(sessions.get(openid))
            profile = profile_of(customer)
            reader = copy.copy(readers[customer.tier])  # one reader per tier, priced per customer
            reader.pricing = prices.get(openid)
            done: list[tuple[int, conversation.Step, list[str], str | None]] = []
            try:
                for m in by_user[openid]:
                    incoming = incoming_of(m)
                    if incoming is not None and incoming.kind == "text" and m.id is not None:
                        answered = await self._survey_answer(customer.id, openid, incoming.text, state, m.id, now)
                        if answered is not None:  # a COEI answer, stored and replied to on its own
                            surveyed[m.id] = answered
                            continue
                    async with self._reading:
                        await asyncio.sleep(0)  # a turn of the loop between two reads
                        step = (conversation.step(state, incoming, reader, profile)
                                if incoming is not None else conversation.Step(state, []))
                    texts, number = await self._carry_out(customer, openid, step, state, m.id, now)
                    done.append((m.id or 0, step, texts, number))
                    state = step.state
            except Exception as exc:  # noqa: BLE001 — this customer's messages are retried alone
                log.exception("chat turn for %s failed", openid)
                for m in by_user[openid]:
                    failures[m.id or 0] = exc
                return
            for mid, step, texts, number in done:
                planned[mid] = (openid, customer, step, texts, number)

        try:
            await asyncio.gather(*(run_user(openid) for openid in by_user))
        finally:
            self._orders = None
            for task in orders.tasks:  # only when cancelled (the handler's timeout): roll it back
                task.cancel()
        if not planned:
            return surveyed, failures
        await self._write(planned, now)
        turns = {mid: Turn(texts, step.state, number) for mid, (_, _, step, texts, number) in planned.items()}
        return {**surveyed, **turns}, failures

    async def _carry_out(self, customer: Customer, openid: str, step: conversation.Step, before: SessionState,
                         message_id: int | None, now: dt.datetime) -> tuple[list[str], str | None]:
        """The step's intents against the hub (placing, looking up): the texts to send and
        the order number placed, if any. A refused order keeps the draft (step.state)."""
        texts = list(step.replies)
        number = None
        for intent in step.intents:
            if isinstance(intent, CreateOrder):
                number, refusal = await self._place(customer.id, openid, intent.draft, message_id, now)
                if refusal is not None:  # the hub said no: keep the draft, tell why
                    texts.append(refusal)
                    step.state = before
            elif isinstance(intent, ListOrders):
                texts.append(await self._list_orders(customer.id))
            elif isinstance(intent, ShowOrder):
                texts.append(await self._show_order(customer.id, intent.number))
        return texts, number

    async def _write(self, planned: dict[int, tuple[str, Customer, conversation.Step, list[str], str | None]],
                     now: dt.datetime) -> None:
        """One transaction for the whole batch: handled marks, sessions, replies, photos."""
        async with self.sessionmaker() as s, s.begin():
            marked = await mark_many_handled(s, list(planned), now)
            if marked != len(planned):  # another worker got there (our locks ran out): retry all
                raise TransientError(f"{len(planned) - marked} of {len(planned)} messages were handled meanwhile")
            last: dict[str, tuple[int | None, SessionState]] = {}
            replies_out: list[dict[str, Any]] = []
            placed_for = {planned[mid][0] for mid in planned if planned[mid][4] is not None}
            # an order may have joined a chat to an older record (merge by phone): read it again
            rejoined = await customers_for_openids(s, sorted(placed_for)) if placed_for else {}
            for mid in sorted(planned):
                openid, customer, step, texts, number = planned[mid]
                customer = rejoined.get(openid, customer)
                last[openid] = (customer.id, step.state)
                replies_out += await _turn_effects(s, openid, customer.id, step, texts, number, f"msg:{mid}")
            await save_sessions(s, CHANNEL, last, now)
            await enqueue_many(s, replies_out)

    async def on_ocr_result(self, openid: str, draft: dict[str, Any] | None, error: str | None,
                            *, job_id: int, now: dt.datetime | None = None) -> Turn | None:
        """An image sent in chat has been read: continue the conversation with its draft."""
        async with user_lock(self.store, CHANNEL, openid):
            if error or not draft or not draft.get("items"):
                reason = error or "没有找到产品和数量"
                return await self._turn(openid, None, job_id=job_id, now=now,
                                        fixed_reply=replies.IMAGE_FAILED.format(reason=reason))
            return await self._turn(openid, Incoming("ocr_result", draft=draft), job_id=job_id, now=now)

    async def _turn(self, openid: str, incoming: Incoming | None, *, message_id: int | None = None,
                    job_id: int | None = None, now: dt.datetime | None = None,
                    fixed_reply: str | None = None) -> Turn | None:
        now = now or utcnow()
        async with self.sessionmaker() as s:
            customer = await customer_for_openid(s, openid)
            state = state_of(await load_session(s, CHANNEL, openid, now))
            profile = profile_of(customer)
            prices = recap_pricing(s, customer, CHANNEL, now)  # the recap shows what 确认 will charge
            await s.commit()
        if incoming is not None and incoming.kind == "text" and message_id is not None:
            answered = await self._survey_answer(customer.id, openid, incoming.text, state, message_id, now)
            if answered is not None:
                return answered
        reader = await self.catalogs.reader(today_in_china(now), customer.tier)
        reader.pricing = prices
        step = (
            conversation.step(state, incoming, reader, profile) if incoming is not None
            else conversation.Step(state, [fixed_reply] if fixed_reply else [])
        )
        texts, number = await self._carry_out(customer, openid, step, state, message_id, now)
        key = f"msg:{message_id}" if message_id is not None else f"ocr:{job_id}"
        async with self.sessionmaker() as s, s.begin():
            if message_id is not None and not await mark_handled(s, message_id, now):
                return None
            if number is not None:  # the order may have joined this chat to an older record
                customer = await customer_for_openid(s, openid)
            await save_session(s, CHANNEL, openid, customer.id, step.state, now)
            await enqueue_many(s, await _turn_effects(s, openid, customer.id, step, texts, number, key))
        return Turn(texts, step.state, number)

    async def _survey_answer(self, customer_id: int | None, openid: str, text: str, state: SessionState,
                             message_id: int, now: dt.datetime) -> Turn | None:
        """A COEI answer (bot/survey.py): stored with the handled mark and the reply in one
        transaction; None when the message is not one and goes to the conversation."""
        if not survey.reads_as_answer(customer_id, text, state):  # most messages: no session opened
            return None
        try:
            async with self.sessionmaker() as s, s.begin():
                texts = await survey.take(s, customer_id, text, state, now)
                if texts is None:
                    return None
                if not await mark_handled(s, message_id, now):
                    raise _Redelivered
                for i, reply in enumerate(texts):
                    await enqueue(s, kind=OutboxKind.NOTIFY_CUSTOMER, target=openid,
                                  payload={"type": "chat_reply", "text": reply, "customer_id": customer_id},
                                  dedup_key=f"chat_reply:msg:{message_id}:{i}")
        except _Redelivered:  # handled before: the answer was stored then; roll this one back
            return None
        return Turn(texts, state)

    async def _place(self, customer_id: int | None, openid: str, draft: dict[str, Any],
                     message_id: int | None, now: dt.datetime) -> tuple[str | None, str | None]:
        """Create and submit the order, once per confirming message: (order number, None),
        or (None, a Chinese text saying why the hub refused). In a batch the order waits for
        the batch's other confirmations and is placed with them (_place_together)."""
        assert customer_id is not None
        if self._orders is not None:
            return await self._orders.place(_Confirmation(customer_id, openid, draft, message_id, now))
        return await self._place_alone(_Confirmation(customer_id, openid, draft, message_id, now))

    async def _place_alone(self, c: _Confirmation) -> tuple[str | None, str | None]:
        """One order in its own transaction."""
        try:
            async with self._placing, self.sessionmaker() as s, s.begin():
                return (await self._place_in(s, c)), None
        except OrderError as err:
            return None, _refusal(c.openid, err)

    async def _place_together(self, batch: Sequence[_Confirmation]) -> list[_Outcome | Exception]:
        """A batch's orders in ONE transaction, one after another (a transaction per order
        costs its session, its BEGIN and COMMIT, and re-reads what the batch shares). Each is
        still placed by place_order, keyed by its message. Should any of them fail (the hub
        refusing one, a conflict, a database error), nothing of the batch is kept and each
        order is placed again alone, in its own transaction, as it would be without a batch."""
        if len(batch) > 1:
            try:
                async with self._placing, self.sessionmaker() as s, s.begin():
                    # The batch's products and customers in one read each, held while its
                    # orders are placed (the session's identity map is weak: each order would
                    # read them again).
                    skus = sorted({line.sku for c in batch for line in draft_lines(c.draft) if line.sku})
                    held: list[Any] = list((await s.exec(select(Product).where(col(Product.sku).in_(skus)))).all()
                                           if skus else [])
                    held += (await s.exec(select(Customer).where(
                        col(Customer.id).in_(sorted({c.customer_id for c in batch}))))).all()
                    # reps and team load kept up to date (the teams' cursors written at the
                    # end); the order numbers in one bump; the orders' outbox rows and events
                    # in one insert each; their idempotency keys claimed in one insert and
                    # named in one update; which of their phones nobody has yet, and which
                    # customers and phones have no order a duplicate could be of, one read each
                    async with RoutingSnapshot.held(s) as routing, \
                            phones_read_together(s, [c.draft.get("phone") for c in batch]), \
                            duplicates_read_together(s, [(c.customer_id, c.draft.get("phone")) for c in batch]), \
                            numbers_together(s, len(batch), batch[0].now), \
                            written_together(s), events_together(s), recorded_together(s), \
                            claimed_together(s, [(self._idempotency(c), c.now) for c in batch]):
                        outcomes: list[_Outcome | Exception] = [((await self._place_in(s, c, routing)), None)
                                                                for c in batch]
                    del held
                    return outcomes
            except Exception:  # noqa: BLE001 — rolled back whole; placed one by one below
                log.info("placing %d orders together failed; placing them one at a time", len(batch),
                         exc_info=True)
        outcomes = []
        for c in batch:
            try:
                outcomes.append(await self._place_alone(c))
            except Exception as exc:  # noqa: BLE001 — this customer's turn fails alone (and is retried)
                outcomes.append(exc)
        return outcomes

    @staticmethod
    def _idempotency(c: _Confirmation) -> Idempotency:
        """The key a confirmation places its order under: its customer and its message."""
        return Idempotency(f"{CHANNEL}:{c.openid}", f"msg:{c.message_id}")

    async def _place_in(self, s: AsyncSession, c: _Confirmation, routing: RoutingSnapshot | None = None) -> str:
        """place_order for one confirmation, in the caller's transaction: the order number."""
        customer_id = c.customer_id
        customer = await s.get(Customer, customer_id)
        if customer is not None:  # the order goes to the record the phone joins
            customer_id = (await merge_by_phone(s, customer, c.draft.get("phone"))).id
            assert customer_id is not None
        actor = Actor.customer(customer_id, c.openid)
        placed = await place_order(
            s, self._idempotency(c),
            customer_id=customer_id, lines=draft_lines(c.draft), actor=actor, channel=CHANNEL,
            rules=self.rules.current(), fields=draft_fields(c.draft),
            source_message_id=c.message_id, now=c.now, routing=routing,
        )
        return placed.order.number

    async def _list_orders(self, customer_id: int | None) -> str:
        async with self.sessionmaker() as s:
            rows = (await s.exec(
                select(Order).where(Order.customer_id == customer_id)
                .order_by(col(Order.id).desc()).limit(5)
            )).all()
        return replies.order_list([
            {"number": o.number, "status_label": OrderStatus(o.status).label, "total": o.total} for o in rows
        ])

    async def _show_order(self, customer_id: int | None, number: str) -> str:
        async with self.sessionmaker() as s:
            order = (await s.exec(select(Order).where(
                Order.number == number, Order.customer_id == customer_id))).first()
            if order is None:  # someone else's order looks exactly like a missing one
                return replies.order_not_found(number)
            event = (await s.exec(
                select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.visible_to_customer)
                .order_by(col(OrderEvent.id).desc()).limit(1)
            )).first()
        return replies.order_detail({
            "number": order.number, "status_label": OrderStatus(order.status).label,
            "total": order.total, "delivery_date": order.delivery_date, "carrier": order.carrier,
            "waybill_no": order.waybill_no,
            "last_event": _event_text(event) if event else None,
        })


def _refusal(openid: str, err: OrderError) -> str:
    """The hub said no: the Chinese text telling the customer why (the draft is kept)."""
    log.info("order from %s refused: %s", openid, err)
    if err.code == OrderErrorCode.MISSING_FIELDS:
        return replies.ask_missing(err.details.get("missing") or [])
    return f"下单没有成功：{err.message}。请修改后再回复「确认」，或联系业务员。"


@dataclass(frozen=True)
class _Confirmation:
    """A customer's 确认, to be placed as an order keyed by its message."""

    customer_id: int
    openid: str
    draft: dict[str, Any]
    message_id: int | None
    now: dt.datetime


_Outcome = tuple[str | None, str | None]  # (order number, refusal text)


class _OrderQueue:
    """Gathers a batch's confirmations while its customers are stepped concurrently: once
    every customer still being stepped is waiting on an order, they are placed together
    (`place_all`), and each waiting customer gets its own outcome back."""

    def __init__(self, place_all: Callable[[Sequence[_Confirmation]], Awaitable[list[_Outcome | Exception]]],
                 running: int) -> None:
        self.place_all, self.running = place_all, running
        self.waiting: list[tuple[_Confirmation, asyncio.Future[_Outcome]]] = []
        self.busy = False
        self.tasks: set[asyncio.Task[None]] = set()

    async def place(self, c: _Confirmation) -> _Outcome:
        fut: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        self.waiting.append((c, fut))
        self._kick()
        return await fut

    def leave(self) -> None:
        """A customer's messages are done (or failed): the others need not wait for it."""
        self.running -= 1
        self._kick()

    def _kick(self) -> None:
        if self.busy or not self.waiting or len(self.waiting) < self.running:
            return
        batch, self.waiting, self.busy = self.waiting, [], True
        task = asyncio.create_task(self._run(batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, batch: list[tuple[_Confirmation, asyncio.Future[_Outcome]]]) -> None:
        try:
            results = await self.place_all([c for c, _ in batch])
            for (_, fut), result in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if isinstance(result, Exception):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)
        except BaseException as exc:  # noqa: BLE001 — each waiting customer fails (and is retried)
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            if not isinstance(exc, Exception):
                raise
        finally:
            self.busy = False
            self._kick()


async def _turn_effects(s: AsyncSession, openid: str, customer_id: int | None, step: conversation.Step,
                        texts: list[str], number: str | None, key: str) -> list[dict[str, Any]]:
    """A turn's writes besides its session: the customer's remembered details after an order,
    the OCR job of a photo (queued), and the replies as outbox rows for enqueue_many."""
    if number is not None:
        await _remember_profile(s, customer_id, step.state, intent_draft(step))
    for intent in step.intents:
        if isinstance(intent, RunOcr) and intent.media_id:
            await queue_ocr(s, source=CHANNEL, target=openid, media_id=intent.media_id,
                            customer_id=customer_id, dedup_key=f"ocr_job:chat:{key}")
    return [{"kind": OutboxKind.NOTIFY_CUSTOMER, "target": openid,
             "payload": {"type": "chat_reply", "text": text, "customer_id": customer_id},
             "dedup_key": f"chat_reply:{key}:{i}"} for i, text in enumerate(texts)]


class _Redelivered(Exception):
    """Rolls back a survey answer whose message turned out to be handled already."""


def intent_draft(step: conversation.Step) -> dict[str, Any]:
    for intent in step.intents:
        if isinstance(intent, CreateOrder):
            return intent.draft
    return {}


def _event_text(event: OrderEvent) -> str:
    stamp = event.at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%m-%d %H:%M")
    label = OrderStatus(event.to_status).label if event.to_status else event.type
    return f"{stamp} {label}" + (f"（{event.reason}）" if event.reason else "")


async def _remember_profile(s: AsyncSession, customer_id: int | None, state: SessionState,
                            draft: dict[str, Any]) -> None:
    customer = await s.get(Customer, customer_id) if customer_id else None
    if customer is None or not draft:
        return
    if draft.get("address"):
        customer.last_address = draft["address"]
    if draft.get("contact"):
        customer.last_contact = draft["contact"]
        customer.name = customer.name or draft["contact"]
    if draft.get("company") and not customer.company:
        customer.company = draft["company"]
    phone = draft.get("phone")
    if phone:
        customer.phones = [phone, *[p for p in (customer.phones or []) if p != phone]]
    address = draft.get("address") or {}
    customer.province = customer.province or address.get("province")
    customer.city = customer.city or address.get("city")
    s.add(customer)


async def wechat_inbound(ctx: JobContext, row: Any) -> None:
    """The outbox handler of OutboxKind.INBOUND."""
    await Chat.from_context(ctx).handle(int(row.payload["message_id"]))


async def wechat_inbound_many(ctx: JobContext, rows: Sequence[Any]) -> dict[int, BaseException]:
    """The batch handler of OutboxKind.INBOUND: the rows' messages answered together."""
    by_message: dict[int, list[int]] = {}
    for row in rows:
        by_message.setdefault(int(row.payload["message_id"]), []).append(row.id)
    _, failed = await Chat.from_context(ctx).handle_many(list(by_message))
    return {row_id: exc for mid, exc in failed.items() for row_id in by_message.get(mid, [])}
