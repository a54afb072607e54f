"""ORDERBOT_EVENT_LOOP: serve and worker run on uvloop unless told otherwise, and fall back
to asyncio's loop (with a warning) where uvloop is missing."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from orderbot.event_loop import choose_event_loop
from orderbot.settings import Settings


@pytest.fixture
def restore_policy() -> Iterator[None]:
    yield
    asyncio.set_event_loop_policy(None)


def loop_module() -> str:
    async def current() -> str:
        return type(asyncio.get_running_loop()).__module__

    return asyncio.run(current())


def test_uvloop_by_default_and_asyncio_on_request(restore_policy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERBOT_EVENT_LOOP", raising=False)
    assert choose_event_loop(Settings().event_loop) == "uvloop"
    assert loop_module().startswith("uvloop")
    monkeypatch.setenv("ORDERBOT_EVENT_LOOP", "asyncio")
    assert choose_event_loop(Settings().event_loop) == "asyncio"
    assert loop_module().startswith("asyncio")


def test_a_missing_uvloop_falls_back_with_a_warning(restore_policy: None, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop raises ImportError
    assert choose_event_loop("uvloop") == "asyncio"
    assert loop_module().startswith("asyncio") and "not installed" in caplog.text


def test_an_unknown_loop_is_refused_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERBOT_EVENT_LOOP", "tokio")
    with pytest.raises(ValueError, match="ORDERBOT_EVENT_LOOP|event_loop"):
        Settings()
