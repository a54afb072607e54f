"""Callback XML → one small dataclass the rest of orderbot reads.

wechatpy parses the XML and knows every message and event type; we keep the few fields
an order conversation needs (who, what kind, text, picture, place, menu key) and the
deduplication key. Official Account and WeCom payloads share the format; WeCom ones
carry an AgentID and are parsed with wechatpy's enterprise classes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree import ElementTree

from wechatpy.enterprise.parser import parse_message as parse_wecom_message
from wechatpy.messages import MESSAGE_TYPES, BaseMessage
from wechatpy.parser import parse_message as parse_mp_message

Platform = Literal["mp", "wecom", "auto"]


class MessageError(ValueError):
    """The XML is malformed, or is not a message/event callback (no sender, type or time).

    `code` names the refusal for logs and the 400 body: malformed_xml, xml_entities (a DOCTYPE
    or ENTITY declaration: billion laughs, external entities), no_encrypt, not_a_message."""

    def __init__(self, message: str, code: str = "malformed_xml") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lng: float
    label: str | None = None  # 广州市海珠区… for a shared location; None for LOCATION reports
    scale: str | None = None
    precision: float | None = None


@dataclass(frozen=True, slots=True)
class InboundMsg:
    """One callback, decrypted and parsed. Field names follow our vocabulary, not WeChat's."""

    openid: str  # FromUserName: OA openid, or WeCom UserID
    to_user: str  # ToUserName: the account's gh_ id, or the CorpID
    msg_type: str  # text / image / voice / video / location / link / event / ...
    create_time: int
    msg_id: str | None  # MsgId; None for events
    text: str | None = None  # Content, or a voice message's Recognition
    media_id: str | None = None  # image / voice / video media, downloadable for 3 days
    pic_url: str | None = None
    voice_format: str | None = None
    location: Location | None = None
    event: str | None = None  # lower-case event name: subscribe, click, location, ...
    event_key: str | None = None  # EventKey: menu key, QR scene, …
    agent_id: str | None = None  # WeCom app id; None on the Official Account
    raw: str = ""  # the (decrypted) XML as received

    @property
    def dedup_key(self) -> str:
        """What a WeChat retry repeats: MsgId, else FromUserName + CreateTime (events).

        The event name and its key are appended so that two different events a user triggers
        within one second (subscribe, then LOCATION; 确认 on two WeCom cards) are not mistaken
        for a retry of each other; a retry repeats both.
        """
        if self.msg_id:
            return self.msg_id
        key = f"{self.openid}:{self.create_time}:{self.event or self.msg_type}"
        if self.event_key:  # a rep pressing two cards in one second: two events, not a retry
            k = self.event_key
            key += ":" + (k if len(k) <= 64 else hashlib.sha256(k.encode()).hexdigest()[:32])
        return key

    @property
    def content(self) -> str | None:
        """What `InboundMessage.content` keeps: the text, or the event key."""
        return self.text if self.event is None else self.event_key


def read_envelope(body: str | bytes) -> dict[str, str]:
    """The outer XML of a safe/compatible-mode callback: its flat fields, Encrypt among them.

    Raises MessageError when the body is not XML or has no `Encrypt` text. Read with
    the C ElementTree parser (it runs on every request, before anything is verified);
    any DOCTYPE is refused first, so no entity is ever declared, let alone expanded.
    """
    raw = body.encode() if isinstance(body, str) else body
    fields = _flat_envelope(raw)
    if fields is None:
        fields = _tree_envelope(raw)
    if not fields.get("Encrypt"):
        raise MessageError("no Encrypt element", "no_encrypt")
    return fields


# An envelope as WeChat and WeCom send it: flat elements whose values are base64, ids and
# digits, bare or in CDATA. A body matching this whole is well-formed XML with nothing to
# unescape, so the regex reads it exactly as ElementTree would, in a fifth of the time.
_VALUE = rb"[A-Za-z0-9+/=_.@-]*"
_FIELD = rb"<([A-Za-z_][A-Za-z0-9_]*)>(?:<!\[CDATA\[(" + _VALUE + rb")\]\]>|(" + _VALUE + rb"))</\1>"
_SPACE = rb"[ \t\r\n]*"  # XML whitespace; \s would also let \f and \v through, which XML forbids
_FLAT = re.compile(_SPACE + rb"<xml>(?:" + _SPACE + _FIELD + rb")+" + _SPACE + rb"</xml>" + _SPACE)
_FIELDS = re.compile(_FIELD)


def _flat_envelope(raw: bytes) -> dict[str, str] | None:
    """The fields of an envelope of the plain shape above, else None (use the parser)."""
    if _FLAT.fullmatch(raw) is None:
        return None
    return {
        m[1].decode(): (m[2] if m[2] is not None else m[3]).decode()
        for m in _FIELDS.finditer(raw)
    }


def _tree_envelope(raw: bytes) -> dict[str, str]:
    """Any other envelope, through ElementTree (DOCTYPE refused first)."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise MessageError("DOCTYPE / ENTITY declarations are not accepted", "xml_entities")
    try:
        root = ElementTree.fromstring(raw)
    except (ElementTree.ParseError, ValueError) as exc:
        raise MessageError(f"malformed XML: {exc}") from exc
    if root.tag != "xml":
        raise MessageError("no <xml> root element")
    return {child.tag: child.text or "" for child in root if len(child) == 0}


_FAST_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


# A message as WeChat writes it: <xml>, then flat elements, each one CDATA section or plain
# text without markup, entities or carriage returns (XML would rewrite those), in
# characters XML allows. What matches is well-formed and means exactly what it says.
_NOT_XML_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff"
_IN_CDATA = rf"[^\]{_NOT_XML_CHARS}]*(?:\](?!\]>)[^\]{_NOT_XML_CHARS}]*)*"  # anything but ]]>
_TEXT_FIELD = re.compile(
    rf"[ \t\r\n]*<([A-Za-z_][A-Za-z0-9_]*)>"
    rf"(?:<!\[CDATA\[({_IN_CDATA})\]\]>|([^<>&\]{_NOT_XML_CHARS}]*))</\1>"
)
_TEXT_HEAD = re.compile(r"[ \t\r\n]*<xml>")
_TEXT_TAIL = re.compile(r"[ \t\r\n]*</xml>[ \t\r\n]*")


def _flat_fields(text: str) -> dict[str, Any] | None:
    """The fields of a message of the plain shape above, else None (use the parser)."""
    head = _TEXT_HEAD.match(text)
    if head is None:
        return None
    pos, data = head.end(), {}
    field = _TEXT_FIELD.match
    while (m := field(text, pos)) is not None:
        if m[1] in data:
            return None  # repeated field: xmltodict would make a list
        value = m[2] if m[2] is not None else m[3]
        data[m[1]] = value.strip() or None  # as xmltodict's strip_whitespace
        pos = m.end()
    if not data or _TEXT_TAIL.fullmatch(text, pos) is None:
        return None
    return data


def _tree_fields(text: str) -> dict[str, Any] | None:
    """Flat fields through the C ElementTree parser; None for anything not flat."""
    if "<!" in text.replace("<![CDATA[", ""):
        return None  # DOCTYPE, comments: let the careful path decide
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError):
        return None
    if root.tag != "xml" or root.attrib or any(len(child) or child.attrib for child in root):
        return None
    data: dict[str, Any] = {}
    for child in root:
        if child.tag in data:
            return None  # repeated field: xmltodict would make a list
        value = (child.text or "").strip()  # as xmltodict's strip_whitespace
        data[child.tag] = value or None
    return data


def _fast_fields(text: str) -> dict[str, Any] | None:
    """The common case (a customer's flat text/image/voice/location message) read into the
    same fields wechatpy's own parse would give (it reads through xmltodict, the slowest
    step of a callback): by a regex when the XML is plain, else with ElementTree. Anything
    else — events, WeCom, nested fields, odd input — returns None and takes wechatpy's path."""
    data = _flat_fields(text)
    if data is None:
        data = _tree_fields(text)
    if data is None:
        return None
    msg_type = (data.get("MsgType") or "").lower()
    if msg_type not in _FAST_TYPES or "AgentID" in data or msg_type not in MESSAGE_TYPES:
        return None
    return data


# Declarations outside CDATA (a customer may well paste "<!DOCTYPE html>" into a message).
_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
_DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)


def parse(xml: str | bytes, platform: Platform = "auto") -> InboundMsg:
    """Parse a plaintext callback body; `auto` picks WeCom when the XML has an AgentID."""
    try:
        text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
        fields = _fast_fields(text) if platform != "wecom" else None
        if fields is not None:
            return from_fields(fields, raw=text)
        if _DECLARATION.search(_CDATA.sub("", text)):
            raise MessageError("DOCTYPE / ENTITY declarations are not accepted", "xml_entities")
        msg = (parse_wecom_message if platform == "wecom" else parse_mp_message)(text)
        if platform == "auto" and "AgentID" in msg._data:
            msg = parse_wecom_message(text)
    except MessageError:
        raise
    except Exception as exc:  # ExpatError, entities refused, no root, no MsgType, …
        raise MessageError(f"not a parseable callback: {type(exc).__name__}: {exc}") from exc
    if msg is None:
        raise MessageError("empty body", "not_a_message")
    return from_wechatpy(msg, raw=text)


def _str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MessageError(f"{name} is not a plain value")
    return value


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _location(msg_type: str, data: dict[str, Any], event: str | None) -> Location | None:
    """Three shapes: a location message, a LOCATION report, a location_select menu pick."""
    if msg_type == "location":
        lat, lng = _float(data.get("Location_X")), _float(data.get("Location_Y"))
        label, scale = _str(data, "Label"), _str(data, "Scale")
    elif event == "location":
        lat, lng = _float(data.get("Latitude")), _float(data.get("Longitude"))
        label, scale = None, None
    elif event == "location_select" and isinstance(data.get("SendLocationInfo"), dict):
        info = data["SendLocationInfo"]
        lat, lng = _float(info.get("Location_X")), _float(info.get("Location_Y"))
        label, scale = _str(info, "Label"), _str(info, "Scale")
    else:
        return None
    if lat is None or lng is None:
        return None
    precision = _float(data.get("Precision")) if event == "location" else None
    return Location(lat=lat, lng=lng, label=label or None, scale=scale, precision=precision)


def from_wechatpy(msg: BaseMessage, raw: str = "") -> InboundMsg:
    """Our dataclass from a parsed wechatpy message or event (any class, known or not)."""
    return from_fields(msg._data, raw)


# Identifiers WeChat keeps short (openids are 28 characters, MsgIds 19 digits). Longer ones
# can only be forged — a plaintext-mode signature does not cover the body — and would break
# the indexes they are stored under (PostgreSQL refuses index rows over ~2.7 KB).
_LIMITS = {"FromUserName": 128, "ToUserName": 128, "MsgId": 64, "MsgID": 64, "MsgType": 32,
           "Event": 64, "CreateTime": 12, "EventKey": 1024, "MediaId": 256, "AgentID": 32}


def from_fields(data: dict[str, Any], raw: str = "") -> InboundMsg:
    """Our dataclass from a callback's fields as wechatpy holds them (`BaseMessage._data`)."""
    if not isinstance(data, dict):
        raise MessageError("no <xml> fields", "not_a_message")
    for name, limit in _LIMITS.items():
        value = data.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise MessageError(f"{name} is longer than {limit} characters", "field_too_long")
    openid, ctime, msg_type = (_str(data, n) for n in ("FromUserName", "CreateTime", "MsgType"))
    if not openid or not msg_type or not ctime or not ctime.strip().isdigit():
        raise MessageError("not a message callback: FromUserName, MsgType and CreateTime needed", "not_a_message")
    msg_type = msg_type.lower()
    event = _str(data, "Event")
    event = event.lower() if event else None
    if msg_type.startswith("device_"):
        event = msg_type if event is None else f"device_{event}"  # as wechatpy names them
    msg_id = _str(data, "MsgId") or _str(data, "MsgID")
    if msg_id is not None and (not msg_id.strip() or msg_id.strip() == "0"):
        msg_id = None
    if event is not None and msg_type == "event":
        msg_id = None  # an event's MsgID (mass/template job) names the job, not this push
    text = _str(data, "Recognition") if msg_type == "voice" else _str(data, "Content")
    if msg_type.startswith("device_"):
        text = None  # base64 device payloads, not chat text
    key = data.get("EventKey")
    return InboundMsg(
        openid=openid,
        to_user=_str(data, "ToUserName") or "",
        msg_type=msg_type,
        create_time=int(ctime),
        msg_id=msg_id.strip() if msg_id else None,
        text=text or None if msg_type != "text" else (text or ""),
        media_id=_str(data, "MediaId"),
        pic_url=_str(data, "PicUrl"),
        voice_format=_str(data, "Format") if msg_type == "voice" else None,
        location=_location(msg_type, data, event),
        event=event,
        event_key=key if isinstance(key, str) else None,
        agent_id=_str(data, "AgentID"),
        raw=raw,
    )
