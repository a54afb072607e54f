"""看板 in WeCom: a manager gets a one-time link to the board; a rep is told it is not for them."""

from __future__ import annotations

import re

import pytest

from board.links import redeem_link
from bot.wecom_parse import BoardLink, parse_command
from tests.push.harness import MANAGER_ID, REP_ID, World
from tests.wecom.test_commands import say


@pytest.fixture
def world(embedded_world: World) -> World:
    return embedded_world


def test_看板_is_a_command() -> None:
    from datetime import date

    assert parse_command("看板", date(2026, 3, 2)) == BoardLink()
    assert parse_command(" 看板 ", date(2026, 3, 2)) == BoardLink()


async def test_a_manager_gets_a_link_that_works_once_and_a_rep_gets_none(world: World) -> None:
    [text] = await say(world, "看板", userid=MANAGER_ID)
    m = re.search(r"/board/link\?t=(\S+)", text)
    assert m and "仅可打开一次" in text
    assert await redeem_link(world.ctx.store, m.group(1)) == MANAGER_ID
    assert await redeem_link(world.ctx.store, m.group(1)) is None
    assert await say(world, "看板", userid=REP_ID) == ["看板仅对经理开放。"]
