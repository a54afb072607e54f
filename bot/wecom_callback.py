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
from collections.abc import Callable

from aiohttp import web

from bot.intake import Intake
from bot.messages import InboundMsg, MessageError, parse, read_envelope
from bot.wechat_callback import read_limited
from bot.wechat_crypto import BadSignature, CallbackCrypto, CryptoError, Mode, WrongAppId
from orderbot.settings import Settings
from orders.models import InboundMessage, utcnow
from orders.upsert import insert_for
from workers import outbox as queue

log = logging.getLogger(__name__)

PATH = "/wecom/callback"
CHANNEL = "wecom"
INBOUND_KIND = "wecom_inbound"  # Outbox.kind: carry out a stored WeCom message or event
MAX_BODY = 64 * 1024


def _text(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain")


def _refusal(exc: CryptoError | MessageError) -> web.Response:
    if isinstance(exc, BadSignature | WrongAppId):
        return _text("forbidden", 403)
    return _text("bad request", 400)


class WeComIntake(Intake):
    """The shared store-then-ack intake, queueing `wecom_inbound` work instead of the chat's."""

    def __init__(self, *args: object, **kw: object) -> None:
        kw.setdefault("channel", CHANNEL)
        super().__init__(*args, **kw)  # type: ignore[arg-type]

    async def _insert(self, msg: InboundMsg) -> int | None:
        async with self.sessionmaker() as session, session.begin():
            stmt = (
                insert_for(session, InboundMessage)
                .values(
                    channel=self.channel,
                    dedup_key=msg.dedup_key,
                    from_user=msg.openid,
                    msg_type=msg.msg_type,
                    content=msg.content,
                    raw=msg.raw,
                    received_at=utcnow(),
                    state="received",
                )
                .on_conflict_do_nothing(index_elements=["channel", "dedup_key"])
                .returning(InboundMessage.id)
            )
            message_id = (await session.exec(stmt)).scalar_one_or_none()
            if message_id is None:
                return None
            await queue.enqueue(
                session, kind=INBOUND_KIND, target=msg.openid, payload={"message_id": message_id},
                dedup_key=f"wecom_inbound:{message_id}",
            )
            return message_id


class WeComCallback:
    """The two handlers, holding the app's crypto (token, EncodingAESKey, CorpID)."""

    def __init__(
        self,
        crypto: CallbackCrypto,
        intake: Intake,
        *,
        on_stored: Callable[[], None] | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self.crypto = crypto
        self.intake = intake
        self.on_stored = on_stored  # e.g. the embedded worker's wake()
        self.max_body = max_body

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
            return _refusal(exc)
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
            msg = parse(xml, "wecom")
        except (CryptoError, MessageError) as exc:
            log.info("wecom callback refused: %s", exc)
            return _refusal(exc)
        try:
            accepted = await self.intake.accept(msg)
        except Exception:
            log.exception("wecom callback %s not stored; WeCom will retry", msg.dedup_key)
            return _text("try again", 503)
        if not accepted.duplicate and self.on_stored is not None:
            self.on_stored()
        return _text("")  # an empty answer: nothing to reply passively


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
        return await request.app[CALLBACK].verify_url(request)

    async def receive(request: web.Request) -> web.Response:
        return await request.app[CALLBACK].receive(request)

    app.router.add_get(PATH, verify_url)
    app.router.add_post(PATH, receive)


async def _build_from_app(app: web.Application) -> None:
    if CALLBACK in app:
        return
    from orderbot import appkeys

    settings = app[appkeys.SETTINGS]
    store = app.get(appkeys.STORE)
    worker = app.get(appkeys.WORKER)
    app[CALLBACK] = WeComCallback(
        crypto_from_settings(settings),
        WeComIntake(app[appkeys.SESSIONMAKER], store),
        on_stored=getattr(worker, "wake", None),
    )
