"""What the stand-in knows about the apps it stands in for, and its documented limits.

Credentials come from the same environment variables orderbot reads, so the stand-in and
the service agree without extra set-up. Limits default to WeChat's and WeCom's documented
values; tests shorten the timeouts and the TTLs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_CALLBACK_URL = "http://127.0.0.1:8080/wechat/callback"
DEFAULT_WECOM_CALLBACK_URL = "http://127.0.0.1:8080/wecom/callback"


@dataclass(frozen=True)
class StandinConfig:
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_token: str = ""
    wechat_aes_key: str = ""
    wechat_original_id: str = "gh_standin00001"  # the OA's ToUserName in callbacks
    miniprogram_appid: str = ""
    miniprogram_secret: str = ""
    wecom_corpid: str = ""
    wecom_agentid: str = ""
    wecom_secret: str = ""
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_robot_key: str = ""

    token_ttl: int = 7200
    # How long a /cgi-bin/token token superseded by a newer one keeps working. WeChat
    # documents 5 minutes; 0 (the default) makes a stale token fail at once, so code that
    # keeps using one is caught in tests instead of five minutes into production.
    token_grace: float = 0.0
    window_seconds: float = 48 * 3600  # customer-service window opened by a user's message
    window_budget: int = 5  # customer-service messages per window
    robot_per_minute: int = 20
    response_code_ttl: float = 72 * 3600
    media_ttl: float = 3 * 86400  # temporary media live three days
    login_code_ttl: float = 300

    callback_url: str = DEFAULT_CALLBACK_URL
    wecom_callback_url: str = DEFAULT_WECOM_CALLBACK_URL
    callback_timeout: float = 5.0  # WeChat waits 5 s for an answer ...
    callback_attempts: int = 3  # ... and tries 3 times in all, same MsgId

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> StandinConfig:
        """Credentials from WECHAT_*, WECOM_*, MINIPROGRAM_* (names of the contract)."""
        env = os.environ if environ is None else environ
        names = {f.name for f in fields(cls)}
        values = {
            name: env[name.upper()]
            for name in names
            if name.startswith(("wechat_", "wecom_", "miniprogram_")) and name.upper() in env
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> StandinConfig:
        return replace(self, **changes)
