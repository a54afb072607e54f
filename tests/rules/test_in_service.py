"""The tables as `orderbot serve` uses them: ORDERBOT_PRICE_RULES / ORDERBOT_RISK_RULES reach
every session of the service, so an intake that knows nothing of them (the mini-program API
here) gets the promotion and the hold, and the order keeps the client's IP."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from orderbot.db import make_sessionmaker
from orders import actions
from orders.actors import Actor
from orders.models import Order, OrderEvent
from tests.miniprogram.conftest import in_service
from tests.miniprogram.test_api import order_body

PRICES = """version: svc
promotions:
  - id: mp-5
    kind: percentage
    label: 小程序95折
    channels: [miniprogram]
    percent: 5
"""
RISK = """version: svc
rules:
  - id: locker
    kind: parcel_locker
    min_amount: 1000
"""


async def test_mini_program_order_gets_the_promotion_and_the_hold(
    engine: AsyncEngine, shared_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "p.yaml").write_text(PRICES, encoding="utf-8")
    (tmp_path / "r.yaml").write_text(RISK, encoding="utf-8")
    tables = {"ORDERBOT_PRICE_RULES": str(tmp_path / "p.yaml"), "ORDERBOT_RISK_RULES": str(tmp_path / "r.yaml")}
    async with in_service(engine, shared_dir, **tables) as (client, state):
        token = (await (await client.post("/mp/v1/auth/login", json={"code": state.issue_login_code("o-svc")})).json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        small = await client.post("/mp/v1/orders", json=order_body(qty=2000),
                                  headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        body = order_body(qty=8000)
        body["address"]["detail"] = "湖塘镇菜鸟驿站"
        locker = await client.post("/mp/v1/orders", json=body, headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        assert small.status == 201 and locker.status == 201, await locker.text()
        assert (await small.json())["status"] == "pending" and (await locker.json())["status"] == "on_hold"
        # line_type: a customer orders products; a gift or freight line is the desk's to add
        gifted = order_body(qty=100)
        gifted["items"].append({**gifted["items"][0], "line_type": "gift"})
        refused = await client.post("/mp/v1/orders", json=gifted, headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        assert (refused.status, (await refused.json())["code"]) == (422, "line_type_forbidden")
        # the hold is released by an admin (with a reason), then the customer cancels: a reason is required
        held = await locker.json()
        sm = make_sessionmaker(engine)
        async with sm() as s:
            held_id = (await s.exec(select(Order.id).where(Order.number == held["number"]))).one()
        released = await actions.release(sm, held_id, Actor.admin("admin"), "客户确认驿站可收")
        assert released.order.status == "pending"
        cancel = f"/mp/v1/orders/{held['number']}/cancel"
        no_reason = await client.post(cancel, json={}, headers=auth)
        assert (no_reason.status, (await no_reason.json())["code"]) == (422, "reason_required")
        done = await client.post(cancel, json={"reason": "改到门店自提"}, headers=auth)
        assert done.status == 200 and (await done.json())["status"] == "cancelled"
    sm = make_sessionmaker(engine)
    async with sm() as s:
        orders = (await s.exec(select(Order).order_by(Order.id))).all()
        hits = (await s.exec(select(OrderEvent).where(OrderEvent.type == "risk_hit"))).all()
    first = orders[0]
    assert first.channel == "miniprogram" and first.source_ip == "127.0.0.1"
    assert first.discount == (first.subtotal * Decimal("0.05")).quantize(Decimal("0.01")) > 0
    assert [p["rule"] for p in first.promotions] == ["mp-5"]
    assert [(h.order_id, h.actor_id) for h in hits] == [(orders[1].id, "rule:locker")]
