"""Every payload in shared/external/wechat_xml/xml_payloads.json through bot.messages.

Official Account and WeCom callbacks parse into InboundMsg; the encrypted envelopes are
read by read_envelope; what is not a message callback at all (a pay refund notice, a
truncated reply literal) is refused with MessageError, never another exception.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import InboundMsg, MessageError, parse, read_envelope
from tests.shared_data import read_json, shared_cases

PAYLOADS = "external/wechat_xml/xml_payloads.json"
WECOM_SAMPLES = "external/wecom_xml/wecom_callback_xml_samples.json"


def _fields(xml: str) -> dict | None:
    try:
        root = xmltodict.parse(xml).get("xml")
    except Exception:
        return None
    return root if isinstance(root, dict) else None


def _kind(xml: str) -> str:
    root = _fields(xml)
    if root is None:
        return "malformed"
    if "MsgType" in root:
        return "message"
    if "Encrypt" in root:
        return "envelope"
    return "other"


def test_payload_set_is_what_we_expect():
    payloads = read_json(PAYLOADS)
    kinds = [_kind(p["xml"]) for p in payloads]
    assert len(payloads) == 80
    assert kinds.count("message") == 75
    assert kinds.count("envelope") == 3
    assert kinds.count("other") == 1  # a WeChat Pay refund notice
    assert kinds.count("malformed") == 1  # a truncated literal from a reply test


@shared_cases("p", PAYLOADS, lambda data: [pytest.param(p, id=f"{i}-{p['test']}") for i, p in enumerate(data)])
def test_every_payload(p):
    xml, kind = p["xml"], _kind(p["xml"])
    if kind == "envelope":
        env = read_envelope(xml)
        assert env["Encrypt"] == _fields(xml)["Encrypt"]
        with pytest.raises(MessageError):
            parse(xml)  # an envelope is not a message until decrypted
        return
    if kind != "message":
        with pytest.raises(MessageError):
            parse(xml)
        return
    root = _fields(xml)
    msg = parse(xml)
    assert isinstance(msg, InboundMsg)
    assert msg.openid == root["FromUserName"]
    assert msg.to_user == (root.get("ToUserName") or "")
    assert msg.msg_type == root["MsgType"].lower()
    assert msg.create_time == int(root["CreateTime"])
    assert msg.agent_id == root.get("AgentID")
    assert msg.raw == xml
    if root["MsgType"] == "event":
        # wechatpy names scan-to-subscribe events subscribe_scan / subscribe_scan_product
        assert msg.event.startswith(root["Event"].lower())
        assert msg.msg_id is None
        assert msg.dedup_key.startswith(f"{root['FromUserName']}:{root['CreateTime']}:")
    elif root.get("MsgId"):
        assert msg.dedup_key == root["MsgId"]
    if root["MsgType"] == "text":
        assert msg.text == root["Content"]
    if root["MsgType"] == "image":
        assert (msg.media_id, msg.pic_url) == (root["MediaId"], root["PicUrl"])
    if root["MsgType"] == "voice":
        assert msg.media_id == root["MediaId"]
        assert msg.text == root.get("Recognition")
    if root["MsgType"] == "location":
        assert msg.location is not None
        assert msg.location.lat == float(root["Location_X"])
        assert msg.location.lng == float(root["Location_Y"])
        assert msg.location.label == root["Label"]
    if root.get("Event", "").lower() == "location":
        assert (msg.location.lat, msg.location.lng) == (
            float(root["Latitude"]),
            float(root["Longitude"]),
        )
    if isinstance(root.get("EventKey"), str) and root.get("Event", "").lower() in {"click", "view"}:
        assert msg.event_key == root["EventKey"] == msg.content


def test_subscribe_with_scene_strips_qrscene_prefix():
    xml = next(p["xml"] for p in read_json(PAYLOADS) if p["test"] == "test_parse_subscribe_scan_event")
    msg = parse(xml)
    assert msg.event == "subscribe_scan"
    assert msg.event_key == "123123"


def test_location_select_carries_the_label():
    xml = next(p["xml"] for p in read_json(PAYLOADS) if p["test"] == "test_location_select_event")
    msg = parse(xml)
    assert msg.location is not None and msg.location.label == "广州市海珠区客村艺苑路 106号"
    assert (msg.location.lat, msg.location.lng) == (23.0, 113.0)


def test_voice_recognition_is_the_text():
    xml = (
        "<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>"
        "<Recognition><![CDATA[要五千个M8螺丝]]></Recognition><MsgId>42</MsgId></xml>"
    )
    msg = parse(xml)
    assert (msg.text, msg.media_id, msg.voice_format, msg.dedup_key) == (
        "要五千个M8螺丝",
        "m1",
        "amr",
        "42",
    )


@shared_cases("sample", WECOM_SAMPLES, lambda data: [pytest.param(s, id=s["test"]) for s in data["samples"]])
def test_wecom_samples(sample):
    msg = parse(sample["xml"])
    expect = sample["expect"]
    assert msg.msg_type == expect["MsgType"]
    # an event keeps its (lower-case) name; a message has none — a dropped event fails here
    assert msg.event == (expect["Event"].lower() if "Event" in expect else None)
    assert msg.agent_id == expect.get("AgentID")
    if "EventKey" in expect:
        assert msg.event_key == expect["EventKey"]


def test_two_events_in_one_second_are_not_retries_of_each_other():
    base = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1700000000"
        "</CreateTime><MsgType>event</MsgType><Event>{}</Event></xml>"
    )
    assert parse(base.format("subscribe")).dedup_key != parse(base.format("LOCATION")).dedup_key
    assert parse(base.format("subscribe")).dedup_key == parse(base.format("subscribe")).dedup_key


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml>",
        b"<xml/>",
        b"<other><MsgType>text</MsgType></other>",
        b"<xml><MsgType>text</MsgType></xml>",
        b"<xml><FromUserName>o</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType></xml>",
        b"<xml><FromUserName><a>1</a></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
        b"<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType><b/></MsgType></xml>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><xml><FromUserName>&e;</FromUserName></xml>',
        b"<xml>\xff\xfe</xml>",
    ],
)
def test_garbage_is_a_message_error(body):
    with pytest.raises(MessageError):
        parse(body)


_FIELDS = ["FromUserName", "ToUserName", "CreateTime", "MsgType", "MsgId", "Content", "Event",
           "EventKey", "Location_X", "Location_Y", "Label", "Latitude", "MediaId", "Recognition"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_message_error(body):
    for reader in (parse, read_envelope):
        try:
            reader(body)
        except MessageError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS), st.text(max_size=20), max_size=len(_FIELDS)))
def test_any_field_values_parse_or_message_error(fields):
    xml = "<xml>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items()) + "</xml>"
    try:
        msg = parse(xml)
    except MessageError:
        return
    assert msg.openid == fields["FromUserName"].strip() or msg.openid == fields["FromUserName"]
    assert msg.dedup_key  # every accepted message can be deduplicated


def _shared_payloads() -> list[str]:
    """The XML texts of ../shared's WeChat payload collection."""
    entries = read_json(PAYLOADS)
    return [e["xml"] for e in entries if isinstance(e, dict) and isinstance(e.get("xml"), str)]


def test_fast_path_agrees_with_wechatpy_on_every_plain_payload() -> None:
    """The ElementTree fast path must read every message exactly as wechatpy's parser does."""
    from wechatpy.messages import MESSAGE_TYPES
    from wechatpy.parser import parse_message

    from bot.messages import _fast_fields, from_fields, from_wechatpy

    fast_hits = 0
    for xml in _shared_payloads():
        fast = _fast_fields(xml)
        if fast is None:
            continue
        fast_hits += 1
        slow = parse_message(xml)
        assert type(slow) is MESSAGE_TYPES[fast["MsgType"].lower()]  # a plain message to wechatpy too
        assert fast == slow._data
        assert from_fields(fast, raw=xml) == from_wechatpy(slow, raw=xml)
    assert fast_hits >= 5  # text, image, voice, video, location… take the fast path


_SPACES = st.sampled_from(["", " ", "\n", "\r\n\t", "\x0c", "\x0b", "\x00"])
_TAGS = st.sampled_from(["Encrypt", "ToUserName", "AgentID", "a", "1x", "x-y"])
_VALUES = st.text(alphabet="QUJD+/=_.@-1 &<>]é\x00\x0c", max_size=8)


@st.composite
def _envelopes(draw) -> bytes:
    """Mostly-plausible envelopes with the odd wrong character, space, tag or nesting."""
    out = draw(_SPACES) + draw(st.sampled_from(["<xml>", "<xml >", "<XML>", "<?xml version='1.0'?><xml>"]))
    for _ in range(draw(st.integers(0, 3))):
        tag, close = draw(_TAGS), draw(st.sampled_from(["same", "same", "other"]))
        value = draw(_VALUES)
        if draw(st.booleans()):
            value = f"<![CDATA[{value}]]>"
        end = tag if close == "same" else draw(_TAGS)
        out += draw(_SPACES) + f"<{tag}>{value}</{end}>"
    return (out + draw(_SPACES) + "</xml>" + draw(_SPACES)).encode()


@settings(max_examples=1000, deadline=None)
@given(_envelopes())
def test_envelope_shortcut_reads_exactly_what_elementtree_reads(raw):
    """The regex shortcut for plain envelopes may only accept bodies ElementTree accepts,
    and must read the same fields from them."""
    from bot.messages import MessageError, _flat_envelope, _tree_envelope

    fast = _flat_envelope(raw)
    if fast is not None:
        try:
            assert fast == _tree_envelope(raw)
        except MessageError:
            raise AssertionError(f"shortcut accepted malformed {raw!r}") from None


def test_envelope_shortcut_takes_real_envelopes():
    from bot.messages import _flat_envelope

    wechat = b"<xml>\n  <ToUserName><![CDATA[gh_123]]></ToUserName>\n  <Encrypt><![CDATA[QUJD+/==]]></Encrypt>\n</xml>"
    wecom = b"<xml><ToUserName><![CDATA[ww1]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[QUJD]]></Encrypt></xml>"
    assert _flat_envelope(wechat) == {"ToUserName": "gh_123", "Encrypt": "QUJD+/=="}
    assert _flat_envelope(wecom) == {"ToUserName": "ww1", "AgentID": "1000002", "Encrypt": "QUJD"}
    assert read_envelope(wechat)["Encrypt"] == "QUJD+/=="


_TEXT_TAGS = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "x1", "A-B"])
_CLEAN = st.text(alphabet="订单M8 .é", max_size=5)
_ODD = st.sampled_from(["", "", "]", "]]", "]]>", "&", "&amp;", "<", ">", "\r", "\r\n", "\x00", "\x0b", "\x7f",
                        "\ufffe", "😀", "\u3000", "\n"])  # fmt: skip
_TEXT_VALUES = st.one_of(
    st.sampled_from(["text", "image", "o_1", "1700000000", "12345", ""]),
    _CLEAN,
    _CLEAN,
    st.builds(lambda a, odd, b: a + odd + b, _CLEAN, _ODD, _CLEAN),
)
_GAPS = st.sampled_from(["", "", "", "", " ", "\n", "\n", "\r\n", "\t", " \n ", "\x0c", "x"])


@st.composite
def _flat_messages(draw) -> str:
    """Plain-looking messages, now and then with a character, gap or tag XML forbids."""
    out = draw(_GAPS) + draw(st.sampled_from(["<xml>"] * 6 + ["<xml a='1'>", "<?xml version='1.0'?><xml>"]))
    for _ in range(draw(st.integers(0, 5))):
        tag = draw(_TEXT_TAGS)
        value = draw(_TEXT_VALUES)
        body = f"<![CDATA[{value}]]>" if draw(st.booleans()) else value
        end = tag if draw(st.integers(0, 19)) else draw(_TEXT_TAGS)
        out += draw(_GAPS) + f"<{tag}>{body}</{end}>"
    return out + draw(_GAPS) + "</xml>" + draw(_GAPS)



@settings(max_examples=3000, deadline=None)
@given(_flat_messages())
def test_message_shortcut_reads_exactly_what_elementtree_reads(text):
    """The regex for plain messages may only accept what ElementTree accepts, and must read
    the same fields (after the same stripping)."""
    from bot.messages import _flat_fields, _tree_fields

    fast = _flat_fields(text)
    if fast is not None:
        assert fast == _tree_fields(text), f"shortcut misread {text!r}"


def test_message_shortcut_takes_what_wechat_sends() -> None:
    """Plain messages in the shared payloads go the regex way, and read as wechatpy reads
    them (xmltodict, which its parser uses)."""
    from bot.messages import _flat_fields

    taken = 0
    for xml in _shared_payloads():
        fields = _flat_fields(xml)
        if fields is not None:
            taken += 1
            assert fields == xmltodict.parse(xml)["xml"]
    assert taken >= 5
