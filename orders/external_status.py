"""A WMS / ERP answer to an outbound push moves the order through the state machine.

The push's answer carries the other system's status code (orders/status_mapping.json); it is
recorded in the push ledger (workers/outbound.py) and, through `apply_answer`, taken by the
hub as actor `hook:<system>`: a mapped code whose action applies moves the order (ship,
deliver, close …) with an event, like the logistics hook. A system that refuses the order
(its HTTP 4xx, or a code our role table does not let a system apply, e.g. an ERP voiding a
confirmed order) holds it with the reason, so a manager decides; the hold alerts them.

Idempotent by construction: a redelivered answer finds the order already where the code
points (`action_for` → None) or already on hold, and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from orders import actions
from orders.actions import DB
from orders.actors import Actor
from orders.errors import OrderError
from orders.models import Order
from orders.status import Action, OrderStatus, TransitionError
from orders.status_mapping import MappedStatus, action_for, map_status

log = logging.getLogger(__name__)

HOLDABLE = (OrderStatus.PENDING, OrderStatus.CONFIRMED)


@dataclass(frozen=True)
class Applied:
    """What an answer did to the order: `moved` (an action's value), `held`, or nothing."""

    order_number: str
    outcome: str  # moved / held / unchanged / ignored
    detail: str = ""


async def _order(db: DB, number: str) -> Order | None:
    async with actions.unit_of_work(db) as s:
        return (await s.exec(select(Order).where(Order.number == number))).one_or_none()


async def _hold(db: DB, order: Order, actor: Actor, reason: str) -> Applied:
    if OrderStatus(order.status) not in HOLDABLE:
        log.warning("%s: %s, but the order is %s and cannot be held", order.number, reason, order.status)
        return Applied(order.number, "ignored", reason)
    assert order.id is not None
    await actions.hold(db, order.id, actor, reason)
    return Applied(order.number, "held", reason)


async def apply_answer(db: DB, system: str, number: str, code: Any,
                       answer: dict[str, Any] | None = None) -> Applied:
    """The status `system` answered for order `number` (its code as sent), applied."""
    answer = answer or {}
    actor = Actor.system(f"hook:{system}")
    order = await _order(db, number)
    if order is None or order.id is None:
        return Applied(number, "ignored", "no such order")
    try:
        mapped: MappedStatus = map_status(system, code)
    except OrderError as exc:  # an unmapped code moves nothing: the ledger shows it
        return Applied(number, "ignored", exc.message)
    action = action_for(order.status, mapped)
    if action is None:
        return Applied(number, "unchanged", mapped.label)
    reason = f"{system.upper()} 回报「{mapped.label or mapped.code}」"
    try:
        if action is Action.SHIP:
            waybill = str(answer.get("waybill_no") or "").strip()
            if not waybill:
                return Applied(number, "unchanged", f"{reason}，但没有运单号")
            await actions.ship(db, order.id, actor, str(answer.get("carrier") or ""), waybill)
        elif action is Action.DELIVER:
            await actions.deliver(db, order.id, actor)
        elif action is Action.CLOSE:
            await actions.close(db, order.id, actor, reason)
        elif action is Action.CANCEL:
            await actions.cancel(db, order.id, actor, reason)
        else:  # hold, or an action only a person may take (confirm): a person decides
            return await _hold(db, order, actor, reason)
    except (TransitionError, OrderError) as exc:
        # The other system says something our table does not let it do (a system voiding a
        # confirmed order, shipping one still pending): a person decides.
        return await _hold(db, order, actor, f"{reason}，无法自动处理：{exc.message}")
    return Applied(number, "moved", action.value)


async def apply_rejection(db: DB, system: str, number: str, why: str) -> Applied:
    """`system` refused the order (HTTP 4xx): the order is held with its reason."""
    order = await _order(db, number)
    if order is None:
        return Applied(number, "ignored", "no such order")
    return await _hold(db, order, Actor.system(f"hook:{system}"), f"{system.upper()} 拒收：{why}"[:500])

