"""`orderbot standin` reads the apps' credentials from the environment and its options."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from orderbot.standin.keys import STATE
from service import cli
from service.commands import standin as command


def test_command_builds_the_standin_from_env_and_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: dict[str, Any] = {}

    def fake_run_app(app: web.Application, **kw: Any) -> None:
        served.update(app=app, **kw)

    monkeypatch.setattr(command.web, "run_app", fake_run_app)
    for name, value in {"WECHAT_APPID": "wx-env", "WECHAT_SECRET": "s", "WECHAT_TOKEN": "t",
                        "WECOM_CORPID": "ww-env"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MINIPROGRAM_APPID", raising=False)
    code = cli.main(["standin", "--port", "8999", "--callback-url", "http://127.0.0.1:9000/wechat/callback",
                     "--token-ttl", "60"])
    assert code == 0 and served["port"] == 8999
    config = served["app"][STATE].config
    assert (config.wechat_appid, config.wechat_secret, config.wecom_corpid) == ("wx-env", "s", "ww-env")
    assert config.callback_url == "http://127.0.0.1:9000/wechat/callback" and config.token_ttl == 60
    assert "wechat, wecom" in capsys.readouterr().out


def test_api_calls_are_logged_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of pushes is not a log line apiece (GET /__sent__ has them); --access-log
    brings aiohttp's access log back for someone watching the calls."""
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(command.web, "run_app", lambda app, **kw: served.append(kw))
    assert cli.main(["standin", "--port", "8998"]) == 0
    assert cli.main(["standin", "--port", "8998", "--access-log"]) == 0
    quiet, loud = served
    assert quiet["access_log"] is None
    assert loud["access_log"] is not None and loud["access_log"].name == "aiohttp.access"
