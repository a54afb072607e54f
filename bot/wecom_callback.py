"""GET/POST /wecom/callback: the WeCom self-built app's receive URL (reps and managers).

GET is URL verification: WeCom signs (`msg_signature`) an encrypted `echostr`; we answer its
decrypted plaintext. POST is a message or event, always encrypted (WeCom has no plaintext
mode): verified, decrypted with the CorpID check, stored with an outbox row asking for its
handling (`wecom_inbound`), and acknowledged with an empty 200 long before WeCom's 5 s.
Retries are dropped by MsgId, or FromUserName + CreateTime + event for events (a
`template_card_event` has no MsgId). The rep's command or button press is then carried out
by workers (bot/wecom_commands.py), and answers go out through the outbox too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.intake import Intake, dedup_store
from bot.messages import MessageError, parse, read_envelope
from bot.wechat_callback import MAX_SKEW, read_limited, refusal, store_then_ack
from bot.wechat_crypto import BadSignature, CallbackCrypto, CryptoError, Mode, check_fresh
from orderbot.settings import Settings
from orderbot.stores import KeyValueStore
from orders.outbox import OutboxKind

log = logging.getLogger(__name__)

PATH = "/wecom/callback"
CHANNEL = "wecom"
INBOUND_KIND = OutboxKind.WECOM_INBOUND  # carry out a stored WeCom message or event
MAX_BODY = 64 * 1024


def _text(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain")


def wecom_intake(
    sessionmaker: async_sessionmaker[AsyncSession],
    store: KeyValueStore | None = None,
    *,
    wake: Callable[[], None] | None = None,
) -> Intake:
    """The shared store-then-ack intake (group commit, store + database dedup), storing
    channel "wecom" and queueing `wecom_inbound` work instead of the customer chat's."""
    return Intake(sessionmaker, store, channel=CHANNEL, kind=INBOUND_KIND, wake=wake)


class WeComCallback:
    """The two handlers, holding the app's crypto (token, EncodingAESKey, CorpID)."""

    def __init__(self, crypto: CallbackCrypto, intake: Intake, *, max_body: int = MAX_BODY,
                 max_skew: float | None = MAX_SKEW, clock: Callable[[], float] = time.time) -> None:
        self.crypto = crypto
        self.intake = intake  # wakes the outbox worker itself after each commit
        self.max_body = max_body
        self.max_skew = max_skew  # replay window, as on /wechat/callback
        self.clock = clock

    async def verify_url(self, request: web.Request) -> web.Response:
        q = request.query
        if "echostr" not in q or "msg_signature" not in q:
            return _text("bad request", 400)
        try:
            plain = self.crypto.verify_and_decrypt(
                q["msg_signature"], q.get("timestamp", ""), q.get("nonce", ""), q["echostr"]
            )
        except CryptoError as exc:
            log.info("wecom url verification refused: %s", exc)
            return refusal(exc)
        return _text(plain)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            if "msg_signature" not in q:
                raise BadSignature("WeCom callbacks carry msg_signature")
            body = await read_limited(request, self.max_body)
            envelope = read_envelope(body)
            xml = self.crypto.verify_and_decrypt(
                q["msg_signature"], q.get("timestamp", ""), q.get("nonce", ""), envelope["Encrypt"]
            )
            check_fresh(q.get("timestamp", ""), self.clock(), self.max_skew)
            msg = parse(xml, "wecom")
        except (CryptoError, MessageError) as exc:
            log.info("wecom callback refused: %s %s", exc.code, exc)
            return refusal(exc)
        return await store_then_ack(self.intake, msg, platform="wecom", ok="")  # nothing to reply passively


CALLBACK = web.AppKey("wecom_callback", WeComCallback)


def crypto_from_settings(settings: Settings) -> CallbackCrypto:
    """WECOM_TOKEN / WECOM_AES_KEY / WECOM_CORPID; WeCom callbacks are always encrypted."""
    return CallbackCrypto(
        token=settings.wecom_token, aes_key=settings.wecom_aes_key, app_id=settings.wecom_corpid,
        mode=Mode.SAFE,
    )


def setup(app: web.Application, callback: WeComCallback | None = None) -> None:
    """Route /wecom/callback. The callback comes from `callback`, else it is built at startup
    from the app's settings, sessionmaker and store (orderbot.appkeys), when those exist."""
    if callback is not None:
        app[CALLBACK] = callback
    else:
        app.on_startup.append(_build_from_app)

    async def verify_url(request: web.Request) -> web.Response:
        callback = request.app.get(CALLBACK)
        return await callback.verify_url(request) if callback else _not_configured()

    async def receive(request: web.Request) -> web.Response:
        callback = request.app.get(CALLBACK)
        return await callback.receive(request) if callback else _not_configured()

    app.router.add_get(PATH, verify_url)
    app.router.add_post(PATH, receive)


def _not_configured() -> web.Response:
    return web.Response(text="not configured", status=503)


async def _build_from_app(app: web.Application) -> None:
    if CALLBACK in app:
        return
    from orderbot import appkeys

    settings = app[appkeys.SETTINGS]
    if not (settings.wecom_token and settings.wecom_aes_key and settings.wecom_corpid):
        # A shop may run the customer side first: the rest of the service still serves.
        log.warning("WECOM_TOKEN / WECOM_AES_KEY / WECOM_CORPID not set: /wecom/callback answers 503")
        return
    app[CALLBACK] = WeComCallback(
        crypto_from_settings(app[appkeys.SETTINGS]),
        wecom_intake(app[appkeys.SESSIONMAKER], dedup_store(app.get(appkeys.STORE)), wake=app.get(appkeys.WAKE_OUTBOX)),
        max_skew=settings.callback_max_skew,
    )
