"""合并: fold a customer's newer order into their older one (a duplicate the rep spotted).

One transaction through the state machine, never around it:
1. both orders locked (lower id first, so two merges never deadlock) and checked: the same
   customer (or the same phone: two records of one person not yet merged), not the same order;
2. the older order is edited (orders.actions.edit, reason 「合并 SO…」): a line of the same product
   and unit takes the newer order's quantity on top, other lines are added; lines a price rule
   generated (gifts, freight) are left to the repricing the edit runs;
3. the newer order is cancelled (orders.actions.cancel, reason 「合并至 SO…」).
Both orders get their events, the customer and the WMS hear through the usual outbox rows. A
refusal of either step (a rep not assigned to both, a shipped order, stock short for a confirmed
one) rolls the whole merge back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import actions, repricing
from orders.actors import Actor
from orders.errors import OrderError, OrderErrorCode
from orders.models import Order, OrderLine, SalesRep
from orders.notifications import rep_card_payload
from orders.outbox import OutboxKind, dedup_key, enqueue
from orders.pricing import LineType
from orders.status import OrderStatus

# Both orders must be placed and not yet shipped: a shipped order is not folded away (a
# manager's write-off cancel would otherwise hide a shipment inside a merge).
MERGEABLE = frozenset({OrderStatus.PENDING.value, OrderStatus.ON_HOLD.value, OrderStatus.CONFIRMED.value})


@dataclass
class Merged:
    kept: Order  # the older order, now with the newer one's lines
    cancelled: Order  # the newer order, cancelled 「合并至 …」
    added: int  # lines added to the kept order
    increased: int  # lines of the kept order whose quantity grew


def merge_reason(kept: Order, cancelled: Order) -> tuple[str, str]:
    """(the kept order's edit reason, the cancelled order's reason)."""
    return f"合并 {cancelled.number}", f"合并至 {kept.number}"


def plan(kept_lines: list[OrderLine], newer_lines: list[OrderLine]) -> actions.OrderEdit:
    """The edit that brings the newer order's lines into the kept one (pure)."""
    by_product = {
        (line.sku, line.unit): line for line in kept_lines
        if line.sku and line.line_type == LineType.MAIN and not repricing.generated(line)
    }
    quantities: dict[int, Decimal] = {}
    added: list[actions.DraftLine] = []
    for line in newer_lines:
        if repricing.generated(line):
            continue
        same = by_product.get((line.sku, line.unit)) if line.line_type == LineType.MAIN else None
        if same is not None and same.id is not None:
            base = quantities.get(same.id, Decimal(same.quantity))
            quantities[same.id] = base + Decimal(line.quantity)
            continue
        added.append(actions.DraftLine(
            sku=line.sku, quantity=Decimal(line.quantity), unit=line.unit or None, raw=line.raw,
            line_type=line.line_type, name=line.name if line.sku is None else None,
        ))
    return actions.OrderEdit(quantities=quantities, add_lines=added)


async def _order(s: AsyncSession, order_id: int) -> Order:
    stmt = select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    order = (await s.exec(stmt)).first()
    if order is None:
        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, f"订单 {order_id} 不存在")
    return order


async def _lines(s: AsyncSession, order_id: int) -> list[OrderLine]:
    return list((await s.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.id)))).all())


async def merge_orders(
    db: actions.DB, first_id: int, second_id: int, actor: Actor, *, source_message_id: int | None = None,
) -> Merged:
    """Merge the newer of two orders into the older (see the module docstring)."""
    if first_id == second_id:
        raise OrderError(OrderErrorCode.MERGE_NOT_ALLOWED, "不能把订单合并到它自己")
    async with actions.unit_of_work(db) as s:
        older_id, newer_id = sorted((first_id, second_id))
        kept, newer = await _order(s, older_id), await _order(s, newer_id)
        for o in (kept, newer):
            if o.status not in MERGEABLE:
                raise OrderError(OrderErrorCode.MERGE_NOT_ALLOWED,
                                 f"订单 {o.number} 状态为「{OrderStatus(o.status).label}」，不能合并")
        same_phone = bool(kept.phone) and kept.phone == newer.phone
        if kept.customer_id != newer.customer_id and not same_phone:
            raise OrderError(OrderErrorCode.MERGE_NOT_ALLOWED,
                             f"{kept.number} 和 {newer.number} 不是同一客户的订单，不能合并")
        change = plan(await _lines(s, older_id), await _lines(s, newer_id))
        if not change.quantities and not change.add_lines:
            raise OrderError(OrderErrorCode.MERGE_NOT_ALLOWED, f"{newer.number} 没有可合并的明细")
        edit_reason, cancel_reason = merge_reason(kept, newer)
        # The cancel first: a newer order that cannot be cancelled (shipped) stops the merge
        # before anything is added to the older one.
        cancelled = await actions.cancel(s, newer_id, actor, cancel_reason, source_message_id=source_message_id)
        result = await actions.edit(s, older_id, actor, change, reason=edit_reason, source_message_id=source_message_id)
        await _fresh_card(s, result)
        return Merged(result.order, cancelled.order, len(change.add_lines), len(change.quantities))


async def _fresh_card(s: AsyncSession, result: actions.OrderResult) -> None:
    """The kept order's rep gets its card again, with the merged lines (a staff edit tells
    only the customer; the card the rep holds shows the order before the merge)."""
    order = result.order
    rep = await s.get(SalesRep, order.rep_id) if order.rep_id is not None else None
    if rep is None or order.id is None:
        return
    payload = rep_card_payload("order_card", order, result.lines, reason=f"已合并，当前合计 {order.total}")
    await enqueue(s, OutboxKind.NOTIFY_REP, rep.wecom_userid, payload,
                  dedup_key(order.id, order.version, "merged_card", rep.wecom_userid))
