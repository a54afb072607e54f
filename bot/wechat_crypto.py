"""WeChat callback signatures and message encryption, as thin wrappers over wechatpy.

WeChat signs every callback with SHA1 over the sorted (token, timestamp, nonce) — and, in
safe and compatible modes, the `Encrypt` payload too (`msg_signature`). The payload is
AES-256-CBC (key = base64(EncodingAESKey + "=")) over random16 + length + XML + AppId.
wechatpy does the AES and the packing; we add constant-time comparisons, one error
hierarchy that the HTTP layer maps to status codes, and the AppId check on every decrypt.
The same code serves WeCom, whose receive id is the CorpID instead of the AppId.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from enum import StrEnum

from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import to_text


class Mode(StrEnum):
    """How the account is configured in the WeChat admin console (消息加解密方式)."""

    PLAINTEXT = "plaintext"  # 明文模式: no AES key, bodies in the clear
    COMPATIBLE = "compatible"  # 兼容模式: bodies carry both the clear fields and Encrypt
    SAFE = "safe"  # 安全模式: bodies carry only Encrypt


class CryptoError(Exception):
    """A callback that failed verification or decryption; never a server fault.
    `code` names the refusal in logs and in the 4xx body."""

    code = "crypto_error"


class BadSignature(CryptoError):
    """signature / msg_signature missing or wrong: the caller does not know the token."""

    code = "bad_signature"


class WrongAppId(CryptoError):
    """Decrypted fine, but for another AppId / CorpID: meant for another account."""

    code = "wrong_appid"


class StaleTimestamp(CryptoError):
    """Signed correctly, but the timestamp is outside the replay window: a captured callback
    replayed later (or a badly wrong clock on one side)."""

    code = "stale_timestamp"


class BadCiphertext(CryptoError):
    """Not a valid encrypted payload (bad base64, length, padding or packing)."""

    code = "bad_ciphertext"


class NotConfigured(CryptoError):
    """An encrypted request arrived but no EncodingAESKey is configured."""

    code = "not_configured"


def sign(*parts: str) -> str:
    """WeChat's signature: SHA1 of the sorted, concatenated parts (what wechatpy's
    WeChatSigner computes, without its per-part conversions: it runs twice a callback)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_fresh(timestamp: str, now: float, max_skew: float | None) -> None:
    """The replay window: a signed `timestamp` more than `max_skew` seconds from `now` is
    StaleTimestamp (None or 0: no window). Call it after the signature check, which proves
    the timestamp is the sender's."""
    if not max_skew:
        return
    try:
        ts = float(timestamp)
    except ValueError:
        raise StaleTimestamp("timestamp is not a number") from None
    if not abs(now - ts) <= max_skew:  # also refuses nan
        raise StaleTimestamp(f"timestamp {timestamp} is {now - ts:+.0f} s from our clock")


def _same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.lower().encode())


class CallbackCrypto:
    """Verification and decryption for one account (token, EncodingAESKey, AppId)."""

    def __init__(self, token: str, aes_key: str = "", app_id: str = "", mode: Mode | None = None):
        if not token:
            raise ValueError("a WeChat callback token is required")
        self.token = token
        self.app_id = app_id
        self.mode = mode or (Mode.SAFE if aes_key else Mode.PLAINTEXT)
        self._prp: PrpCrypto | None = None
        self._key = b""
        if aes_key:
            try:
                key = base64.b64decode(aes_key + "=", validate=True)
            except binascii.Error as exc:
                raise ValueError("EncodingAESKey is not 43 characters of base64") from exc
            if len(key) != 32:
                raise ValueError("EncodingAESKey must decode to 32 bytes (43 characters)")
            self._key = key
            self._prp = PrpCrypto(key)
        elif self.mode is not Mode.PLAINTEXT:
            raise ValueError(f"{self.mode} mode needs an EncodingAESKey")

    @property
    def can_decrypt(self) -> bool:
        return self._prp is not None

    def check_signature(self, signature: str | None, timestamp: str, nonce: str) -> None:
        """The plain `signature` every request carries (token, timestamp, nonce)."""
        if not _same(sign(self.token, timestamp, nonce), signature):
            raise BadSignature("signature mismatch")

    def check_msg_signature(
        self, msg_signature: str | None, timestamp: str, nonce: str, encrypt: str
    ) -> None:
        """The `msg_signature` of safe/compatible mode, which also covers the ciphertext."""
        if not _same(sign(self.token, timestamp, nonce, encrypt), msg_signature):
            raise BadSignature("msg_signature mismatch")

    def decrypt(self, encrypt: str) -> str:
        """Plaintext of an `Encrypt` value; WrongAppId if it was packed for another account."""
        if self._prp is None:
            raise NotConfigured("no EncodingAESKey configured")
        try:
            return self._prp.decrypt(encrypt, self.app_id)
        except InvalidAppIdException as exc:
            raise WrongAppId("payload is for another AppId") from exc
        except Exception as exc:  # wechatpy raises whatever the bytes provoke
            raise BadCiphertext(f"cannot decrypt: {type(exc).__name__}") from exc

    def verify_and_decrypt(
        self, msg_signature: str | None, timestamp: str, nonce: str, encrypt: str
    ) -> str:
        """Signature first (cheap, and proves the sender), then AES and the AppId check."""
        self.check_msg_signature(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def encrypt(
        self, plaintext: str, nonce: str, timestamp: str, *, random16: str | None = None
    ) -> str:
        """A signed encrypted envelope, for passive replies. `random16` pins the random
        prefix (WeChat's own test vectors do); leave it None in real use."""
        if self._prp is None:
            raise NotConfigured("no EncodingAESKey configured")
        prp = self._prp
        if random16 is not None:
            prp = PrpCrypto(self._key)
            prp.get_random_string = lambda: random16  # type: ignore[method-assign]
        encrypt = to_text(prp.encrypt(plaintext, self.app_id))
        signature = sign(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        )
