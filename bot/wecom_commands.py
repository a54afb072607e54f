"""Carrying out what a rep (or manager) sent the WeCom app: commands, card buttons, inquiries.

The callback stored the message and queued a `wecom_inbound` row; this handler runs it:

* a button on an order card (template_card_event): 确认 / 拒绝 / 合并 act through the hub and the
  card is replaced by its outcome (one update per response_code, within 72 h); 修改 / 转交
  answer how to do it by text;
* a text command (bot/wecom_parse.py): 确认 / 拒绝 / 改 / 转 SO…, 待办;
* anything else: a customer's inquiry the rep passed on (bot/wecom_inquiry.py), else help.

Every answer goes out through the outbox (`notify_rep` text rows), written in the same
transaction that marks the inbound message handled, so a redelivered row answers once.
The hub decides who may do what: a rep acts on orders assigned to them, a manager on their
region's (orders/permissions.py); a refusal comes back as its Chinese message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

import xmltodict
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from board.links import board_base_url, issue_link
from bot import cards
from bot.conversation import SessionState
from bot.turns import mark_handled
from bot.wecom_parse import (
    HELP_TEXT,
    AddLine,
    BoardLink,
    Cancel,
    Command,
    Confirm,
    Edit,
    Help,
    Inquiry,
    Merge,
    MissingNumber,
    Reassign,
    Reject,
    Release,
    Todo,
    parse_command,
    parse_line_quantity,
)
from orderbot.jobs import JobContext, OutboxKind, enqueue
from orders import actions, merging, special_lines
from orders.actors import Actor
from orders.drafts import today_in_china
from orders.duplicates import suspected_duplicate
from orders.errors import OrderError
from orders.models import InboundMessage, Order, OrderLine, SalesRep, utcnow
from orders.money import money
from orders.status import OrderStatus, TransitionError

log = logging.getLogger(__name__)

CARD_REJECT_REASON = "业务员在卡片上拒绝"
CARD_RELEASE_REASON = "经理在卡片上放行"
CARD_CANCEL_REASON = "经理在卡片上取消"
NOT_A_REP = "你还不是订单助手的业务员账号，请联系管理员开通。"


@dataclass
class Outcome:
    """What handling one message produced: texts for the rep, at most one card update, and
    for an inquiry the rep's draft as it now stands and a photo to read — all committed
    with the message's handled mark."""

    replies: list[str] = field(default_factory=list)
    card_update: dict[str, Any] | None = None
    conversation: tuple[int | None, SessionState] | None = None  # (customer id, draft) to save
    ocr_media_id: str | None = None  # a photo to queue as an ocr_job


@dataclass(frozen=True)
class CardEvent:
    event_key: str
    task_id: str
    response_code: str
    create_time: int


def card_event(raw: str) -> CardEvent | None:
    """The template_card_event fields wechatpy does not model (TaskId, ResponseCode)."""
    try:
        root = xmltodict.parse(raw).get("xml") or {}
    except Exception:  # noqa: BLE001 — the callback parsed it once; be lenient here
        return None
    if str(root.get("Event", "")).lower() != "template_card_event":
        return None
    return CardEvent(
        event_key=str(root.get("EventKey") or ""),
        task_id=str(root.get("TaskId") or ""),
        response_code=str(root.get("ResponseCode") or ""),
        create_time=int(root.get("CreateTime") or 0),
    )


def actor_for(rep: SalesRep, order: Order | None) -> Actor:
    """A manager acting on someone else's order acts as manager; otherwise as the rep."""
    assert rep.id is not None
    if rep.is_manager and (order is None or order.rep_id != rep.id):
        return Actor.manager(rep.id, rep.wecom_userid)
    return Actor.rep(rep.id, rep.wecom_userid)


def refusal_text(exc: OrderError | TransitionError) -> str:
    return f"操作未成功：{exc.message}"


# ---------------------------------------------------------------- the hub, by order number


async def _order_by_number(session: AsyncSession, number: str) -> Order | None:
    return (await session.exec(select(Order).where(Order.number == number))).one_or_none()


async def _rep_by_userid(session: AsyncSession, userid: str) -> SalesRep | None:
    return (await session.exec(select(SalesRep).where(SalesRep.wecom_userid == userid))).one_or_none()


async def _rep_by_name(session: AsyncSession, name: str) -> list[SalesRep]:
    found = list(await session.exec(select(SalesRep).where(SalesRep.active, SalesRep.name == name)))
    if not found:
        found = list(await session.exec(
            select(SalesRep).where(SalesRep.active, SalesRep.name.contains(name))  # type: ignore[attr-defined]
        ))
    return found


@dataclass
class Rep:
    """The acting rep and the database, for one message."""

    row: SalesRep
    sessionmaker: async_sessionmaker[AsyncSession]
    message_id: int | None = None
    today: dt.date = field(default_factory=today_in_china)
    links: Callable[[str], Awaitable[str]] | None = None  # userid -> one-time board URL

    async def board_link(self) -> str:
        if not self.row.is_manager or self.links is None:
            return "看板仅对经理开放。"
        return f"订单看板（15分钟内有效，仅可打开一次）：\n{await self.links(self.row.wecom_userid)}"

    async def order(self, number: str) -> Order | None:
        async with self.sessionmaker() as s:
            return await _order_by_number(s, number)


async def run_command(rep: Rep, cmd: Command) -> Outcome:
    """One parsed text command → the hub → the texts the rep reads."""
    if isinstance(cmd, Help):
        return Outcome([HELP_TEXT])
    if isinstance(cmd, Todo):
        return Outcome([await todo_text(rep)])
    if isinstance(cmd, BoardLink):
        return Outcome([await rep.board_link()])
    if isinstance(cmd, Inquiry):
        return Outcome([HELP_TEXT])  # the inquiry flow takes these before we get here
    if isinstance(cmd, Merge):
        return Outcome([await merge_text(rep, cmd.number, cmd.other)])
    if isinstance(cmd, MissingNumber):
        return Outcome([f"「{cmd.verb}」要写订单号（SO开头），例如：\n{cmd.example}\n发「待办」可查看待处理的订单号。"])
    order = await rep.order(cmd.number)
    if order is None or order.id is None:
        return Outcome([f"没有找到订单 {cmd.number}，请检查单号。"])
    actor = actor_for(rep.row, order)
    src = rep.message_id
    try:
        if isinstance(cmd, Confirm):
            result = await actions.confirm(rep.sessionmaker, order.id, actor, source_message_id=src)
            return Outcome([_confirm_text(result)])
        if isinstance(cmd, Reject):
            if not cmd.reason:
                return Outcome([f"请写明拒绝原因，例如：拒绝 {cmd.number} 缺货"])
            await actions.reject(rep.sessionmaker, order.id, actor, cmd.reason, source_message_id=src)
            return Outcome([f"已拒绝订单 {cmd.number}（{cmd.reason}），已通知客户。"])
        if isinstance(cmd, Edit):
            if not cmd.reason and order.status != OrderStatus.DRAFT.value:
                return Outcome([f"修改已提交的订单要写原因，例如：改 {cmd.number} {_EDIT_EXAMPLE.get(cmd.field, '交期 3月9日')} 原因 客户来电"])
            return Outcome([await _edit(rep, order, actor, cmd)])
        if isinstance(cmd, AddLine):
            return Outcome([await _add_line(rep, order, actor, cmd)])
        if isinstance(cmd, Cancel):
            if not cmd.reason:
                return Outcome([f"取消订单要写原因，例如：取消 {cmd.number} 原因 客户不要了"])
            await actions.cancel(rep.sessionmaker, order.id, actor, cmd.reason, source_message_id=src)
            return Outcome([f"已取消订单 {cmd.number}（{cmd.reason}），已通知客户。"])
        if isinstance(cmd, Reassign):
            return Outcome([await _reassign(rep, order, actor, cmd)])
        if isinstance(cmd, Release):
            if not cmd.reason:
                return Outcome([f"放行要写原因，例如：放行 {cmd.number} 老客户，已电话核实"])
            await actions.release(rep.sessionmaker, order.id, actor, cmd.reason, source_message_id=src)
            return Outcome([f"订单 {cmd.number} 已放行，回到待确认，已通知业务员。"])
    except (OrderError, TransitionError) as exc:
        return Outcome([refusal_text(exc)])
    return Outcome([HELP_TEXT])


async def merge_text(rep: Rep, number: str, other: str) -> str:
    """合并 SO… SO…: the newer order's lines into the older one (orders/merging.py); the answer
    names both orders, or why the hub refused."""
    first, second = await rep.order(number), await rep.order(other)
    for n, o in ((number, first), (other, second)):
        if o is None or o.id is None:
            return f"没有找到订单 {n}，请检查单号。"
    assert first is not None and second is not None and first.id is not None and second.id is not None
    newer = first if first.id > second.id else second
    try:
        merged = await merging.merge_orders(rep.sessionmaker, first.id, second.id, actor_for(rep.row, newer),
                                            source_message_id=rep.message_id)
    except (OrderError, TransitionError) as exc:
        return refusal_text(exc)
    kept = merged.kept
    return (f"已将订单 {merged.cancelled.number} 合并到 {kept.number}（新增 {merged.added} 项，"
            f"{merged.increased} 项加量），{kept.number} 当前合计 {money(kept.total)}；"
            f"{merged.cancelled.number} 已取消，已通知客户。")


def _confirm_text(result: actions.OrderResult) -> str:
    o = result.order
    if o.status == OrderStatus.ON_HOLD.value:
        return f"订单 {o.number} 未能确认，已挂起：{o.hold_reason or '规则拦截'}。已通知经理处理。"
    return f"已确认订单 {o.number}，合计 {money(o.total)}，已通知客户。"


_EDIT_EXAMPLE = {"delivery_date": "交期 3月9日", "phone": "电话 13812345678", "address": "地址 …",
                 "remarks": "备注 …", "rep_remarks": "内部备注 …", "quantity": "数量 第1项 3000"}
_LINE_LABEL = {"freight": "运费", "gift": "赠品", "service": "服务费"}


async def _add_line(rep: Rep, order: Order, actor: Actor, cmd: AddLine) -> str:
    """加运费 / 加赠品 / 加服务 → orders.special_lines (an edit through the hub, with its reason)."""
    assert order.id is not None
    if cmd.problem:
        return cmd.problem
    label = _LINE_LABEL[cmd.line_type]
    reason = cmd.reason or f"业务员{rep.row.name}加{label}"
    if cmd.line_type == "gift":
        qty = f"{Decimal(str(cmd.quantity)).normalize():f}{cmd.unit or '个'}"
        sku, choices = await _gift_sku(rep, f"{cmd.name or ''} {qty}")
        if sku is None:
            if choices:
                return f"「{cmd.name}」有几种：{'、'.join(choices[:5])}，请写得更具体一些。"
            return f"产品目录里没有找到「{cmd.name}」，请写规格，例如：加赠品 {cmd.number} M6平垫 100个"
        special = special_lines.SpecialLine("gift", sku=sku, quantity=cmd.quantity, unit=cmd.unit)
    else:
        special = special_lines.SpecialLine(cmd.line_type, amount=cmd.amount, name=cmd.name)
    result = await special_lines.add_special_line(rep.sessionmaker, order.id, actor, special, reason=reason,
                                                  source_message_id=rep.message_id)
    added = max((ln for ln in result.lines if ln.rule_id == special_lines.MANUAL and ln.line_type == cmd.line_type),
                key=lambda ln: ln.id or 0)
    told = "" if order.status == OrderStatus.DRAFT.value else "，已通知客户"
    return (f"订单 {cmd.number} 已加{label}：{special_lines.describe(added)}（{reason}），"
            f"合计 {money(result.order.total)}{told}。")


async def _gift_sku(rep: Rep, text: str) -> tuple[str | None, list[str]]:
    """The catalog product a gift's words name (nlp/ reads it as an order line would be read)."""
    from orders.drafts import CatalogSource

    reader = await CatalogSource(rep.sessionmaker).reader(rep.today)
    items = reader.extract(text).get("items") or []
    if not items:
        return None, []
    item = items[0]
    if item.get("sku"):
        return str(item["sku"]), []
    names = [str((a.get("name") if isinstance(a, dict) else None) or a) for a in item.get("alternatives") or []]
    return None, names


async def _edit(rep: Rep, order: Order, actor: Actor, cmd: Edit) -> str:
    assert order.id is not None
    fields: dict[str, Any]
    if cmd.field == "delivery_date":
        if cmd.date is None:
            return f"没看懂交期「{cmd.value}」，请写成例如：改 {cmd.number} 交期 3月9日"
        fields = {"delivery_date": cmd.date}
        shown = cmd.date.isoformat()
    elif cmd.field == "phone":
        digits = "".join(c for c in cmd.value if c.isdigit())
        if len(digits) < 7:
            return f"电话「{cmd.value}」不完整。"
        fields, shown = {"phone": digits}, digits
    elif cmd.field == "quantity":
        return await _edit_quantity(rep, order, actor, cmd)
    elif cmd.field == "address":
        fields, shown = _address_fields(cmd.value), cmd.value
    elif cmd.field == "rep_remarks":
        fields, shown = {"rep_remarks": cmd.value}, cmd.value
    else:
        fields, shown = {"remarks": cmd.value}, cmd.value
    label = {"delivery_date": "交期", "phone": "电话", "address": "地址", "remarks": "备注",
             "rep_remarks": "内部备注"}[cmd.field]
    await actions.edit(
        rep.sessionmaker, order.id, actor, actions.OrderEdit(fields=fields),
        reason=cmd.reason or f"业务员修改{label}", source_message_id=rep.message_id,
    )
    return f"订单 {cmd.number} 的{label}已改为 {shown}。"


async def _edit_quantity(rep: Rep, order: Order, actor: Actor, cmd: Edit) -> str:
    """改 SO… 数量 第N项 Q: the quantity of one line, in that line's own unit."""
    assert order.id is not None
    index, quantity = parse_line_quantity(cmd.value)
    if quantity is None or quantity <= 0:
        return f"没看懂数量「{cmd.value}」，请写成例如：改 {cmd.number} 数量 第1项 3000"
    async with rep.sessionmaker() as s:
        lines = list(await s.exec(select(OrderLine).where(OrderLine.order_id == order.id,
                                                          OrderLine.line_type == "main").order_by(OrderLine.id)))
    if index is None and len(lines) != 1:
        return f"订单有 {len(lines)} 项，请指明第几项，例如：改 {cmd.number} 数量 第1项 3000"
    n = index or 1
    if not 1 <= n <= len(lines):
        return f"订单只有 {len(lines)} 项。"
    line = lines[n - 1]
    assert line.id is not None
    await actions.edit(
        rep.sessionmaker, order.id, actor, actions.OrderEdit(quantities={line.id: quantity}),
        reason=cmd.reason or "业务员修改数量", source_message_id=rep.message_id,
    )
    shown = f"{Decimal(str(quantity)).normalize():f}"
    return f"订单 {cmd.number} 第{n}项（{line.name}）数量已改为 {shown}{line.unit}。"


def _address_fields(text: str) -> dict[str, Any]:
    from nlp.address import find_address

    hit = find_address(text)
    if hit is None:
        return {"address_detail": text.strip()}
    found = {k: getattr(hit, k, None) for k in ("province", "city", "district", "detail")}
    return {
        "province": found["province"], "city": found["city"], "district": found["district"],
        "address_detail": found["detail"] or text.strip(),
    }


async def _reassign(rep: Rep, order: Order, actor: Actor, cmd: Reassign) -> str:
    assert order.id is not None
    async with rep.sessionmaker() as s:
        candidates = await _rep_by_name(s, cmd.to_name)
    if not candidates:
        return f"没有找到业务员「{cmd.to_name}」。"
    if len(candidates) > 1:
        names = "、".join(f"{c.name}（{c.team}）" for c in candidates[:5])
        return f"「{cmd.to_name}」有多位：{names}，请写全名。"
    target = candidates[0]
    assert target.id is not None
    await actions.reassign(rep.sessionmaker, order.id, actor, target.id, reason=f"{rep.row.name}转交",
                           source_message_id=rep.message_id)
    return f"订单 {cmd.number} 已转交给 {target.name}。"


async def todo_text(rep: Rep) -> str:
    """Orders waiting for this rep (pending and on hold); a manager also sees their reps' holds."""
    async with rep.sessionmaker() as s:
        mine = select(Order).where(
            Order.rep_id == rep.row.id,
            Order.status.in_([OrderStatus.PENDING.value, OrderStatus.ON_HOLD.value]),  # type: ignore[attr-defined]
        )
        orders = list(await s.exec(mine.order_by(Order.created_at)))
        if rep.row.is_manager:
            team = select(SalesRep.id).where(SalesRep.manager_id == rep.row.id)
            held = select(Order).where(Order.status == OrderStatus.ON_HOLD.value, Order.rep_id.in_(team))  # type: ignore[union-attr]
            orders += [o for o in (await s.exec(held)) if o.id not in {x.id for x in orders}]
    if not orders:
        return "暂无待办订单。"
    lines = [f"待办订单 {len(orders)} 张："]
    for o in orders[:20]:
        due = f" 交期{o.delivery_date:%m-%d}" if o.delivery_date else ""
        rush = "【加急】" if o.rush else ""
        lines.append(f"{rush}{o.number} {OrderStatus(o.status).label} {money(o.total)}{due}")
    if len(orders) > 20:
        lines.append(f"……另有 {len(orders) - 20} 张")
    return "\n".join(lines)


# ---------------------------------------------------------------- card buttons


async def run_button(rep: Rep, event: CardEvent) -> Outcome:
    """A press on an order card: the rep's 确认 / 拒绝, or the manager's 放行 / 取消订单 on a held
    order, act and replace the card with the outcome; a press on a card whose order has moved
    on shows where it stands now."""
    press = cards.parse_button_key(event.event_key)
    if press is None:
        return Outcome([HELP_TEXT])
    order = await rep.order(press.number)
    if order is None or order.id is None:
        return Outcome([f"没有找到订单 {press.number}。"])
    update = {"order_id": order.id, "userid": rep.row.wecom_userid, "response_code": event.response_code,
              "task_id": event.task_id, "by": rep.row.name, "issued_at": event.create_time}
    if press.action == "edit":
        n = order.number
        return Outcome([f"修改订单请回复（须写原因），例如：\n改 {n} 交期 3月9日 原因 客户工地延期\n"
                        f"改 {n} 数量 第1项 3000 原因 …\n改 {n} 地址 … 原因 …\n改 {n} 内部备注 … 原因 …\n"
                        f"加运费 {n} 50 原因\n加赠品 {n} M6平垫 100个 原因\n加服务 {n} 包装费 30 原因"])
    if press.action == "cancel_order":
        return Outcome([f"取消订单请回复：取消 {order.number} 原因 …"])
    if press.action == "reassign":
        return Outcome([f"转交请回复：转 {order.number} 业务员姓名"])
    if press.action == "merge":
        async with rep.sessionmaker() as s:
            other = await suspected_duplicate(s, order.id)
        if other is None:
            return Outcome([f"订单 {order.number} 没有可合并的重复订单。"])
        text = await merge_text(rep, order.number, other)
        current = await rep.order(press.number)
        done = current is not None and current.status == OrderStatus.CANCELLED.value
        return Outcome([text], {**update, "outcome": "merged", "note": f"并入 {other}"} if done else None)
    hold_card = press.action in {"release", "cancel"}
    if hold_card:
        update["card"] = "hold"
    actor = actor_for(rep.row, order)
    if hold_card and rep.row.is_manager and rep.row.id is not None:
        actor = Actor.manager(rep.row.id, rep.row.wecom_userid)  # the manager's override
    try:
        if press.action == "release":
            await actions.release(rep.sessionmaker, order.id, actor, CARD_RELEASE_REASON,
                                  source_message_id=rep.message_id)
            return Outcome([f"订单 {order.number} 已放行，回到待确认，已通知业务员。"], {**update, "outcome": "released"})
        if press.action == "cancel":
            await actions.cancel(rep.sessionmaker, order.id, actor, CARD_CANCEL_REASON,
                                 source_message_id=rep.message_id)
            return Outcome([f"订单 {order.number} 已取消，已通知客户。"], {**update, "outcome": "cancelled"})
        if press.action == "confirm":
            result = await actions.confirm(rep.sessionmaker, order.id, actor, source_message_id=rep.message_id)
            outcome = "confirmed" if result.order.status == OrderStatus.CONFIRMED.value else result.order.status
            note = result.order.hold_reason if outcome == OrderStatus.ON_HOLD.value else None
            return Outcome([_confirm_text(result)], {**update, "outcome": outcome, "note": note})
        if press.action == "reject":
            await actions.reject(rep.sessionmaker, order.id, actor, CARD_REJECT_REASON,
                                 source_message_id=rep.message_id)
            return Outcome([f"已拒绝订单 {order.number}，已通知客户。如需说明原因，可回复：拒绝 {order.number} 原因"],
                           {**update, "outcome": "rejected"})
    except (OrderError, TransitionError) as exc:
        current = await rep.order(press.number)
        status = current.status if current else order.status
        expected = OrderStatus.ON_HOLD.value if hold_card else OrderStatus.PENDING.value
        if status != expected:  # the card is stale: show where the order is now
            label = OrderStatus(status).label
            return Outcome([f"订单 {order.number} 当前状态：{label}。{refusal_text(exc)}"],
                           {**update, "outcome": _status_outcome(status)})
        return Outcome([refusal_text(exc)])
    return Outcome([HELP_TEXT])


def _status_outcome(status: str) -> str:
    return {"pending": "released"}.get(status, status)


# ---------------------------------------------------------------- the outbox handler


async def _reply(session: AsyncSession, userid: str, message_id: int, texts: Sequence[str],
                 update: dict[str, Any] | None) -> None:
    if texts:  # one row: its texts go out one after the other, in this order
        await enqueue(session, kind=OutboxKind.NOTIFY_REP, target=userid,
                            payload={"type": "text", "texts": list(texts)},
                            dedup_key=f"wecom_reply:{message_id}")
    if update and update.get("response_code"):
        await enqueue(session, kind=OutboxKind.WECOM_CARD_UPDATE, target=userid, payload=update,
                            dedup_key=f"card_update:{update['response_code']}")


async def handle_message(sessionmaker: async_sessionmaker[AsyncSession], message_id: int,
                         *, inquiry: Any = None, now: dt.datetime | None = None,
                         links: Callable[[str], Awaitable[str]] | None = None) -> Outcome | None:
    """Carry out one stored WeCom message; None when it was handled before (a redelivery)."""
    async with sessionmaker() as s:
        msg = await s.get(InboundMessage, message_id)
        if msg is None or msg.state == "handled":
            return None
        rep_row = await _rep_by_userid(s, msg.from_user)
    if rep_row is None or not rep_row.active:
        return await _finish(sessionmaker, msg, Outcome([NOT_A_REP]), None)
    # A rep's messages run one at a time (their open inquiry draft is per rep).
    async with inquiry.lock(msg.from_user) if inquiry is not None else contextlib.nullcontext():
        rep = Rep(rep_row, sessionmaker, message_id, today_in_china(now), links)
        return await _finish(sessionmaker, msg, await _dispatch(rep, msg, inquiry), inquiry)


async def _finish(sessionmaker: async_sessionmaker[AsyncSession], msg: InboundMessage, outcome: Outcome,
                  inquiry: Any) -> Outcome | None:
    """The handled mark, the replies and the inquiry's draft (and photo job): one commit."""
    assert msg.id is not None
    now = utcnow()
    async with sessionmaker() as s, s.begin():
        if not await mark_handled(s, msg.id, now):
            return None
        if inquiry is not None:
            await inquiry.commit(s, msg.from_user, outcome, now)
        await _reply(s, msg.from_user, msg.id, outcome.replies, outcome.card_update)
    return outcome


async def _dispatch(rep: Rep, msg: InboundMessage, inquiry: Any) -> Outcome:
    if msg.msg_type == "event":
        event = card_event(msg.raw)
        if event is not None:
            return await run_button(rep, event)
        return Outcome()  # enter_agent and the like: nothing to say
    if msg.msg_type == "text":
        cmd = parse_command(msg.content or "", rep.today)
        if inquiry is not None and isinstance(cmd, Inquiry | Help | MissingNumber):
            handled = await inquiry.handle_text(rep, msg, cmd)
            if handled is not None:
                return handled
        return await run_command(rep, cmd)
    if msg.msg_type == "image" and inquiry is not None:
        handled = await inquiry.handle_image(rep, msg)
        if handled is not None:
            return handled
    return Outcome([HELP_TEXT])


async def wecom_inbound(ctx: JobContext, row: Any) -> None:
    """The outbox handler of OutboxKind.WECOM_INBOUND."""
    from bot.wecom_inquiry import InquiryFlow

    inquiry = InquiryFlow.from_context(ctx)
    await handle_message(ctx.sessionmaker, int(row.payload["message_id"]), inquiry=inquiry,
                         links=partial(issue_link, ctx.store, base_url=board_base_url(ctx.settings)))


__all__ = ["Outcome", "Rep", "card_event", "handle_message", "run_button", "run_command"]
