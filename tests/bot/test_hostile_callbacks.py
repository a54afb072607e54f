"""Hostile callbacks on /wechat/callback and /wecom/callback (issue 16, part 3).

Each payload is answered 4xx with a code naming why (body and X-Orderbot-Error), quickly,
and leaves nothing stored: entity bombs and external entities in plaintext and inside a
correctly signed ciphertext, truncated bodies, another account's AppId / CorpID, replays
outside the timestamp window. SQL-looking text is stored verbatim.
"""

from __future__ import annotations

import time

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.wechat_crypto import CallbackCrypto, Mode
from bot.wecom_callback import WeComCallback, setup, wecom_intake
from orderbot.db import make_sessionmaker
from orderbot.settings import Settings
from orderbot.stores_memory import MemoryStore
from tests.bot.conftest import count_rows, stored_messages
from tests.bot.wechat_sim import WeChatSim, sha1_signature, text_xml
from tests.wecom import wecom_sim

_FIELDS = (
    "<ToUserName>gh_orderbot</ToUserName><FromUserName>o_mallory</FromUserName>"
    "<CreateTime>{t}</CreateTime><MsgType>text</MsgType><Content>{c}</Content><MsgId>{m}</MsgId>"
)


def _message(content: str, msg_id: int = 4242, agent: str = "") -> str:
    return "<xml>" + _FIELDS.format(t=int(time.time()), c=content, m=msg_id) + agent + "</xml>"


def billion_laughs() -> str:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY l0 "lol">{levels}]>' + _message("&l9;")


ENTITY_BOMBS = {
    "billion_laughs": billion_laughs(),
    "external_entity": '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _message("&e;"),
    "external_dtd": '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">' + _message("hi"),
    "parameter_entity": '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]>' + _message("hi"),
    "quadratic_blowup": f'<!DOCTYPE xml [<!ENTITY a "{"x" * 20_000}">]>' + _message("&a;" * 1000),
}
QUICK = 2.0  # seconds: generous on a loaded CI box; an expanded bomb takes minutes and gigabytes


async def _post(client, params: dict, body: str | bytes) -> tuple[int, str, float]:
    started = time.perf_counter()
    resp = await client.post("/wechat/callback", params=params, data=body.encode() if isinstance(body, str) else body)
    return resp.status, resp.headers.get("X-Orderbot-Error", ""), time.perf_counter() - started


def _app(sim: WeChatSim, **callback) -> dict:
    if sim.mode == "plaintext":
        return {"token": sim.token, **callback}
    return {"token": sim.token, "aes_key": sim.aes_key, "app_id": sim.app_id, "mode": sim.mode, **callback}


@pytest.mark.parametrize("mode", ["plaintext", "safe", "compatible"])
@pytest.mark.parametrize("name", sorted(ENTITY_BOMBS))
async def test_entity_declarations_are_refused_quickly_in_every_mode(mode, name, embedded_client, sqlite_engine):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    params, body = sim.request(ENTITY_BOMBS[name])  # in safe mode: inside a genuinely signed ciphertext
    status, code, took = await _post(client, params, body)
    assert (status, code) == (400, "xml_entities")
    assert took < QUICK
    assert await count_rows(sqlite_engine) == (0, 0)


async def test_a_doctype_inside_a_customers_text_is_just_text(embedded_client, sqlite_engine):
    sim = WeChatSim(mode="safe")
    client = await embedded_client(**_app(sim))
    pasted = '<!DOCTYPE html><!ENTITY x "y"> &x; 订 M6 螺栓'
    params, body = sim.request(text_xml("o_web", pasted))
    assert (await _post(client, params, body))[0] == 200
    (stored,) = await stored_messages(sqlite_engine)
    assert stored.content == pasted


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_truncated_bodies_are_400_and_store_nothing(mode, embedded_client, sqlite_engine):
    sim = WeChatSim(mode=mode)
    client = await embedded_client(**_app(sim))
    params, body = sim.request(text_xml("o_cut", "M8螺丝 5000个"))
    raw = body.encode()
    for cut in (1, 5, len(raw) // 3, len(raw) // 2, len(raw) - 20, len(raw) - 7, len(raw) - 1):
        status, code, _ = await _post(client, params, raw[:cut])
        assert status in (400, 403), (cut, status)  # a cut ciphertext no longer matches its signature
        assert code in {"malformed_xml", "not_a_message", "no_encrypt", "bad_signature"}, (cut, code)
    assert await count_rows(sqlite_engine) == (0, 0)
    assert (await _post(client, params, raw))[0] == 200  # the whole body still works


async def test_a_signed_but_truncated_ciphertext_is_bad_ciphertext(embedded_client, sqlite_engine):
    sim = WeChatSim(mode="safe")
    client = await embedded_client(**_app(sim))
    params, body = sim.request(text_xml("o_cut", "M8螺丝 5000个"))
    encrypt = body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    for cut in (encrypt[:-4], encrypt[:24], encrypt[: len(encrypt) // 2]):
        p = params | {"msg_signature": sha1_signature(sim.token, params["timestamp"], params["nonce"], cut)}
        status, code, _ = await _post(client, p, f"<xml><Encrypt><![CDATA[{cut}]]></Encrypt></xml>")
        assert (status, code) == (400, "bad_ciphertext")
    assert await count_rows(sqlite_engine) == (0, 0)


@pytest.mark.parametrize("mode", ["safe", "compatible"])
async def test_another_appid_in_the_envelope_is_403_wrong_appid(mode, embedded_client, sqlite_engine):
    client = await embedded_client(**_app(WeChatSim(mode=mode)))
    params, body = WeChatSim(mode=mode, app_id="wx_another_account").request(text_xml("o_x", "for someone else"))
    assert (await _post(client, params, body))[:2] == (403, "wrong_appid")
    assert await count_rows(sqlite_engine) == (0, 0)


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
@pytest.mark.parametrize("skew", [-301, 301, 86_400 * 3])
async def test_replays_outside_the_window_are_403_stale_timestamp(mode, skew, embedded_client, sqlite_engine):
    """A correctly signed callback replayed later (our clock moved on by `skew` seconds).

    The clock is pinned to the signed timestamp: WeChat's timestamps are whole seconds, so a
    clock read from time.time() puts ±301 s up to a second (plus the test's own run time)
    nearer the edge, and -301 was once inside the window on a slow CI machine."""
    sim = WeChatSim(mode=mode)
    params, body = sim.request(text_xml("o_replay", "再来一单"))
    client = await embedded_client(**_app(sim, clock=lambda: int(params["timestamp"]) + skew))
    assert (await _post(client, params, body))[:2] == (403, "stale_timestamp")
    assert await count_rows(sqlite_engine) == (0, 0)


@pytest.mark.parametrize("skew", [-300, 300])
async def test_the_window_edges_are_inside(skew, embedded_client, sqlite_engine):
    """Exactly five minutes apart is still accepted (the window is closed at both ends)."""
    sim = WeChatSim(mode="safe")
    params, body = sim.request(text_xml("o_edge", "M8螺丝 5000个"))
    client = await embedded_client(**_app(sim, clock=lambda: int(params["timestamp"]) + skew))
    assert (await _post(client, params, body))[0] == 200
    assert await count_rows(sqlite_engine) == (1, 1)


async def test_inside_the_window_a_delayed_retry_is_stored_once(embedded_client, sqlite_engine):
    sim = WeChatSim(mode="safe")
    client = await embedded_client(**_app(sim, clock=lambda: time.time() + 240))
    params, body = sim.request(text_xml("o_slow", "M8螺丝 5000个"))
    for _ in range(2):
        assert (await _post(client, params, body))[0] == 200
    assert await count_rows(sqlite_engine) == (1, 1)


def test_the_window_defaults_to_five_minutes_and_can_be_configured() -> None:
    assert Settings(_env_file=None).callback_max_skew == 300
    assert Settings(_env_file=None, ORDERBOT_CALLBACK_MAX_SKEW="60").callback_max_skew == 60
    with pytest.raises(ValueError):
        Settings(_env_file=None, ORDERBOT_CALLBACK_MAX_SKEW="-1")


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_sql_looking_text_and_xml_legal_controls_are_stored_verbatim(db_url, engine: AsyncEngine, aiohttp_client):
    from tests.bot.conftest import build_app

    sim = WeChatSim(mode="safe")
    crypto = CallbackCrypto(sim.token, sim.aes_key, sim.app_id, Mode.SAFE)
    client = await aiohttp_client(build_app(engine, MemoryStore(), crypto))
    texts = ["'; DROP TABLE orders; --", "M6' OR '1'='1", "a\tb\nc \\x00 %s %(x)s $1 {0}", "Robert'); --\u200b\u202e"]
    for text in texts:
        params, body = sim.request(text_xml("o_bobby'--", text))
        assert (await _post(client, params, body))[0] == 200
    stored = await stored_messages(engine)
    assert [m.content for m in stored] == texts and {m.from_user for m in stored} == {"o_bobby'--"}


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_overlong_identifiers_are_400_field_too_long(db_url, engine: AsyncEngine, aiohttp_client):
    """Plaintext mode signs only (token, timestamp, nonce): within the window, a captured
    query string carries any body. Identifiers past WeChat's sizes are refused, not stored."""
    from tests.bot.conftest import build_app

    sim = WeChatSim(mode="plaintext")
    client = await aiohttp_client(build_app(engine, MemoryStore(), CallbackCrypto(sim.token)))
    for xml in (text_xml("o" * 5000, "hi"), text_xml("o_ok", "hi", msg_id=int("9" * 100)),
                text_xml("o_ok", "hi", to_user="gh" * 3000),
                text_xml("o_ok", "hi").replace("<MsgType>", "<Event>" + "e" * 70 + "</Event><MsgType>")):
        params, body = sim.request(xml)
        assert (await _post(client, params, body))[:2] == (400, "field_too_long")
    assert await count_rows(engine) == (0, 0)
    params, body = sim.request(text_xml("o_ok", "x" * 20_000))  # long text is text: stored
    assert (await _post(client, params, body))[0] == 200


async def test_xml_illegal_control_characters_are_400(embedded_client, sqlite_engine):
    sim = WeChatSim(mode="safe")
    client = await embedded_client(**_app(sim))
    for content in ("nul\x00here", "bell\x07", "&#0;", "&#x1b;[31m"):
        params, body = sim.request(_message(content))
        status, code, _ = await _post(client, params, body)
        assert (status, code) == (400, "malformed_xml"), content
    assert await count_rows(sqlite_engine) == (0, 0)


# ---- WeCom ------------------------------------------------------------------------------

WECOM = Settings(wecom_corpid="ww0000test0000corp", wecom_agentid="1000002", wecom_token="wecom-token",
                 wecom_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")


async def _wecom_client(aiohttp_client, engine: AsyncEngine, skew: float = 0.0):
    app = web.Application()
    crypto = CallbackCrypto(WECOM.wecom_token, WECOM.wecom_aes_key, WECOM.wecom_corpid, Mode.SAFE)
    setup(app, WeComCallback(crypto, wecom_intake(make_sessionmaker(engine), MemoryStore()),
                             clock=lambda: time.time() + skew))
    return await aiohttp_client(app)


@pytest.mark.parametrize("name", sorted(ENTITY_BOMBS))
async def test_wecom_entity_declarations_are_refused(name, aiohttp_client, sqlite_engine):
    client = await _wecom_client(aiohttp_client, sqlite_engine)
    xml = ENTITY_BOMBS[name].replace("</xml>", "<AgentID>1000002</AgentID></xml>")
    started = time.perf_counter()
    resp = await wecom_sim.post(client, WECOM, xml)
    assert (resp.status, resp.headers.get("X-Orderbot-Error")) == (400, "xml_entities")
    assert time.perf_counter() - started < QUICK
    assert await count_rows(sqlite_engine) == (0, 0)


async def test_wecom_another_corpid_and_replays_are_403_with_a_code(aiohttp_client, sqlite_engine):
    client = await _wecom_client(aiohttp_client, sqlite_engine)
    other = WECOM.model_copy(update={"wecom_corpid": "ww_some_other_corp"})
    resp = await wecom_sim.post(client, other, wecom_sim.text_xml(other, "zhangsan", "确认 SO1", 11))
    assert (resp.status, resp.headers.get("X-Orderbot-Error")) == (403, "wrong_appid")
    late = await _wecom_client(aiohttp_client, sqlite_engine, skew=600)
    resp = await wecom_sim.post(late, WECOM, wecom_sim.text_xml(WECOM, "zhangsan", "确认 SO1", 12))
    assert (resp.status, resp.headers.get("X-Orderbot-Error")) == (403, "stale_timestamp")
    assert await count_rows(sqlite_engine) == (0, 0)
    resp = await wecom_sim.post(client, WECOM, wecom_sim.text_xml(WECOM, "zhangsan", "待办", 13))
    assert resp.status == 200


async def test_wecom_oversized_body_is_413(aiohttp_client, sqlite_engine):
    client = await _wecom_client(aiohttp_client, sqlite_engine)
    resp = await client.post("/wecom/callback", params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "n"},
                             data=b"<xml><Encrypt>" + b"A" * 70_000 + b"</Encrypt></xml>")
    assert (resp.status, resp.headers.get("X-Orderbot-Error")) == (413, "body_too_large")


async def test_wecom_truncated_envelope_is_400(aiohttp_client, sqlite_engine):
    client = await _wecom_client(aiohttp_client, sqlite_engine)
    for body in (b"", b"<xml>", b"<xml><Encrypt><![CDATA[abc", b"<xml><ToUserName>ww</ToUserName></xml>"):
        resp = await client.post("/wecom/callback", params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "n"},
                                 data=body)
        assert resp.status == 400 and resp.headers.get("X-Orderbot-Error") in {"malformed_xml", "no_encrypt"}
