"""WeCom app and group robot clients against the stand-in."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from bot.clients import Clients, WeChatAPIError
from orderbot.standin import StandinState

CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "新订单 SO-1", "desc": "常州某五金 · ¥12,800"},
    "task_id": "order-1-v1",
    "button_list": [
        {"text": "确认", "style": 1, "key": "confirm:1"},
        {"text": "拒绝", "style": 2, "key": "reject:1"},
    ],
}


async def test_text_and_markdown_to_reps(clients: Clients, standin: TestClient) -> None:
    await standin.post("/__users__", json={"userid": "rep-wang", "app": "wecom"})
    result = await clients.wecom.send_text(["rep-wang", "ghost"], "新订单待确认")
    assert result.invalid_users == ("ghost",) and result.msgid
    await clients.wecom.send_markdown("rep-wang", "**SO-1** 待确认")
    sent = await (await standin.get("/__sent__", params={"channel": "wecom"})).json()
    assert [e["msgtype"] for e in sent] == ["text", "markdown"]
    with pytest.raises(WeChatAPIError) as info:
        await clients.wecom.send_text(["ghost"], "nobody")
    assert info.value.errcode == 81013 and info.value.channel_closed


async def test_card_response_code_is_single_use(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__users__", json={"userid": "rep-li", "app": "wecom"})
    result = await clients.wecom.send_template_card(["rep-li"], CARD)
    assert result.response_code
    await clients.wecom.update_template_card(
        result.response_code, userids=["rep-li"], button_replace_name="已确认"
    )
    assert standin_state.sent[-1]["payload"]["button"] == {"replace_name": "已确认"}
    with pytest.raises(WeChatAPIError) as info:
        await clients.wecom.update_template_card(result.response_code, button_replace_name="again")
    assert info.value.errcode == 40078 and info.value.permanent and not info.value.transient


async def test_robot_limit_on_the_21st_message_in_a_minute(
    clients: Clients, standin_state: StandinState
) -> None:
    for i in range(20):
        await clients.robot.send_markdown(f"订单 SO-{i} 超时未确认")
    with pytest.raises(WeChatAPIError) as info:
        await clients.robot.send_text("21st", mentioned_list=["@all"])
    assert info.value.errcode == 45009 and info.value.transient
    standin_state.clock.advance(60)
    await clients.robot.send_text("a minute later")
    assert len(standin_state.sent) == 21


async def test_wecom_media_upload_and_download(clients: Clients) -> None:
    from bot.clients import Media

    media_id = await clients.wecom.upload_media(Media(b"%PDF-1.4 quote", "application/pdf", "quote.pdf"), "file")
    media = await clients.wecom.download_media(media_id)
    assert media.data == b"%PDF-1.4 quote" and media.filename == "quote.pdf"
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.download_media(media_id)  # an OA token cannot read WeCom media
    assert info.value.errcode == 40007
