"""A held order's response timer: remind the manager, then escalate, each once (both databases)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from orders import actions
from orders.actions import DraftLine
from orders.models import OrderEvent, Outbox
from orders.risk import RiskTable
from tests.orders.hub_factories import COMPLETE, World
from tests.rules.conftest import Tables
from workers.hold_sla import sweep_held

TABLE = RiskTable.from_dict({"rules": [{"id": "locker", "kind": "parcel_locker", "min_amount": 1}],
                             "hold_sla": {"remind_after_minutes": 30, "escalate_after_minutes": 120}})


async def test_held_order_reminds_then_escalates_once_each(ruled: tuple[World, Tables]) -> None:
    w, t = ruled
    t.write(risk=TABLE.model_dump(mode="json"))
    held = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 1, "盒")], w.as_customer,
                                      fields={**COMPLETE, "address_detail": "丰巢快递柜"}, submit=True)
    assert held.order.status == "on_hold"
    start = dt.datetime.now(dt.UTC)
    assert (await sweep_held(w.sm, TABLE, start + dt.timedelta(minutes=10))).reminded == []
    first = await sweep_held(w.sm, TABLE, start + dt.timedelta(minutes=31))
    again = await sweep_held(w.sm, TABLE, start + dt.timedelta(minutes=32))
    late = await sweep_held(w.sm, TABLE, start + dt.timedelta(minutes=121))
    assert (first.reminded, again.reminded, late.escalated) == ([held.order.number], [], [held.order.number])
    assert (await sweep_held(w.sm, TABLE, start + dt.timedelta(minutes=500))).escalated == []
    async with w.sm() as s:
        rows = (await s.exec(select(Outbox).where(Outbox.dedup_key.startswith("hold-sla:")))).all()
        kinds = [e.type for e in (await s.exec(select(OrderEvent).where(OrderEvent.order_id == held.order.id))).all()]
    assert [(r.target, r.payload["type"]) for r in rows] == [("mgr-wang", "hold_remind"), ("", "hold_escalate")]
    assert "丰巢" in rows[0].payload["text"] or "快递柜" in rows[0].payload["text"]
    assert kinds[-2:] == ["hold_reminded", "hold_escalated"]
    released = await actions.release(w.sm, held.order.id, w.as_manager, "已核实")
    assert released.order.status == "pending"
    assert (await sweep_held(w.sm, TABLE, start + dt.timedelta(minutes=600))).reminded == []
