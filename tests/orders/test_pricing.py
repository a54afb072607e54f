"""Pricing: pack conversion, tiers, gifts and totals (pure functions, no database)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.errors import OrderError, OrderErrorCode
from orders.pricing import (
    as_quantity,
    lowest_price,
    order_totals,
    price_line,
    tier_multipliers,
    to_base_quantity,
    unit_price,
)

BOLT = SimpleNamespace(sku="HB-M6X20-ZN", unit="个", pack_unit="盒", pack_size=1000, price=Decimal("0.095"))
WIRE = SimpleNamespace(sku="W-1", unit="米", pack_unit=None, pack_size=None, price=Decimal("2.5"))


def test_packs_convert_to_base_units() -> None:
    assert to_base_quantity(BOLT, Decimal(3), "盒") == 3000
    assert to_base_quantity(BOLT, Decimal(2500), "个") == 2500
    assert to_base_quantity(BOLT, Decimal("1.5"), None) == Decimal("1.5")  # no unit: the base unit


@pytest.mark.parametrize(("product", "unit"), [(BOLT, "箱"), (BOLT, "吨"), (WIRE, "盒")])
def test_unknown_unit_is_a_coded_error(product: SimpleNamespace, unit: str) -> None:
    with pytest.raises(OrderError) as err:
        to_base_quantity(product, Decimal(1), unit)
    assert err.value.code == OrderErrorCode.UNKNOWN_UNIT
    assert err.value.details == {"sku": product.sku, "unit": unit}


@pytest.mark.parametrize("bad", [0, -3, "abc", "NaN"])
def test_quantities_must_be_positive_numbers(bad: object) -> None:
    with pytest.raises(OrderError) as err:
        as_quantity(bad)
    assert err.value.code == OrderErrorCode.INVALID_QUANTITY


def test_line_is_catalog_price_times_tier_times_base_quantity() -> None:
    line = price_line(BOLT, Decimal(3), "盒", "gold")
    assert line.base_quantity == 3000
    assert tier_multipliers()["gold"] == Decimal("0.95")
    assert line.unit_price == Decimal("0.0903")  # 0.095 × 0.95 = 0.09025, half up to 0.0001
    assert line.amount == Decimal("270.90")  # the stored unit price × 3000, so anyone can check it
    assert price_line(BOLT, Decimal(3), "盒", "standard").amount == Decimal("285.00")


def test_unknown_tier_is_a_coded_error() -> None:
    with pytest.raises(OrderError) as err:
        unit_price(BOLT, "platinum")
    assert err.value.code == OrderErrorCode.UNKNOWN_TIER


def test_gift_lines_are_free_and_not_sales() -> None:
    gift = price_line(BOLT, Decimal(1), "盒", "standard", line_type="gift")
    main = price_line(WIRE, Decimal(10), "米", "standard")
    assert (gift.unit_price, gift.amount, gift.counts_as_sales) == (0, 0, False)
    totals = order_totals([main, gift])
    assert (totals.subtotal, totals.total) == (Decimal("25.00"), Decimal("25.00"))


def test_totals_never_below_zero() -> None:
    main = price_line(WIRE, Decimal(1), "米", "standard")
    totals = order_totals([main], discount=Decimal("100"))
    assert totals.total == 0
    assert order_totals([], discount=Decimal("-5")).discount == 0


def test_rep_discount_floor() -> None:
    assert lowest_price(Decimal("0.25"), Decimal("0.05")) == Decimal("0.2375")
    assert lowest_price(Decimal("0.25"), Decimal("0")) == Decimal("0.25")


@given(
    lines=st.lists(
        st.tuples(st.integers(1, 50), st.sampled_from(["盒", "个", None]), st.booleans()), max_size=6
    ),
    discount=st.decimals(min_value=-10, max_value=10_000, places=2),
    tier=st.sampled_from(["standard", "silver", "gold", "vip"]),
)
def test_totals_count_only_sales_lines_and_never_go_negative(
    lines: list[tuple[int, str | None, bool]], discount: Decimal, tier: str
) -> None:
    priced = [price_line(BOLT, Decimal(q), unit, tier, "gift" if gift else "main") for q, unit, gift in lines]
    totals = order_totals(priced, discount)
    sales = sum((p.amount for p in priced if p.line_type != "gift"), Decimal(0))
    assert all(p.amount == 0 for p in priced if p.line_type == "gift")
    assert totals.subtotal == sales
    assert totals.total == max(sales - max(discount, Decimal(0)), Decimal(0))
    assert totals.total >= 0
