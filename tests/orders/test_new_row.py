"""orders.models.new_row: the placing round's fast way to build an Order and its lines must
write the same rows the constructor would, and refuse what the constructor would let by."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from orders.models import Order, OrderLine, new_row
from tests.orders.hub_factories import build_world

ORDER = {"number": "SO20261206-9001", "subtotal": Decimal("12.5"), "total": Decimal("12.5"),
         "phone": "13800138000", "city": "常州市"}


def test_same_fields_and_defaults_as_the_constructor() -> None:
    built, constructed = new_row(Order, customer_id=1, **ORDER), Order(customer_id=1, **ORDER)
    skip = {"created_at", "updated_at"}  # each stamped when built
    assert {k: v for k, v in built.model_dump().items() if k not in skip} == \
        {k: v for k, v in constructed.model_dump().items() if k not in skip}
    assert built.status == "draft" and built.version == 1 and built.id is None
    assert built.created_at.tzinfo is not None


def test_mutable_defaults_are_not_shared_between_rows() -> None:
    a, b = new_row(Order, customer_id=1, number="A"), new_row(Order, customer_id=1, number="B")
    a.promotions.append({"rule": "满减"})
    assert b.promotions == []


def test_an_unknown_or_missing_field_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown fields \\['totl'\\]"):
        new_row(Order, customer_id=1, number="X", totl=Decimal(1))
    with pytest.raises(TypeError, match="missing \\['base_quantity', 'base_unit'"):
        new_row(OrderLine, order_id=1, quantity=Decimal(1), unit="个")


async def test_rows_built_so_are_inserted_updated_and_read_back(engine: AsyncEngine) -> None:
    world = await build_world(engine)
    async with world.sm() as s, s.begin():
        order = new_row(Order, customer_id=world.customer.id, **ORDER)
        s.add(order)
        await s.flush()
        line = new_row(OrderLine, order_id=order.id, sku="HB-M6X20-304", name="外六角螺栓",
                       quantity=Decimal(3), unit="盒", base_quantity=Decimal(3000), base_unit="个",
                       unit_price=Decimal("0.25"), amount=Decimal(750))
        s.add(line)
        await s.flush()
        order.total = Decimal(750)  # changed after the insert: an UPDATE, as with a constructed row
    async with world.sm() as s:
        read = (await s.exec(select(Order).where(Order.number == ORDER["number"]))).one()
        lines = (await s.exec(select(OrderLine).where(OrderLine.order_id == read.id))).all()
    assert (read.total, read.phone, read.status, read.promotions) == (Decimal(750), "13800138000", "draft", [])
    assert [(ln.sku, ln.base_quantity, ln.line_type, ln.counts_as_sales) for ln in lines] == \
        [("HB-M6X20-304", Decimal(3000), "main", True)]
