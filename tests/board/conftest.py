"""The board served by the real app factory, against an in-process WeCom stand-in.

`board` runs both on real local ports (a browser can follow the OAuth redirects), seeds the
push harness's small world (manager boss_wang, reps zhangsan and lisi) and offers scenes:
a held order, a pending one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from board.queries import clear_metrics_cache
from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import Settings
from orderbot.standin import StandinState, create_standin_app
from orderbot.standin.state import WECOM
from orderbot.standin.testing import config_for_tests
from orderbot.stores_memory import MemoryStore
from service.app import create_app
from tests.push.harness import (
    MANAGER_ID,
    OTHER_REP_ID,
    REP_ID,
    embedded_world,  # noqa: F401  (fixture for the WeCom-side tests)
    seed,
    submit_order,
)

ADMIN_ID = "admin_liu"


@dataclass
class Board:
    url: str
    standin_url: str
    standin: StandinState
    sm: async_sessionmaker[AsyncSession]
    settings: Settings
    store: MemoryStore
    ids: dict[str, int]

    async def order(self, quantity: int = 100, **fields: Any) -> tuple[int, str]:
        """The customer submits an order; above the 100,000 in stock it is held (stock rule)."""
        result = await submit_order(self.sm, self.ids["customer"], quantity, **fields)
        assert result.order.id is not None
        return result.order.id, result.order.number

    def client(self) -> aiohttp.ClientSession:
        """A cookie-keeping HTTP client (a browser without JavaScript)."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def login(self, http: aiohttp.ClientSession, userid: str) -> aiohttp.ClientResponse:
        """The OAuth round trip as WeCom's in-app browser makes it, for `userid`."""
        self.standin.oauth_user = userid
        return await http.get(f"{self.url}/board/")


def board_settings(standin_url: str, **overrides: Any) -> Settings:
    cfg = config_for_tests()
    values: dict[str, Any] = dict(
        database_url="sqlite+aiosqlite://", wecom_corpid=cfg.wecom_corpid, wecom_agentid=cfg.wecom_agentid,
        wecom_secret=cfg.wecom_secret, wecom_token=cfg.wecom_token, wecom_aes_key=cfg.wecom_aes_key,
        wecom_api_base=standin_url, wechat_api_base=standin_url, wecom_oauth_base=standin_url,
        board_admins=ADMIN_ID,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def start_board(engine: AsyncEngine, aiohttp_server: Callable[..., Any]) -> AsyncIterator[Board]:
    clear_metrics_cache()
    state = StandinState(config_for_tests())
    standin = await aiohttp_server(create_standin_app(state=state))
    standin_url = str(standin.make_url("")).rstrip("/")
    for userid in (MANAGER_ID, REP_ID, OTHER_REP_ID, ADMIN_ID):
        state.register_user(WECOM, userid)
    settings = board_settings(standin_url)
    store = MemoryStore()
    sm = make_sessionmaker(engine)
    ids = await seed(sm)
    app = create_app(settings, engine=engine, store=store, start_worker=False, features=("board",))
    server = await aiohttp_server(app)
    yield Board(str(server.make_url("")).rstrip("/"), standin_url, state, sm, settings, store, ids)
    clear_metrics_cache()


@pytest.fixture
async def board(engine: AsyncEngine, aiohttp_server: Callable[..., Any]) -> AsyncIterator[Board]:
    async for b in start_board(engine, aiohttp_server):
        yield b


@pytest.fixture
async def sqlite_board(tmp_path, aiohttp_server: Callable[..., Any]) -> AsyncIterator[Board]:
    """SQLite only: for the browser test, whose database behaviour `board` already covers."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'board.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async for b in start_board(engine, aiohttp_server):
        yield b
    await engine.dispose()
