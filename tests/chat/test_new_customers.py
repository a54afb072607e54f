"""customers_for_openids, on both databases: known openids give their record, new ones get
a record with the model's defaults in one insert, and an openid asked twice is one customer."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select

from bot.chat import customers_for_openids
from orderbot.db import make_sessionmaker
from orders.models import Customer


async def test_known_customers_are_found_and_new_ones_created_with_defaults(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add(Customer(openid="o_known", name="张工", tier="gold", phones=["13812345678"]))
    async with sm() as s, s.begin():
        got = await customers_for_openids(s, ["o_known", "o_new", "o_new", "o_other"])
    assert sorted(got) == ["o_known", "o_new", "o_other"]
    assert (got["o_known"].name, got["o_known"].tier) == ("张工", "gold")
    new = got["o_new"]
    assert new.id is not None and new.id != got["o_other"].id
    assert (new.name, new.tier, new.phones, Decimal(new.credit_limit), new.prepayment, new.payment_terms_days) \
        == ("", "standard", [], Decimal(0), False, 30)
    assert new.created_at is not None and new.last_address is None
    async with sm() as s, s.begin():  # asked again: the same records, none added
        again = await customers_for_openids(s, ["o_new", "o_known"])
        assert {k: c.id for k, c in again.items()} == {"o_new": new.id, "o_known": got["o_known"].id}
        assert await s.scalar(select(func.count()).select_from(Customer)) == 3
