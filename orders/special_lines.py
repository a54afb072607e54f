"""The desk's own lines on an order: freight (运费), gifts (赠品) and services (服务费).

A rep adds them from WeCom (`加运费 SO… 50 原因`), the board or the API; the price table
(orders/promotions.py) may add the same kinds by rule. A hand-added line carries
`rule_id = "manual"`, so repricing (orders/repricing.py) keeps it when it rebuilds the
rule-made lines, and `note` says why it was added. A gift costs nothing, is not a sale
(`counts_as_sales = False`) and points at the main line it goes with (`parent_line_id`);
freight and service lines are sales of a fixed amount, never negative, so the total only
moves by what the rep typed and still never goes below zero.

Adding one is an edit of the order through the state machine (orders.actions.edit: the
role may edit the order in its status, a placed order needs a reason, the `edited` event
keeps the line and the totals as [before, after], the other side is told, the WMS gets the
new version of a confirmed order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from orders import pricing
from orders.errors import OrderError, OrderErrorCode
from orders.money import money
from orders.pricing import LineType
from orders.repricing import MANUAL  # the rule_id repricing keeps
from orders.status import Role

if TYPE_CHECKING:
    from orders.actions import DB, DraftLine, OrderResult
    from orders.actors import Actor
    from orders.models import OrderLine, Product

SPECIAL_TYPES = frozenset({LineType.FREIGHT, LineType.GIFT, LineType.SERVICE})
TYPE_LABELS = {LineType.MAIN: "商品", LineType.FREIGHT: "运费", LineType.GIFT: "赠品", LineType.SERVICE: "服务费"}
MAX_AMOUNT = Decimal("1000000")  # a typo guard: ¥1,000,000 of freight is not a freight line
# Who may add which kind of line: customers order products; the desk decides what is
# given away and what freight and services cost.
MAY_ADD: dict[str, frozenset[Role]] = {
    LineType.FREIGHT: frozenset({Role.REP, Role.MANAGER, Role.ADMIN}),
    LineType.GIFT: frozenset({Role.REP, Role.MANAGER, Role.ADMIN}),
    LineType.SERVICE: frozenset({Role.REP, Role.MANAGER, Role.ADMIN}),
}


@dataclass(frozen=True)
class SpecialLine:
    """What the desk asks for: a freight/service amount, or a gift's product and quantity."""

    line_type: str
    amount: Decimal | int | str | None = None  # freight / service
    name: str | None = None  # shown on the order; defaults to 运费 / 服务费
    sku: str | None = None  # gift
    quantity: Decimal | int | str | None = None  # gift, in `unit` (default: the base unit)
    unit: str | None = None
    parent_line_id: int | None = None  # gift: the main line it goes with (default: pick_parent)


def check_may_add(actor: Actor | None, line_type: str) -> None:
    """LINE_TYPE_FORBIDDEN for a customer adding a gift, freight or service line; unknown
    kinds are INVALID_FIELD."""
    if line_type not in SPECIAL_TYPES:
        raise OrderError(OrderErrorCode.INVALID_FIELD, f"不认识的明细类型「{line_type}」", field="line_type")
    if actor is not None and actor.role not in MAY_ADD[line_type]:
        raise OrderError(
            OrderErrorCode.LINE_TYPE_FORBIDDEN,
            f"{TYPE_LABELS[line_type]}由业务员添加，下单时只能选商品",
            line_type=line_type,
        )


def as_amount(value: Any) -> Decimal:
    """A freight or service amount: a number from 0 to MAX_AMOUNT, to the fen."""
    try:
        amount = Decimal(str(value).replace("¥", "").replace("元", "").replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise OrderError(OrderErrorCode.INVALID_PRICE, f"金额「{value}」不是数字") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise OrderError(OrderErrorCode.INVALID_PRICE, f"金额要在 0 到 {MAX_AMOUNT:,.0f} 元之间（收到 {value}）")
    return amount.quantize(pricing.AMOUNT_STEP)


def manual_line(draft: DraftLine, product: Product | None) -> OrderLine:
    """The OrderLine for a hand-added special line (not yet attached to an order)."""
    from orders.models import OrderLine

    note = (draft.note or "").strip() or None
    if draft.line_type == LineType.GIFT:
        if product is None:
            raise OrderError(OrderErrorCode.PRODUCT_NOT_FOUND, "赠品要写明是哪个产品")
        if not product.active:
            raise OrderError(OrderErrorCode.PRODUCT_INACTIVE, f"{product.sku} 已停售", sku=product.sku)
        priced = pricing.price_line(product, draft.quantity, draft.unit, "standard", LineType.GIFT)
        return OrderLine(
            order_id=0, sku=product.sku, name=product.name, quantity=priced.quantity, unit=priced.unit,
            base_quantity=priced.base_quantity, base_unit=priced.base_unit, unit_price=pricing.ZERO,
            amount=pricing.ZERO, line_type=LineType.GIFT, counts_as_sales=False,
            parent_line_id=draft.parent_line_id, rule_id=MANUAL, raw=draft.raw, note=note,
        )
    if draft.amount is None:
        raise OrderError(OrderErrorCode.INVALID_PRICE, f"{TYPE_LABELS[draft.line_type]}要写金额")
    amount = as_amount(draft.amount)
    name = (draft.name or "").strip() or TYPE_LABELS[draft.line_type]
    return OrderLine(
        order_id=0, sku=None, name=name[:60], quantity=Decimal(1), unit="项", base_quantity=Decimal(1),
        base_unit="项", unit_price=amount, amount=amount, line_type=draft.line_type, counts_as_sales=True,
        rule_id=MANUAL, raw=draft.raw, note=note,
    )


def pick_parent(gift: OrderLine, main: Sequence[OrderLine]) -> OrderLine | None:
    """The main line a gift goes with when nobody said: the line of the same product, else
    the line with the largest amount (the order's main line)."""
    same = [ln for ln in main if ln.sku is not None and ln.sku == gift.sku]
    pool = same or list(main)
    if not pool:
        return None
    return max(pool, key=lambda ln: (Decimal(ln.amount or 0), -(ln.id or 0)))


def describe(line: OrderLine) -> str:
    """How an event and a card show a line: 外六角螺栓 M6×20 5000个 / 运费 ¥50.00 / 赠品 平垫 M6 100个."""
    qty = f"{Decimal(str(line.quantity)).normalize():f}{line.unit}"
    if line.line_type in (LineType.FREIGHT, LineType.SERVICE):
        return f"{line.name} {money(line.amount)}"
    if line.line_type == LineType.GIFT:
        return f"赠品 {line.sku or line.name} {qty}"
    return f"{line.sku or line.name} {qty}"


def draft_line(special: SpecialLine, note: str | None = None) -> DraftLine:
    from orders.actions import DraftLine

    if special.line_type == LineType.GIFT:
        if special.quantity is None:
            raise OrderError(OrderErrorCode.INVALID_QUANTITY, "赠品要写数量")
        return DraftLine(sku=special.sku, quantity=special.quantity, unit=special.unit,
                         line_type=LineType.GIFT, parent_line_id=special.parent_line_id, note=note)
    return DraftLine(sku=None, quantity=1, line_type=special.line_type, name=special.name,
                     amount=special.amount, note=note)


async def add_special_line(
    db: DB, order_id: int, actor: Actor, special: SpecialLine, *, reason: str | None,
    source_message_id: int | None = None, expected_version: int | None = None,
) -> OrderResult:
    """Add one freight / gift / service line to an order, as an edit through the hub.
    The reason is kept on the line (`note`) and on the `edited` event."""
    from orders import actions

    check_may_add(actor, special.line_type)
    change = actions.OrderEdit(add_lines=[draft_line(special, reason)])
    return await actions.edit(db, order_id, actor, change, reason=reason,
                              source_message_id=source_message_id, expected_version=expected_version)
