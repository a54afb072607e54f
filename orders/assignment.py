"""Assigning a rep to an order inside the hub's transaction (the call submit makes).

Reads what `orders.routing.route` needs (the customer's tier and own rep, the order's line
categories, the reps, open orders per rep, the team's round-robin cursor), applies the
decision to the order and writes a "routed" event naming the rule. It does not commit and
does not push: the caller's action owns the transaction and the rep's card.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.actors import Actor
from orders.events import add_event
from orders.models import Customer, Order, OrderLine, Product, RoutingCursor, SalesRep, utcnow
from orders.routing import Decision, OrderFacts, RuleSet, TeamLoad, facts_from_order, route
from orders.sla import confirm_due_at
from orders.status import OPEN_STATUSES
from orders.upsert import insert_for


class RoutingEvent(StrEnum):
    """Event types written by routing and the SLA job (internal: customers do not see them)."""

    ROUTED = "routed"
    REMINDED = "reminded"
    ESCALATED = "escalated"


async def order_facts(session: AsyncSession, order: Order, *, own_rep_id: int | None = None,
                      lines: Sequence[OrderLine] | None = None,
                      products: Mapping[str, Product] | None = None) -> OrderFacts:
    """The routing facts of a stored order: its lines' categories, the customer's tier and rep
    (else `own_rep_id`: the rep placing the order for a customer who has none). `lines`: the
    order's lines when the caller holds them (a new order): their products are then taken
    from `products` (as pricing read them) or the session instead of a join."""
    customer = await session.get(Customer, order.customer_id)
    categories: list[str] = []
    if lines is not None:
        for line in lines:
            product = None
            if line.sku:
                product = (products or {}).get(line.sku) or await session.get(Product, line.sku)
            if product is not None and product.category:
                categories.append(product.category)
    elif order.id is not None:
        rows = await session.exec(
            select(Product.category)
            .join(OrderLine, OrderLine.sku == Product.sku)  # type: ignore[arg-type]
            .where(OrderLine.order_id == order.id)
        )
        categories = [c for c in rows.all() if c]
    return facts_from_order(
        order,
        categories=categories,
        tier=customer.tier if customer else "standard",
        own_rep_id=(customer.rep_id if customer else None) or own_rep_id,
    )


async def team_load(session: AsyncSession) -> TeamLoad:
    """Open orders per rep and every team's round-robin cursor."""
    counts = await session.exec(
        select(Order.rep_id, func.count())
        .where(Order.status.in_([s.value for s in OPEN_STATUSES]))  # type: ignore[attr-defined]
        .where(Order.rep_id.is_not(None))  # type: ignore[union-attr]
        .group_by(Order.rep_id)
    )
    # populate_existing: the cursor rows are written by upsert (_advance_cursor), which the
    # session's copies do not see; a second order routed in one session must read them anew.
    cursors = await session.exec(select(RoutingCursor).execution_options(populate_existing=True))
    return TeamLoad(
        open_orders={rep_id: n for rep_id, n in counts.all()},
        last_assigned={c.team: c.last_rep_id for c in cursors.all() if c.last_rep_id is not None},
    )


@dataclass
class RoutingSnapshot:
    """The reps and the team load read once for many orders placed one after another in ONE
    transaction (a batch of chat confirmations): each order placed updates it as the
    database would answer (its rep's open orders + 1, the team's cursor), so routing the next
    one needs no reads. Only for orders placed by this transaction; discarded with it.
    The teams' round-robin cursors are written once, at the end of `held`, not once an order."""

    reps: list[SalesRep]
    open_orders: dict[int, int]
    last_assigned: dict[str, int]
    moved: dict[str, int] = field(default_factory=dict)  # team → last rep, not written yet

    @classmethod
    @asynccontextmanager
    async def held(cls, session: AsyncSession) -> AsyncIterator[RoutingSnapshot]:
        """Read once, used for the orders placed inside the block, the cursors written at
        its end (on an error nothing is written: the caller rolls back)."""
        reps = list((await session.exec(select(SalesRep))).all())
        load = await team_load(session)
        snapshot = cls(reps, dict(load.open_orders), dict(load.last_assigned))
        yield snapshot
        await snapshot._write_cursors(session)

    def load(self) -> TeamLoad:
        return TeamLoad(open_orders=self.open_orders, last_assigned=self.last_assigned)

    def placed(self, order: Order, decision: Decision) -> None:
        """`order` was routed by `decision` and written in this transaction."""
        if order.rep_id is not None and order.status in {s.value for s in OPEN_STATUSES}:
            self.open_orders[order.rep_id] = self.open_orders.get(order.rep_id, 0) + 1
        if decision.team and decision.rep_id is not None:
            self.last_assigned[decision.team] = decision.rep_id
            self.moved[decision.team] = decision.rep_id

    async def _write_cursors(self, session: AsyncSession, now: datetime | None = None) -> None:
        """The cursors of the teams routed to since the read, one upsert each (in team order,
        so two workers' batches take the rows in the same order)."""
        for team, rep_id in sorted(self.moved.items()):
            await _advance_cursor(session, team, rep_id, now or utcnow())
        self.moved.clear()


async def _advance_cursor(session: AsyncSession, team: str, rep_id: int, now: datetime) -> None:
    """One upsert (no read, no lock held before it): the team's row is written last thing
    before the caller commits, so concurrent placements wait on it as briefly as possible."""
    stmt = insert_for(session, RoutingCursor).values(team=team, last_rep_id=rep_id, updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[RoutingCursor.team],
                                      set_={"last_rep_id": rep_id, "updated_at": now})
    await session.exec(stmt)


async def decide_route(session: AsyncSession, order: Order, rules: RuleSet, *,
                       own_rep_id: int | None = None, lines: Sequence[OrderLine] | None = None,
                       products: Mapping[str, Product] | None = None,
                       reps: Sequence[SalesRep] | None = None, load: TeamLoad | None = None) -> Decision:
    """The routing decision for a stored order, without changing anything. `reps`, `load`:
    every rep and the team load, when the caller has them for this transaction."""
    facts = await order_facts(session, order, own_rep_id=own_rep_id, lines=lines, products=products)
    if reps is None:
        reps = (await session.exec(select(SalesRep))).all()
    return route(facts, rules, reps, load if load is not None else await team_load(session))


async def record_routing(
    session: AsyncSession,
    order: Order,
    decision: Decision,
    *,
    before: int | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
    rules_version: str = "",
    write_cursor: bool = True,
) -> None:
    """The "routed" event naming the rule and the table version (internal), and the team's
    round-robin cursor (unless `write_cursor` is False: a RoutingSnapshot writes it later)."""
    assert order.id is not None
    now = now or utcnow()
    if write_cursor and decision.team and decision.rep_id is not None:
        await _advance_cursor(session, decision.team, decision.rep_id, now)
    add_event(
        session,
        order.id,
        RoutingEvent.ROUTED,  # type: ignore[arg-type]
        actor or Actor.system(f"rule:{decision.rule_id}"),
        changes={"rule": decision.rule_id, "rules_version": rules_version or None, "team": decision.team,
                 "rep_id": [before, decision.rep_id]},
        reason=decision.reason, at=now, visible_to_customer=False,
    )


async def assign_rep(
    session: AsyncSession,
    order: Order,
    rules: RuleSet,
    *,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Decision:
    """Route `order` (flushed, so it has an id) and record why, in the caller's transaction.

    Sets rep_id, routing_rule and confirm_due_at on the row directly: for orders the hub's
    submit does not handle. Orders going through the hub use `submit_routed`.
    """
    assert order.id is not None, "flush the order before routing it"
    now = now or utcnow()
    decision = await decide_route(session, order, rules)
    before = order.rep_id
    order.rep_id = decision.rep_id
    order.routing_rule = decision.rule_id
    order.confirm_due_at = confirm_due_at(now, order.rush, decision.sla)
    session.add(order)
    await record_routing(session, order, decision, before=before, now=now, actor=actor,
                         rules_version=rules.version)
    return decision


async def submit_routed(
    session: AsyncSession,
    order_id: int,
    actor: Actor,
    rules: RuleSet,
    *,
    now: datetime | None = None,
    source_message_id: int | None = None,
    own_rep_id: int | None = None,
    created: Any = None,
    snapshot: RoutingSnapshot | None = None,
) -> Any:
    """THE CALL TO MAKE AT SUBMIT: route the draft, then the hub's `orders.actions.submit`
    with the chosen rep, rule and deadline, then the "routed" event — one transaction.

    `session` must already be in a transaction (the hub's actions join it); the caller commits.
    `own_rep_id` stands in for the customer's own rep when they have none (a rep placing an
    order on a customer's behalf keeps it). `created`: the OrderResult of create_order in
    this transaction (orders.place_order), so neither routing nor submit reads it again.
    `snapshot`: the reps and team load of this transaction (RoutingSnapshot), kept up to date.
    Returns the hub's OrderResult.
    """
    from orders import actions  # the hub's use cases; imported late to keep this module light

    now = now or utcnow()
    order = await session.get(Order, order_id)
    if order is None:
        from orders.errors import OrderError, OrderErrorCode

        raise OrderError(OrderErrorCode.ORDER_NOT_FOUND, "订单不存在")
    before = order.rep_id
    fresh = created is not None and created.order.id == order_id
    lines = created.lines if fresh else None
    # Held here until the rep's card is queued: the session's identity map is weak, and the
    # card looks its rep up by id (orders.actions._notify_rep).
    reps = snapshot.reps if snapshot is not None else (await session.exec(select(SalesRep))).all()
    decision = await decide_route(session, order, rules, own_rep_id=own_rep_id, lines=lines,
                                  products=created.products if fresh else None, reps=reps,
                                  load=snapshot.load() if snapshot is not None else None)
    result = await actions.submit(
        session, order_id, actor,
        rep_id=decision.rep_id, routing_rule=decision.rule_id,
        confirm_due_at=confirm_due_at(now, order.rush, decision.sla),
        source_message_id=source_message_id, created=created,
    )
    await record_routing(session, result.order, decision, before=before, now=now,
                         rules_version=rules.version, write_cursor=snapshot is None)
    if snapshot is not None:
        snapshot.placed(result.order, decision)
    return result
