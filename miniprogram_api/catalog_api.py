"""Catalog search and product detail.

Search reuses nlp's catalog index the way message matching does: a spec or part number in
the query (M6*20, 6203-2RS) blocks candidates to that spec, product words block to their
postings, and rapidfuzz only orders what is left (ranking unspaced Chinese over the whole
catalog is poor, see DEPENDENCIES.md). With no block the whole catalog is fuzzy-ranked.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz
from sqlmodel import col, select

from miniprogram_api.endpoints import Call
from miniprogram_api.errors import not_found
from miniprogram_api.schemas import CatalogQuery, ProductOut, ProductPage
from orders.models import Product

MIN_SCORE = 70  # with nothing to block on, a fuzzy score below this is noise


def _spec_hits(catalog: Any, query: str) -> tuple[dict[str, float], bool]:
    """SKU → bonus for the specs in the query: the exact spec scores most, the same size
    family (M10 → M10×80, M5×16 → other M5 lengths) less. The flag says a spec was read."""
    from nlp.specs import find_specs

    bonus: dict[str, float] = {}
    hits = find_specs(query)
    for hit in hits:
        if hit.kind == "bearing":
            exact = catalog.spec_index.get(hit.key) or catalog.bearing_index.get(hit.base, [])
            family: list[int] = []
        else:
            exact = catalog.spec_index.get(hit.key, [])
            head = hit.key.split("x")[0]
            family = [i for key, ids in catalog.spec_index.items()
                      if key == head or key.startswith(head + "x") for i in ids]
        for i in family:
            sku = catalog.products[i].sku
            bonus[sku] = max(bonus.get(sku, 0.0), 15.0)
        for i in exact:
            sku = catalog.products[i].sku
            bonus[sku] = max(bonus.get(sku, 0.0), 40.0)
    return bonus, bool(hits)


def rank(catalog: Any, query: str, category: str = "") -> list[str]:
    """SKUs for a free-text query, best first."""
    from nlp.text import normalize

    products = catalog.products
    if category:
        products = [p for p in products if p.category == category]
    if not query.strip():
        return [p.sku for p in products]
    text = normalize(query).lower()  # trade slang and typos: 华司 → 垫片
    spec_bonus, spec_said = _spec_hits(catalog, text)
    tokens = catalog.tokens(text)
    words = [w for _, _, w, kind in tokens if kind == "word"]
    materials = {kind.split(":", 1)[1] for _, _, _, kind in tokens if kind.startswith("material:")}

    block: set[str] | None = set(spec_bonus) if spec_said else None
    if words:
        by_words = {catalog.products[i].sku for w in words for i in catalog.word_index.get(w, [])}
        block = by_words if block is None else (block & by_words) or block
    candidates = [p for p in products if block is None or p.sku in block]
    if materials:  # a material the customer names is a hard filter, as in message matching
        candidates = [p for p in candidates if p.material_class in materials] or candidates

    def score(p: Any) -> float:
        s = max(fuzz.partial_ratio(text, p.text), fuzz.WRatio(text, p.text))
        s += sum(len(w) for w in words if w in p.words) * 5 + spec_bonus.get(p.sku, 0.0)
        return s

    scored = sorted(((score(p), p.sku) for p in candidates), key=lambda x: (-x[0], x[1]))
    if block is None:
        scored = [x for x in scored if x[0] >= MIN_SCORE]
    return [sku for _, sku in scored]


def product_out(p: Product) -> ProductOut:
    return ProductOut(
        sku=p.sku, name=p.name, category=p.category, spec=p.spec, material=p.material,
        unit=p.unit, pack_unit=p.pack_unit, pack_size=p.pack_size, price=p.price,
        aliases=list(p.aliases), in_stock=p.stock > 0,
    )


async def search_products(call: Call) -> ProductPage:
    q: CatalogQuery = call.query
    async with call.services.sessionmaker() as session:
        catalog = await call.services.catalog.get(session)
        skus = rank(catalog, q.q, q.category)
        start = (q.page - 1) * q.page_size
        page = skus[start : start + q.page_size]
        rows = (await session.exec(select(Product).where(col(Product.sku).in_(page)))).all() if page else []
    by_sku = {p.sku: p for p in rows}
    items = [product_out(by_sku[s]) for s in page if s in by_sku]
    return ProductPage(items=items, total=len(skus), page=q.page, page_size=q.page_size)


async def get_product(call: Call) -> ProductOut:
    async with call.services.sessionmaker() as session:
        product = await session.get(Product, call.params["sku"])
    if product is None or not product.active:
        raise not_found("商品", "product_not_found")
    return product_out(product)
