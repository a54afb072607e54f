"""The daily digest: due at the configured time, to every manager, once, and again the next day."""

from __future__ import annotations

import datetime as dt

import pytest

from board.digest import ensure_scheduled, next_day, parse_at, run_at
from orders import actions
from orders.actors import Actor
from tests.push.harness import MANAGER_ID, World


def test_the_digest_time_is_china_time_and_bad_values_are_refused() -> None:
    at = parse_at("08:30")
    assert run_at(dt.date(2026, 3, 2), at) == dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)
    before = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)  # 08:00 in China
    assert next_day(before, at) == dt.date(2026, 3, 2)
    assert next_day(before + dt.timedelta(hours=1), at) == dt.date(2026, 3, 3)
    assert parse_at("") is None
    with pytest.raises(ValueError, match="HH:MM"):
        parse_at("8点半")


async def test_managers_get_yesterdays_digest_once_at_the_configured_time(embedded_world: World) -> None:
    w = embedded_world
    held = await w.place_order(quantity=200_000)  # held: a red order on the board
    await actions.release(w.sm, held, Actor.manager(w.ids["manager"], MANAGER_ID), "先放行")
    await actions.hold(w.sm, held, Actor.manager(w.ids["manager"], MANAGER_ID), "客户要求暂停")
    await w.drain()
    w.standin.sent.clear()
    day = await ensure_scheduled(w.sm, w.settings)
    assert day is not None
    assert await ensure_scheduled(w.sm, w.settings) == day  # a second replica's startup: no second row
    await w.drain()
    assert w.sent(to=MANAGER_ID) == []  # not due yet
    w.advance((run_at(day, parse_at(w.settings.digest_at)) - w.clock.now()).total_seconds() + 1)
    await w.drain()
    await w.drain()
    texts = [e for e in w.sent(to=MANAGER_ID)]
    assert len(texts) == 1
    content = str(texts[0]["payload"])
    assert "订单日报" in content and "当前红色 1 单" in content and "/board/" in content
    nxt = await w.outbox(kind="board_digest", state="pending")
    assert [r.payload["day"] for r in nxt] == [(day + dt.timedelta(days=1)).isoformat()]
