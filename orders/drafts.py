"""Between a Draft (nlp/, contracts/extraction.md) and the hub: the catalog index kept in step
with the product table, the conversation's Reader, and draft → order lines and fields.

Every channel that turns words into orders (WeChat chat, a rep's pasted inquiry, the
mini-program's draft preview, OCR jobs) reads the catalog through one CatalogSource, so an
`orderbot import-catalog` is seen by all of them on their next message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from nlp import Catalog, Draft, apply_followup, extract_draft
from orders import pricing, repricing
from orders.actions import DraftLine
from orders.errors import OrderError, OrderErrorCode
from orders.models import Product, utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER_FIELDS = ("contact", "phone", "delivery_date", "rush", "remarks")


def today_in_china(now: dt.datetime | None = None) -> dt.date:
    """The day a message arrived on the customer's calendar (relative dates resolve to it)."""
    return (now or utcnow()).astimezone(SHANGHAI).date()


class CatalogSource:
    """nlp.Catalog over the active products, rebuilt only when the product table changed
    (row count or latest updated_at), so the index is built once per catalog version."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None = None,
                 catalog: Catalog | None = None) -> None:
        self.sessionmaker = sessionmaker
        self._fixed = catalog  # tests may pin a catalog
        self._stamp: tuple[Any, ...] | None = None
        self._catalog: Catalog | None = catalog
        self.products: dict[str, PriceRow] = {}  # what pricing needs of each active product

    async def get(self, session: AsyncSession | None = None) -> Catalog:
        if self._fixed is not None:
            return self._fixed
        if session is None:
            assert self.sessionmaker is not None, "CatalogSource needs a session or a sessionmaker"
            async with self.sessionmaker() as own:
                return await self._load(own)
        return await self._load(session)

    async def _load(self, session: AsyncSession) -> Catalog:
        stamp = tuple((await session.exec(select(func.count(), func.max(Product.updated_at)))).one())  # type: ignore[call-overload]
        if self._catalog is None or stamp != self._stamp:
            products = (await session.exec(select(Product).where(Product.active))).all()
            self._catalog = Catalog.from_rows([
                {"sku": p.sku, "name": p.name, "category": p.category, "spec": p.spec,
                 "material": p.material, "unit": p.unit, "pack_unit": p.pack_unit or "",
                 "pack_size": p.pack_size or "", "price": str(p.price), "aliases": list(p.aliases or [])}
                for p in products
            ])
            self.products = {p.sku: PriceRow(p.sku, p.unit, p.pack_unit, p.pack_size, Decimal(p.price),
                                             p.category or "", p.name)
                             for p in products}
            self._stamp = stamp
        return self._catalog

    async def reader(self, today: dt.date, tier: str = "standard") -> DraftReader:
        """The conversation's reader for one day and one customer's price tier."""
        catalog = await self.get()
        if not self.products:  # a pinned catalog (tests): its own list prices
            return DraftReader.for_catalog(catalog, today, tier)
        return DraftReader(catalog, today, self.products, tier)


@dataclass(frozen=True)
class PriceRow:
    """The fields of a Product that pricing reads (pricing.ProductLike), kept with the index."""

    sku: str
    unit: str
    pack_unit: str | None
    pack_size: int | None
    price: Decimal
    category: str = ""
    name: str = ""


@dataclass(frozen=True)
class RecapPricing:
    """The price table and the order-level facts (customer, channel, time) a recap is priced
    with — the same ones orders.repricing applies when the order is placed."""

    table: Any  # orders.promotions.PriceTable
    customer: Any  # orders.models.Customer
    channel: str
    at: dt.datetime


def recap_pricing(session: AsyncSession, customer: Any, channel: str, at: dt.datetime) -> RecapPricing | None:
    """The price table in force for this session's database, for a recap (None: no table)."""
    from orders.promotions import EMPTY_TABLE

    table = repricing.table_from(session, repricing.PRICE_RULES, EMPTY_TABLE)
    return None if table.empty else RecapPricing(table, customer, channel, at)


@dataclass
class Priced:
    """A draft's recap: its lines (with the table's gift and extra lines after the draft's),
    the total the order will have, the discount and one Chinese line per rule applied."""

    lines: list[dict[str, Any]]
    total: Decimal
    discount: Decimal = Decimal(0)
    promotions: list[str] = field(default_factory=list)


class DraftReader:
    """conversation.Reader over nlp/ with one catalog, one day and one price tier."""

    def __init__(self, catalog: Catalog, today: dt.date, products: dict[str, PriceRow],
                 tier: str = "standard", pricing: RecapPricing | None = None) -> None:
        self.catalog, self.today, self.products, self.tier = catalog, today, products, tier
        self.pricing = pricing  # None: list prices only (no price table in force)

    @classmethod
    def for_catalog(cls, catalog: Catalog, today: dt.date, tier: str = "standard") -> DraftReader:
        """A reader pricing by the catalog's own list prices (no product table behind it)."""
        products = {
            p.sku: PriceRow(p.sku, p.unit, p.pack_unit or None, int(p.pack_size) if p.pack_size else None,
                            Decimal(str(p.price or 0)), p.category or "", p.name)
            for p in catalog.products
        }
        return cls(catalog, today, products, tier)

    def extract(self, text: str) -> dict[str, Any]:
        return extract_draft(text, self.today, self.catalog).to_dict()

    def followup(self, draft: dict[str, Any], text: str) -> dict[str, Any]:
        return apply_followup(Draft.from_dict(draft), text, self.today, self.catalog).to_dict()

    def name_of(self, sku: str) -> str | None:
        product = self.catalog.by_sku.get(sku)
        return product.name if product is not None else None

    def price(self, draft: dict[str, Any]) -> Priced:
        """The recap's prices, as the hub will price the order: orders.pricing (the pack
        conversion and the customer's tier), then the price table through orders.repricing
        (contract/ladder prices, promotions, gifts, freight) — shown before 确认, not after.
        A line pricing refuses (no product, a unit it cannot convert, no quantity) has amount
        None: the recap says a rep will check it."""
        lines: list[dict[str, Any]] = []
        items: list[repricing.QuoteItem] = []
        for item in draft.get("items") or []:
            product = self.products.get(item.get("sku") or "")
            try:
                if product is None:
                    raise OrderError(OrderErrorCode.PRODUCT_NOT_FOUND, "not in the catalog")
                priced = pricing.price_line(product, item.get("quantity") or 0, item.get("unit"), self.tier)
            except OrderError:
                lines.append({**item, "unit_price": None, "amount": None})
                continue
            items.append(repricing.QuoteItem(len(lines), product.sku, product.name, product.category,
                                             priced.base_quantity, product.unit, priced.unit_price))
            lines.append({**item, "unit_price": priced.unit_price, "amount": priced.amount})
        total = sum((ln["amount"] for ln in lines if ln["amount"] is not None), Decimal(0))
        if self.pricing is None or not items or self.pricing.table.empty:
            return Priced(lines, total)
        address = draft.get("address") or {}
        ctx = repricing.context_for(self.pricing.customer, self.pricing.channel, self.pricing.at,
                                    address.get("province"), address.get("city"))
        names = {sku: row.name for sku, row in self.products.items() if row.name}
        q = repricing.quote(self.pricing.table, ctx, items, names)
        for it in items:
            lines[it.index] = {**lines[it.index], "unit_price": q.unit_prices[it.index], "amount": q.amounts[it.index]}
        return Priced([*lines, *q.extra_lines], q.total, q.discount, q.summary)


def draft_lines(draft: dict[str, Any]) -> list[DraftLine]:
    return [
        DraftLine(
            sku=item.get("sku"), quantity=item.get("quantity") or 0, unit=item.get("unit"),
            raw=item.get("raw"), name=item.get("name"),
        )
        for item in draft.get("items") or []
    ]


def draft_fields(draft: dict[str, Any]) -> dict[str, Any]:
    fields = {k: draft.get(k) for k in ORDER_FIELDS if draft.get(k) not in (None, "")}
    if isinstance(fields.get("delivery_date"), str):
        fields["delivery_date"] = dt.date.fromisoformat(fields["delivery_date"])
    address = draft.get("address") or {}
    for key, target in (("province", "province"), ("city", "city"), ("district", "district"),
                        ("detail", "address_detail")):
        if address.get(key):
            fields[target] = address[key]
    return fields
