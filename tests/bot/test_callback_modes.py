"""The three message modes and every way a request can be bad, over real HTTP.

Callbacks are built by wechatpy's WeChatCrypto (tests/bot/wechat_sim.py), not by our code.
"""

from __future__ import annotations

import random

import pytest

from tests.bot.conftest import count_rows, stored_messages
from tests.bot.wechat_sim import WeChatSim, event_xml, sha1_signature, text_xml

MODES = ["plaintext", "compatible", "safe"]


def _app(sim: WeChatSim) -> dict:
    if sim.mode == "plaintext":
        return {"token": sim.token}
    return {"token": sim.token, "aes_key": sim.aes_key, "app_id": sim.app_id, "mode": sim.mode}


@pytest.mark.parametrize("mode", MODES)
async def test_url_verification_echoes_in_every_mode(mode, embedded_client):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    resp = await client.get("/wechat/callback", params=sim.verify_params("1234567890987654321"))
    assert (resp.status, await resp.text()) == (200, "1234567890987654321")
    bad = sim.verify_params("x") | {"signature": "0" * 40}
    assert (await client.get("/wechat/callback", params=bad)).status == 403


@pytest.mark.parametrize("mode", MODES)
async def test_text_and_event_are_stored_in_every_mode(mode, embedded_client, sqlite_engine):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    for xml in (
        text_xml("o_alice", "M8螺丝 5000个，明天送到常州"),
        event_xml("o_alice", "subscribe"),
    ):
        params, body = sim.request(xml)
        resp = await client.post("/wechat/callback", params=params, data=body.encode())
        assert (resp.status, await resp.text()) == (200, "success")
    text, event = await stored_messages(sqlite_engine)
    assert (text.msg_type, text.content, text.from_user) == (
        "text",
        "M8螺丝 5000个，明天送到常州",
        "o_alice",
    )
    assert event.msg_type == "event" and event.dedup_key.startswith("o_alice:")
    assert await count_rows(sqlite_engine) == (2, 2)


async def test_safe_mode_refuses_unencrypted_callbacks(embedded_client, sqlite_engine):
    client = await embedded_client(**_app(WeChatSim(mode="safe")))
    params, body = WeChatSim(mode="plaintext").request(text_xml("o_mallory", "fake order"))
    resp = await client.post("/wechat/callback", params=params, data=body.encode())
    assert resp.status == 403
    assert await count_rows(sqlite_engine) == (0, 0)


async def test_compatible_mode_accepts_plaintext_too(embedded_client, sqlite_engine):
    client = await embedded_client(**_app(WeChatSim(mode="compatible")))
    params, body = WeChatSim(mode="plaintext").request(text_xml("o_bob", "plain during the switch"))
    resp = await client.post("/wechat/callback", params=params, data=body.encode())
    assert resp.status == 200
    assert await count_rows(sqlite_engine) == (1, 1)


async def test_compatible_mode_trusts_the_ciphertext_not_the_clear_copy(
    embedded_client, sqlite_engine
):
    sim = WeChatSim(mode="compatible")
    client = await embedded_client(**_app(sim))
    params, body = sim.request(text_xml("o_carol", "要100个"))
    tampered = body.replace("<Content><![CDATA[要100个]]>", "<Content><![CDATA[要100000个]]>", 1)
    assert tampered != body
    resp = await client.post("/wechat/callback", params=params, data=tampered.encode())
    assert resp.status == 200
    (stored,) = await stored_messages(sqlite_engine)
    assert stored.content == "要100个"


@pytest.mark.parametrize("mode", ["compatible", "safe"])
async def test_encrypted_request_checks(mode, embedded_client, sqlite_engine):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    params, body = sim.request(text_xml("o_dave", "hello"))

    async def status(p: dict, b: str | bytes) -> int:
        resp = await client.post(
            "/wechat/callback", params=p, data=b.encode() if isinstance(b, str) else b
        )
        return resp.status

    # msg_signature covers the ciphertext: any other Encrypt is refused.
    flipped = body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[A", 1)
    assert await status(params, flipped) == 403
    assert await status(params | {"msg_signature": "0" * 40}, body) == 403
    assert await status({k: v for k, v in params.items() if k != "msg_signature"}, body) == 403
    assert await status(params | {"signature": "f" * 40}, body) == 403
    assert await status(params | {"timestamp": "1"}, body) == 403
    # Correctly signed but not decryptable (not base64 / wrong length): 400, not 5xx.
    for junk in ("!!!not-base64!!!", "QUJD", "A" * 64):
        p = params | {
            "msg_signature": sha1_signature(sim.token, params["timestamp"], params["nonce"], junk)
        }
        assert await status(p, f"<xml><Encrypt><![CDATA[{junk}]]></Encrypt></xml>") == 400
    # Right signature, right key, packed for another AppId: refused.
    other = WeChatSim(mode=mode, app_id="wx_another_account")
    p2, b2 = other.request(text_xml("o_dave", "for someone else"))
    assert await status(p2, b2) == 403
    # The genuine request still works afterwards.
    assert await status(params, body) == 200
    assert await count_rows(sqlite_engine) == (1, 1)


@pytest.mark.parametrize("mode", MODES)
async def test_bad_signatures_are_403(mode, embedded_client, sqlite_engine):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    params, body = sim.request(text_xml("o_eve", "hi"))
    for bad in (
        {k: v for k, v in params.items() if k != "signature"}
        if mode == "plaintext"
        else params | {"signature": "x"},
        params | {"nonce": "1"},
        {},
    ):
        resp = await client.post("/wechat/callback", params=bad, data=body.encode())
        assert resp.status == 403, bad
    assert await count_rows(sqlite_engine) == (0, 0)


@pytest.mark.parametrize("mode", MODES)
async def test_oversized_body_is_413(mode, embedded_client, sqlite_engine):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    params, body = sim.request(text_xml("o_frank", "x" * 70_000))
    resp = await client.post("/wechat/callback", params=params, data=body.encode())
    assert resp.status == 413

    async def chunks():  # no Content-Length: the limit holds on the bytes read
        for _ in range(10):
            yield b"<xml>" + b"y" * 10_000

    resp = await client.post("/wechat/callback", params=params, data=chunks())
    assert resp.status == 413
    assert await count_rows(sqlite_engine) == (0, 0)


async def test_malformed_plaintext_is_400_never_5xx(embedded_client, sqlite_engine):
    sim = WeChatSim(mode="plaintext")
    client = await embedded_client(**_app(sim))
    rng = random.Random(20261122)
    bodies = [
        b"",
        b"<xml>",
        b"<xml></xml>",
        b"{json: true}",
        b"<xml><MsgType>text</MsgType></xml>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><FromUserName>&e;</FromUserName></xml>',
        "<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>".encode(
            "utf-16"
        ),
    ] + [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))) for _ in range(40)]
    for body in bodies:
        params, _ = sim.request("<xml/>")
        resp = await client.post("/wechat/callback", params=params, data=body)
        assert resp.status == 400, body
    assert await count_rows(sqlite_engine) == (0, 0)


async def test_garbage_query_and_methods_never_5xx(embedded_client):
    sim = WeChatSim(mode="safe")
    client = await embedded_client(**_app(sim))
    for query in (
        "",
        "?echostr=",
        "?signature=&timestamp=&nonce=&echostr=x",
        "?msg_signature=zz&echostr=%FF%FE",
        "?encrypt_type=aes&msg_signature=1&timestamp=1&nonce=1",
        "?timestamp=" + "9" * 5000,
    ):
        for method in ("GET", "POST"):
            resp = await client.request(method, "/wechat/callback" + query, data=b"<xml/>")
            assert 400 <= resp.status < 500, (method, query, resp.status)


async def test_storage_failure_is_503_so_wechat_retries(embedded_client, sqlite_engine):
    sim = WeChatSim(mode="safe")
    client = await embedded_client(**_app(sim))
    async with sqlite_engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE outbox")
    params, body = sim.request(text_xml("o_gina", "lost?"))
    resp = await client.post("/wechat/callback", params=params, data=body.encode())
    assert resp.status == 503
    # The message and its outbox row are one transaction: no half-stored message is left.
    async with sqlite_engine.connect() as conn:
        assert (await conn.exec_driver_sql("SELECT count(*) FROM inbound_message")).scalar() == 0


async def test_setup_builds_the_callback_from_app_settings(aiohttp_client, sqlite_engine):
    from aiohttp import web

    from bot.wechat_callback import setup
    from orderbot import appkeys
    from orderbot.db import make_sessionmaker
    from orderbot.settings import Settings
    from orderbot.stores_memory import MemoryStore

    sim = WeChatSim(mode="safe")
    app = web.Application()
    app[appkeys.SETTINGS] = Settings(
        wechat_token=sim.token, wechat_aes_key=sim.aes_key, wechat_appid=sim.app_id
    )
    app[appkeys.SESSIONMAKER] = make_sessionmaker(sqlite_engine)
    app[appkeys.STORE] = MemoryStore()
    setup(app)
    client = await aiohttp_client(app)
    params, body = sim.request(text_xml("o_env", "configured from the environment"))
    resp = await client.post("/wechat/callback", params=params, data=body.encode())
    assert (resp.status, await resp.text()) == (200, "success")
    plain_params, plain_body = WeChatSim(token=sim.token, mode="plaintext").request(
        text_xml("o_env", "x")
    )
    assert (
        await client.post("/wechat/callback", params=plain_params, data=plain_body.encode())
    ).status == 403
    assert await count_rows(sqlite_engine) == (1, 1)


async def test_create_app_serves_the_callback(aiohttp_client, sqlite_engine):
    """The real app factory: middlewares, resources, the callback built from settings."""
    from orderbot.settings import Settings
    from orderbot.stores_memory import MemoryStore
    from service.app import create_app

    sim = WeChatSim(mode="safe")
    settings = Settings(wechat_token=sim.token, wechat_aes_key=sim.aes_key, wechat_appid=sim.app_id)
    app = create_app(
        settings,
        engine=sqlite_engine,
        store=MemoryStore(),
        start_worker=False,
        features=("bot.wechat_callback",),
    )
    client = await aiohttp_client(app)
    resp = await client.get("/wechat/callback", params=sim.verify_params("echo-me"))
    assert (resp.status, await resp.text()) == (200, "echo-me")
    params, body = sim.request(text_xml("o_app", "through create_app"))
    for _ in range(2):  # a retry as well
        resp = await client.post("/wechat/callback", params=params, data=body.encode())
        assert (resp.status, await resp.text()) == (200, "success")
    assert (await client.post("/wechat/callback", params=params, data=b"x" * 70_000)).status == 413
    assert (await client.post("/wechat/callback", params=params, data=b"<xml")).status == 400
    assert (
        await client.post("/wechat/callback", params=params | {"msg_signature": "0"}, data=body)
    ).status == 403
    assert await count_rows(sqlite_engine) == (1, 1)
