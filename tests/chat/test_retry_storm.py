"""WeChat's retries at scale, through the whole conversation: 200 customers each send an
order, every callback is delivered 3 times at once; after the worker drains there is one
stored message, one draft and one reply per customer — and after 确认, one order each."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlmodel import func, select

from orders.models import ChatSession, InboundMessage, Order
from tests.bot.wechat_sim import WeChatSim, text_xml
from tests.chat.conftest import Chat

CUSTOMERS = 200
ORDER = "M6*20外六角 304的 5000个，明天送常州市武进区湖塘镇长虹路88号，张工 13812345678"


async def _storm(chat: Chat, texts: dict[str, str], first_id: int) -> None:
    cfg = chat.state.config
    sim = WeChatSim(token=cfg.wechat_token, aes_key=cfg.wechat_aes_key, app_id=cfg.wechat_appid, mode="safe")
    limit = asyncio.Semaphore(32)
    async with aiohttp.ClientSession() as http:
        async def deliver(openid: str, text: str, msg_id: int) -> None:
            params, body = sim.request(text_xml(openid, text, msg_id=msg_id), openid=openid)
            async with limit:
                async with http.post(chat.callback_url, params=params, data=body.encode()) as resp:
                    assert resp.status == 200, await resp.text()

        await asyncio.gather(*(
            deliver(openid, text, first_id + i)
            for i, (openid, text) in enumerate(texts.items())
            for _ in range(3)
        ))


async def _count(chat: Chat, model: type) -> int:
    async with chat.sm() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_retry_storm_gives_one_draft_one_reply_one_order(chat: Chat) -> None:
    openids = [f"o_storm_{n:03d}" for n in range(CUSTOMERS)]
    for openid in openids:
        chat.state.register_user("wechat", openid)
        chat.state.open_window(openid)

    await _storm(chat, {o: ORDER for o in openids}, 7_000_000)
    await chat.worker.drain()
    assert await _count(chat, InboundMessage) == CUSTOMERS
    assert await _count(chat, ChatSession) == CUSTOMERS
    summaries = [e for e in chat.state.sent if e["api"] == "custom_send"]
    assert sorted(e["to"] for e in summaries) == sorted(openids)  # exactly one reply each

    await _storm(chat, {o: "确认" for o in openids}, 8_000_000)
    await chat.worker.drain()
    assert await _count(chat, InboundMessage) == 2 * CUSTOMERS
    async with chat.sm() as s:
        per_customer = (await s.exec(select(Order.customer_id, func.count()).group_by(Order.customer_id))).all()
    assert len(per_customer) == CUSTOMERS and all(n == 1 for _, n in per_customer)
