"""GET/POST /wechat/callback: the Official Account's server URL.

GET is URL verification: echo `echostr` when `signature` checks out (WeChat does this in
every mode); when the request carries `msg_signature` (WeCom style, and what some safe-mode
set-ups send) the echostr is encrypted and we answer its decrypted plaintext.

POST is a message or event. Every request is verified — `signature` in plaintext mode,
`msg_signature` (which also covers the ciphertext) when `encrypt_type=aes` — then stored by
`Intake` and acknowledged with "success"; all replies go out later through the
customer-service API. Bad input is answered with 4xx, never 5xx, the body naming why:
403 for a signature or AppId that does not match (bad_signature, wrong_appid) or a signed
timestamp outside the replay window (stale_timestamp, Settings.callback_max_skew, 5 min),
400 for malformed XML, DOCTYPE/ENTITY declarations or ciphertext (malformed_xml,
xml_entities, no_encrypt, not_a_message, bad_ciphertext), 413 for oversized bodies.
A 503 means only that we could not store the message; WeChat will retry it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web

from bot.intake import Intake, dedup_store
from bot.messages import InboundMsg, MessageError, parse, read_envelope
from bot.wechat_crypto import (
    BadSignature,
    CallbackCrypto,
    CryptoError,
    Mode,
    StaleTimestamp,
    WrongAppId,
    check_fresh,
)
from orderbot.settings import Settings

log = logging.getLogger(__name__)

PATH = "/wechat/callback"
MAX_BODY = 64 * 1024  # a text callback is < 3 KB encrypted; images and events are smaller
MAX_SKEW = 300.0  # seconds: the default replay window (Settings.callback_max_skew)
ERROR_HEADER = "X-Orderbot-Error"


def _text(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain")


def refusal(exc: CryptoError | MessageError) -> web.Response:
    """One place that decides which bad input gets which 4xx; body and header name the code."""
    status = 403 if isinstance(exc, BadSignature | WrongAppId | StaleTimestamp) else 400
    response = _text(exc.code, status)  # BadCiphertext, NotConfigured, MessageError: 400
    response.headers[ERROR_HEADER] = exc.code
    return response


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, or 413 body_too_large as soon as it is known to exceed `limit` (header or
    bytes read)."""
    if request.content_length is not None:
        if request.content_length > limit:
            raise _too_large(limit, request.content_length)
        return await request.read()
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit, len(body))
    return bytes(body)


def _too_large(limit: int, size: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size, headers={ERROR_HEADER: "body_too_large"})


async def store_then_ack(intake: Intake, msg: InboundMsg, *, platform: str, ok: str) -> web.Response:
    """Acknowledge only once the message (and its outbox row) is committed; a failure to store
    answers 503 so the platform delivers it again — nothing is lost."""
    try:
        await intake.accept(msg)
    except Exception:
        log.exception("%s callback %s not stored; it will be retried", platform, msg.dedup_key)
        return _text("try again", 503)
    return _text(ok)


class WeChatCallback:
    """The two handlers, holding the account's crypto and the intake they feed."""

    def __init__(self, crypto: CallbackCrypto, intake: Intake, *, max_body: int = MAX_BODY,
                 max_skew: float | None = MAX_SKEW, clock: Callable[[], float] = time.time):
        self.crypto = crypto
        self.intake = intake
        self.max_body = max_body
        self.max_skew = max_skew  # None or 0: no replay window (WeChat's own 2014 test vectors)
        self.clock = clock

    async def verify_url(self, request: web.Request) -> web.Response:
        q = request.query
        timestamp, nonce, echostr = q.get("timestamp", ""), q.get("nonce", ""), q.get("echostr")
        if echostr is None:
            return _text("bad request", 400)
        try:
            if "msg_signature" in q:
                return _text(
                    self.crypto.verify_and_decrypt(q["msg_signature"], timestamp, nonce, echostr)
                )
            self.crypto.check_signature(q.get("signature"), timestamp, nonce)
        except CryptoError as exc:
            log.info("wechat url verification refused: %s", exc)
            return refusal(exc)
        return _text(echostr)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        encrypted = q.get("encrypt_type", "raw").lower() == "aes"
        try:
            if "signature" in q or not encrypted:
                self.crypto.check_signature(q.get("signature"), timestamp, nonce)
            if not encrypted and self.crypto.mode is Mode.SAFE:
                raise BadSignature("safe mode: unencrypted callbacks are refused")
            if encrypted and "msg_signature" not in q:
                raise BadSignature("encrypted callback without msg_signature")
            body = await read_limited(request, self.max_body)
            if encrypted:
                envelope = read_envelope(body)
                xml: str | bytes = self.crypto.verify_and_decrypt(
                    q["msg_signature"], timestamp, nonce, envelope["Encrypt"]
                )
            else:
                xml = body
            check_fresh(timestamp, self.clock(), self.max_skew)
            msg = parse(xml)
        except (CryptoError, MessageError) as exc:
            log.info("wechat callback refused: %s %s", exc.code, exc)
            return refusal(exc)
        return await store_then_ack(self.intake, msg, platform="wechat", ok="success")


CALLBACK = web.AppKey("wechat_callback", WeChatCallback)


def setup(app: web.Application, callback: WeChatCallback | None = None) -> None:
    """Route /wechat/callback. Without `callback`, one is built at startup from the app's
    settings, sessionmaker and store (orderbot.appkeys), which must be opened before."""
    if callback is not None:
        app[CALLBACK] = callback
    else:
        app.on_startup.append(_build_from_app)
    app.on_cleanup.append(_close)

    async def verify_url(request: web.Request) -> web.Response:
        handler = request.app.get(CALLBACK)
        return await handler.verify_url(request) if handler else _text("not configured", 503)

    async def receive(request: web.Request) -> web.Response:
        handler = request.app.get(CALLBACK)
        return await handler.receive(request) if handler else _text("not configured", 503)

    app.router.add_get(PATH, verify_url)
    app.router.add_post(PATH, receive)


async def _build_from_app(app: web.Application) -> None:
    from orderbot import appkeys

    settings = app[appkeys.SETTINGS]
    if not settings.wechat_token:
        log.warning("WECHAT_TOKEN is not set: /wechat/callback answers 503")
        return
    intake = Intake(
        app[appkeys.SESSIONMAKER],
        dedup_store(app.get(appkeys.STORE)),
        channel="wechat",
        wake=app.get(appkeys.WAKE_OUTBOX),
    )
    app[CALLBACK] = WeChatCallback(crypto_from_settings(settings), intake, max_skew=settings.callback_max_skew)


async def _close(app: web.Application) -> None:
    handler = app.get(CALLBACK)
    if handler is not None:
        await handler.intake.close()


def crypto_from_settings(settings: Settings) -> CallbackCrypto:
    """The account's crypto from WECHAT_TOKEN / WECHAT_AES_KEY / WECHAT_APPID / _ENCRYPT_MODE."""
    mode = settings.wechat_encrypt_mode
    return CallbackCrypto(
        token=settings.wechat_token,
        aes_key=settings.wechat_aes_key,
        app_id=settings.wechat_appid,
        mode=Mode(mode) if mode else None,
    )
