"""save_sessions, a conversation batch's sessions in one upsert, on both databases: new users
get a row, known users' rows are replaced (version + 1, the draft and stage as now), a
draft untouched for the TTL reads as idle."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation import SessionState
from bot.turns import SESSION_TTL, load_sessions, save_sessions
from orderbot.db import make_sessionmaker
from orders.models import Customer, as_utc

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
DRAFT = {"items": [{"sku": "HB-M6X20-304", "quantity": "5000", "unit": "个"}], "phone": "13812345678"}


async def test_sessions_are_inserted_then_replaced_in_one_batch(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as s, s.begin():
        s.add_all([Customer(id=5, name="张工"), Customer(id=7, name="李姐")])
    async with sm() as s, s.begin():
        await save_sessions(s, "wechat", {"o_a": (None, SessionState("collecting", DRAFT)),
                                          "o_b": (7, SessionState("confirming", {"phone": "13900001111"}))}, AT)
    later = AT + dt.timedelta(minutes=3)
    async with sm() as s, s.begin():
        await save_sessions(s, "wechat", {"o_a": (5, SessionState("confirming", DRAFT, {"choice": 1})),
                                          "o_c": (None, SessionState())}, later)
    async with sm() as s:
        rows = await load_sessions(s, "wechat", ["o_a", "o_b", "o_c", "o_x"], later)
    assert sorted(rows) == ["o_a", "o_b", "o_c"]
    a, b = rows["o_a"], rows["o_b"]
    assert (a.customer_id, a.stage, a.draft, a.pending_choice, a.version) == (5, "confirming", DRAFT, {"choice": 1}, 2)
    assert as_utc(a.updated_at) == later and as_utc(a.expires_at) == later + SESSION_TTL
    assert (b.customer_id, b.stage, b.version) == (7, "confirming", 1)  # not in the second batch: as it was
    async with sm() as s:  # past its TTL the draft reads as idle
        stale = await load_sessions(s, "wechat", ["o_b"], AT + SESSION_TTL + dt.timedelta(seconds=1))
    assert (stale["o_b"].stage, stale["o_b"].draft) == ("idle", None)
