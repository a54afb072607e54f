"""Store-then-ack and dedup, on both profiles (SQLite + memory store, PostgreSQL + Redis).

The storm: 1,000 distinct messages, each delivered 3 times concurrently, spread over two
app instances (two "processes") sharing the database and the store, as WeChat's retries
would reach different web processes behind a load balancer.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.intake import Intake, dedup_store
from bot.messages import parse
from bot.wechat_callback import WeChatCallback, setup
from bot.wechat_crypto import CallbackCrypto
from orderbot.db import make_sessionmaker
from orders.models import InboundMessage, Outbox
from tests.bot.conftest import PROFILES, count_rows
from tests.bot.wechat_sim import WeChatSim, event_xml, text_xml

N_MESSAGES, DELIVERIES, CONCURRENCY = 1000, 3, 48


def _process(engine, store, sim: WeChatSim) -> web.Application:
    """One web process: its own Intake and app, the shared database and store — consulted
    as the app does (Redis yes; the embedded memory store no: the unique key decides)."""
    crypto = CallbackCrypto(sim.token, sim.aes_key, sim.app_id)
    app = web.Application()
    setup(app, WeChatCallback(crypto, Intake(make_sessionmaker(engine), dedup_store(store))))
    return app


@PROFILES
async def test_retry_storm_stores_each_message_exactly_once(engine, store):
    sim = WeChatSim(mode="safe")
    clients = [TestClient(TestServer(_process(engine, store, sim))) for _ in range(2)]
    for c in clients:
        await c.start_server()
    try:
        # Every message is built (and encrypted) once; its three deliveries are identical
        # bytes, as WeChat's retries are, sent at the same time to both processes. Some are
        # events, deduplicated by sender + time.
        messages = [
            sim.request(
                event_xml(f"o_{i}", "subscribe", create_time=1_700_000_000 + i)
                if i % 10 == 0
                else text_xml(f"o_{i % 37}", f"订单 {i}: M8螺丝 {i} 个", msg_id=9_000_000 + i)
            )
            for i in range(N_MESSAGES)
        ]
        gate = asyncio.Semaphore(CONCURRENCY // DELIVERIES)

        async def post(n: int, params: dict, body: str) -> tuple[int, str]:
            resp = await clients[n % 2].post("/wechat/callback", params=params, data=body.encode())
            return resp.status, await resp.text()

        async def deliver_thrice(params: dict, body: str) -> list[tuple[int, str]]:
            async with gate:
                return await asyncio.gather(*(post(n, params, body) for n in range(DELIVERIES)))

        batches = await asyncio.gather(*(deliver_thrice(p, b) for p, b in messages))
        results = [r for batch in batches for r in batch]
    finally:
        for c in clients:
            await c.close()

    assert set(results) == {(200, "success")}
    assert await count_rows(engine) == (N_MESSAGES, N_MESSAGES)
    sm = make_sessionmaker(engine)
    async with sm() as session:
        ids = set((await session.exec(select(InboundMessage.id))).all())
        outbox = (await session.exec(select(Outbox).where(Outbox.kind == "inbound"))).all()
    assert {o.payload["message_id"] for o in outbox} == ids
    assert {o.dedup_key for o in outbox} == {f"inbound:{i}" for i in ids}


@PROFILES
async def test_retry_after_commit_stops_at_the_store(engine, store):
    sm = make_sessionmaker(engine)
    intake = Intake(sm, store)
    msg = parse(text_xml("o_x", "hello", msg_id=555))
    first = await intake.accept(msg)
    assert first.message_id is not None and not first.duplicate

    class NoDatabase:  # a retry that reached the database would fail loudly here
        def __call__(self):
            raise AssertionError("the retry went to the database")

    retry = await Intake(NoDatabase(), store).accept(msg)  # type: ignore[arg-type]
    assert retry.duplicate
    assert await count_rows(engine) == (1, 1)


@PROFILES
async def test_a_delivery_that_died_midway_does_not_drop_the_retry(engine, store):
    """The first process set "pending" and died before committing: the retry is stored."""
    msg = parse(text_xml("o_y", "is this lost?", msg_id=777))
    await store.set_if_absent(f"inbound:wechat:{msg.dedup_key}", "pending", 30)
    result = await Intake(make_sessionmaker(engine), store).accept(msg)
    assert result.message_id is not None and not result.duplicate
    assert await count_rows(engine) == (1, 1)


async def test_store_outage_falls_back_to_the_database(sqlite_engine):
    class DownStore:
        shared = True

        async def claim_many(self, *a, **k):
            raise ConnectionError("redis down")

        async def set_many(self, *a, **k):
            raise ConnectionError("redis down")

    intake = Intake(make_sessionmaker(sqlite_engine), DownStore())  # type: ignore[arg-type]
    msg = parse(text_xml("o_z", "still here", msg_id=888))
    assert not (await intake.accept(msg)).duplicate
    assert (await intake.accept(msg)).duplicate
    assert await count_rows(sqlite_engine) == (1, 1)


async def test_message_and_outbox_row_commit_together(sqlite_engine):
    """If queueing the work fails, the message is not stored either; the retry stores both."""
    from orderbot.stores_memory import MemoryStore

    intake = Intake(make_sessionmaker(sqlite_engine), MemoryStore())
    msg = parse(text_xml("o_w", "atomic", msg_id=999))
    async with sqlite_engine.begin() as conn:  # the second insert of the transaction fails
        await conn.exec_driver_sql(
            "CREATE TRIGGER crash BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'crash'); END"
        )
    with pytest.raises(Exception, match="crash"):
        await intake.accept(msg)
    assert await count_rows(sqlite_engine) == (0, 0)
    async with sqlite_engine.begin() as conn:
        await conn.exec_driver_sql("DROP TRIGGER crash")
    result = await intake.accept(msg)  # WeChat's retry
    assert not result.duplicate
    assert await count_rows(sqlite_engine) == (1, 1)
    await intake.close()


async def test_the_worker_is_woken_after_a_new_message_commits(sqlite_engine):
    sm = make_sessionmaker(sqlite_engine)
    woken: list[tuple[int, int]] = []

    async def rows_now() -> None:
        woken.append(await count_rows(sqlite_engine))

    pending: list[asyncio.Task] = []
    intake = Intake(sm, None, wake=lambda: pending.append(asyncio.ensure_future(rows_now())))
    msg = parse(text_xml("o_wake", "wake up", msg_id=4242))
    await intake.accept(msg)
    await intake.accept(msg)  # a retry: nothing new, no wake-up
    await asyncio.gather(*pending)
    assert woken == [(1, 1)]  # once, and the rows were already committed
    await intake.close()


async def test_sqlite_write_lock_held_elsewhere_neither_blocks_the_loop_nor_loses(
    sqlite_engine, tmp_path
):
    """Another connection holds SQLite's write lock: the batch waits on the writer thread,
    the event loop keeps serving, and the message is stored once the lock is released."""
    import sqlite3

    other = sqlite3.connect(tmp_path / "orderbot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. the outbox worker in the middle of a claim
    intake = Intake(make_sessionmaker(sqlite_engine), None)
    pending = asyncio.ensure_future(
        intake.accept(parse(text_xml("o_lock", "waiting", msg_id=5151)))
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(20):  # 0.2 s during which the loop must keep running
        await asyncio.sleep(0.01)
    assert loop.time() - started < 1.5  # a loop stuck in SQLite's busy wait would take 30 s
    assert not pending.done()  # still waiting for the lock, not failed
    other.execute("COMMIT")
    other.close()
    result = await asyncio.wait_for(pending, 10)
    assert result.message_id is not None and not result.duplicate
    assert await count_rows(sqlite_engine) == (1, 1)
    await intake.close()


async def _staggered(intake: Intake, base: int) -> list:
    """Twenty callbacks whose reading finishes over four turns of the event loop, five a
    turn, as requests arriving together do."""

    async def arrive(i: int):
        for _ in range(i // 5):
            await asyncio.sleep(0)
        return await intake.accept(parse(text_xml(f"o_{i}", f"第{i}条", msg_id=base + i)))

    return await asyncio.gather(*(arrive(i) for i in range(20)))


async def test_callbacks_arriving_together_share_one_commit(sqlite_engine, monkeypatch):
    """Callbacks read in the same moment are written in one transaction; a lone one is not
    held back; without gathering the same arrivals take several commits."""
    from bot import inbound_store

    commits: list[int] = []
    original = inbound_store.BatchWriter.write

    async def counting(self, msgs):
        ids = await original(self, msgs)
        commits.append(len(msgs))
        return ids

    monkeypatch.setattr(inbound_store.BatchWriter, "write", counting)
    loop = asyncio.get_running_loop()
    # A long cap: gathering must end because nothing more arrives, not on the timer.
    intake = Intake(make_sessionmaker(sqlite_engine), None, gather_for=5.0)
    try:
        started = loop.time()
        results = await _staggered(intake, 7700)
        assert loop.time() - started < 2.0
        assert all(r.message_id is not None for r in results)
        assert commits == [20]
        assert await count_rows(sqlite_engine) == (20, 20)

        started = loop.time()
        await intake.accept(parse(text_xml("o_alone", "一条", msg_id=7799)))
        assert commits[-1] == 1
        assert loop.time() - started < 2.0
    finally:
        await intake.close()

    commits.clear()
    eager = Intake(make_sessionmaker(sqlite_engine), None, gather_rounds=0)
    try:
        await _staggered(eager, 7800)
    finally:
        await eager.close()
    assert sum(commits) == 20 and len(commits) > 1


def test_only_a_store_shared_between_processes_is_consulted():
    from orderbot.stores_memory import MemoryStore
    from orderbot.stores_redis import RedisStore

    assert dedup_store(MemoryStore()) is None
    assert dedup_store(None) is None
    redis = RedisStore("redis://127.0.0.1:6379/0")  # not contacted
    assert dedup_store(redis) is redis


def test_fast_sqlite_statements_notice_a_new_python_default():
    """A model change adding a Python-side default must not be silently skipped."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam
    from sqlalchemy.dialects import sqlite

    from bot.inbound_store import SqliteFileWriter, _compile

    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("a", String),
                  Column("b", String, default=lambda: "x"))  # fmt: skip
    dialect = sqlite.dialect(paramstyle="named")
    _, complete = _compile(sqlite.insert(table).values(a=bindparam("a")), dialect)
    assert not complete
    _, complete = _compile(sqlite.insert(table).values(a=bindparam("a"), b=bindparam("b")), dialect)
    assert complete
    assert SqliteFileWriter(
        "unused.db", channel="wechat", kind="inbound"
    ).complete  # today's models


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_postgres_batch_is_one_statement_all_or_nothing(engine):
    """On PostgreSQL message and outbox row go in one statement: if the outbox insert
    fails, no message is left behind; the retry stores both. A dropped connection costs
    at most one failed batch (a 503, so WeChat retries), not the writer."""
    from sqlalchemy import text

    intake = Intake(make_sessionmaker(engine), None)
    msg = parse(text_xml("o_pg", "atomic", msg_id=4343))
    async with engine.begin() as conn:
        await conn.execute(text(
            "CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'crash'; END $$"
        ))  # fmt: skip
        await conn.execute(text("CREATE TRIGGER crash BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION crash()"))
    try:
        with pytest.raises(Exception, match="crash"):
            await intake.accept(msg)
        assert await count_rows(engine) == (0, 0)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER crash ON outbox"))
            await conn.execute(text("DROP FUNCTION crash()"))
    assert not (await intake.accept(msg)).duplicate
    assert await count_rows(engine) == (1, 1)

    writer = intake._batch_writer._postgres  # type: ignore[union-attr]
    async with engine.begin() as conn:  # the server drops the writer's connection
        await conn.execute(text(f"SELECT pg_terminate_backend({writer._conn.get_server_pid()})"))
    again = parse(text_xml("o_pg", "again", msg_id=4344))
    try:  # the writer may or may not have noticed the drop before this batch
        stored = await intake.accept(again)
    except Exception:  # it had not: this batch fails (503), WeChat retries, it reconnects
        stored = await intake.accept(again)
    assert stored.message_id is not None
    assert (await intake.accept(msg)).duplicate
    assert await count_rows(engine) == (2, 2)
    await intake.close()
