"""Card presses carry no MsgId: two presses on two cards by one rep within one second are two
events (found by bench/faults.py: the second confirmation was dropped as a "retry")."""

from __future__ import annotations

import time

from sqlmodel import select

from orderbot.db import make_sessionmaker
from orders.models import InboundMessage
from tests.wecom import wecom_sim
from tests.wecom.test_callback import client_for, settings  # noqa: F401  (fixture)


async def test_two_cards_pressed_in_one_second_are_both_stored(aiohttp_client, engine, settings) -> None:  # noqa: F811
    client = await client_for(aiohttp_client, engine, settings.wecom_token, settings.wecom_aes_key,
                              settings.wecom_corpid)
    now = int(time.time())
    presses = [wecom_sim.card_event_xml(settings, "lihua", f"confirm@SO20261205-000{n}@2", f"task-{n}", f"rc-{n}",
                                        create_time=now) for n in (1, 3)]
    for xml in presses + presses[:1]:  # and WeCom's retry of the first
        assert (await wecom_sim.post(client, settings, xml)).status == 200
    async with make_sessionmaker(engine)() as s:
        stored = list(await s.exec(select(InboundMessage)))
    assert sorted(m.content for m in stored) == ["confirm@SO20261205-0001@2", "confirm@SO20261205-0003@2"]
