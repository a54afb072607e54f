"""Two customer records of one person merged by phone: every row moves, nothing is left
pointing at the removed record (both databases)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import actions
from orders.actors import Actor
from orders.customers import customer_references, merge_customers
from orders.models import (
    ChatSession,
    Customer,
    CustomerAddress,
    IdempotencyRecord,
    OcrJob,
    Order,
    OrderEvent,
    Payment,
)
from tests.chat.conftest import Chat, chat  # noqa: F401  (fixture)
from tests.chat.test_conversation_e2e import FULL_ORDER
from tests.miniprogram.conftest import Mp, mp  # noqa: F401  (fixture)
from tests.miniprogram.test_api import key, order_body
from tests.orders.hub_factories import COMPLETE, World
from tests.rules.conftest import Tables

PHONE = COMPLETE["phone"]


async def pointing_at(sm: async_sessionmaker[AsyncSession], customer_id: int) -> dict[str, int]:
    """Rows of every table with a foreign key to customer.id that name `customer_id`."""
    out = {}
    async with sm() as s:
        for table, column in customer_references():
            n = (await s.exec(sa_select(func.count()).select_from(table).where(table.c[column] == customer_id))).one()[0]
            if n:
                out[f"{table.name}.{column}"] = n
    return out


async def orphans(sm: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows naming a customer that does not exist (SQLite does not enforce the keys by itself)."""
    out = {}
    async with sm() as s:
        ids = sa_select(Customer.id)
        for table, column in customer_references():
            stmt = sa_select(func.count()).select_from(table).where(
                table.c[column].is_not(None), table.c[column].not_in(ids))
            n = (await s.exec(stmt)).one()[0]
            if n:
                out[f"{table.name}.{column}"] = n
    return out


def test_every_table_that_references_a_customer_is_found() -> None:
    found = {f"{t.name}.{c}" for t, c in customer_references()}
    assert {"orders.customer_id", "chat_session.customer_id", "customer_address.customer_id",
            "ocr_job.customer_id", "payment.customer_id"} <= found


async def test_merge_moves_every_row_and_leaves_no_orphan(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    async with w.sm() as s, s.begin():
        keep = Customer(name="张工", company="常州恒锐五金", mp_openid="mp-zhang", phones=[PHONE], tier="gold",
                        credit_limit=Decimal(5000))
        gone = Customer(name="张工", openid="o-zhang-2", unionid="u-zhang", phones=[PHONE, "13700000000"],
                        last_contact="张工 " + PHONE, rep_id=w.rep.id)
        s.add_all([keep, gone])
        await s.flush()
        s.add_all([
            CustomerAddress(customer_id=gone.id, contact="张工", phone=PHONE, province="江苏省", city="常州市",
                            detail="湖塘镇长虹路88号"),
            Payment(reference="BANK-1", customer_id=gone.id, amount=Decimal(100)),
            ChatSession(channel="wechat", user_key="o-zhang-2", customer_id=gone.id, stage="collecting",
                        draft={"items": [{"raw": "M6螺栓 500个"}]}),
            OcrJob(customer_id=gone.id, source="wechat", media_id="media-1"),
            IdempotencyRecord(scope=f"customer:{gone.id}", key="k1"),
        ])
        keep_id, gone_id = keep.id, gone.id
    draft = await actions.create_order(w.sm, gone_id, [actions.DraftLine("HB-M6X20-304", 500)],
                                       Actor.customer(gone_id, "o-zhang-2"), fields=COMPLETE)
    before = await pointing_at(w.sm, gone_id)
    assert set(before) == {"orders.customer_id", "chat_session.customer_id", "customer_address.customer_id",
                           "ocr_job.customer_id", "payment.customer_id"}
    async with w.sm() as s, s.begin():
        report = await merge_customers(s, keep_id, gone_id)
    assert report.moved == {**before, "idempotency_record.scope": 1}
    assert await pointing_at(w.sm, gone_id) == {} and await orphans(w.sm) == {}
    async with w.sm() as s:
        assert await s.get(Customer, gone_id) is None
        kept = await s.get(Customer, keep_id)
        session = (await s.exec(select(ChatSession).where(ChatSession.user_key == "o-zhang-2"))).one()
        order = await s.get(Order, draft.order.id)
        scope = (await s.exec(select(IdempotencyRecord.scope).where(IdempotencyRecord.key == "k1"))).one()
    assert kept is not None and (kept.openid, kept.mp_openid, kept.unionid) == ("o-zhang-2", "mp-zhang", "u-zhang")
    assert kept.phones == [PHONE, "13700000000"] and kept.rep_id == w.rep.id
    assert (kept.tier, kept.credit_limit) == ("gold", Decimal(5000))  # the kept record's terms stay
    assert session.customer_id == keep_id and session.draft == {"items": [{"raw": "M6螺栓 500个"}]}  # the open draft moved
    assert order is not None and order.customer_id == keep_id and scope == f"customer:{keep_id}"


async def test_chat_order_with_the_mini_programs_phone_leaves_one_customer(chat: Chat) -> None:  # noqa: F811
    # given a mini-program customer who gave this phone, with an address in their book
    async with chat.sm() as s, s.begin():
        mp = Customer(name="张工", mp_openid="mp-zhang", phones=[PHONE])
        s.add(mp)
        await s.flush()
        s.add(CustomerAddress(customer_id=mp.id, contact="张工", phone=PHONE, detail="湖塘镇长虹路88号"))
        mp_id = mp.id
    # when the same person orders in the Official Account chat with that phone
    await chat.say("o_zhang_chat", FULL_ORDER)
    await chat.say("o_zhang_chat", "确认")
    # then one customer holds both identities, the order and the chat's draft session
    async with chat.sm() as s:
        customers = (await s.exec(select(Customer))).all()
        [order] = (await s.exec(select(Order))).all()
        session = (await s.exec(select(ChatSession).where(ChatSession.user_key == "o_zhang_chat"))).one()
    [only] = [c for c in customers if PHONE in (c.phones or [])]
    assert (only.id, only.openid, only.mp_openid) == (mp_id, "o_zhang_chat", "mp-zhang")
    assert order.customer_id == mp_id and session.customer_id == mp_id
    assert len(customers) == 1 and await orphans(chat.sm) == {}
    assert "SO" in (await chat.say("o_zhang_chat", "我的订单"))[-1]


async def test_mini_program_order_with_the_chats_phone_takes_the_chat_record_in(mp: Mp) -> None:  # noqa: F811
    # given a customer known from the Official Account chat: an order, and an open draft
    sm = mp.services.sessionmaker
    async with sm() as s, s.begin():
        chat_customer = Customer(name="张工", openid="o-zhang", phones=[PHONE])
        s.add(chat_customer)
        await s.flush()
        s.add(ChatSession(channel="wechat", user_key="o-zhang", customer_id=chat_customer.id, stage="collecting",
                          draft={"items": [{"raw": "M8螺母 2000个"}]}))
        chat_id = chat_customer.id
    first = await actions.create_order(sm, chat_id, [actions.DraftLine("HB-M6X20-304", 5000)],
                                       Actor.customer(chat_id, "o-zhang"), fields=COMPLETE, submit=True)
    # when the same person orders the same again in the mini-program, giving that phone
    token = await mp.login("mp-zhang")
    resp = await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(token, **key()))
    assert resp.status == 201, await resp.text()
    number = (await resp.json())["number"]
    # then the mini-program's record holds both identities, the chat's order and draft, and no orphan is left
    async with sm() as s:
        [only] = (await s.exec(select(Customer))).all()
        orders = {o.number: o for o in (await s.exec(select(Order))).all()}
        session = (await s.exec(select(ChatSession).where(ChatSession.user_key == "o-zhang"))).one()
        [dup] = (await s.exec(select(OrderEvent).where(OrderEvent.type == "duplicate_suspected"))).all()
    assert (only.openid, only.mp_openid) == ("o-zhang", "mp-zhang") and only.id != chat_id
    assert {o.customer_id for o in orders.values()} == {only.id} and session.customer_id == only.id
    assert await orphans(sm) == {}
    # and the rep is warned that the mini-program order repeats the chat's
    assert dup.order_id == orders[number].id and dup.changes["duplicate_of"] == first.order.number
    # the mini-program session still works after the merge
    assert (await mp.client.get("/mp/v1/orders", headers=mp.auth(token))).status == 200


async def test_a_record_with_a_mini_program_login_is_the_one_kept(ruled: tuple[World, Tables]) -> None:
    from orders.customers import join_by_phone

    w, _ = ruled
    async with w.sm() as s, s.begin():
        entered = Customer(name="张工", company="恒锐", phones=[PHONE], credit_limit=Decimal(8000))  # by a rep
        linked = Customer(name="张工", openid="o-z", mp_openid="mp-z")  # chat and mini-program, one unionid
        s.add_all([entered, linked])
        await s.flush()
        kept = await join_by_phone(s, linked, PHONE, free="openid", keep_existing=True)
        ids = (linked.id, entered.id)
    assert kept.id == ids[0] and (kept.company, kept.credit_limit, kept.phones) == ("恒锐", Decimal(8000), [PHONE])
    assert await orphans(w.sm) == {} and await pointing_at(w.sm, ids[1]) == {}


async def test_a_phone_with_like_wildcards_joins_nobody_and_is_kept_as_written(ruled: tuple[World, Tables]) -> None:
    from orders.customers import join_by_phone

    w, _ = ruled
    async with w.sm() as s, s.begin():
        other = Customer(name="张工", phones=[PHONE])
        asking = Customer(name="李姐", openid="o-li")
        s.add_all([other, asking])
        await s.flush()
        odd = PHONE[:-2] + "_%"  # `_` and `%` must not match PHONE's last digits
        kept = await join_by_phone(s, asking, odd, free="openid", keep_existing=True)
        assert kept.id == asking.id and kept.phones == [odd]
        assert await join_by_phone(s, asking, PHONE, free="openid", keep_existing=True) is other  # the real one does


async def test_phones_read_together_join_as_one_by_one_would_with_one_read(ruled: tuple[World, Tables]) -> None:
    """A batch of confirmations: a phone nobody has is added without a read of its own; one a
    customer had before the batch, or one an earlier order of the batch took, still joins."""
    from sqlalchemy import event

    from orders.customers import join_by_phone, phones_read_together

    w, _ = ruled
    fresh, odd = "13900001111", PHONE[:-2] + "_%"
    async with w.sm() as s, s.begin():
        entered = Customer(name="张工", phones=[PHONE])  # by a rep, before the batch
        a = Customer(name="a", mp_openid="mp-a")  # from the mini-program: a chat record may join it
        b, c, d = (Customer(name=n, openid=f"o-{n}") for n in ("b", "c", "d"))
        s.add_all([entered, a, b, c, d])
        await s.flush()
        reads: list[str] = []
        sync_engine = s.bind.sync_engine  # type: ignore[union-attr]

        def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "customer.phones" in statement:
                reads.append(statement)

        event.listen(sync_engine, "before_cursor_execute", seen)
        try:
            async with phones_read_together(s, [fresh, PHONE, odd, None, fresh]):
                assert len(reads) == 1  # the batch's phones, in one read
                assert await join_by_phone(s, a, fresh, free="openid", keep_existing=True) is a
                assert await join_by_phone(s, c, odd, free="openid", keep_existing=True) is c
                assert len(reads) == 1  # nobody had them: added without a read
                assert await join_by_phone(s, b, fresh, free="openid", keep_existing=True) is a  # a took it
                assert await join_by_phone(s, d, PHONE, free="openid", keep_existing=True) is entered
        finally:
            event.remove(sync_engine, "before_cursor_execute", seen)
        assert (a.phones, c.phones, entered.phones) == ([fresh], [odd], [PHONE])
        removed = (b.id, d.id)
    assert await orphans(w.sm) == {}
    async with w.sm() as s:
        left = {x.id for x in (await s.exec(select(Customer))).all()}
    assert not left & set(removed)
