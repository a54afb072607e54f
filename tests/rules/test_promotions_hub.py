"""Prices and promotions applied by the hub on create and on every edit, on both databases."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from orders import actions
from orders.actions import DraftLine, OrderEdit
from orders.models import OrderLine
from tests.orders.hub_factories import COMPLETE, World, events_of
from tests.rules.conftest import Tables

BOLTS = "HB-M6X20-304"  # 0.25 a piece, 1000 a box
NUTS = "NUT-M6-ZN"  # 0.02 a piece


async def place(w: World, *lines: DraftLine, channel: str = "wechat", **fields: object):
    return await actions.create_order(
        w.sm, w.customer.id, list(lines), w.as_customer, fields={**COMPLETE, **fields}, channel=channel, submit=True
    )


def table(**rows: object) -> dict[str, object]:
    return {"version": "t", **rows}


async def test_contract_price_for_one_customer_only(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(prices=[{"id": "c1", "kind": "contract", "customers": ["张工"], "skus": [BOLTS], "price": 0.2}]))
    mine = await place(w, DraftLine(BOLTS, 3, "盒"))
    other = await actions.create_order(w.sm, w.other_customer.id, [DraftLine(BOLTS, 3, "盒")],
                                       w.as_manager, fields=COMPLETE)
    assert (mine.lines[0].unit_price, mine.order.total) == (Decimal("0.2"), Decimal("600.00"))
    assert other.order.total == Decimal("750.00")  # 周 has no contract
    created = (await events_of(w.sm, mine.order.id))[0]
    assert created.changes["rules"][1][0]["rule"] == "c1" and created.changes["rules"][1][0]["effect"] == "-150.00"


async def test_ladder_price_by_quantity_and_repriced_on_edit(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(prices=[{"id": "lad", "kind": "ladder", "skus": [BOLTS],
                           "ladder": [{"min_qty": 5000, "price": 0.22}, {"min_qty": 10000, "price": 0.2}]}]))
    small = await place(w, DraftLine(BOLTS, 3, "盒"))
    assert small.order.total == Decimal("750.00")  # under the first step: list price
    big = await place(w, DraftLine(BOLTS, 12, "盒"))
    assert big.lines[0].unit_price == Decimal("0.2") and big.order.total == Decimal("2400.00")
    edited = await actions.edit(w.sm, small.order.id, w.as_customer, OrderEdit(quantities={small.lines[0].id: 6}),
                                reason="加量")
    assert edited.order.total == Decimal("1320.00")  # 6000 × 0.22 after the edit


async def test_time_limited_price_only_inside_its_window(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(prices=[{"id": "past", "kind": "special", "skus": [BOLTS], "price": 0.1,
                           "valid_from": "2020-01-01", "valid_to": "2020-01-31"},
                          {"id": "now", "kind": "special", "skus": [NUTS], "price": 0.01,
                           "valid_from": "2020-01-01", "valid_to": "2099-12-31"}]))
    result = await place(w, DraftLine(BOLTS, 1000), DraftLine(NUTS, 1000))
    assert [ln.unit_price for ln in result.lines] == [Decimal("0.25"), Decimal("0.01")]


async def test_full_reduction_and_percentage_in_one_exclusion_group(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(promotions=[
        {"id": "mj", "kind": "full_reduction", "threshold": 500, "reduction": 50, "repeat": True,
         "priority": 1, "group": "g", "label": "每满500减50"},
        {"id": "pct", "kind": "percentage", "percent": 10, "priority": 2, "group": "g"},
        {"id": "mp", "kind": "percentage", "percent": 5, "priority": 3, "channels": ["miniprogram"]},
    ]))
    result = await place(w, DraftLine(BOLTS, 3, "盒"))  # 750: one 500 → -50; pct is in the same group
    assert (result.order.subtotal, result.order.discount, result.order.total) == (
        Decimal("750.00"), Decimal("50.00"), Decimal("700.00"))
    assert [p["rule"] for p in result.order.promotions] == ["mj"]
    via_mp = await place(w, DraftLine(BOLTS, 3, "盒"), channel="miniprogram")
    assert via_mp.order.discount == Decimal("87.50")  # 50 + 5 % of 750: a second promotion stacks


async def test_non_stackable_promotion_stops_the_rest_and_totals_stay_at_least_zero(
    ruled: tuple[World, Tables],
) -> None:
    w, t = ruled
    t.write(table(promotions=[
        {"id": "huge", "kind": "full_reduction", "threshold": 1, "reduction": 100000, "stackable": False},
        {"id": "pct", "kind": "percentage", "percent": 10, "priority": 200},
    ]))
    result = await place(w, DraftLine(BOLTS, 3, "盒"))
    assert (result.order.discount, result.order.total) == (Decimal("750.00"), Decimal("0.00"))
    assert [p["rule"] for p in result.order.promotions] == ["huge"]


async def test_fixed_price_never_raises_a_price(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(promotions=[{"id": "fp", "kind": "fixed_price", "categories": [""], "price": 0.05}]))
    result = await place(w, DraftLine(BOLTS, 1000), DraftLine(NUTS, 1000))
    assert [ln.unit_price for ln in result.lines] == [Decimal("0.05"), Decimal("0.02")]
    assert result.order.total == Decimal("70.00")


async def test_gift_lines_linked_to_their_main_line_and_not_sales(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(promotions=[{"id": "gift", "kind": "gift", "skus": [BOLTS], "buy_qty": 1000,
                               "gift_sku": NUTS, "gift_qty": 50}]))
    result = await place(w, DraftLine(BOLTS, 3, "盒"))
    main, gift = result.lines
    assert (gift.sku, gift.base_quantity, gift.line_type, gift.counts_as_sales) == (NUTS, 150, "gift", False)
    assert gift.parent_line_id == main.id and result.order.total == Decimal("750.00")
    # an edit regenerates the gift for the new quantity, never duplicates it
    await actions.edit(w.sm, result.order.id, w.as_customer, OrderEdit(quantities={main.id: 5}), reason="减量")
    async with w.sm() as s:
        lines = (await s.exec(select(OrderLine).where(OrderLine.order_id == result.order.id))).all()
    assert sorted((ln.line_type, ln.base_quantity) for ln in lines) == [("gift", 250), ("main", 5000)]
    # removing the main line takes its gift with it
    extra = await actions.edit(w.sm, result.order.id, w.as_customer, OrderEdit(add_lines=[DraftLine(NUTS, 100)]),
                                 reason="加螺母")
    nuts = next(ln for ln in extra.lines if ln.line_type == "main" and ln.sku == NUTS)
    await actions.edit(w.sm, result.order.id, w.as_customer, OrderEdit(remove_lines=[main.id]), reason="不要了")
    async with w.sm() as s:
        left = (await s.exec(select(OrderLine).where(OrderLine.order_id == result.order.id))).all()
    assert [(ln.id, ln.line_type) for ln in left] == [(nuts.id, "main")]


async def test_freight_under_an_amount_by_region_and_a_service_line(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(
        freight=[{"id": "far", "provinces": ["新疆"], "amount": 80, "priority": 1},
                 {"id": "small", "under_amount": 500, "amount": 20, "label": "运费", "priority": 2}],
        services=[{"id": "pack", "label": "包装费", "skus": [NUTS], "per_unit": 0.001}],
    ))
    small = await place(w, DraftLine(NUTS, 10000))  # 200 of nuts: under 500 → freight 20, packing 10
    assert sorted((ln.line_type, ln.amount) for ln in small.lines if ln.line_type != "main") == [
        ("freight", Decimal("20.00")), ("service", Decimal("10.00"))]
    assert small.order.total == Decimal("230.00") and small.order.status == "pending"
    big = await place(w, DraftLine(BOLTS, 3, "盒"))
    assert [ln.line_type for ln in big.lines] == ["main"]
    moved = await actions.edit(w.sm, big.order.id, w.as_customer,
                               OrderEdit(fields={"province": "新疆维吾尔自治区", "city": "乌鲁木齐市"}),
                               reason="换收货地")
    assert moved.order.total == Decimal("830.00")  # the new region's freight, applied on edit
    edited = (await events_of(w.sm, big.order.id))[-1]
    assert edited.type == "edited" and edited.changes["rules"][1][0]["rule"] == "far"


async def test_broken_table_edit_keeps_the_last_good_one(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(table(promotions=[{"id": "pct", "kind": "percentage", "percent": 10}]))
    assert (await place(w, DraftLine(BOLTS, 3, "盒"))).order.total == Decimal("675.00")
    t.prices.write_text("version: t\npromotions:\n  - id: pct\n    kind: percentage\n    percent: 200\n")
    assert (await place(w, DraftLine(BOLTS, 3, "盒"))).order.total == Decimal("675.00")
