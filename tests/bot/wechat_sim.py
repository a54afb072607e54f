"""Plays the WeChat server in tests: builds callbacks the way WeChat sends them.

Encryption is wechatpy's `WeChatCrypto` (its public API, not our wrapper) and the plain
signature is computed here with hashlib, so the handler is checked against an
implementation that does not share its code path.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass, field

import xmltodict
from wechatpy.crypto import WeChatCrypto

_ids = itertools.count(6_100_000_000_000_000_000)


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def text_xml(
    openid: str,
    content: str,
    msg_id: int | None = None,
    create_time: int | None = None,
    to_user: str = "gh_orderbot",
) -> str:
    msg_id = next(_ids) if msg_id is None else msg_id
    create_time = int(time.time()) if create_time is None else create_time
    return (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, key: str = "", create_time: int | None = None) -> str:
    create_time = int(time.time()) if create_time is None else create_time
    return (
        f"<xml><ToUserName><![CDATA[gh_orderbot]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


@dataclass
class WeChatSim:
    """One Official Account as WeChat sees it: token, EncodingAESKey, AppId and mode."""

    token: str = "orderbot-token"
    aes_key: str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    app_id: str = "wx0123456789abcdef"
    mode: str = "safe"  # plaintext / compatible / safe
    _nonces: itertools.count = field(default_factory=lambda: itertools.count(100000))

    def request(self, xml: str, *, openid: str = "o_user") -> tuple[dict[str, str], str]:
        """Query parameters and body of the POST WeChat would send for `xml`."""
        timestamp, nonce = str(int(time.time())), str(next(self._nonces))
        params = {
            "signature": sha1_signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
        }
        if self.mode == "plaintext":
            return params, xml
        envelope = xmltodict.parse(
            WeChatCrypto(self.token, self.aes_key, self.app_id).encrypt_message(
                xml, nonce, timestamp
            )
        )["xml"]
        params |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
        encrypt = f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt>"
        if self.mode == "compatible":  # the clear fields and the ciphertext side by side
            body = xml.replace("</xml>", encrypt + "</xml>")
        else:
            body = f"<xml><ToUserName><![CDATA[gh_orderbot]]></ToUserName>{encrypt}</xml>"
        return params, body

    def verify_params(self, echostr: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(next(self._nonces))
        return {
            "signature": sha1_signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
