"""Official Account and mini-program clients against the stand-in: what reaches the user,
and the errors a push router needs to choose another channel."""

from __future__ import annotations

import base64

import pytest
from aiohttp.test_utils import TestClient

from bot.clients import Clients, WeChatAPIError
from orderbot.standin import StandinState

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def test_customer_service_messages_reach_the_user(
    clients: Clients, standin: TestClient
) -> None:
    await standin.post("/__window__", json={"openid": "o-zhao"})
    wx = clients.wechat
    await wx.send_text("o-zhao", "您的订单 SO-20261122-001 已确认")
    await wx.send_news("o-zhao", title="订单详情", url="https://example.com/o/1")
    await wx.send_miniprogram_page(
        "o-zhao", title="查看订单", appid="wx0000test0000mp", pagepath="pages/order?id=1", thumb_media_id="m1"
    )
    sent = await (await standin.get("/__sent__", params={"to": "o-zhao"})).json()
    assert [e["msgtype"] for e in sent] == ["text", "news", "miniprogrampage"]
    assert sent[0]["payload"]["text"]["content"] == "您的订单 SO-20261122-001 已确认"
    assert sent[2]["payload"]["miniprogrampage"]["pagepath"] == "pages/order?id=1"


async def test_out_of_window_and_over_budget_close_the_channel(
    clients: Clients, standin: TestClient
) -> None:
    await standin.post("/__users__", json={"openid": "o-qian"})
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.send_text("o-qian", "hi")
    assert info.value.errcode == 45015 and info.value.channel_closed and not info.value.transient

    await standin.post("/__window__", json={"openid": "o-qian"})
    for i in range(5):
        await clients.wechat.send_text("o-qian", str(i))
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.send_text("o-qian", "6th")
    assert info.value.errcode == 45047 and info.value.channel_closed


async def test_unknown_user(clients: Clients) -> None:
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.send_template("o-nobody", "TPL", {"first": "x"})
    assert info.value.errcode == 40003 and info.value.channel_closed


async def test_template_message_outside_the_window(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__users__", json={"openid": "o-sun"})
    msgid = await clients.wechat.send_template(
        "o-sun", "TPL-ship", {"first": "已发货", "keyword1": {"value": "SF123", "color": "#173177"}},
        url="https://example.com/t/SF123",
    )
    assert msgid > 0
    data = standin_state.sent[-1]["payload"]["data"]
    assert data == {"first": {"value": "已发货"}, "keyword1": {"value": "SF123", "color": "#173177"}}


async def test_subscribe_message_needs_consent(clients: Clients, standin: TestClient) -> None:
    mp = clients.miniprogram
    await standin.post("/__users__", json={"openid": "mp-li", "app": "miniprogram"})
    with pytest.raises(WeChatAPIError) as info:
        await mp.send_subscribe("mp-li", "TPL-sub", {"thing1": "M8 螺栓"}, page="pages/order?id=1")
    assert info.value.errcode == 43101 and info.value.channel_closed
    await standin.post("/__consent__", json={"openid": "mp-li", "template_id": "TPL-sub"})
    assert await mp.send_subscribe("mp-li", "TPL-sub", {"thing1": "M8 螺栓"}) > 0


async def test_media_download_returns_the_bytes(clients: Clients, standin: TestClient) -> None:
    media_id = (
        await (await standin.post("/__media__", data=PNG, headers={"Content-Type": "image/png"})).json()
    )["media_id"]
    media = await clients.wechat.download_media(media_id)
    assert media.data == PNG and media.content_type == "image/png" and media.filename
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.download_media("missing")
    assert info.value.errcode == 40007 and info.value.permanent

    await standin.post("/__window__", json={"openid": "o-pic"})
    await clients.wechat.send_image("o-pic", media_id)  # e.g. a quote rendered as an image
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.send_image("o-pic", "missing")
    assert info.value.errcode == 40007


async def test_jscode2session(clients: Clients, standin: TestClient) -> None:
    code = (await (await standin.post("/__login__", json={"openid": "mp-wu", "unionid": "u-wu"})).json())["code"]
    session = await clients.miniprogram.jscode2session(code)
    assert (session.openid, session.unionid) == ("mp-wu", "u-wu") and session.session_key
    with pytest.raises(WeChatAPIError) as info:
        await clients.miniprogram.jscode2session(code)
    assert info.value.errcode == 40163


async def test_uploaded_image_can_be_sent_and_read_back(clients: Clients, standin: TestClient) -> None:
    from bot.clients import Media

    media_id = await clients.wechat.upload_media(Media(PNG, "image/png", "quote.png"))
    assert (await clients.wechat.download_media(media_id)).data == PNG
    await standin.post("/__window__", json={"openid": "o-quote"})
    await clients.wechat.send_image("o-quote", media_id)
    with pytest.raises(WeChatAPIError) as info:
        await clients.wechat.upload_media(Media(b"", "image/png", "empty.png"))
    assert info.value.errcode == 40006
