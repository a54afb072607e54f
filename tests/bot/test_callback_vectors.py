"""Every shared crypto vector, over real HTTP, against GET/POST /wechat/callback.

URL verification vectors are GET requests whose echostr must come back decrypted (the
must-fail one: 403). Decrypt vectors are POSTed as WeChat/WeCom would and must end up
stored, decrypted, exactly as the vector's plaintext says.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import xmltodict

from tests.bot.conftest import count_rows, stored_messages
from tests.bot.wechat_sim import sha1_signature
from tests.shared_data import shared_cases

VECTORS = "external/wechat_crypto/vectors.json"


def vectors(*kinds: str) -> pytest.MarkDecorator:
    """Parametrize `v` with the shared vectors of these kinds."""
    return shared_cases("v", VECTORS, lambda data: [pytest.param(v, id=v["id"]) for v in data
                                                  if v["kind"] in kinds])


def _app_args(v: dict, app_id: str | None = None) -> dict:
    return {
        "token": v["token"],
        "aes_key": v["encoding_aes_key"],
        "app_id": app_id or v["receive_id"],
        "max_skew": None,  # the vectors were signed in 2014: no replay window for them
    }


def _verify_url(v: dict) -> str:
    """The GET exactly as the platform sends it (echostr percent-encoded in the query)."""
    echostr = v.get("echostr_urlencoded") or quote(v["echostr"], safe="")
    return (
        f"/wechat/callback?msg_signature={v['msg_signature']}&timestamp={v['timestamp']}"
        f"&nonce={v['nonce']}&echostr={echostr}"
    )


@vectors("verify_url")
async def test_url_verification_vector(v, embedded_client):
    client = await embedded_client(**_app_args(v))
    resp = await client.get(_verify_url(v))
    assert resp.status == 200
    assert await resp.text() == v["decrypted_plaintext"]


@vectors("verify_url_must_fail")
async def test_must_fail_vector_is_refused_over_http(v, embedded_client):
    client = await embedded_client(**_app_args(v))
    resp = await client.get(_verify_url(v))
    assert resp.status == 403
    assert await resp.text() != v.get("decrypted_plaintext", "5927782489442352469")


@vectors("verify_url")
async def test_url_verification_refuses_another_app_id(v, embedded_client):
    client = await embedded_client(**_app_args(v, app_id="wx_not_this_one"))
    resp = await client.get(_verify_url(v))
    assert resp.status == 403


def _post_params(v: dict, msg_signature: str, timestamp: str, nonce: str) -> dict:
    params = {
        "msg_signature": msg_signature,
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
    }
    if v["platform"] == "mp":  # the Official Account also sends the plain signature
        params["signature"] = sha1_signature(v["token"], timestamp, nonce)
    return params


@vectors("decrypt")
async def test_decrypt_vector_is_stored(v, embedded_client, sqlite_engine):
    client = await embedded_client(**_app_args(v))
    params = _post_params(v, v["msg_signature"], v["timestamp"], v["nonce"])
    resp = await client.post("/wechat/callback", params=params, data=v["post_body"].encode())
    assert resp.status == 200
    assert await resp.text() == "success"
    (stored,) = await stored_messages(sqlite_engine)
    plain = xmltodict.parse(v["decrypted_plaintext"])["xml"]
    assert stored.raw == v["decrypted_plaintext"]
    assert stored.from_user == plain["FromUserName"]
    assert stored.dedup_key == plain["MsgId"]
    assert stored.content == plain["Content"]
    # The same delivery again (WeChat's retry) is acknowledged and not stored twice.
    again = await client.post("/wechat/callback", params=params, data=v["post_body"].encode())
    assert (again.status, await again.text()) == (200, "success")
    assert await count_rows(sqlite_engine) == (1, 1)


@vectors("decrypt")
async def test_decrypt_vector_for_another_app_id_is_refused(v, embedded_client, sqlite_engine):
    client = await embedded_client(**_app_args(v, app_id="wx_not_this_one"))
    params = _post_params(v, v["msg_signature"], v["timestamp"], v["nonce"])
    resp = await client.post("/wechat/callback", params=params, data=v["post_body"].encode())
    assert resp.status == 403
    assert await count_rows(sqlite_engine) == (0, 0)


@vectors("encrypt")
async def test_encrypted_reply_vector_posts_as_a_callback(v, embedded_client, sqlite_engine):
    """The fixed-random reply envelope carries Encrypt + MsgSignature: it is a valid callback."""
    client = await embedded_client(**_app_args(v))
    params = _post_params(v, v["expected_msg_signature"], v["timestamp"], v["nonce"])
    resp = await client.post(
        "/wechat/callback", params=params, data=v["expected_reply_xml"].encode()
    )
    assert (resp.status, await resp.text()) == (200, "success")
    (stored,) = await stored_messages(sqlite_engine)
    assert stored.raw == v["plaintext"]
    assert stored.content == "test"


@vectors("encrypt_payload_only")
async def test_payload_only_vectors_over_http(v, embedded_client, sqlite_engine):
    """Signed here (the vector has no signature); a non-XML plaintext is a 400, XML is stored."""
    client = await embedded_client(**_app_args(v))
    timestamp, nonce = "1407743423", "1320562132"
    params = _post_params(
        v, sha1_signature(v["token"], timestamp, nonce, v["expected_encrypt"]), timestamp, nonce
    )
    body = f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{v['expected_encrypt']}]]></Encrypt></xml>"
    resp = await client.post("/wechat/callback", params=params, data=body.encode())
    if v["plaintext"].startswith("<xml>"):
        assert resp.status == 200
        (stored,) = await stored_messages(sqlite_engine)
        assert stored.raw == v["plaintext"] and stored.msg_type == "video"
    else:
        assert resp.status == 400
        assert await count_rows(sqlite_engine) == (0, 0)
