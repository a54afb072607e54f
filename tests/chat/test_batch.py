"""A burst of customers answered a batch at a time (Chat.handle_many through the worker's
batch handlers): each customer still hears back once per message, in the order they wrote,
and one confirmation still places one order, however the messages fall into batches."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select

from bot import replies
from bot.chat import Chat as Runner
from orders.models import InboundMessage, Order, Outbox, Product, utcnow
from orders.outbox import OutboxKind
from tests.chat.conftest import REP, Chat, register

FULL_ORDER = "M6*20外六角 304的 5000个，明天送到常州市武进区湖塘镇长虹路88号，收货人张工 1381234{:04d}"


async def post(chat: Chat, openid: str, text: str, msgid: int) -> None:
    """WeChat delivers the message; the worker does not run yet."""
    resp = await chat.standin.post("/__simulate__/wechat", json={"openid": openid, "text": text, "msgid": msgid})
    assert resp.status == 200 and (await resp.json())["delivered"]


async def test_a_burst_is_answered_once_each_in_order(chat: Chat) -> None:
    people = [f"o_burst{i}" for i in range(8)]
    for p in people:
        register(chat, p)
    # given eight customers' orders, and one of them calling it off right after, all stored
    # before the worker looks
    for i, p in enumerate(people):
        await post(chat, p, FULL_ORDER.format(i), 5000 + i)
    await post(chat, people[0], "算了", 5100)
    await chat.worker.drain()
    # then each hears one summary, and the first one hears the cancellation after it
    for i, p in enumerate(people):
        texts = chat.texts_since(0, p)
        assert len(texts) == (2 if i == 0 else 1), "\n---\n".join(texts)
        assert "请核对订单" in texts[0] and "5000个" in texts[0]
    assert chat.texts_since(0, people[0])[1] == replies.CANCELLED_DRAFT

    # when they all confirm at once, WeChat delivering two of the confirmations twice
    for i, p in enumerate(people):
        await post(chat, p, "确认", 6000 + i)
    await post(chat, people[1], "确认", 6001)
    await post(chat, people[2], "确认", 6002)
    await chat.worker.drain()
    # then one order each for the seven with a draft, none for the one who called it off,
    # one card each for the rep, and each of the seven hears their own order number
    orders = await chat.orders()
    assert len(orders) == len(people) - 1
    assert len({o.customer_id for o in orders}) == len(orders)
    assert len(chat.cards_to(REP)) == len(orders)
    numbers = {o.number for o in orders}
    for p in people[1:]:
        said = [n for n in numbers if any(n in t for t in chat.texts_since(0, p))]
        assert len(said) == 1, p


async def test_a_redelivered_batch_does_nothing_twice(chat: Chat) -> None:
    register(chat, "o_again")
    register(chat, "o_other")
    await post(chat, "o_again", FULL_ORDER.format(1), 7001)
    await post(chat, "o_other", FULL_ORDER.format(2), 7002)
    async with chat.sm() as s:
        ids = [m.id for m in (await s.exec(select(InboundMessage).order_by(InboundMessage.id))).all()]
    runner = Runner.from_context(chat.worker.ctx)
    # when the batch is carried out, then again (the worker died before marking its rows done)
    turns, failed = await runner.handle_many(ids)
    again, failed_again = await runner.handle_many(ids)
    # then the second time finds every message handled: no turn, no failure
    assert len(turns) == 2 and not failed
    assert again == {} and failed_again == {}
    await chat.worker.drain()  # the outbox rows, delivered once more, find the handled marks
    assert len(chat.texts_since(0, "o_again")) == 1 and len(chat.texts_since(0, "o_other")) == 1
    # and confirming twice in one batch (the same message id) places one order
    await post(chat, "o_again", "确认", 7003)
    await post(chat, "o_again", "确认", 7003)
    await chat.worker.drain()
    async with chat.sm() as s:
        assert len((await s.exec(select(Order))).all()) == 1


async def test_one_refused_order_in_a_batch_leaves_the_others_placed(chat: Chat) -> None:
    people = [f"o_mixed{i}" for i in range(4)]
    for p in people:
        register(chat, p)
    # given four customers' summaries, the last one for a product that stops being sold before
    # they confirm
    for i, p in enumerate(people[:3]):
        await post(chat, p, FULL_ORDER.format(i), 8000 + i)
    await post(chat, people[3], "M6*30外六角 316的 500个，明天送到常州市武进区湖塘镇长虹路88号，收货人王工 13912340000", 8003)
    await chat.worker.drain()
    assert "请核对订单" in chat.texts_since(0, people[3])[0]
    async with chat.sm() as s, s.begin():
        await s.exec(update(Product).where(Product.sku == "HB-M6X30-316").values(active=False))  # type: ignore[call-overload]
    # when all four confirm in one batch
    before = len(chat.state.sent)
    for i, p in enumerate(people):
        await post(chat, p, "确认", 8100 + i)
    await chat.worker.drain()
    # then the three are placed, each told their own number and carded to the rep once, and
    # the fourth is told why not, with no order
    orders = await chat.orders()
    assert len(orders) == 3
    for p in people[:3]:
        said = [o.number for o in orders if any(o.number in t for t in chat.texts_since(before, p))]
        assert len(said) == 1, p
    assert len(chat.cards_to(REP)) == 3
    refusal = chat.texts_since(before, people[3])
    assert len(refusal) == 1 and "下单没有成功" in refusal[0] and "停售" in refusal[0]


async def test_rep_cards_sent_before_are_not_sent_again(chat: Chat) -> None:
    people = [f"o_card{i}" for i in range(3)]
    for i, p in enumerate(people):
        register(chat, p)
        await post(chat, p, FULL_ORDER.format(i), 8200 + i)
    await chat.worker.drain()
    for i, p in enumerate(people):
        await post(chat, p, "确认", 8300 + i)
    await chat.worker.drain()
    assert len(chat.cards_to(REP)) == 3
    # when the worker delivers the card rows again (it died before marking them done)
    async with chat.sm() as s, s.begin():
        await s.exec(update(Outbox).where(Outbox.kind == OutboxKind.NOTIFY_REP)  # type: ignore[call-overload]
                     .values(state="pending", next_attempt_at=utcnow(), locked_by=None, lease_until=None))
    await chat.worker.drain()
    # then the rep still has one card per order
    assert len(chat.cards_to(REP)) == 3
