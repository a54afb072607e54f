"""The price table applied to an order's rows: the hub calls `reprice` on create and on
every edit, so every intake gets the same prices, promotions, gifts and freight.

The tables themselves come from the session: orderbot puts file-backed sources (anything
with `current()`) into the sessionmaker's `info` under PRICE_RULES / RISK_RULES
(orderbot/resources.py). A session without them prices by catalog × tier only and holds
by the built-in credit and stock rules, as before issue 14.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import pricing, promotions
from orders.models import Customer, Order, OrderLine, Product, new_row, utcnow
from orders.pricing import LineType

PRICE_RULES = "orderbot.price_rules"
RISK_RULES = "orderbot.risk_rules"
MANUAL = "manual"  # OrderLine.rule_id of a price a rep set by hand: rules leave it alone


def table_from(session: AsyncSession, key: str, default: Any) -> Any:
    """The table in force for this session (re-read by its source when the file changed)."""
    source = session.info.get(key)
    return default if source is None else source.current()


def generated(line: OrderLine) -> bool:
    """Gift, freight and service lines a rule added: rebuilt on every repricing."""
    return line.line_type != LineType.MAIN and line.rule_id is not None and line.rule_id != MANUAL


async def drop_generated(s: AsyncSession, lines: Sequence[OrderLine]) -> list[OrderLine]:
    """Delete the rule-made lines (flushed, so a main line they point at can go next)."""
    old = [ln for ln in lines if generated(ln)]
    for line in old:
        await s.delete(line)
    if old:
        await s.flush()
    return [ln for ln in lines if not generated(ln)]


def context_for(
    customer: Customer, channel: str, at: dt.datetime, province: str | None, city: str | None,
) -> promotions.PricingContext:
    """The order-level facts the table is scoped by; the customer's own region when the
    order names none. One builder for placed orders and the chat's recap."""
    return promotions.PricingContext(
        customer_keys=promotions.customer_keys(customer.id, customer.name, customer.company),
        tier=customer.tier, channel=channel, at=at,
        province=province or customer.province, city=city or customer.city,
    )


@dataclass(frozen=True)
class QuoteItem:
    """One requested main line of a recap, as the catalog prices it (list price × tier)."""

    index: int
    sku: str
    name: str
    category: str
    base_quantity: Decimal
    base_unit: str
    list_price: Decimal


@dataclass
class Quote:
    """What the order will cost once placed, before it is: the lines' prices, the gift and
    extra lines the table adds, discount, total and the rules applied (Chinese summary)."""

    unit_prices: dict[int, Decimal]
    amounts: dict[int, Decimal]
    extra_lines: list[dict[str, Any]]  # gift / freight / service lines, as the recap lists them
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    applied: list[dict[str, str]]

    @property
    def summary(self) -> list[str]:
        return promotions.applied_summary(self.applied)


def quote(
    table: promotions.PriceTable, ctx: promotions.PricingContext, items: Sequence[QuoteItem],
    names: Mapping[str, str] | None = None,
) -> Quote:
    """The same table `reprice` applies on create, over a draft's lines (pure, no rows): the
    chat shows it before 确认, so the customer confirms the price they will be charged."""
    inputs = [promotions.LineInput(index=it.index, sku=it.sku, category=it.category,
                                   base_quantity=it.base_quantity, list_price=it.list_price) for it in items]
    result = promotions.price_order(table, ctx, inputs)
    amounts = {it.index: pricing.line_amount(result.unit_prices[it.index], it.base_quantity) for it in items}
    by_index = {it.index: it for it in items}
    extra: list[dict[str, Any]] = []
    for gift in result.gifts:
        parent = by_index.get(gift.parent_index)
        extra.append({"line_type": LineType.GIFT, "sku": gift.sku, "name": (names or {}).get(gift.sku, gift.sku),
                      "quantity": gift.base_quantity, "unit": parent.base_unit if parent else "",
                      "amount": pricing.ZERO})
    for line in result.extras:
        extra.append({"line_type": line.line_type, "sku": None, "name": line.name, "quantity": Decimal(1),
                      "unit": "项", "amount": line.amount})
    subtotal = sum(amounts.values(), pricing.ZERO) + sum((e["amount"] for e in extra), pricing.ZERO)
    totals = pricing.order_totals([_Amount(subtotal)], result.discount)
    return Quote(dict(result.unit_prices), amounts, extra, totals.subtotal, totals.discount, totals.total,
                 [a.as_dict() for a in result.applied])


@dataclass(frozen=True)
class _Amount:
    amount: Decimal
    counts_as_sales: bool = True


@dataclass
class Repriced:
    lines: list[OrderLine]  # main lines (prices updated) then generated lines, all in the session
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    applied: list[dict[str, str]]


async def reprice(
    s: AsyncSession, order: Order, customer: Customer, lines: Sequence[OrderLine], *,
    lock_prices: bool = False, now: dt.datetime | None = None, changed: Mapping[str, Any] | None = None,
) -> Repriced:
    """Apply the price table to `lines` (already flushed, so gift lines can point at their
    parent). Old generated lines are deleted and rebuilt; `lock_prices` (a confirmed order)
    keeps every main line's unit price and re-runs only discounts, gifts and extra lines.
    `changed`: order fields an edit is about to write (a new province moves the freight)."""
    table: promotions.PriceTable = table_from(s, PRICE_RULES, promotions.EMPTY_TABLE)
    kept = await drop_generated(s, lines)
    if table.empty:
        totals = pricing.order_totals(kept)
        return Repriced(kept, totals.subtotal, totals.discount, totals.total, [])

    main = [ln for ln in kept if ln.line_type == LineType.MAIN and ln.sku is not None]
    skus = {ln.sku for ln in main} | {p.gift_sku for p in table.promotions if p.gift_sku}
    products = {p.sku: p for p in (await s.exec(select(Product).where(Product.sku.in_(skus)))).all()}
    inputs = []
    for i, ln in enumerate(main):
        product = products[ln.sku]  # type: ignore[index]
        locked = lock_prices or ln.rule_id == MANUAL
        inputs.append(promotions.LineInput(
            index=i, sku=product.sku, category=product.category, base_quantity=Decimal(ln.base_quantity),
            list_price=pricing.unit_price(product, customer.tier),
            locked_price=Decimal(ln.unit_price) if locked else None,
        ))
    facts = {"province": order.province, "city": order.city, **(changed or {})}
    ctx = context_for(customer, order.channel, now or utcnow(), facts["province"], facts["city"])
    result = promotions.price_order(table, ctx, inputs)
    for i, ln in enumerate(main):
        if inputs[i].locked_price is None:
            ln.unit_price = result.unit_prices[i]
            ln.rule_id = result.price_rules.get(i)
        ln.amount = pricing.line_amount(ln.unit_price, ln.base_quantity)
    new: list[OrderLine] = []
    for gift in result.gifts:
        product = products.get(gift.sku)
        if product is None:  # a table naming a SKU the catalog lacks: no gift rather than no order
            continue
        parent = main[gift.parent_index]
        new.append(new_row(
            OrderLine, order_id=order.id, sku=product.sku, name=product.name, quantity=gift.base_quantity,
            unit=product.unit, base_quantity=gift.base_quantity, base_unit=product.unit,
            unit_price=pricing.ZERO, amount=pricing.ZERO, line_type=LineType.GIFT,
            counts_as_sales=False, parent_line_id=parent.id, rule_id=gift.rule_id,
        ))
    for extra in result.extras:
        new.append(new_row(
            OrderLine, order_id=order.id, sku=None, name=extra.name, quantity=Decimal(1), unit="项",
            base_quantity=Decimal(1), base_unit="项", unit_price=extra.amount, amount=extra.amount,
            line_type=extra.line_type, counts_as_sales=True, rule_id=extra.rule_id,
        ))
    s.add_all(new)
    await s.flush()
    all_lines = kept + new
    totals = pricing.order_totals(all_lines, result.discount)
    return Repriced(all_lines, totals.subtotal, totals.discount, totals.total,
                    [a.as_dict() for a in result.applied])
