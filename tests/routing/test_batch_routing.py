"""Orders placed one after another in one transaction (a batch of chat confirmations) are
routed as if each had its own: round robin walks the team, fewest-open counts the orders
placed just before, and the next transaction continues from the cursors the batch left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot.db import make_sessionmaker
from orderbot.routing_rules import DEFAULT_RULES_PATH, load_rules
from orders import Idempotency, place_order
from orders.actions import DraftLine
from orders.actors import Actor
from orders.assignment import RoutingSnapshot
from orders.models import Customer, Product, SalesRep

RULES = load_rules(DEFAULT_RULES_PATH)
TOMORROW = dt.date.today() + dt.timedelta(days=2)


@pytest.fixture
async def sm(engine: AsyncEngine):
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add_all([
            SalesRep(id=1, wecom_userid="east-mgr", name="王经理", team="east", is_manager=True),
            SalesRep(id=2, wecom_userid="east-a", name="小李", team="east", manager_id=1),
            SalesRep(id=3, wecom_userid="east-b", name="小赵", team="east", manager_id=1),
            SalesRep(id=5, wecom_userid="ka-a", name="大客户甲", team="key-accounts"),
            SalesRep(id=6, wecom_userid="ka-b", name="大客户乙", team="key-accounts"),
            SalesRep(id=8, wecom_userid="general-a", name="综合", team="general"),
            Product(sku="B1", name="螺栓", price=Decimal("1.00"), stock=10_000_000),
        ])
        s.add_all([Customer(id=i, name=f"客户{i}") for i in range(1, 9)])
    return sm


async def place(s, n: int, quantity: int, routing: RoutingSnapshot | None) -> int | None:  # type: ignore[no-untyped-def]
    placed = await place_order(
        s, Idempotency(f"test:{n}", f"msg:{n}"), customer_id=n, lines=[DraftLine("B1", quantity)],
        actor=Actor.customer(n, f"o{n}"), channel="wechat", rules=RULES, routing=routing,
        fields={"phone": f"1390000000{n}", "province": "江苏省", "city": "常州市",
                "address_detail": "长虹路88号", "delivery_date": TOMORROW},
    )
    return placed.order.rep_id


async def test_a_batch_routes_as_one_order_at_a_time(sm) -> None:
    # when six orders are placed in one transaction: four small ones from Jiangsu (round robin
    # in east) and two big ones (fewest open orders among the key-account reps)
    async with sm() as s, s.begin(), RoutingSnapshot.held(s) as routing:
        reps = [await place(s, n, q, routing) for n, q in
                [(1, 100), (2, 100), (3, 90_000), (4, 100), (5, 90_000), (6, 100)]]
    small, big = [reps[0], reps[1], reps[3], reps[5]], [reps[2], reps[4]]
    # then east alternates and the two big orders go to different reps
    assert set(small) == {2, 3} and small[0] != small[1] and small[0] == small[2] and small[1] == small[3]
    assert set(big) == {5, 6}
    # and the next order, in a transaction of its own, continues the rotation
    async with sm() as s, s.begin():
        assert await place(s, 7, 100, None) == small[0]
