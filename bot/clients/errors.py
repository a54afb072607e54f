"""What can go wrong when we call WeChat or WeCom, sorted by what the caller should do.

- transient: try again later with backoff (system busy, rate limits, network trouble);
- token: our access token is stale; the client refreshes it and retries once by itself;
- channel closed: this user cannot be reached this way now (no window, no consent, not a
  follower, unknown user); retrying will not help, so the push router falls back to
  another channel;
- anything else is a permanent error for that request (bad payload, bad credentials).
"""

from __future__ import annotations

SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001
INVALID_OPENID = 40003
INVALID_ACCESS_TOKEN = 40014
ACCESS_TOKEN_EXPIRED = 42001
REQUIRE_SUBSCRIBE = 43004
USER_REFUSED = 43101
API_FREQ_OUT_OF_LIMIT = 45009
API_MINUTE_FREQ_OUT_OF_LIMIT = 45011
OUT_OF_WINDOW = 45015
OUT_OF_BUDGET = 45047
ALL_RECIPIENTS_INVALID = 81013
INVALID_RESPONSE_CODE = 40078  # the stand-in's code for a spent/expired card response_code

TOKEN_ERRORS = frozenset({INVALID_CREDENTIAL, INVALID_ACCESS_TOKEN, ACCESS_TOKEN_EXPIRED})
TRANSIENT_ERRORS = frozenset({SYSTEM_BUSY, API_FREQ_OUT_OF_LIMIT, API_MINUTE_FREQ_OUT_OF_LIMIT})
CHANNEL_CLOSED_ERRORS = frozenset(
    {INVALID_OPENID, REQUIRE_SUBSCRIBE, USER_REFUSED, OUT_OF_WINDOW, OUT_OF_BUDGET,
     ALL_RECIPIENTS_INVALID}
)


class APIError(Exception):
    """Base of every outbound API failure; `transient` says whether a retry may succeed."""

    transient: bool = False
    channel_closed: bool = False


class WeChatAPIError(APIError):
    """The server answered with a non-zero errcode (WeChat and WeCom share the scheme)."""

    def __init__(self, errcode: int, errmsg: str = "", *, api: str = "") -> None:
        self.errcode = int(errcode)
        self.errmsg = errmsg
        self.api = api
        where = f" from {api}" if api else ""
        super().__init__(f"errcode {self.errcode}{where}: {errmsg}")

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.errcode in TRANSIENT_ERRORS

    @property
    def token_error(self) -> bool:
        return self.errcode in TOKEN_ERRORS

    @property
    def channel_closed(self) -> bool:  # type: ignore[override]
        """Permanent for this channel and user: fall back (template, subscribe, SMS...)."""
        return self.errcode in CHANNEL_CLOSED_ERRORS

    @property
    def permanent(self) -> bool:
        return not self.transient and not self.token_error


class TransportError(APIError):
    """No usable answer: timeout, refused connection, an HTTP error, a body that is not JSON."""

    def __init__(self, message: str, *, api: str = "", status: int | None = None) -> None:
        super().__init__(f"{api}: {message}" if api else message)
        self.api = api
        self.status = status

    @property
    def transient(self) -> bool:  # type: ignore[override]
        """Network trouble, 5xx, 408, 429 or a garbled 2xx may pass; another 4xx is our
        mistake (wrong API root or path) and will not."""
        return self.status is None or self.status < 400 or self.status >= 500 or self.status in {408, 429}
