"""The COEI survey end to end: a month's completed orders sampled, the three questions sent
through WeChat (customer-service message in the 48-hour window, else a template message),
answers read in chat and stored, the index computed — and a customer with a survey pending
still orders as usual."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import select

from orders import coei_survey
from orders.coei import THANKS
from orders.drafts import today_in_china
from orders.models import CoeiSurvey, Customer, InboundMessage, Order, utcnow
from tests.chat.conftest import Chat
from tests.chat.test_conversation_e2e import FULL_ORDER

MONTH = coei_survey.previous_month(coei_survey.month_of(today_in_china(utcnow())))
DELIVERED_AT = dt.datetime.combine(coei_survey.month_start(MONTH) + dt.timedelta(days=14), dt.time(4), dt.UTC)


async def delivered_last_month(chat: Chat, openid: str) -> Order:
    """The customer orders in chat; the order was delivered in the middle of last month."""
    await chat.say(openid, FULL_ORDER)
    await chat.say(openid, "确认")
    async with chat.sm() as s, s.begin():
        customer = (await s.exec(select(Customer).where(Customer.openid == openid))).one()
        order = (await s.exec(select(Order).where(Order.customer_id == customer.id))).one()
        await s.exec(update(Order).where(Order.id == order.id).values(status="delivered", delivered_at=DELIVERED_AT))
    return order


async def run_the_month(chat: Chat) -> None:
    """The monthly outbox row, as the schedule writes it (due on the 1st of this month)."""
    async with chat.sm() as s, s.begin():
        assert await coei_survey.schedule(s, MONTH, dt.time(10, 0))
    await chat.worker.drain()


def sent_to(chat: Chat, openid: str, api: str) -> list[dict]:
    return [e for e in chat.state.sent if e["api"] == api and e["to"] == openid]


async def surveys(chat: Chat) -> list[CoeiSurvey]:
    async with chat.sm() as s:
        return list((await s.exec(select(CoeiSurvey).order_by(CoeiSurvey.id))).all())


async def test_the_sample_is_asked_in_chat_and_the_answers_make_the_index(chat: Chat) -> None:
    zhang = await delivered_last_month(chat, "o_zhang")
    wang = await delivered_last_month(chat, "o_wang")
    async with chat.sm() as s, s.begin():  # 王 last wrote 3 days ago: outside the 48-hour window
        customer = (await s.exec(select(Customer).where(Customer.openid == "o_wang"))).one()
        await s.exec(update(InboundMessage).where(InboundMessage.from_user == "o_wang")
                     .values(received_at=utcnow() - dt.timedelta(days=3)))
        s.add(Customer(name="电话客户", phones=["13900000000"]))  # no WeChat: cannot be asked
    before = len(chat.state.sent)

    await run_the_month(chat)

    rows = await surveys(chat)
    assert sorted(r.order_id for r in rows) == sorted([zhang.id, wang.id])
    assert all(r.month == MONTH and r.state == "asking" for r in rows)
    # 张 is inside the window: a customer-service message with the first question
    first = chat.texts_since(before, "o_zhang")
    assert len(first) == 1 and zhang.number in first[0] and "1/3" in first[0] and "发货通知" in first[0]
    # 王 is not: a template message carries it
    [template] = [e for e in sent_to(chat, "o_wang", "template_send")]
    assert wang.number in str(template["payload"]) and customer.id is not None
    # next month's survey is scheduled by the same row
    async with chat.sm() as s:
        from orders.models import Outbox
        nxt = (await s.exec(select(Outbox).where(Outbox.dedup_key == f"coei_survey:{coei_survey.next_month(MONTH)}"))).one()
    assert nxt.state == "pending"

    # 张 answers, one question at a time
    assert "2/3" in (await chat.say("o_zhang", "是"))[0]
    assert "3/3" in (await chat.say("o_zhang", "4分"))[0]
    assert await chat.say("o_zhang", "不适用") == [THANKS]
    done = next(r for r in await surveys(chat) if r.order_id == zhang.id)
    assert done.state == "done"
    assert done.answers == {"notice_before_shipment": 100.0, "update_frequency": 75.0, "delay_remedy": None}
    # a fourth "是" is not an answer any more: the conversation has it, nothing is stored
    await chat.say("o_zhang", "是")
    assert next(r for r in await surveys(chat) if r.order_id == zhang.id).answers == done.answers

    async with chat.sm() as s:
        result = await coei_survey.month_result(s, MONTH)
    assert (result.asked, result.answered, result.completed) == (2, 1, 1)
    assert result.index == round((100 * 0.4 + 75 * 0.3) / 0.7, 1)

    # the month's row redelivered, or `orderbot coei --send` run again, asks nobody twice
    async with chat.sm() as s, s.begin():
        assert await coei_survey.start_month(s, MONTH, size=300, now=utcnow()) == 0


async def test_a_customer_with_a_survey_pending_orders_as_usual(chat: Chat) -> None:
    await delivered_last_month(chat, "o_li")
    await run_the_month(chat)
    [pending] = await surveys(chat)
    orders_before = len(await chat.orders())

    # an order message is not an answer: the bot reads the order and asks to confirm
    summary = await chat.say("o_li", FULL_ORDER)
    assert len(summary) == 1 and "确认" in summary[0] and "1/3" not in summary[0]
    # while the order is being put together, "1" and the like belong to the conversation
    replies = await chat.say("o_li", "确认")
    assert len(await chat.orders()) == orders_before + 1
    assert not any("2/3" in r for r in replies)
    [still] = await surveys(chat)
    assert still.question == 0 and still.answers == {}

    # once the order is placed, an answer is an answer again
    assert "2/3" in (await chat.say("o_li", "否"))[0]
    [answered] = await surveys(chat)
    assert answered.answers == {"notice_before_shipment": 0.0} and pending.id == answered.id


async def test_an_expired_survey_takes_no_answers(chat: Chat) -> None:
    await delivered_last_month(chat, "o_zhao")
    await run_the_month(chat)
    async with chat.sm() as s, s.begin():
        await s.exec(update(CoeiSurvey).values(expires_at=utcnow() - dt.timedelta(minutes=1)))
    await chat.say("o_zhao", "是")
    [survey] = await surveys(chat)
    assert survey.answers == {} and survey.state == "asking"


async def test_the_web_app_schedules_this_months_survey_once(chat: Chat) -> None:
    """Start-up writes the month's row (due on the 1st of next month at ORDERBOT_COEI_AT);
    every replica's start-up writes the same one."""
    from orderbot.settings import Settings
    from orders.models import Outbox
    from workers.coei_survey import ensure_scheduled

    settings = Settings(_env_file=None, ORDERBOT_COEI_AT="10:30")
    this_month = coei_survey.month_of(today_in_china(utcnow()))
    assert await ensure_scheduled(chat.sm, settings) == this_month
    assert await ensure_scheduled(chat.sm, settings) == this_month
    async with chat.sm() as s:
        [row] = (await s.exec(select(Outbox).where(Outbox.kind == "coei_survey"))).all()
    first = coei_survey.month_start(coei_survey.next_month(this_month))
    assert row.payload == {"month": this_month} and row.next_attempt_at.replace(tzinfo=dt.UTC) == dt.datetime(
        first.year, first.month, 1, 2, 30, tzinfo=dt.UTC)  # 10:30 in China
    assert await ensure_scheduled(chat.sm, Settings(_env_file=None, ORDERBOT_COEI_AT="")) is None
