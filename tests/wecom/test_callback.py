"""GET/POST /wecom/callback: URL verification, verification of every POST, store-then-ack, dedup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.wechat_crypto import CallbackCrypto, Mode
from bot.wecom_callback import WeComCallback, setup, wecom_intake
from bot.wecom_commands import card_event
from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.stores_memory import MemoryStore
from orders.models import InboundMessage, Outbox
from tests.wecom import wecom_sim


def _vectors(shared_dir: Path) -> dict[str, dict]:
    data = json.loads((shared_dir / "external/wechat_crypto/vectors.json").read_text("utf-8"))
    return {v["id"]: v for v in data}


@pytest.fixture
def settings() -> Settings:
    return Settings(wecom_corpid="ww0000test0000corp", wecom_agentid="1000002", wecom_token="wecom-token",
                    wecom_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")


async def client_for(aiohttp_client, engine: AsyncEngine, token: str, aes_key: str, corpid: str):
    app = web.Application()
    crypto = CallbackCrypto(token, aes_key, corpid, Mode.SAFE)
    setup(app, WeComCallback(crypto, wecom_intake(make_sessionmaker(engine), MemoryStore())))
    return await aiohttp_client(app)


async def test_url_verification_answers_the_decrypted_echostr(aiohttp_client, engine, shared_dir) -> None:
    v = _vectors(shared_dir)["wecom_wechatpy_verify_url"]
    client = await client_for(aiohttp_client, engine, v["token"], v["encoding_aes_key"], v["receive_id"])
    resp = await client.get("/wecom/callback", params={
        "msg_signature": v["msg_signature"], "timestamp": v["timestamp"], "nonce": v["nonce"], "echostr": v["echostr"]})
    assert resp.status == 200 and await resp.text() == v["decrypted_plaintext"]


async def test_url_verification_with_a_wrong_signature_is_refused(aiohttp_client, engine, shared_dir) -> None:
    v = _vectors(shared_dir)["wecom_wechatpy_verify_url_bad_nonce"]
    client = await client_for(aiohttp_client, engine, v["token"], v["encoding_aes_key"], v["receive_id"])
    resp = await client.get("/wecom/callback", params={
        "msg_signature": v["msg_signature"], "timestamp": v["timestamp"], "nonce": v["nonce"], "echostr": v["echostr"]})
    assert resp.status == 403


async def test_a_message_is_stored_once_and_queued_once(aiohttp_client, engine, settings) -> None:
    client = await client_for(aiohttp_client, engine, settings.wecom_token, settings.wecom_aes_key,
                              settings.wecom_corpid)
    xml = wecom_sim.text_xml(settings, "zhangsan", "待办", msgid=7001)
    for _ in range(3):  # WeCom retries a slow answer with the same MsgId
        resp = await wecom_sim.post(client, settings, xml)
        assert resp.status == 200
    sm = make_sessionmaker(engine)
    async with sm() as s:
        stored = list(await s.exec(select(InboundMessage)))
        queued = list(await s.exec(select(Outbox).where(Outbox.kind == "wecom_inbound")))
    assert [(m.channel, m.dedup_key, m.from_user, m.content) for m in stored] == [("wecom", "7001", "zhangsan", "待办")]
    assert [q.payload for q in queued] == [{"message_id": stored[0].id}]


async def test_the_shared_template_card_event_sample_is_stored_and_read(aiohttp_client, engine, settings, shared_dir) -> None:
    samples = json.loads((shared_dir / "external/wecom_xml/wecom_callback_xml_samples.json").read_text("utf-8"))
    sample = next(s for s in samples["samples"] if s["test"] == "testTemplateCardEvent")
    client = await client_for(aiohttp_client, engine, settings.wecom_token, settings.wecom_aes_key,
                              settings.wecom_corpid)
    for _ in range(2):
        assert (await wecom_sim.post(client, settings, sample["xml"])).status == 200
    async with make_sessionmaker(engine)() as s:
        stored = list(await s.exec(select(InboundMessage)))
    assert len(stored) == 1  # an event has no MsgId: FromUserName + CreateTime + event dedups it
    assert stored[0].dedup_key.startswith("FromUser:123456789")
    event = card_event(stored[0].raw)
    expect = sample["expect"]
    assert event is not None
    assert (event.event_key, event.task_id, event.response_code) == (
        expect["EventKey"], expect["TaskId"], expect["ResponseCode"])


async def test_forged_or_broken_posts_get_4xx_and_store_nothing(aiohttp_client, engine, settings) -> None:
    client = await client_for(aiohttp_client, engine, settings.wecom_token, settings.wecom_aes_key,
                              settings.wecom_corpid)
    other = settings.model_copy(update={"wecom_token": "not-our-token"})
    xml = wecom_sim.text_xml(other, "zhangsan", "确认 SO20260302-0001", msgid=1)
    assert (await wecom_sim.post(client, other, xml)).status == 403
    # another corp's ciphertext, signed with our token
    wrong_corp = settings.model_copy(update={"wecom_corpid": "ww_some_other_corp"})
    assert (await wecom_sim.post(client, wrong_corp, wecom_sim.text_xml(wrong_corp, "x", "y", 2))).status == 403
    resp = await client.post("/wecom/callback", params={"msg_signature": "x", "timestamp": "1", "nonce": "n"},
                             data=b"not xml")
    assert resp.status == 400
    assert (await client.post("/wecom/callback", data=b"<xml/>")).status == 403
    async with make_sessionmaker(engine)() as s:
        assert list(await s.exec(select(InboundMessage))) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_service_without_wecom_settings_still_starts(aiohttp_client, engine: AsyncEngine, db_url: str) -> None:
    # a shop that runs only the customer side: no WECOM_* at all
    from service.app import create_app

    app = create_app(Settings(ORDERBOT_DATABASE_URL=db_url), engine=engine, store=MemoryStore(), start_worker=False)
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    resp = await client.post("/wecom/callback", data=b"<xml/>")
    assert resp.status == 503 and "not configured" in await resp.text()
    async with make_sessionmaker(engine)() as s:
        assert (await s.exec(select(InboundMessage))).all() == []
