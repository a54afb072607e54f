"""Prices and totals: catalog price × customer tier × base quantity, pure functions.

Quantities arrive in the customer's unit (3 箱); lines are priced per base unit (个) after
pack conversion. Gift lines are priced 0 and kept out of sales totals. Totals never go
below zero. Money is Decimal throughout: unit prices to 0.0001 元, amounts to 0.01 元.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Protocol

from orders.errors import OrderError, OrderErrorCode

UNIT_PRICE_STEP = Decimal("0.0001")
AMOUNT_STEP = Decimal("0.01")
ZERO = Decimal("0")


class LineType:
    MAIN = "main"
    GIFT = "gift"
    FREIGHT = "freight"
    SERVICE = "service"


class ProductLike(Protocol):
    sku: str
    unit: str
    pack_unit: str | None
    pack_size: int | None
    price: Decimal


@lru_cache(maxsize=1)
def tier_multipliers() -> dict[str, Decimal]:
    """The tier table shipped beside this module (orders/pricing_tiers.json)."""
    text = resources.files("orders").joinpath("pricing_tiers.json").read_text("utf-8")
    return {k: Decimal(v) for k, v in json.loads(text).items() if not k.startswith("_")}


def tier_multiplier(tier: str, table: Mapping[str, Decimal] | None = None) -> Decimal:
    table = tier_multipliers() if table is None else table
    try:
        return table[tier]
    except KeyError:
        raise OrderError(
            OrderErrorCode.UNKNOWN_TIER, f"客户等级「{tier}」没有价格系数", tier=tier
        ) from None


def as_quantity(value: object) -> Decimal:
    """A positive Decimal quantity, or INVALID_QUANTITY."""
    try:
        q = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise OrderError(OrderErrorCode.INVALID_QUANTITY, f"数量「{value}」不是数字") from None
    if not q.is_finite() or q <= 0:
        raise OrderError(OrderErrorCode.INVALID_QUANTITY, f"数量必须大于零（收到 {value}）")
    return q


def to_base_quantity(product: ProductLike, quantity: Decimal, unit: str | None) -> Decimal:
    """Quantity in the product's base unit: 3 箱 × 1000 个/箱 = 3000 个.

    The base unit (or no unit) is taken as is; the pack unit is multiplied by pack_size;
    anything else is UNKNOWN_UNIT, because guessing a conversion would misprice the order.
    """
    quantity = as_quantity(quantity)
    if not unit or unit == product.unit:
        return quantity
    if product.pack_unit and unit == product.pack_unit and product.pack_size:
        return quantity * product.pack_size
    known = "、".join(u for u in (product.unit, product.pack_unit) if u)
    raise OrderError(
        OrderErrorCode.UNKNOWN_UNIT,
        f"{product.sku} 不能按「{unit}」计量（可用：{known}）",
        sku=product.sku,
        unit=unit,
    )


def unit_price(product: ProductLike, tier: str, table: Mapping[str, Decimal] | None = None) -> Decimal:
    """The customer's list price per base unit: catalog price × tier multiplier."""
    price = Decimal(product.price) * tier_multiplier(tier, table)
    return price.quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)


def line_amount(price: Decimal, base_quantity: Decimal) -> Decimal:
    return max(Decimal(price) * Decimal(base_quantity), ZERO).quantize(AMOUNT_STEP, rounding=ROUND_HALF_UP)


def lowest_price(list_price: Decimal, discount_limit: Decimal) -> Decimal:
    """The lowest unit price a rep with `discount_limit` (0.05 = 5%) may set."""
    floor = Decimal(list_price) * (1 - Decimal(discount_limit))
    return floor.quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: Decimal
    unit: str
    base_quantity: Decimal
    base_unit: str
    unit_price: Decimal
    amount: Decimal
    line_type: str
    counts_as_sales: bool


def price_line(
    product: ProductLike,
    quantity: Decimal,
    unit: str | None,
    tier: str,
    line_type: str = LineType.MAIN,
    table: Mapping[str, Decimal] | None = None,
) -> PricedLine:
    """One priced line. Gift lines cost nothing and never count as sales."""
    base = to_base_quantity(product, quantity, unit)
    gift = line_type == LineType.GIFT
    price = ZERO if gift else unit_price(product, tier, table)
    return PricedLine(
        sku=product.sku,
        quantity=as_quantity(quantity),
        unit=unit or product.unit,
        base_quantity=base,
        base_unit=product.unit,
        unit_price=price,
        amount=ZERO.quantize(AMOUNT_STEP) if gift else line_amount(price, base),
        line_type=line_type,
        counts_as_sales=not gift,
    )


class LineLike(Protocol):
    amount: Decimal
    counts_as_sales: bool


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # sales lines only
    discount: Decimal
    total: Decimal  # never below zero


def order_totals(lines: Iterable[LineLike], discount: Decimal = ZERO) -> Totals:
    """Subtotal of the lines that count as sales, less the discount, floored at zero."""
    subtotal = sum((Decimal(line.amount) for line in lines if line.counts_as_sales), ZERO)
    subtotal = subtotal.quantize(AMOUNT_STEP, rounding=ROUND_HALF_UP)
    discount = max(Decimal(discount), ZERO).quantize(AMOUNT_STEP, rounding=ROUND_HALF_UP)
    return Totals(subtotal, discount, max(subtotal - discount, ZERO))
