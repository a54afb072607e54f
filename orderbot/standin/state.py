"""Everything the stand-in remembers, and the documented rules it enforces.

No HTTP here: each rule is a method that either returns what the real API would answer or
raises `ApiError(errcode, errmsg)`, which the server turns into WeChat's JSON error body.
WeChat (Official Account), mini-program and WeCom state are kept apart by "realm", even
though one stand-in serves all three on one port.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from orderbot.standin.config import StandinConfig

WECHAT, MINIPROGRAM, WECOM = "wechat", "miniprogram", "wecom"

# Error codes as documented by WeChat / WeCom (errmsg texts follow the real ones).
INVALID_CREDENTIAL = 40001  # also WeCom's "invalid secret"
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_MEDIA_TYPE = 40004
INVALID_MEDIA_SIZE = 40006
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_APPID = 40013  # WeCom: invalid corpid
INVALID_ACCESS_TOKEN = 40014
INVALID_CODE = 40029
INVALID_TEMPLATE_ID = 40037
INVALID_AGENTID = 40056
INVALID_APPSECRET = 40125
CODE_BEEN_USED = 40163
ACCESS_TOKEN_MISSING = 41001
ACCESS_TOKEN_EXPIRED = 42001
REQUIRE_SUBSCRIBE = 43004
USER_REFUSED = 43101
API_FREQ_OUT_OF_LIMIT = 45009
OUT_OF_WINDOW = 45015
OUT_OF_BUDGET = 45047
CONTENT_TOO_LONG = 45002
DATA_FORMAT_ERROR = 47001
ARGUMENT_INVALID = 47003
ALL_RECIPIENTS_INVALID = 81013
INVALID_WEBHOOK_KEY = 93000
# The real errcode for a spent or expired response_code is not in WeCom's public error
# table; the stand-in uses this one (classified permanent by bot.clients.errors).
INVALID_RESPONSE_CODE = 40078

CUSTOM_MSGTYPES = {
    "text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle",
    "msgmenu", "wxcard", "miniprogrampage",
}
WECOM_MSGTYPES = {
    "text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown",
    "miniprogram_notice", "template_card",
}
ROBOT_MSGTYPES = {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"}
# Cards a user can act on: sending one returns a response_code for update_template_card.
INTERACTIVE_CARDS = {"button_interaction", "vote_interaction", "multiple_interaction"}


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class Clock:
    """Wall-clock seconds that tests can move: set it, or advance it past a limit."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def set(self, epoch: float) -> None:
        self.offset = epoch - time.time()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Token:
    value: str
    realm: str
    kind: str  # "token" (/cgi-bin/token, /cgi-bin/gettoken) or "stable"
    issued_at: float
    expires_at: float
    revoked_at: float | None = None  # superseded: fails from this moment on


@dataclass
class Window:
    opened_at: float
    used: int = 0


@dataclass
class Media:
    data: bytes
    content_type: str
    filename: str
    realm: str
    created_at: float


@dataclass
class ResponseCode:
    issued_at: float
    task_id: str
    used_at: float | None = None


@dataclass
class OAUser:
    openid: str
    unionid: str = ""
    following: bool = True


@dataclass
class LoginCode:
    openid: str
    unionid: str
    issued_at: float
    used: bool = False


@dataclass
class WmsState:
    """The stand-in warehouse system (orderbot/standin/wms.py) and what it received."""

    mode: str = "accept"  # accept / reject / timeout / flaky
    fail_rate: float = 0.0  # flaky: share of calls answered 503 before anything is stored
    delay: float = 30.0  # timeout: seconds before answering (longer than the caller waits)
    secret: str = ""  # when set, calls must carry a valid X-Orderbot-Signature (else 401)
    shipment_status: str = "created"  # the status code an accepted push is answered with
    waybill_no: str = ""  # with a "shipped" status: the waybill it reports
    carrier: str = ""
    seed: int = 0
    calls: int = 0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> document
    ids: dict[str, str] = field(default_factory=dict)  # idempotency key -> our WMS id
    accepted: dict[str, int] = field(default_factory=dict)  # 2xx answers per key (duplicates too)
    rng: Any = None


@dataclass
class StandinState:
    config: StandinConfig
    clock: Clock = field(default_factory=Clock)
    tokens: dict[str, Token] = field(default_factory=dict)
    current: dict[tuple[str, str], str] = field(default_factory=dict)  # (realm, kind) -> value
    oa_users: dict[str, OAUser] = field(default_factory=dict)
    mp_users: dict[str, OAUser] = field(default_factory=dict)
    wecom_users: set[str] = field(default_factory=set)
    windows: dict[str, Window] = field(default_factory=dict)
    consents: dict[tuple[str, str], int] = field(default_factory=dict)
    robot_sends: dict[str, deque[float]] = field(default_factory=dict)
    response_codes: dict[str, ResponseCode] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    login_codes: dict[str, LoginCode] = field(default_factory=dict)
    # WeCom OAuth (web login): who is signed in to the WeCom client, and the codes issued.
    oauth_user: str | None = None
    oauth_codes: dict[str, LoginCode] = field(default_factory=dict)
    wms: WmsState = field(default_factory=WmsState)
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Platform-side idempotency: WeCom message/send with enable_duplicate_check (request JSON ->
    # (when, answer)) and template messages' client_msg_id ((openid, id) -> (when, msgid)).
    wecom_seen: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    template_seen: dict[tuple[str, str], tuple[float, Any]] = field(default_factory=dict)
    deduplicated: dict[str, int] = field(default_factory=dict)  # repeats answered ok, not delivered
    errors: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    # Successful token requests over HTTP per realm (a stable_token call answered with the
    # same token counts too): what "one fetch for many callers" is measured by.
    token_fetches: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def now(self) -> float:
        return self.clock.now()

    def next_id(self) -> int:
        return next(self._ids)

    # ---- credentials and tokens -------------------------------------------------------

    def app_realm(self, appid: str, secret: str) -> str:
        """The realm of an appid/secret pair (OA or mini-program), else 40013 / 40125."""
        c = self.config
        for realm, (want_id, want_secret) in {
            WECHAT: (c.wechat_appid, c.wechat_secret),
            MINIPROGRAM: (c.miniprogram_appid, c.miniprogram_secret),
        }.items():
            if want_id and appid == want_id:
                if secret != want_secret:
                    raise ApiError(INVALID_APPSECRET, "invalid appsecret")
                return realm
        raise ApiError(INVALID_APPID, "invalid appid")

    def issue_token(self, realm: str, kind: str, *, revoke_previous: bool) -> Token:
        now = self.now()
        previous = self.tokens.get(self.current.get((realm, kind), ""))
        if previous is not None and revoke_previous and previous.revoked_at is None:
            grace = self.config.token_grace if kind == "token" else 0.0
            previous.revoked_at = now + grace
        value = secrets.token_urlsafe(96)
        token = Token(value, realm, kind, now, now + self.config.token_ttl)
        self.tokens[value] = token
        self.current[(realm, kind)] = value
        return token

    def fetched(self, token: Token) -> Token:
        self.token_fetches[token.realm] = self.token_fetches.get(token.realm, 0) + 1
        return token

    def live_token(self, realm: str, kind: str) -> Token | None:
        token = self.tokens.get(self.current.get((realm, kind), ""))
        now = self.now()
        if token is None or token.expires_at <= now:
            return None
        if token.revoked_at is not None and token.revoked_at <= now:
            return None
        return token

    def token(self, appid: str, secret: str, grant_type: str) -> Token:
        """/cgi-bin/token: every call issues a new token and supersedes the previous one."""
        if grant_type != "client_credential":
            raise ApiError(INVALID_GRANT_TYPE, "invalid grant_type")
        realm = self.app_realm(appid, secret)
        return self.issue_token(realm, "token", revoke_previous=True)

    def stable_token(self, appid: str, secret: str, grant_type: str, force: bool) -> Token:
        """/cgi-bin/stable_token: the same token while it lives (renewed in its last five
        minutes, the old one living on), unless force_refresh, which revokes it. Isolated
        from /cgi-bin/token."""
        if grant_type != "client_credential":
            raise ApiError(INVALID_GRANT_TYPE, "invalid grant_type")
        realm = self.app_realm(appid, secret)
        live = self.live_token(realm, "stable")
        ahead = 300 if self.config.token_ttl > 600 else 0
        if live is not None and not force and live.expires_at - self.now() > ahead:
            return live
        return self.issue_token(realm, "stable", revoke_previous=force)

    def wecom_token(self, corpid: str, corpsecret: str) -> Token:
        """/cgi-bin/gettoken: repeated calls return the same token while it lives."""
        c = self.config
        if not c.wecom_corpid or corpid != c.wecom_corpid:
            raise ApiError(INVALID_APPID, "invalid corpid")
        if corpsecret != c.wecom_secret:
            raise ApiError(INVALID_CREDENTIAL, "invalid credential")
        live = self.live_token(WECOM, "token")
        return live or self.issue_token(WECOM, "token", revoke_previous=False)

    def check_token(self, value: str | None, realms: set[str]) -> Token:
        if not value:
            raise ApiError(ACCESS_TOKEN_MISSING, "access_token missing")
        token = self.tokens.get(value)
        if token is None or token.realm not in realms:
            raise ApiError(INVALID_ACCESS_TOKEN, "invalid access_token")
        now = self.now()
        if token.revoked_at is not None and token.revoked_at <= now:
            raise ApiError(
                INVALID_CREDENTIAL, "invalid credential, access_token is invalid or not latest"
            )
        if token.expires_at <= now:
            raise ApiError(ACCESS_TOKEN_EXPIRED, "access_token expired")
        return token

    # ---- users, windows, consents -----------------------------------------------------

    def register_user(self, realm: str, user_id: str, unionid: str = "") -> None:
        if realm == WECOM:
            self.wecom_users.add(user_id)
        elif realm == MINIPROGRAM:
            self.mp_users[user_id] = OAUser(user_id, unionid)
        else:
            user = self.oa_users.setdefault(user_id, OAUser(user_id, unionid))
            user.following = True
            user.unionid = unionid or user.unionid

    def oa_user(self, openid: str) -> OAUser:
        user = self.oa_users.get(openid)
        if user is None:
            raise ApiError(INVALID_OPENID, "invalid openid")
        return user

    def open_window(self, openid: str) -> None:
        """A user's message (or follow, menu click...) opens 48 h of customer-service messages."""
        self.windows[openid] = Window(self.now())

    def unfollow(self, openid: str) -> None:
        if openid in self.oa_users:
            self.oa_users[openid].following = False
        self.windows.pop(openid, None)

    def spend_window(self, openid: str) -> None:
        window = self.windows.get(openid)
        if window is None or self.now() >= window.opened_at + self.config.window_seconds:
            raise ApiError(OUT_OF_WINDOW, "response out of time limit or subscription is canceled")
        if window.used >= self.config.window_budget:
            raise ApiError(OUT_OF_BUDGET, "out of response count limit")
        window.used += 1

    def add_consent(self, openid: str, template_id: str, times: int = 1) -> int:
        key = (openid, template_id)
        self.consents[key] = self.consents.get(key, 0) + times
        return self.consents[key]

    def spend_consent(self, openid: str, template_id: str) -> None:
        key = (openid, template_id)
        if self.consents.get(key, 0) <= 0:
            raise ApiError(USER_REFUSED, "user refuse to accept the msg")
        self.consents[key] -= 1

    # ---- login codes (jscode2session) -------------------------------------------------

    def issue_login_code(self, openid: str, unionid: str = "") -> str:
        code = secrets.token_hex(16)
        self.login_codes[code] = LoginCode(openid, unionid, self.now())
        self.register_user(MINIPROGRAM, openid, unionid)
        return code

    def redeem_login_code(self, code: str) -> LoginCode:
        login = self.login_codes.get(code)
        if login is None or self.now() - login.issued_at > self.config.login_code_ttl:
            raise ApiError(INVALID_CODE, "invalid code")
        if login.used:
            raise ApiError(CODE_BEEN_USED, "code been used")
        login.used = True
        return login

    # ---- media ------------------------------------------------------------------------

    def add_media(self, realm: str, data: bytes, content_type: str, filename: str = "") -> str:
        media_id = secrets.token_urlsafe(48)
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}.get(content_type, "bin")
        name = filename or f"{media_id[:12]}.{ext}"
        self.media[media_id] = Media(data, content_type, name, realm, self.now())
        return media_id

    def get_media(self, media_id: str, realm: str) -> Media:
        media = self.media.get(media_id)
        if (
            media is None
            or media.realm != realm
            or self.now() - media.created_at > self.config.media_ttl
        ):
            raise ApiError(INVALID_MEDIA_ID, "invalid media_id")
        return media

    # ---- WeCom ------------------------------------------------------------------------

    def check_agent(self, agentid: Any) -> None:
        if str(agentid) != str(self.config.wecom_agentid):
            raise ApiError(INVALID_AGENTID, "invalid agentid")

    def issue_response_code(self, task_id: str = "", code: str = "") -> str:
        """A new code (or the one a test chose) for one update of the card of `task_id`."""
        code = code or secrets.token_urlsafe(24)
        self.response_codes.setdefault(code, ResponseCode(self.now(), task_id))
        return code

    def spend_response_code(self, code: str) -> ResponseCode:
        """A response_code updates a card once, within 72 hours."""
        rc = self.response_codes.get(code)
        now = self.now()
        if rc is None or rc.used_at is not None or now - rc.issued_at > self.config.response_code_ttl:
            raise ApiError(INVALID_RESPONSE_CODE, "invalid response_code")
        rc.used_at = now
        return rc

    def check_robot_key(self, key: str) -> None:
        """The configured WECOM_ROBOT_KEY; any non-empty key when none is configured."""
        if not key or (self.config.wecom_robot_key and key != self.config.wecom_robot_key):
            raise ApiError(INVALID_WEBHOOK_KEY, "invalid webhook url")

    def robot_send(self, key: str) -> None:
        """Spend one of the robot's 20 messages in the last minute."""
        now = self.now()
        recent = self.robot_sends.setdefault(key, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.config.robot_per_minute:
            raise ApiError(API_FREQ_OUT_OF_LIMIT, "api freq out of limit")
        recent.append(now)

    # ---- platform dedup ---------------------------------------------------------------

    def seen_before(self, book: dict[Any, tuple[float, Any]], key: Any, within: float, api: str) -> Any | None:
        """The first answer to the same request within `within` seconds (counted as a
        repeat that was not delivered), else None. Old entries are dropped as we go."""
        now = self.now()
        hit = book.get(key)
        if hit is not None and now - hit[0] < within:
            self.deduplicated[api] = self.deduplicated.get(api, 0) + 1
            return hit[1]
        if len(book) > 4096:
            for k in [k for k, (at, _) in book.items() if now - at >= 14400]:
                del book[k]
        return None

    # ---- the record of what was sent --------------------------------------------------

    def record(self, api: str, channel: str, to: Any, msgtype: str, payload: Any) -> dict[str, Any]:
        """Every message accepted is kept, newest last, for GET /__sent__."""
        entry = {
            "id": self.next_id(),
            "at": self.now(),
            "api": api,
            "channel": channel,
            "to": to,
            "msgtype": msgtype,
            "payload": payload,
        }
        self.sent.append(entry)
        return entry
