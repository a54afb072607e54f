"""Fixtures shared by the stand-in and client tests: an in-process stand-in, no fixed port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from orderbot.standin import StandinState, create_standin_app
from orderbot.standin.testing import config_for_tests


@pytest.fixture
def standin_state() -> StandinState:
    return StandinState(config_for_tests())


@pytest.fixture
async def standin(aiohttp_client: Callable[..., Any], standin_state: StandinState) -> TestClient:
    """An HTTP client on a running stand-in; `standin.app` gives its state."""
    return await aiohttp_client(create_standin_app(state=standin_state))


@pytest.fixture
async def standin_url(standin: TestClient) -> AsyncIterator[str]:
    yield str(standin.make_url("")).rstrip("/")
