"""Settings from the environment (names fixed by shared/contracts/interfaces.md)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every knob orderbot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite+aiosqlite:///./orderbot.db", validation_alias=_env("ORDERBOT_DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("ORDERBOT_REDIS_URL"))

    wechat_appid: str = Field("", validation_alias=_env("WECHAT_APPID"))
    wechat_secret: str = Field("", validation_alias=_env("WECHAT_SECRET"))
    wechat_token: str = Field("", validation_alias=_env("WECHAT_TOKEN"))
    wechat_aes_key: str = Field("", validation_alias=_env("WECHAT_AES_KEY"))
    # plaintext / compatible / safe; empty: safe when WECHAT_AES_KEY is set, else plaintext.
    # Safe refuses unencrypted callbacks; compatible accepts both (while switching modes).
    wechat_encrypt_mode: str = Field("", validation_alias=_env("WECHAT_ENCRYPT_MODE"))

    wecom_corpid: str = Field("", validation_alias=_env("WECOM_CORPID"))
    wecom_agentid: str = Field("", validation_alias=_env("WECOM_AGENTID"))
    wecom_secret: str = Field("", validation_alias=_env("WECOM_SECRET"))
    wecom_token: str = Field("", validation_alias=_env("WECOM_TOKEN"))
    wecom_aes_key: str = Field("", validation_alias=_env("WECOM_AES_KEY"))
    wecom_robot_key: str = Field("", validation_alias=_env("WECOM_ROBOT_KEY"))

    miniprogram_appid: str = Field("", validation_alias=_env("MINIPROGRAM_APPID"))
    miniprogram_secret: str = Field("", validation_alias=_env("MINIPROGRAM_SECRET"))

    wechat_api_base: str = Field("https://api.weixin.qq.com", validation_alias=_env("WECHAT_API_BASE"))
    wecom_api_base: str = Field("https://qyapi.weixin.qq.com", validation_alias=_env("WECOM_API_BASE"))

    hook_secret: str = Field("", validation_alias=_env("ORDERBOT_HOOK_SECRET"))
    # Replay window of /wechat/callback and /wecom/callback (seconds between the signed
    # `timestamp` and our clock); a signed callback outside it is refused 403 stale_timestamp.
    # WeChat retries within ~15 s, so 5 min leaves room for clock drift; 0 turns the check off.
    callback_max_skew: float = Field(300.0, ge=0, validation_alias=_env("ORDERBOT_CALLBACK_MAX_SKEW"))
    # Order-status message templates, as configured in the OA and mini-program consoles.
    template_order_status: str = Field("order_status", validation_alias=_env("ORDERBOT_TEMPLATE_ORDER_STATUS"))
    subscribe_order_status: str = Field(
        "order_status_subscribe", validation_alias=_env("ORDERBOT_SUBSCRIBE_ORDER_STATUS")
    )
    # Routing table file (orders/routing.py); empty means the shipped orderbot/routing_rules.yaml.
    routing_rules: str = Field("", validation_alias=_env("ORDERBOT_ROUTING_RULES"))
    # Price/promotion and hold tables (issue 14); empty means the shipped orderbot/*.yaml.
    price_rules: str = Field("", validation_alias=_env("ORDERBOT_PRICE_RULES"))
    risk_rules: str = Field("", validation_alias=_env("ORDERBOT_RISK_RULES"))

    # Service shell and outbox worker (added with issue 2, items 5-7).
    log_level: str = Field("INFO", validation_alias=_env("ORDERBOT_LOG_LEVEL"))
    # uvloop (when installed, as pyproject asks) or the standard library's asyncio loop for
    # `orderbot serve` / `orderbot worker` (orderbot/event_loop.py).
    event_loop: Literal["uvloop", "asyncio"] = Field("uvloop", validation_alias=_env("ORDERBOT_EVENT_LOOP"))
    outbox_max_attempts: int = Field(8, ge=1, validation_alias=_env("ORDERBOT_OUTBOX_MAX_ATTEMPTS"))
    outbox_poll_interval: float = Field(1.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_POLL_INTERVAL"))
    outbox_lease_seconds: float = Field(60.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_LEASE_SECONDS"))
    outbox_batch_size: int = Field(20, ge=1, validation_alias=_env("ORDERBOT_OUTBOX_BATCH_SIZE"))
    outbox_grouped_batch_size: int = Field(100, ge=1, le=1000, validation_alias=_env("ORDERBOT_OUTBOX_GROUPED_BATCH_SIZE"))
    # unset: 1 for the worker inside the web process (it shares the loop acknowledging
    # callbacks), 2 for `orderbot worker` processes (workers/runner.py WorkerConfig)
    outbox_rounds_in_flight: int | None = Field(None, ge=1, le=8, validation_alias=_env("ORDERBOT_OUTBOX_ROUNDS_IN_FLIGHT"))
    outbox_backoff_base: float = Field(2.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_BACKOFF_BASE"))
    outbox_backoff_max: float = Field(900.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_BACKOFF_MAX"))
    # WeCom message/send duplicate check for app texts (seconds; 0 = off, at most 14400): the
    # same text to the same member within it is delivered once, so a text re-sent after a
    # worker died mid-call is not shown twice. Cards always use 1800 s (their task_id differs).
    wecom_text_dedup_seconds: int = Field(600, ge=0, le=14400, validation_alias=_env("ORDERBOT_WECOM_TEXT_DEDUP_SECONDS"))

    # Manager board (board/) and the daily digest (issue 15).
    # Base URL people open the board at (links in WeCom); empty: the request's own origin.
    public_url: str = Field("", validation_alias=_env("ORDERBOT_PUBLIC_URL"))
    # WeCom userids that may open the board as admins (managers may by their SalesRep row).
    board_admins: str = Field("", validation_alias=_env("ORDERBOT_BOARD_ADMINS"))
    # Where the WeCom OAuth authorize page lives (the stand-in in tests and the demo).
    wecom_oauth_base: str = Field("https://open.weixin.qq.com", validation_alias=_env("WECOM_OAUTH_BASE"))

    # When managers get the daily digest in WeCom (HH:MM, China time); empty: no digest.
    digest_at: str = Field("08:30", validation_alias=_env("ORDERBOT_DIGEST_AT"))
    # The COEI survey (orders/coei.py): a month's sample of completed orders is asked on the
    # 1st of the next month at ORDERBOT_COEI_AT (HH:MM, China time; empty: not sent), answers
    # are taken in chat for ORDERBOT_COEI_ANSWER_DAYS days.
    coei_at: str = Field("10:00", validation_alias=_env("ORDERBOT_COEI_AT"))
    coei_sample_size: int = Field(300, ge=1, validation_alias=_env("ORDERBOT_COEI_SAMPLE_SIZE"))
    coei_answer_days: int = Field(7, ge=1, validation_alias=_env("ORDERBOT_COEI_ANSWER_DAYS"))

    # Outbound to WMS / ERP (workers/outbound.py): "wms=https://wms.example/orders,erp=https://…".
    # The names are the systems of orders/status_mapping.json; empty: orders are not pushed.
    outbound: str = Field("", validation_alias=_env("ORDERBOT_OUTBOUND"))
    # HMAC key of the outbound webhooks; empty: ORDERBOT_HOOK_SECRET (the one they call back with).
    outbound_secret: str = Field("", validation_alias=_env("ORDERBOT_OUTBOUND_SECRET"))
    outbound_timeout: float = Field(10.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOUND_TIMEOUT"))

    def outbound_systems(self) -> dict[str, str]:
        """{system: url} from ORDERBOT_OUTBOUND; a malformed entry is a clear error."""
        out: dict[str, str] = {}
        for part in (p.strip() for p in self.outbound.split(",")):
            if not part:
                continue
            name, sep, url = part.partition("=")
            if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
                raise ValueError(f"ORDERBOT_OUTBOUND entry {part!r}: use system=https://host/path")
            out[name.strip()] = url.strip()
        return out

    def board_admin_ids(self) -> set[str]:
        return {u.strip() for u in self.board_admins.replace(";", ",").split(",") if u.strip()}

    @field_validator("outbox_rounds_in_flight", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """ORDERBOT_OUTBOX_ROUNDS_IN_FLIGHT= (empty, as .env.example has it) means the default."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def embedded(self) -> bool:
        """No Redis URL means the single-process embedded profile."""
        return not self.redis_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
