"""Our crypto wrapper against every vector in shared/external/wechat_crypto/vectors.json.

The vectors come from Tencent's official samples (Python, C#, C++, Java) and wechatpy's
tests; each kind is checked for what it pins down.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import xmltodict
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.utils import WeChatSigner

from bot.wechat_crypto import BadSignature, CallbackCrypto, Mode, WrongAppId, sign
from tests.shared_data import read_json, shared_cases

VECTORS = "external/wechat_crypto/vectors.json"


def by_kind(*kinds: str) -> pytest.MarkDecorator:
    """Parametrize `v` with the shared vectors of these kinds."""
    return shared_cases("v", VECTORS, lambda data: [pytest.param(v, id=v["id"]) for v in data
                                                  if v["kind"] in kinds])


def crypto_for(v: dict) -> CallbackCrypto:
    return CallbackCrypto(v["token"], v["encoding_aes_key"], v["receive_id"])


def echostr(v: dict) -> str:
    return v["echostr"] if "echostr" in v else unquote(v["echostr_urlencoded"])


def test_every_vector_kind_is_covered():
    vectors = read_json(VECTORS)
    kinds = {v["kind"] for v in vectors}
    assert kinds == {
        "verify_url",
        "verify_url_must_fail",
        "decrypt",
        "encrypt",
        "encrypt_payload_only",
    }
    assert len(vectors) == 12


@by_kind("verify_url")
def test_url_verification_decrypts_echostr(v):
    plain = crypto_for(v).verify_and_decrypt(
        v["msg_signature"], v["timestamp"], v["nonce"], echostr(v)
    )
    assert plain == v["decrypted_plaintext"]


@by_kind("verify_url_must_fail")
def test_must_fail_vector_is_refused(v):
    with pytest.raises(BadSignature):
        crypto_for(v).verify_and_decrypt(v["msg_signature"], v["timestamp"], v["nonce"], echostr(v))


@by_kind("decrypt")
def test_decrypt_vectors(v):
    encrypt = xmltodict.parse(v["post_body"])["xml"]["Encrypt"]
    plain = crypto_for(v).verify_and_decrypt(
        v["msg_signature"], v["timestamp"], v["nonce"], encrypt
    )
    assert plain == v["decrypted_plaintext"]
    for name, value in v.get("expect_fields", {}).items():
        assert xmltodict.parse(plain)["xml"][name] == value


@by_kind("decrypt")
def test_decrypt_refuses_another_app_id(v):
    encrypt = xmltodict.parse(v["post_body"])["xml"]["Encrypt"]
    other = CallbackCrypto(v["token"], v["encoding_aes_key"], "wx_some_other_account")
    with pytest.raises(WrongAppId):
        other.verify_and_decrypt(v["msg_signature"], v["timestamp"], v["nonce"], encrypt)


@by_kind("encrypt")
def test_encrypt_with_fixed_random_matches_reply(v):
    reply = crypto_for(v).encrypt(
        v["plaintext"], v["nonce"], v["timestamp"], random16=v["random16"]
    )
    assert reply == v["expected_reply_xml"]
    envelope = xmltodict.parse(reply)["xml"]
    assert envelope["Encrypt"] == v["expected_encrypt"]
    assert envelope["MsgSignature"] == v["expected_msg_signature"]
    # …and the reply decrypts back, signature and AppId checked.
    back = crypto_for(v).verify_and_decrypt(
        v["expected_msg_signature"], v["timestamp"], v["nonce"], v["expected_encrypt"]
    )
    assert back == v["plaintext"]


@by_kind("encrypt_payload_only")
def test_payload_only_vectors_round_trip(v):
    crypto = crypto_for(v)
    envelope = xmltodict.parse(crypto.encrypt(v["plaintext"], "1", "1", random16=v["random16"]))[
        "xml"
    ]
    assert envelope["Encrypt"] == v["expected_encrypt"]
    assert crypto.decrypt(v["expected_encrypt"]) == v["plaintext"]


def test_signature_is_sorted_sha1():
    # The plain `signature` WeChat sends on every request (Tencent's doc example ordering).
    assert sign("b", "a", "c") == sign("c", "b", "a")
    crypto = CallbackCrypto("token")
    crypto.check_signature(sign("token", "1", "2"), "1", "2")
    with pytest.raises(BadSignature):
        crypto.check_signature(sign("token", "1", "3"), "1", "2")
    with pytest.raises(BadSignature):
        crypto.check_signature(None, "1", "2")


@given(st.lists(st.text(max_size=40), min_size=1, max_size=4))
def test_signature_matches_wechatpy_signer(parts):
    """Ours is hand-inlined (it runs twice a callback); wechatpy's signer is the reference,
    including non-ASCII and empty parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    assert sign(*parts) == signer.signature


def test_mode_defaults_and_bad_keys():
    assert CallbackCrypto("t").mode is Mode.PLAINTEXT
    assert CallbackCrypto("t", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx").mode is Mode.SAFE
    with pytest.raises(ValueError):
        CallbackCrypto("t", "too-short")
    with pytest.raises(ValueError):
        CallbackCrypto("t", mode=Mode.SAFE)
