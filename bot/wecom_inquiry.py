"""A rep passes on a customer's inquiry (pasted text, or a photo of an order form).

The rep names the customer or not ("客户：恒锐五金 M6*20…"); the customer is found by name,
company or phone, or created and given to this rep. From there the rep talks the draft to
completion in the same conversation a customer would have (bot/conversation.py, one open
draft per rep in ChatSession channel "wecom"), and their 确认 places the order on the
customer's behalf: the hub records the rep as the actor and the channel as "wecom".
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

import xmltodict
from sqlalchemy import String, cast, or_
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import conversation
from bot.turns import load_session, queue_ocr, save_session, state_of, user_lock
from bot.wecom_commands import Outcome, Rep
from bot.wecom_parse import Help, Inquiry, MissingNumber
from nlp import Catalog
from orderbot.jobs import JobContext, OutboxKind, enqueue
from orderbot.routing_rules import RulesFile
from orderbot.stores import KeyValueStore
from orderbot.stores_memory import MemoryStore
from orders import Idempotency, place_order
from orders.actors import Actor
from orders.drafts import (
    CatalogSource,
    DraftReader,
    draft_fields,
    draft_lines,
    recap_pricing,
    today_in_china,
)
from orders.errors import OrderError
from orders.models import Customer, InboundMessage, SalesRep, utcnow
from orders.money import money

log = logging.getLogger(__name__)

CHANNEL = "wecom"
CATALOG_TTL = 300.0  # seconds a loaded catalog is reused
ORDER_FIELDS = ("contact", "phone", "delivery_date", "rush", "remarks")


async def find_customer(
    session: AsyncSession, hint: str | None, company: str | None, contact: str | None, phone: str | None
) -> list[Customer]:
    """Customers matching the rep's hint, the draft's company, or its phone; best first."""
    conds = []
    if phone:
        conds.append(cast(Customer.phones, String).contains(phone))
    for name in (hint, company):
        if name:
            conds += [Customer.company.contains(name), Customer.name.contains(name)]  # type: ignore[union-attr, attr-defined]
    if not conds:
        return []
    found = list(await session.exec(select(Customer).where(or_(*conds)).limit(10)))

    def score(c: Customer) -> int:
        s = 0
        if phone and phone in (c.phones or []):
            s += 4
        if hint and hint in {c.name, c.company}:
            s += 3
        if company and company == c.company:
            s += 2
        if contact and contact == c.name:
            s += 1
        return -s

    return sorted(found, key=score)


class InquiryFlow:
    """The rep's open draft: started by an inquiry, continued by follow-ups, ended by 确认.

    Runs like the customer's chat (bot/turns.py): the caller holds the rep's lock
    (`lock(userid)`) for the whole turn, and commits the Outcome — the new draft
    (`Outcome.conversation`), a photo to read (`Outcome.ocr_media_id`), the replies — in
    the transaction that marks the message handled. A photo is read by an `ocr_job` row;
    its result comes back through `on_ocr_result`.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, store: KeyValueStore | None = None,
                 catalog: Catalog | None = None, rules: RulesFile | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.store: KeyValueStore = store or MemoryStore()  # the lock; shared in production
        self.catalogs = CatalogSource(sessionmaker, catalog)
        self.rules = rules or RulesFile(None)  # the routing table orders are placed with

    @classmethod
    def from_context(cls, ctx: JobContext) -> InquiryFlow:
        flow = cls(ctx.sessionmaker, store=ctx.store, rules=ctx.rules)
        flow.catalogs = ctx.catalogs
        return flow

    def lock(self, userid: str) -> AbstractAsyncContextManager[None]:
        return user_lock(self.store, CHANNEL, userid)

    async def reader(self, today: dt.date, tier: str = "standard") -> DraftReader:
        return await self.catalogs.reader(today, tier)

    async def _open(self, userid: str) -> tuple[int, conversation.SessionState] | None:
        """The rep's open draft and its customer, unless idle or expired."""
        async with self.sessionmaker() as s:
            row = await load_session(s, CHANNEL, userid, utcnow())
        if row is None or row.stage == "idle" or not row.customer_id:
            return None
        return row.customer_id, state_of(row)

    # -- entry points ---------------------------------------------------------------------

    async def handle_text(self, rep: Rep, msg: InboundMessage,
                          cmd: Inquiry | Help | MissingNumber) -> Outcome | None:
        """None when this is neither a follow-up of an open draft nor an inquiry."""
        text = msg.content or ""
        key = f"msg:{msg.id}"
        opened = await self._open(rep.row.wecom_userid)
        named = isinstance(cmd, Inquiry) and cmd.customer_hint is not None
        if opened is not None and not named:  # a follow-up of the open draft
            customer_id, state = opened
            return await self._step(rep, customer_id, state, conversation.Incoming("text", text), key)
        if not isinstance(cmd, Inquiry):
            return None
        reader = await self.reader(rep.today)
        draft = reader.extract(cmd.text)
        if not draft.get("items") and not draft.get("phone"):
            return None
        out = await self._start(rep, cmd.customer_hint, draft, conversation.Incoming("text", cmd.text), key)
        if opened is not None:  # naming a customer starts afresh
            out.replies.insert(0, "（上一张未完成的代客草稿已放弃）")
        return out

    async def handle_image(self, rep: Rep, msg: InboundMessage) -> Outcome | None:
        """A photographed or faxed order form: queued for OCR (the caller commits the job
        with the handled mark); the draft comes back through on_ocr_result."""
        media_id = _media_id(msg.raw)
        if not media_id:
            return None
        return Outcome(ocr_media_id=media_id)

    async def on_ocr_result(self, userid: str, draft: dict[str, Any] | None, error: str | None,
                            *, job_id: int, now: dt.datetime | None = None) -> Outcome | None:
        """A photo the rep sent has been read: the same as a pasted inquiry (or a follow-up
        of the open draft), under the rep's lock, committed with its replies."""
        now = now or utcnow()
        async with self.lock(userid):
            async with self.sessionmaker() as s:
                rep_row = (await s.exec(select(SalesRep).where(SalesRep.wecom_userid == userid))).one_or_none()
            if rep_row is None or not rep_row.active:
                return None
            rep = Rep(rep_row, self.sessionmaker, None, today_in_china(now))
            key = f"ocr:{job_id}"
            if error or not draft or not draft.get("items"):
                out = Outcome([error or "这张图片没能识别出订单，请拍清楚一些，或直接发文字。"])
            else:
                incoming = conversation.Incoming("ocr_result", draft=draft)
                opened = await self._open(userid)
                out = (await self._step(rep, *opened, incoming, key) if opened is not None
                       else await self._start(rep, None, draft, incoming, key))
            async with self.sessionmaker() as s, s.begin():
                await self.commit(s, userid, out, now)
                await enqueue(s, kind=OutboxKind.NOTIFY_REP, target=userid,
                              payload={"type": "text", "texts": list(out.replies)},
                              dedup_key=f"wecom_ocr_reply:{job_id}")
        return out

    async def commit(self, s: AsyncSession, userid: str, out: Outcome, now: dt.datetime) -> None:
        """What a turn of the rep's inquiry leaves behind, in the caller's transaction (the
        one with the handled mark): the draft as it now stands, and a photo queued for OCR."""
        if out.conversation is not None:
            customer_id, state = out.conversation
            await save_session(s, CHANNEL, userid, customer_id, state, now)
        if out.ocr_media_id:
            await queue_ocr(s, source=CHANNEL, target=userid, media_id=out.ocr_media_id, customer_id=None,
                            dedup_key=f"ocr_job:wecom:{userid}:{out.ocr_media_id}")

    # -- steps ------------------------------------------------------------------------------

    async def _start(self, rep: Rep, hint: str | None, draft: dict[str, Any],
                     incoming: conversation.Incoming, key: str) -> Outcome:
        async with self.sessionmaker() as s, s.begin():
            matches = await find_customer(s, hint, draft.get("company"), draft.get("contact"), draft.get("phone"))
            if matches:
                customer, how = matches[0], "已匹配客户"
            else:
                customer = _new_customer(hint, draft, rep.row.id)
                s.add(customer)
                await s.flush()
                how = "新建客户"
            customer_id, label = customer.id, customer.company or customer.name
        assert customer_id is not None
        out = await self._step(rep, customer_id, conversation.SessionState(), incoming, key)
        out.replies.insert(0, f"{how}：{label}（代客下单，发「取消」放弃）")
        return out

    async def _step(self, rep: Rep, customer_id: int, state: conversation.SessionState,
                    incoming: conversation.Incoming, key: str) -> Outcome:
        async with self.sessionmaker() as s:
            customer = await s.get(Customer, customer_id)
            prices = recap_pricing(s, customer, CHANNEL, utcnow()) if customer else None
        reader = await self.reader(rep.today, customer.tier if customer else "standard")
        reader.pricing = prices  # the rep's recap shows the promotions the order will get
        profile = _profile(customer) if customer else {}
        result = conversation.step(state, incoming, reader, profile)
        out = Outcome(list(result.replies))
        new_state = result.state
        for intent in result.intents:
            if isinstance(intent, conversation.CreateOrder):
                out.replies.append(await self._place(rep, customer_id, intent.draft, key))
                new_state = conversation.SessionState()
            elif isinstance(intent, conversation.ShowOrder):
                out.replies.append(f"查看订单请用「待办」，或直接在订单卡片上操作（{intent.number}）。")
            elif isinstance(intent, conversation.RunOcr):
                out.replies.append("请直接发送订货单照片。")
        out.conversation = (customer_id if new_state.stage != "idle" else None, new_state)
        return out

    async def _place(self, rep: Rep, customer_id: int, draft: dict[str, Any], key: str) -> str:
        """The order, placed once per confirming message (orders.place_order: routed, with a
        confirmation deadline); a draft the hub finds incomplete is kept for the rep."""
        assert rep.row.id is not None
        actor = Actor.manager(rep.row.id, rep.row.wecom_userid) if rep.row.is_manager else Actor.rep(
            rep.row.id, rep.row.wecom_userid)
        try:
            async with self.sessionmaker() as s, s.begin():
                placed = await place_order(
                    s, Idempotency(f"{CHANNEL}:{rep.row.wecom_userid}", key),
                    customer_id=customer_id, lines=draft_lines(draft), actor=actor, channel=CHANNEL,
                    rules=self.rules.current(), fields=draft_fields(draft), source_message_id=rep.message_id,
                    keep_incomplete=True, own_rep_id=rep.row.id,
                )
        except OrderError as exc:
            return f"下单未成功：{exc.message}"
        o = placed.order
        if placed.missing:
            return f"已保存草稿 {o.number}，还缺：{'、'.join(placed.missing)}（未匹配的产品请改成目录里的型号）。"
        if o.status == "on_hold":
            return f"已代客户下单 {o.number}，但被挂起：{o.hold_reason}。已通知经理。"
        return f"已代客户下单 {o.number}，合计 {money(o.total)}，订单卡片随后发到。"


def _new_customer(hint: str | None, draft: dict[str, Any], rep_id: int | None) -> Customer:
    address = draft.get("address") or {}
    company = draft.get("company") or hint
    return Customer(
        name=draft.get("contact") or hint or company or draft.get("phone") or "新客户",
        company=company, phones=[draft["phone"]] if draft.get("phone") else [],
        province=address.get("province"), city=address.get("city"), rep_id=rep_id,
        last_contact=draft.get("contact"),
        last_address=copy.deepcopy(address) if address.get("detail") else None,
    )


def _profile(customer: Customer) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    if customer.last_address:
        profile["address"] = customer.last_address
    if customer.phones:
        profile["phone"] = customer.phones[0]
    if customer.last_contact:
        profile["contact"] = customer.last_contact
    return profile


def _media_id(raw: str) -> str | None:
    try:
        root = xmltodict.parse(raw).get("xml") or {}
    except Exception:  # noqa: BLE001
        return None
    value = root.get("MediaId")
    return str(value) if value else None

