"""begin_many, the batch's send ledger, on both databases: one `sending` row per first
attempt; a key already in the ledger (another worker's, or an earlier attempt's) is left
out of the answer and its row is not touched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from orderbot.db import make_sessionmaker
from orders.models import PushDelivery, as_utc
from workers.push_router import Channel, Delivery, begin_many

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


async def test_first_attempts_are_written_and_keys_in_the_ledger_left_out(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as s:
        assert await begin_many(s, [Delivery("reply:1", Channel.CS, "o_a", "好的" * 1500, order_id=None)], AT) \
            == {"reply:1"}
    later = AT + dt.timedelta(minutes=5)
    batch = [Delivery("reply:1", Channel.CS, "o_a", "again"), Delivery("card:7", Channel.WECOM_CARD, "rep-li"),
             Delivery("reply:2", Channel.CS, "o_b", "收到")]
    async with sm() as s:
        assert await begin_many(s, batch, later) == {"card:7", "reply:2"}
        assert await begin_many(s, [], later) == set()
    async with sm() as s:
        rows = (await s.exec(select(PushDelivery).order_by(col(PushDelivery.dedup_key)))).all()
    got = {r.dedup_key: (r.channel, r.target, r.text, r.state, r.attempts, as_utc(r.sent_at)) for r in rows}
    assert got == {
        "card:7": ("wecom_card", "rep-li", "", "sending", 1, later),
        "reply:1": ("cs", "o_a", ("好的" * 1500)[:2000], "sending", 1, AT),  # the first row stays as it was
        "reply:2": ("cs", "o_b", "收到", "sending", 1, later),
    }


async def test_finish_many_marks_sent_keeps_remote_ids_and_drops_calls_never_made(engine: AsyncEngine) -> None:
    """After a batch of calls: the sent keys are `sent` with the id each call returned (a key
    whose call returned none keeps the id it had), the calls never made are gone."""
    from workers.push_router import finish_many

    sm = make_sessionmaker(engine)
    batch = [Delivery(f"card:{i}", Channel.WECOM_CARD, "rep-li") for i in range(4)]
    async with sm() as s:
        assert await begin_many(s, batch, AT) == {f"card:{i}" for i in range(4)}
    async with sm() as s:
        row = (await s.exec(select(PushDelivery).where(PushDelivery.dedup_key == "card:2"))).one()
        row.remote_id = "earlier"
        s.add(row)
        await s.commit()
    done_at = AT + dt.timedelta(seconds=3)
    async with sm() as s:
        await finish_many(s, ["card:0", "card:1", "card:2"], ["card:3"], done_at,
                          remote_ids={"card:0": "rc-0", "card:1": "rc-1"})
    async with sm() as s:
        rows = (await s.exec(select(PushDelivery).order_by(col(PushDelivery.dedup_key)))).all()
    assert [(r.dedup_key, r.state, r.remote_id, as_utc(r.sent_at)) for r in rows] == [
        ("card:0", "sent", "rc-0", done_at), ("card:1", "sent", "rc-1", done_at), ("card:2", "sent", "earlier", done_at),
    ]
