"""`/__simulate__/...`: the stand-in delivers correctly signed and encrypted callbacks,
with WeChat's retries, and remembers what a user's action opens."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any

import pytest
import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import check_signature

from orderbot.standin import StandinConfig, StandinState

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass
class FakeOrderbot:
    """Plays orderbot's callback endpoints: verifies, decrypts and records every delivery."""

    config: StandinConfig  # orderbot's own copy of the credentials
    delays: list[float] = field(default_factory=list)  # sleep per attempt, in order
    reply: str = ""  # a passive reply XML to answer with
    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/wechat/callback", self.wechat)
        app.router.add_post("/wecom/callback", self.wecom)
        app.router.add_get("/wechat/callback", self.wechat_verify)
        app.router.add_get("/wecom/callback", self.wecom_verify)
        return app

    async def wechat_verify(self, request: web.Request) -> web.Response:
        q, cfg = request.query, self.config
        check_signature(cfg.wechat_token, q["signature"], q["timestamp"], q["nonce"])
        return web.Response(text=q["echostr"])

    async def wecom_verify(self, request: web.Request) -> web.Response:
        q, cfg = request.query, self.config
        crypto = WeComCrypto(cfg.wecom_token, cfg.wecom_aes_key, cfg.wecom_corpid)
        return web.Response(text=crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]))

    async def _delay(self) -> None:
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))

    async def wechat(self, request: web.Request) -> web.Response:
        q, body = request.query, await request.text()
        cfg = self.config
        check_signature(cfg.wechat_token, q["signature"], q["timestamp"], q["nonce"])
        crypto = None
        if q.get("encrypt_type") == "aes":
            crypto = WeChatCrypto(cfg.wechat_token, cfg.wechat_aes_key, cfg.wechat_appid)
            body = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        raw = xmltodict.parse(await request.text())["xml"]
        msg = xmltodict.parse(body)["xml"]
        self.received.append({"query": dict(q), "msg": msg, "raw": raw})
        await self._delay()
        if self.reply and crypto is not None:
            return web.Response(text=crypto.encrypt_message(self.reply, q["nonce"], q["timestamp"]))
        return web.Response(text=self.reply or "success")

    async def wecom(self, request: web.Request) -> web.Response:
        q, body = request.query, await request.text()
        cfg = self.config
        crypto = WeComCrypto(cfg.wecom_token, cfg.wecom_aes_key, cfg.wecom_corpid)
        plain = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        self.received.append({"query": dict(q), "msg": xmltodict.parse(plain)["xml"]})
        await self._delay()
        return web.Response(text="")


@pytest.fixture
async def orderbot(aiohttp_server, standin_state: StandinState) -> FakeOrderbot:
    fake = FakeOrderbot(standin_state.config)
    server: TestServer = await aiohttp_server(fake.app())
    base = str(server.make_url("")).rstrip("/")
    standin_state.config = standin_state.config.with_(
        callback_url=f"{base}/wechat/callback",
        wecom_callback_url=f"{base}/wecom/callback",
        callback_timeout=0.3,
    )
    return fake


async def simulate(standin: TestClient, body: dict[str, Any], kind: str = "wechat") -> dict:
    resp = await standin.post(f"/__simulate__/{kind}", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_text_message_arrives_encrypted_and_opens_the_window(
    standin: TestClient, orderbot: FakeOrderbot
) -> None:
    result = await simulate(standin, {"openid": "o-zhang", "text": "M8螺栓 5000个"})
    assert result["delivered"] and len(result["attempts"]) == 1
    [got] = orderbot.received
    assert got["query"]["encrypt_type"] == "aes" and got["query"]["openid"] == "o-zhang"
    msg = got["msg"]
    assert msg["MsgType"] == "text" and msg["Content"] == "M8螺栓 5000个"
    assert msg["FromUserName"] == "o-zhang" and int(msg["MsgId"]) == result["msgid"]

    params = {"grant_type": "client_credential", "appid": "wx0000test0000oa", "secret": "oa-secret"}
    tok = (await (await standin.get("/cgi-bin/token", params=params)).json())["access_token"]
    resp = await standin.post(
        "/cgi-bin/message/custom/send", params={"access_token": tok},
        json={"touser": "o-zhang", "msgtype": "text", "text": {"content": "收到"}},
    )
    assert (await resp.json())["errcode"] == 0


async def test_plaintext_mode_without_aes_key(
    standin: TestClient, standin_state: StandinState, orderbot: FakeOrderbot
) -> None:
    standin_state.config = standin_state.config.with_(wechat_aes_key="")
    await simulate(standin, {"openid": "o-plain", "text": "你好"})
    [got] = orderbot.received
    assert "encrypt_type" not in got["query"]
    assert got["msg"]["Content"] == "你好"


async def test_image_becomes_downloadable_media(standin: TestClient, orderbot: FakeOrderbot) -> None:
    result = await simulate(standin, {"openid": "o-img", "image": base64.b64encode(PNG).decode()})
    msg = orderbot.received[0]["msg"]
    assert msg["MsgType"] == "image" and msg["MediaId"] == result["media_id"]
    pic = await standin.get(msg["PicUrl"].split(str(standin.make_url("")).rstrip("/"))[1])
    assert await pic.read() == PNG
    params = {"grant_type": "client_credential", "appid": "wx0000test0000oa", "secret": "oa-secret"}
    tok = (await (await standin.get("/cgi-bin/token", params=params)).json())["access_token"]
    resp = await standin.get("/cgi-bin/media/get", params={"access_token": tok, "media_id": msg["MediaId"]})
    assert await resp.read() == PNG


async def test_image_from_a_file_path(standin: TestClient, orderbot: FakeOrderbot, tmp_path) -> None:
    path = tmp_path / "form.png"
    path.write_bytes(PNG)
    result = await simulate(standin, {"openid": "o-file", "image": str(path)})
    assert orderbot.received[0]["msg"]["MediaId"] == result["media_id"]


async def test_location_and_follow_event(standin: TestClient, orderbot: FakeOrderbot) -> None:
    loc = {"lat": 31.77, "lng": 119.95, "label": "常州市武进区湖塘镇长虹路88号"}
    await simulate(standin, {"openid": "o-loc", "location": loc})
    msg = orderbot.received[0]["msg"]
    assert msg["MsgType"] == "location"
    assert float(msg["Location_X"]) == 31.77 and float(msg["Location_Y"]) == 119.95
    assert msg["Label"] == loc["label"]

    result = await simulate(standin, {"openid": "o-new", "event": "subscribe"})
    event = orderbot.received[1]["msg"]
    assert event["MsgType"] == "event" and event["Event"] == "subscribe"
    assert "MsgId" not in event and "msgid" not in result
    users = await (await standin.get("/__users__")).json()
    assert "o-new" in [u["openid"] for u in users["wechat"]]

    await simulate(standin, {"openid": "o-new", "event": "unsubscribe"})
    params = {"grant_type": "client_credential", "appid": "wx0000test0000oa", "secret": "oa-secret"}
    tok = (await (await standin.get("/cgi-bin/token", params=params)).json())["access_token"]
    body = {"touser": "o-new", "template_id": "TPL", "data": {}}
    resp = await standin.post("/cgi-bin/message/template/send", params={"access_token": tok}, json=body)
    assert (await resp.json())["errcode"] == 43004  # an unfollowed user gets no template message


async def test_late_answer_is_retried_with_the_same_msgid(
    standin: TestClient, orderbot: FakeOrderbot
) -> None:
    orderbot.delays = [1.0, 1.0]  # longer than the 0.3 s the stand-in waits
    result = await simulate(standin, {"openid": "o-slow", "text": "在吗"})
    assert [a["status"] for a in result["attempts"]] == [None, None, 200]
    assert result["attempts"][0]["error"] == "timeout"
    assert result["delivered"]
    msgids = {r["msg"]["MsgId"] for r in orderbot.received}
    assert len(orderbot.received) == 3 and msgids == {str(result["msgid"])}


async def test_unreachable_orderbot_is_reported_not_lost(
    standin: TestClient, standin_state: StandinState
) -> None:
    standin_state.config = standin_state.config.with_(callback_url="http://127.0.0.1:9/wechat/callback")
    result = await simulate(standin, {"openid": "o-lost", "text": "hello"})
    assert not result["delivered"] and len(result["attempts"]) == 3
    assert all(a["error"] for a in result["attempts"])
    assert result["user_saw"] == "该公众号暂时无法提供服务，请稍后再试"


async def test_passive_reply_is_decrypted_and_recorded(
    standin: TestClient, orderbot: FakeOrderbot
) -> None:
    orderbot.reply = (
        "<xml><ToUserName><![CDATA[o-r]]></ToUserName><FromUserName><![CDATA[gh_standin00001]]>"
        "</FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[请补充收货地址]]></Content></xml>"
    )
    result = await simulate(standin, {"openid": "o-r", "text": "要货"})
    assert "请补充收货地址" in result["reply"] and not result["reply_error"]
    sent = await (await standin.get("/__sent__", params={"api": "passive_reply"})).json()
    assert len(sent) == 1 and "请补充收货地址" in sent[0]["payload"]


async def test_bad_simulate_requests_are_refused(standin: TestClient, orderbot: FakeOrderbot) -> None:
    assert (await standin.post("/__simulate__/wechat", json={"text": "no openid"})).status == 400
    assert (await standin.post("/__simulate__/wechat", json={"openid": "o"})).status == 400
    resp = await standin.post("/__simulate__/wechat", json={"openid": "o", "image": "%%%"})
    assert resp.status == 400
    resp = await standin.post("/__simulate__/wechat", json={"openid": "o", "location": {"lat": "x"}})
    assert resp.status == 400
    for key in ("msgid", "create_time", "timeout", "attempts"):
        resp = await standin.post("/__simulate__/wechat", json={"openid": "o", "text": "x", key: "soon"})
        assert resp.status == 400 and key in (await resp.json())["error"]
    assert orderbot.received == []


async def test_wecom_text_and_card_button_event(
    standin: TestClient, standin_state: StandinState, orderbot: FakeOrderbot
) -> None:
    await simulate(standin, {"userid": "rep-wang", "text": "查一下SO-1"}, "wecom")
    msg = orderbot.received[0]["msg"]
    assert msg["MsgType"] == "text" and msg["FromUserName"] == "rep-wang"
    assert msg["ToUserName"] == "ww0000test0000corp" and msg["AgentID"] == "1000002"

    result = await simulate(
        standin,
        {"userid": "rep-wang", "event": "template_card_event", "event_key": "confirm:1", "task_id": "order-1"},
        "wecom",
    )
    event = orderbot.received[1]["msg"]
    assert event["Event"] == "template_card_event" and event["EventKey"] == "confirm:1"
    assert event["TaskId"] == "order-1" and event["ResponseCode"] == result["response_code"]

    params = {"corpid": "ww0000test0000corp", "corpsecret": "wecom-secret"}
    tok = (await (await standin.get("/cgi-bin/gettoken", params=params)).json())["access_token"]
    update = {"agentid": 1000002, "response_code": result["response_code"], "button": {"replace_name": "已确认"}}
    path = "/cgi-bin/message/update_template_card"
    first = await (await standin.post(path, params={"access_token": tok}, json=update)).json()
    second = await (await standin.post(path, params={"access_token": tok}, json=update)).json()
    assert (first["errcode"], second["errcode"]) == (0, 40078)


async def test_compatible_mode_sends_plaintext_and_ciphertext(
    standin: TestClient, orderbot: FakeOrderbot
) -> None:
    await simulate(standin, {"openid": "o-compat", "text": "两种都有", "mode": "compatible"})
    [got] = orderbot.received
    assert got["query"]["encrypt_type"] == "aes"
    assert got["raw"]["Content"] == "两种都有" and got["raw"]["Encrypt"]
    assert got["msg"]["Content"] == "两种都有"  # the decrypted copy agrees
    resp = await standin.post("/__simulate__/wechat", json={"openid": "o", "text": "x", "mode": "weird"})
    assert resp.status == 400


async def test_url_verification_for_both_apps(standin: TestClient, orderbot: FakeOrderbot) -> None:
    for app in ("wechat", "wecom"):
        result = await (await standin.post("/__simulate__/verify", json={"app": app})).json()
        assert result["verified"], result


async def test_url_verification_notices_a_wrong_answer(
    standin: TestClient, standin_state: StandinState, orderbot: FakeOrderbot
) -> None:
    standin_state.config = standin_state.config.with_(wecom_aes_key="a" * 43)  # orderbot has another key
    result = await (await standin.post("/__simulate__/verify", json={"app": "wecom"})).json()
    assert not result["verified"]


async def test_wecom_image_from_a_rep_is_downloadable_with_a_wecom_token(
    standin: TestClient, orderbot: FakeOrderbot
) -> None:
    result = await simulate(
        standin, {"userid": "rep-zhou", "image": base64.b64encode(PNG).decode()}, "wecom"
    )
    msg = orderbot.received[0]["msg"]
    assert msg["MsgType"] == "image" and msg["MediaId"] == result["media_id"]
    params = {"corpid": "ww0000test0000corp", "corpsecret": "wecom-secret"}
    tok = (await (await standin.get("/cgi-bin/gettoken", params=params)).json())["access_token"]
    resp = await standin.get("/cgi-bin/media/get", params={"access_token": tok, "media_id": msg["MediaId"]})
    assert await resp.read() == PNG


async def test_a_bad_answer_shows_the_user_wechats_failure_notice(
    standin: TestClient, standin_state: StandinState, orderbot: FakeOrderbot
) -> None:
    orderbot.reply = "ok"  # neither "success", empty, nor reply XML
    standin_state.config = standin_state.config.with_(wechat_aes_key="")
    result = await simulate(standin, {"openid": "o-bad", "text": "hi"})
    assert result["delivered"] and result["reply_error"]
    assert result["user_saw"] == "该公众号暂时无法提供服务，请稍后再试"
    sent = await (await standin.get("/__sent__", params={"to": "o-bad"})).json()
    assert [e["api"] for e in sent] == ["failure_notice"]

    orderbot.reply = ""
    result = await simulate(standin, {"openid": "o-good", "text": "hi"})
    assert "user_saw" not in result and not result["reply_error"]
