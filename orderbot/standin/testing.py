"""A fully configured stand-in for tests: every app has credentials, nothing from the env."""

from __future__ import annotations

from typing import Any

from orderbot.standin.config import StandinConfig

# 43 characters of base64 (32 bytes), the shape of a real EncodingAESKey.
TEST_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TEST_WECOM_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def config_for_tests(**overrides: Any) -> StandinConfig:
    values: dict[str, Any] = dict(
        wechat_appid="wx0000test0000oa",
        wechat_secret="oa-secret",
        wechat_token="oa-token",
        wechat_aes_key=TEST_AES_KEY,
        miniprogram_appid="wx0000test0000mp",
        miniprogram_secret="mp-secret",
        wecom_corpid="ww0000test0000corp",
        wecom_agentid="1000002",
        wecom_secret="wecom-secret",
        wecom_token="wecom-token",
        wecom_aes_key=TEST_WECOM_AES_KEY,
        wecom_robot_key="robot-key-0001",
        callback_timeout=1.0,
    )
    values.update(overrides)
    return StandinConfig(**values)
