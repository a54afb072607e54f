"""Factories for order-hub tests: a small world of reps, customers and products."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.db import make_sessionmaker
from orders.actors import Actor
from orders.models import Customer, Order, OrderEvent, OrderLine, Outbox, Product, SalesRep

COMPLETE = {
    "contact": "张工",
    "phone": "13812345678",
    "province": "江苏省",
    "city": "常州市",
    "district": "武进区",
    "address_detail": "湖塘镇长虹路88号",
    "delivery_date": "2026-03-11",
}


@dataclass
class World:
    sm: async_sessionmaker[AsyncSession]
    manager: SalesRep
    far_manager: SalesRep  # manages 浙江省 only
    rep: SalesRep
    other_rep: SalesRep
    customer: Customer
    other_customer: Customer

    @property
    def as_customer(self) -> Actor:
        return Actor.customer(self.customer.id, self.customer.openid)

    @property
    def as_rep(self) -> Actor:
        return Actor.rep(self.rep.id, self.rep.wecom_userid)

    @property
    def as_manager(self) -> Actor:
        return Actor.manager(self.manager.id, self.manager.wecom_userid)


async def build_world(engine: AsyncEngine, **customer: Any) -> World:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        manager = SalesRep(wecom_userid="mgr-wang", name="王经理", is_manager=True, regions=["江苏省"])
        far = SalesRep(wecom_userid="mgr-zhao", name="赵经理", is_manager=True, regions=["浙江省"])
        s.add_all([manager, far])
        await s.flush()
        rep = SalesRep(wecom_userid="rep-li", name="李", manager_id=manager.id, discount_limit=Decimal("0.05"))
        other = SalesRep(wecom_userid="rep-chen", name="陈", manager_id=manager.id)
        s.add_all([rep, other])
        await s.flush()
        cust = Customer(name="张工", openid="o-zhang", province="江苏省", city="常州市", rep_id=rep.id, **customer)
        other_cust = Customer(name="周", openid="o-zhou", province="江苏省", rep_id=other.id)
        s.add_all([cust, other_cust])
        s.add_all(
            [
                Product(sku="HB-M6X20-304", name="外六角螺栓 M6×20 304不锈钢", unit="个", pack_unit="盒",
                        pack_size=1000, price=Decimal("0.25"), stock=100_000),
                Product(sku="NUT-M6-ZN", name="六角螺母 M6 镀锌", unit="个", pack_unit="箱",
                        pack_size=5000, price=Decimal("0.02"), stock=50_000),
                Product(sku="WASH-M6", name="平垫片 M6", unit="个", pack_unit="包", pack_size=500,
                        price=Decimal("0.01"), stock=200),
            ]
        )
    return World(sm, manager, far, rep, other, cust, other_cust)


async def count(sm: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sm() as s:
        return (await s.exec(select(func.count()).select_from(model).where(*where))).one()


async def snapshot(sm: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything an action could have written, to compare before and after a refusal."""
    async with sm() as s:
        orders = [(o.id, o.status, o.version, o.total, o.rep_id) for o in (await s.exec(select(Order))).all()]
        lines = [(x.id, x.quantity, x.unit_price) for x in (await s.exec(select(OrderLine))).all()]
        stock = {p.sku: p.stock for p in (await s.exec(select(Product))).all()}
    return {
        "orders": sorted(orders),
        "lines": sorted(lines),
        "stock": stock,
        "events": await count(sm, OrderEvent),
        "outbox": await count(sm, Outbox),
    }


async def events_of(sm: async_sessionmaker[AsyncSession], order_id: int) -> list[OrderEvent]:
    async with sm() as s:
        stmt = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        return list((await s.exec(stmt)).all())


async def outbox_rows(sm: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sm() as s:
        return list((await s.exec(select(Outbox).order_by(Outbox.id))).all())


async def stock_of(sm: async_sessionmaker[AsyncSession], sku: str) -> int:
    async with sm() as s:
        return (await s.get(Product, sku)).stock
