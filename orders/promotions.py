"""The price and promotion table: pure decisions over an order's lines, no I/O.

One table (validated by `PriceTable.from_dict`, loaded from YAML by orderbot/price_rules.py)
holds four kinds of rows:

- `prices`: contract, ladder (quantity) and time-limited prices. For each main line the
  matching price rule with the lowest `priority` sets the unit price (ties: the lower price);
- `promotions`, run by `priority` (lower first, ties in file order):
  `full_reduction` (满减: `threshold`/`reduction`, `repeat` for 每满), `percentage` (`percent`
  off the lines in scope), `fixed_price` (a promotional unit price, never raising one) and
  `gift` (every `buy_qty` base units of a line in scope earn `gift_qty` of `gift_sku`).
  At most one promotion per exclusion `group`; a promotion with `stackable: false` applies
  only when no other did before it, and stops every later one;
- `freight`: the first matching rule (by priority) adds a freight line, e.g. under an amount
  or to a region;
- `services`: every matching rule adds a service line (a fixed amount, or per base unit).

Every row may be scoped by customers (id, name or company), tiers, channels, SKUs,
categories, provinces/cities and a validity window. Money is Decimal; the discount never
exceeds the goods' amount, so totals never go below zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

UNIT_PRICE_STEP = Decimal("0.0001")
AMOUNT_STEP = Decimal("0.01")
ZERO = Decimal("0")


class PriceKind(StrEnum):
    CONTRACT = "contract"  # 合同价
    LADDER = "ladder"  # 阶梯价
    SPECIAL = "special"  # 限时价


class PromoKind(StrEnum):
    FULL_REDUCTION = "full_reduction"  # 满减
    PERCENTAGE = "percentage"  # 折扣
    FIXED_PRICE = "fixed_price"  # 一口价
    GIFT = "gift"  # 买赠


PROMO_KINDS = frozenset(k.value for k in PromoKind)
KIND_LABELS = {
    PriceKind.CONTRACT: "合同价", PriceKind.LADDER: "阶梯价", PriceKind.SPECIAL: "限时价",
    PromoKind.FULL_REDUCTION: "满减", PromoKind.PERCENTAGE: "折扣", PromoKind.FIXED_PRICE: "一口价",
    PromoKind.GIFT: "买赠", "freight": "运费", "service": "服务费",
}


def _at(value: dt.date | dt.datetime | None, end: bool = False) -> dt.datetime | None:
    """A bound of a validity window: a date means the whole day (UTC+8 wall clock ignored)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    t = dt.time.max if end else dt.time.min
    return dt.datetime.combine(value, t, tzinfo=dt.UTC)


class Scoped(BaseModel):
    """Who and what a row applies to. Empty lists match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    label: str = ""  # what the customer reads, e.g. 五月满减
    priority: int = 100
    enabled: bool = True
    customers: frozenset[str] = frozenset()  # customer id, name or company
    tiers: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    provinces: tuple[str, ...] = ()  # 江苏省 or 江苏
    cities: tuple[str, ...] = ()
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    # Dates are read as whole days (valid_to includes its day); kept as aware datetimes.
    valid_from: dt.datetime | dt.date | None = None
    valid_to: dt.datetime | dt.date | None = None

    @field_validator("valid_from", "valid_to", mode="after")
    @classmethod
    def _bound(cls, value: dt.datetime | dt.date | None, info: ValidationInfo) -> dt.datetime | None:
        return _at(value, end=info.field_name == "valid_to")

    @model_validator(mode="after")
    def _window(self) -> Scoped:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(f"{self.id}: valid_to is before valid_from")
        return self

    @property
    def line_scoped(self) -> bool:
        return bool(self.skus or self.categories)

    @property
    def name(self) -> str:
        return self.label or self.id

    def order_matches(self, ctx: PricingContext) -> str | None:
        """None when the order is in scope, else why not (for --explain)."""
        if not self.enabled:
            return "disabled"
        if self.customers and not (self.customers & ctx.customer_keys):
            return "customer not in scope"
        if self.tiers and ctx.tier not in self.tiers:
            return "tier not in scope"
        if self.channels and ctx.channel not in self.channels:
            return "channel not in scope"
        if self.provinces and not any((ctx.province or "").startswith(p) for p in self.provinces):
            return "province not in scope"
        if self.cities and not any((ctx.city or "").startswith(c) for c in self.cities):
            return "city not in scope"
        if (self.valid_from and ctx.at < self.valid_from) or (self.valid_to and ctx.at > self.valid_to):  # type: ignore[operator]
            return "outside its validity window"
        return None

    def line_matches(self, line: LineInput) -> bool:
        if not self.skus and not self.categories:
            return True
        return line.sku in self.skus or line.category in self.categories


class LadderStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_qty: Decimal = Field(gt=0)  # base units
    price: Decimal = Field(ge=0)


class PriceRule(Scoped):
    kind: PriceKind
    price: Decimal | None = Field(None, ge=0)  # contract / special: per base unit
    ladder: tuple[LadderStep, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> PriceRule:
        if self.kind == PriceKind.LADDER:
            if not self.ladder:
                raise ValueError(f"{self.id}: a ladder rule needs a 'ladder' list of {{min_qty, price}}")
        elif self.price is None:
            raise ValueError(f"{self.id}: a {self.kind.value} rule needs a 'price'")
        return self

    def price_for(self, base_quantity: Decimal) -> Decimal | None:
        if self.kind != PriceKind.LADDER:
            return self.price
        steps = [s for s in self.ladder if base_quantity >= s.min_qty]
        return max(steps, key=lambda s: s.min_qty).price if steps else None


class Promotion(Scoped):
    kind: PromoKind
    group: str | None = None  # exclusion group: at most one promotion of a group applies
    stackable: bool = True
    min_amount: Decimal = Field(ZERO, ge=0)  # of the lines in scope
    threshold: Decimal | None = Field(None, gt=0)  # full_reduction
    reduction: Decimal | None = Field(None, gt=0)
    repeat: bool = False  # 每满 threshold 减 reduction
    percent: Decimal | None = Field(None, gt=0, le=100)  # percentage
    price: Decimal | None = Field(None, ge=0)  # fixed_price, per base unit
    buy_qty: Decimal | None = Field(None, gt=0)  # gift: per buy_qty base units of a line…
    gift_sku: str | None = None  # …gift_qty base units of gift_sku (default: the same SKU)
    gift_qty: Decimal | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _shape(self) -> Promotion:
        need = {
            PromoKind.FULL_REDUCTION: ("threshold", "reduction"),
            PromoKind.PERCENTAGE: ("percent",),
            PromoKind.FIXED_PRICE: ("price",),
            PromoKind.GIFT: ("buy_qty", "gift_qty"),
        }[self.kind]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.id}: a {self.kind.value} promotion needs {', '.join(missing)}")
        return self


class FreightRule(Scoped):
    amount: Decimal = Field(ge=0)
    under_amount: Decimal | None = Field(None, gt=0)  # only when the goods cost less than this


class ServiceRule(Scoped):
    amount: Decimal = Field(ZERO, ge=0)  # once per order
    per_unit: Decimal = Field(ZERO, ge=0)  # per base unit of the lines in scope


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = "unversioned"
    prices: tuple[PriceRule, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    freight: tuple[FreightRule, ...] = ()
    services: tuple[ServiceRule, ...] = ()
    _index: tuple[Any, ...] | None = PrivateAttr(None)

    def promo_index(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """Promotion positions by SKU and by category, built once per table: pricing an order
        then visits only the promotions its lines can be in, not every promotion × line."""
        if self._index is None or self._index[0] is not self.promotions:
            by_sku: dict[str, list[int]] = {}
            by_cat: dict[str, list[int]] = {}
            for pos, promo in enumerate(self.promotions):
                for sku in promo.skus:
                    by_sku.setdefault(sku, []).append(pos)
                for cat in promo.categories:
                    by_cat.setdefault(cat, []).append(pos)
            self._index = (self.promotions, by_sku, by_cat)
        return self._index[1], self._index[2]

    @model_validator(mode="after")
    def _unique_ids(self) -> PriceTable:
        seen: set[str] = set()
        for row in (*self.prices, *self.promotions, *self.freight, *self.services):
            if row.id in seen:
                raise ValueError(f"rule id {row.id!r} appears twice")
            seen.add(row.id)
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriceTable:
        table = cls.model_validate(data)
        # Sorted once here, so pricing an order never sorts (stable: ties keep file order).
        return table.model_copy(update={
            "prices": tuple(sorted(table.prices, key=lambda r: r.priority)),
            "promotions": tuple(sorted(table.promotions, key=lambda r: r.priority)),
            "freight": tuple(sorted(table.freight, key=lambda r: r.priority)),
        })

    @property
    def empty(self) -> bool:
        """No enabled row: orders are priced catalog × tier and the hub skips the table."""
        return not any(r.enabled for r in (*self.prices, *self.promotions, *self.freight, *self.services))


EMPTY_TABLE = PriceTable()


@dataclass(frozen=True)
class PricingContext:
    """The order-level facts rules are scoped by."""

    customer_keys: frozenset[str]  # {"12", "张工", "恒锐五金"}
    tier: str
    channel: str
    at: dt.datetime
    province: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class LineInput:
    """One main line: list price (catalog × tier) per base unit; `locked` keeps its price
    (confirmed orders, or a price a rep set by hand)."""

    index: int
    sku: str
    category: str
    base_quantity: Decimal
    list_price: Decimal
    locked_price: Decimal | None = None


@dataclass(slots=True)
class Applied:
    """One rule that changed the order, and by how much (negative: the customer pays less)."""

    rule_id: str
    kind: str
    label: str
    effect: Decimal
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule_id, "kind": self.kind, "label": self.label,
                "effect": f"{self.effect:.2f}", "detail": self.detail}


@dataclass(slots=True)
class GiftLine:
    parent_index: int
    sku: str
    base_quantity: Decimal
    rule_id: str


@dataclass(slots=True)
class ExtraLine:
    line_type: str  # freight / service
    name: str
    amount: Decimal
    rule_id: str


@dataclass
class PricedOrder:
    unit_prices: dict[int, Decimal]  # line index → unit price
    price_rules: dict[int, str]  # line index → the rule that set its price
    goods: Decimal  # main lines after price rules and fixed prices
    discount: Decimal
    gifts: list[GiftLine] = field(default_factory=list)
    extras: list[ExtraLine] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rule id, why) for --explain


def _amount(value: Decimal) -> Decimal:
    return value.quantize(AMOUNT_STEP, rounding=ROUND_HALF_UP)


def _line_amount(price: Decimal, quantity: Decimal) -> Decimal:
    return _amount(max(price * quantity, ZERO))


def price_order(
    table: PriceTable, ctx: PricingContext, lines: Sequence[LineInput], *, explain: bool = False
) -> PricedOrder:
    """Apply the table to an order's main lines. `explain` also lists rules not applied."""
    prices = {ln.index: ln.list_price for ln in lines}
    set_by: dict[int, str] = {}
    applied: list[Applied] = []
    skipped: list[tuple[str, str]] = []

    def out_of_scope(rule: Scoped) -> bool:
        why = rule.order_matches(ctx)
        if why and explain:
            skipped.append((rule.id, why))
        return why is not None

    price_rules = [r for r in table.prices if not out_of_scope(r)]
    for ln in lines:
        if ln.locked_price is not None:
            prices[ln.index] = ln.locked_price
            continue
        best: tuple[int, Decimal, PriceRule] | None = None
        for rule in price_rules:
            if best is not None and rule.priority > best[0]:
                break
            if not rule.line_matches(ln):
                continue
            p = rule.price_for(ln.base_quantity)
            if p is not None and (best is None or p < best[1]):
                best = (rule.priority, p, rule)
        if best is not None:
            prices[ln.index] = best[1].quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)
            set_by[ln.index] = best[2].id
            effect = _line_amount(prices[ln.index], ln.base_quantity) - _line_amount(ln.list_price, ln.base_quantity)
            applied.append(Applied(best[2].id, best[2].kind.value, best[2].name, effect,
                                   f"{ln.sku} 单价 {prices[ln.index]}"))

    amounts = {ln.index: _line_amount(prices[ln.index], ln.base_quantity) for ln in lines}
    by_sku, by_cat = table.promo_index()
    scoped_of: dict[int, list[LineInput]] = {}
    for ln in lines:
        hits = by_sku.get(ln.sku, [])
        if ln.category in by_cat:
            hits = sorted(set(hits) | set(by_cat[ln.category]))
        for pos in hits:
            scoped_of.setdefault(pos, []).append(ln)
    discount = ZERO
    gifts: list[GiftLine] = []
    groups: set[str] = set()
    exclusive = False
    for pos, promo in enumerate(table.promotions):
        scoped = scoped_of.get(pos, ()) if promo.skus or promo.categories else lines
        if not scoped and not explain:
            continue
        if out_of_scope(promo):
            continue
        if exclusive:
            skipped.append((promo.id, "an earlier non-stackable promotion applied"))
            continue
        if promo.group is not None and promo.group in groups:
            skipped.append((promo.id, f"exclusion group {promo.group!r} already used"))
            continue
        if not promo.stackable and any(a.kind in PROMO_KINDS for a in applied):
            skipped.append((promo.id, "not stackable and another promotion applied"))
            continue
        base = sum((amounts[ln.index] for ln in scoped), ZERO)
        if not scoped or base < promo.min_amount:
            if explain:
                skipped.append((promo.id, "no line in scope" if not scoped else f"below min_amount {promo.min_amount}"))
            continue
        hit = _apply_promotion(promo, scoped, base, prices, amounts, set_by, gifts)
        if hit is None:
            if explain:
                skipped.append((promo.id, "its condition is not met"))
            continue
        if promo.kind in (PromoKind.FULL_REDUCTION, PromoKind.PERCENTAGE):
            discount += -hit.effect
        applied.append(hit)
        if promo.group is not None:
            groups.add(promo.group)
        exclusive = not promo.stackable

    goods = sum(amounts.values(), ZERO)
    if discount > goods:  # totals never below zero
        discount = goods
    discount = _amount(discount)
    extras = _extras(table, ctx, lines, goods - discount, applied, out_of_scope)
    return PricedOrder(prices, set_by, goods, discount, gifts, extras, applied, skipped)


def _apply_promotion(
    promo: Promotion, scoped: Sequence[LineInput], base: Decimal, prices: dict[int, Decimal],
    amounts: dict[int, Decimal], set_by: dict[int, str], gifts: list[GiftLine],
) -> Applied | None:
    kind = promo.kind.value
    if promo.kind == PromoKind.FULL_REDUCTION:
        assert promo.threshold is not None and promo.reduction is not None
        if base < promo.threshold:
            return None
        times = (base / promo.threshold).to_integral_value(ROUND_FLOOR) if promo.repeat else 1
        off = _amount(promo.reduction * times)
        return Applied(promo.id, kind, promo.name, -off, f"满 {promo.threshold} 减 {promo.reduction}")
    if promo.kind == PromoKind.PERCENTAGE:
        assert promo.percent is not None
        off = _amount(base * promo.percent / 100)
        return Applied(promo.id, kind, promo.name, -off, f"{promo.percent}% off {base:.2f}") if off else None
    if promo.kind == PromoKind.FIXED_PRICE:
        assert promo.price is not None
        effect = ZERO
        for ln in scoped:
            if ln.locked_price is None and promo.price < prices[ln.index]:
                before = amounts[ln.index]
                prices[ln.index] = promo.price.quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)
                amounts[ln.index] = _line_amount(prices[ln.index], ln.base_quantity)
                set_by[ln.index] = promo.id
                effect += amounts[ln.index] - before
        return Applied(promo.id, kind, promo.name, effect, f"单价 {promo.price}") if effect else None
    assert promo.buy_qty is not None and promo.gift_qty is not None
    new = []
    for ln in scoped:
        times = (ln.base_quantity / promo.buy_qty).to_integral_value(ROUND_FLOOR)
        if times >= 1:
            new.append(GiftLine(ln.index, promo.gift_sku or ln.sku, times * promo.gift_qty, promo.id))
    if not new:
        return None
    gifts.extend(new)
    detail = "；".join(f"赠 {g.sku} × {g.base_quantity:f}" for g in new)
    return Applied(promo.id, kind, promo.name, ZERO, detail)


def _extras(
    table: PriceTable, ctx: PricingContext, lines: Sequence[LineInput], payable: Decimal,
    applied: list[Applied], out_of_scope: Any,
) -> list[ExtraLine]:
    extras: list[ExtraLine] = []
    for rule in table.freight:
        if out_of_scope(rule):
            continue
        if rule.under_amount is not None and payable >= rule.under_amount:
            continue
        if (rule.skus or rule.categories) and not any(rule.line_matches(ln) for ln in lines):
            continue
        extras.append(ExtraLine("freight", rule.label or "运费", _amount(rule.amount), rule.id))
        applied.append(Applied(rule.id, "freight", rule.name, _amount(rule.amount), "运费"))
        break
    for svc in table.services:
        if out_of_scope(svc):
            continue
        scoped = [ln for ln in lines if svc.line_matches(ln)]
        if not scoped:
            continue
        amount = _amount(svc.amount + svc.per_unit * sum((ln.base_quantity for ln in scoped), ZERO))
        if amount > 0:
            extras.append(ExtraLine("service", svc.label or "服务费", amount, svc.id))
            applied.append(Applied(svc.id, "service", svc.name, amount, "服务费"))
    return extras


def customer_keys(customer_id: int | None, *names: str | None) -> frozenset[str]:
    """How a table may name a customer: id, name, company."""
    return frozenset(str(k) for k in (customer_id, *names) if k not in (None, ""))


def applied_summary(applied: Iterable[dict[str, Any]]) -> list[str]:
    """One Chinese line per applied rule, for the customer's summary and the rep's card."""
    out = []
    for a in applied:
        effect = Decimal(str(a.get("effect") or 0))
        kind = KIND_LABELS.get(a.get("kind", ""), a.get("kind", ""))
        money = f"-¥{-effect:,.2f}" if effect < 0 else (f"+¥{effect:,.2f}" if effect > 0 else "")
        text = f"{kind}·{a.get('label') or a.get('rule')}"
        if a.get("kind") == PromoKind.GIFT.value:
            text += f"（{a.get('detail')}）"
        out.append(f"{text} {money}".strip())
    return out
