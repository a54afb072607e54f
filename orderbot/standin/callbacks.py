"""Building and delivering the callbacks WeChat and WeCom POST to orderbot.

Messages are signed and, when an AES key is configured, encrypted with wechatpy's crypto
(safe mode for the Official Account; WeCom always encrypts). Delivery behaves like WeChat's
servers: wait `callback_timeout` seconds for an answer, and on a timeout, a refused
connection or a 5xx try again, `callback_attempts` times in all, with the same MsgId.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: dict[str, Any]) -> str:
    """WeChat's callback XML: strings in CDATA, numbers bare, nested dicts/lists as elements."""

    def render(name: str, value: Any) -> str:
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int | float):
            inner = str(value)
        elif isinstance(value, dict):
            inner = "".join(render(k, v) for k, v in value.items())
        elif isinstance(value, list):
            item = name[:-1] if name.endswith("s") else "item"
            inner = "".join(render(item, v) for v in value)
        else:
            inner = cdata(str(value))
        return f"<{escape(name)}>{inner}</{escape(name)}>"

    return "<xml>" + "".join(render(k, v) for k, v in fields.items()) + "</xml>"


def signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


@dataclass
class Attempt:
    status: int | None
    elapsed_ms: float
    error: str = ""


@dataclass
class Delivery:
    url: str
    plaintext: str
    attempts: list[Attempt] = field(default_factory=list)
    reply: str = ""  # orderbot's answer, decrypted when encrypted
    reply_error: str = ""

    @property
    def delivered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].status == 200

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "delivered": self.delivered,
            "attempts": [a.__dict__ for a in self.attempts],
            "xml": self.plaintext,
            "reply": self.reply,
            "reply_error": self.reply_error,
        }


MODES = ("plaintext", "compatible", "safe")


class WeChatSigning:
    """Signs (and in safe or compatible mode encrypts) OA callbacks; decrypts orderbot's
    passive replies. Safe mode sends only the ciphertext, compatible mode both."""

    def __init__(
        self, token: str, aes_key: str, appid: str, original_id: str, mode: str = ""
    ) -> None:
        self.token = token
        self.appid = appid
        self.original_id = original_id
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.mode = mode or ("safe" if aes_key else "plaintext")
        if self.mode not in MODES or (self.mode != "plaintext" and self.crypto is None):
            raise ValueError(f"mode must be one of {MODES}; compatible and safe need WECHAT_AES_KEY")

    def request(self, xml: str, openid: str) -> tuple[dict[str, str], str]:
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        params = {
            "signature": signature(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": openid,
        }
        if self.mode == "plaintext" or self.crypto is None:
            return params, xml
        encrypted = self.crypto.encrypt_message(xml, nonce, ts)
        encrypt = _element(encrypted, "Encrypt")
        params.update(encrypt_type="aes", msg_signature=signature(self.token, ts, nonce, encrypt))
        if self.mode == "compatible":
            return params, xml.replace("</xml>", f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>")
        body = f"<xml><ToUserName>{cdata(self.original_id)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return params, body

    def verification(self) -> tuple[dict[str, str], str]:
        """URL verification (GET): the echostr comes back as it was sent."""
        ts, nonce, echostr = str(int(time.time())), secrets.token_hex(5), secrets.token_hex(9)
        return {"signature": signature(self.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                "echostr": echostr}, echostr

    def read_reply(self, body: str) -> str:
        if self.crypto is None or "<Encrypt>" not in body:
            return body
        return self.crypto.decrypt_message(
            body, _element(body, "MsgSignature"), _element(body, "TimeStamp"), _element(body, "Nonce")
        )


class WeComSigning:
    """WeCom callbacks are always encrypted: msg_signature over token, time, nonce, Encrypt."""

    def __init__(self, token: str, aes_key: str, corpid: str, agentid: str) -> None:
        self.token = token
        self.corpid = corpid
        self.agentid = agentid
        self.crypto = WeComCrypto(token, aes_key, corpid)

    def request(self, xml: str, userid: str) -> tuple[dict[str, str], str]:
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        encrypt = _element(self.crypto.encrypt_message(xml, nonce, ts), "Encrypt")
        params = {
            "msg_signature": signature(self.token, ts, nonce, encrypt),
            "timestamp": ts,
            "nonce": nonce,
        }
        body = (
            f"<xml><ToUserName>{cdata(self.corpid)}</ToUserName>"
            f"<AgentID>{cdata(str(self.agentid))}</AgentID><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        )
        return params, body

    def verification(self) -> tuple[dict[str, str], str]:
        """URL verification (GET): echostr is encrypted; the answer must be its plaintext."""
        ts, nonce, plain = str(int(time.time())), secrets.token_hex(5), secrets.token_hex(9)
        echostr = _element(self.crypto.encrypt_message(plain, nonce, ts), "Encrypt")
        params = {"msg_signature": signature(self.token, ts, nonce, echostr), "timestamp": ts,
                  "nonce": nonce, "echostr": echostr}
        return params, plain

    def read_reply(self, body: str) -> str:
        if "<Encrypt>" not in body:
            return body
        return self.crypto.decrypt_message(
            body, _element(body, "MsgSignature"), _element(body, "TimeStamp"), _element(body, "Nonce")
        )


def _element(xml: str, name: str) -> str:
    value = xmltodict.parse(xml)["xml"].get(name)
    return "" if value is None else str(value)


async def deliver(
    session: aiohttp.ClientSession,
    url: str,
    signing: WeChatSigning | WeComSigning,
    xml: str,
    user: str,
    *,
    wait: float,
    attempts: int,
) -> Delivery:
    """POST the callback like WeChat does, retrying a late or failed answer."""
    delivery = Delivery(url, xml)
    for _ in range(max(1, attempts)):
        params, body = signing.request(xml, user)
        started = time.perf_counter()
        try:
            async with session.post(
                url,
                params=params,
                data=body.encode("utf-8"),
                headers={"Content-Type": "text/xml"},
                timeout=aiohttp.ClientTimeout(total=wait),
            ) as resp:
                text = await resp.text()
                delivery.attempts.append(Attempt(resp.status, _ms(started)))
        except (TimeoutError, aiohttp.ClientError) as exc:
            reason = "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            delivery.attempts.append(Attempt(None, _ms(started), reason))
            continue
        if resp.status >= 500:
            continue
        if resp.status == 200 and text and text != "success":
            try:
                delivery.reply = signing.read_reply(text)
                delivery.reply_error = reply_problem(delivery.reply, user)
            except Exception as exc:  # reported to the caller, not raised
                delivery.reply_error = f"reply could not be verified/decrypted: {exc!r}"
        break
    return delivery


def reply_problem(reply: str, user: str) -> str:
    """Why WeChat would not show this passive reply, or "" when it would."""
    try:
        fields = xmltodict.parse(reply)["xml"]
    except Exception:  # any parse failure means the same thing to WeChat
        return "reply is neither 'success', empty, nor reply XML"
    if not isinstance(fields, dict) or not fields.get("MsgType"):
        return "reply XML has no MsgType"
    if fields.get("ToUserName") != user:
        return f"reply ToUserName {fields.get('ToUserName')!r} is not the sender {user!r}"
    return ""


async def verify_url(
    session: aiohttp.ClientSession, url: str, signing: WeChatSigning | WeComSigning, *, wait: float
) -> dict[str, Any]:
    """What the admin console does when the callback URL is saved: GET with an echostr."""
    params, expected = signing.verification()
    started = time.perf_counter()
    try:
        async with session.get(url, params=params, timeout=aiohttp.ClientTimeout(total=wait)) as resp:
            status, text = resp.status, await resp.text()
    except (TimeoutError, aiohttp.ClientError) as exc:
        return {"url": url, "verified": False, "status": None, "error": repr(exc), "elapsed_ms": _ms(started)}
    return {"url": url, "verified": status == 200 and text == expected, "status": status,
            "answer": text[:200], "expected": expected, "elapsed_ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
