"""Settings from the environment (names fixed by shared/contracts/interfaces.md)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field
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

    # Service shell and outbox worker (added with issue 2, items 5-7).
    log_level: str = Field("INFO", validation_alias=_env("ORDERBOT_LOG_LEVEL"))
    outbox_max_attempts: int = Field(8, ge=1, validation_alias=_env("ORDERBOT_OUTBOX_MAX_ATTEMPTS"))
    outbox_poll_interval: float = Field(1.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_POLL_INTERVAL"))
    outbox_lease_seconds: float = Field(60.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_LEASE_SECONDS"))
    outbox_batch_size: int = Field(20, ge=1, validation_alias=_env("ORDERBOT_OUTBOX_BATCH_SIZE"))
    outbox_backoff_base: float = Field(2.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_BACKOFF_BASE"))
    outbox_backoff_max: float = Field(900.0, gt=0, validation_alias=_env("ORDERBOT_OUTBOX_BACKOFF_MAX"))

    @property
    def embedded(self) -> bool:
        """No Redis URL means the single-process embedded profile."""
        return not self.redis_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
