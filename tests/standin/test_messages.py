"""The stand-in's message APIs enforce WeChat's and WeCom's documented limits, and keep
a record of every message it accepted."""

from __future__ import annotations

import base64
import json

from aiohttp.test_utils import TestClient

from orderbot.standin import StandinState

OA = {"grant_type": "client_credential", "appid": "wx0000test0000oa", "secret": "oa-secret"}
MP = {"grant_type": "client_credential", "appid": "wx0000test0000mp", "secret": "mp-secret"}
WECOM = {"corpid": "ww0000test0000corp", "corpsecret": "wecom-secret"}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def token(standin: TestClient, creds: dict[str, str]) -> str:
    path = "/cgi-bin/gettoken" if "corpid" in creds else "/cgi-bin/token"
    return (await (await standin.get(path, params=creds)).json())["access_token"]


async def post(standin: TestClient, path: str, tok: str, body: dict) -> dict:
    resp = await standin.post(path, params={"access_token": tok}, json=body)
    assert resp.status == 200
    return await resp.json()


def text(openid: str, content: str) -> dict:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


async def test_customer_service_window_and_budget(
    standin: TestClient, standin_state: StandinState
) -> None:
    tok = await token(standin, OA)
    send = "/cgi-bin/message/custom/send"
    assert (await post(standin, send, tok, text("o-stranger", "hi")))["errcode"] == 40003

    await standin.post("/__users__", json={"openid": "o-alice"})
    assert (await post(standin, send, tok, text("o-alice", "hi")))["errcode"] == 45015

    await standin.post("/__window__", json={"openid": "o-alice"})
    for i in range(5):
        assert (await post(standin, send, tok, text("o-alice", f"第{i}条")))["errcode"] == 0
    assert (await post(standin, send, tok, text("o-alice", "too many")))["errcode"] == 45047

    await standin.post("/__window__", json={"openid": "o-alice"})  # she wrote again
    assert (await post(standin, send, tok, text("o-alice", "again")))["errcode"] == 0
    standin_state.clock.advance(48 * 3600 + 1)
    tok = await token(standin, OA)
    assert (await post(standin, send, tok, text("o-alice", "late")))["errcode"] == 45015

    sent = await (await standin.get("/__sent__", params={"api": "custom_send"})).json()
    assert [e["payload"]["text"]["content"] for e in sent] == [
        "第0条", "第1条", "第2条", "第3条", "第4条", "again",
    ]


async def test_bad_message_type_and_bad_json(standin: TestClient) -> None:
    tok = await token(standin, OA)
    await standin.post("/__window__", json={"openid": "o-bob"})
    body = {"touser": "o-bob", "msgtype": "hologram", "hologram": {}}
    assert (await post(standin, "/cgi-bin/message/custom/send", tok, body))["errcode"] == 40008
    resp = await standin.post(
        "/cgi-bin/message/custom/send", params={"access_token": tok}, data=b"{not json"
    )
    assert (await resp.json())["errcode"] == 47001
    assert await (await standin.get("/__sent__")).json() == []


async def test_template_message_needs_a_follower(standin: TestClient, standin_state) -> None:
    tok = await token(standin, OA)
    await standin.post("/__users__", json={"openid": "o-carol"})
    body = {"touser": "o-carol", "template_id": "TPL-ship", "data": {"first": {"value": "已发货"}}}
    ok = await post(standin, "/cgi-bin/message/template/send", tok, body)
    assert ok["errcode"] == 0 and ok["msgid"] > 0
    assert (await post(standin, "/cgi-bin/message/template/send", tok, {**body, "template_id": ""}))[
        "errcode"
    ] == 40037
    standin_state.unfollow("o-carol")
    assert (await post(standin, "/cgi-bin/message/template/send", tok, body))["errcode"] == 43004


async def test_subscribe_message_spends_one_time_consent(standin: TestClient) -> None:
    tok = await token(standin, MP)
    body = {"touser": "mp-dave", "template_id": "TPL-sub", "data": {"thing1": {"value": "订单"}}}
    path = "/cgi-bin/message/subscribe/send"
    assert (await post(standin, path, tok, body))["errcode"] == 40003
    await standin.post("/__users__", json={"openid": "mp-dave", "app": "miniprogram"})
    assert (await post(standin, path, tok, body))["errcode"] == 43101
    await standin.post("/__consent__", json={"openid": "mp-dave", "template_id": "TPL-sub"})
    assert (await post(standin, path, tok, body))["errcode"] == 0
    assert (await post(standin, path, tok, body))["errcode"] == 43101
    oa_tok = await token(standin, OA)
    assert (await post(standin, path, oa_tok, body))["errcode"] == 40014


async def test_group_robot_twenty_a_minute(standin: TestClient, standin_state) -> None:
    async def robot(key: str = "robot-key-0001") -> dict:
        body = {"msgtype": "markdown", "markdown": {"content": "**超时** 订单"}}
        return await (await standin.post("/cgi-bin/webhook/send", params={"key": key}, json=body)).json()

    assert [(await robot())["errcode"] for _ in range(20)] == [0] * 20
    assert (await robot())["errcode"] == 45009
    standin_state.clock.advance(61)
    assert (await robot())["errcode"] == 0
    assert (await robot("wrong-key"))["errcode"] == 93000


async def test_wecom_message_send_reports_unknown_members(standin: TestClient) -> None:
    tok = await token(standin, WECOM)
    await standin.post("/__users__", json={"userid": "rep-wang", "app": "wecom"})
    body = {"touser": "rep-wang|ghost", "msgtype": "text", "agentid": 1000002, "text": {"content": "新订单"}}
    answer = await post(standin, "/cgi-bin/message/send", tok, body)
    assert answer["errcode"] == 0 and answer["invaliduser"] == "ghost"
    assert "response_code" not in answer
    answer = await post(standin, "/cgi-bin/message/send", tok, {**body, "touser": "ghost"})
    assert answer["errcode"] == 81013
    answer = await post(standin, "/cgi-bin/message/send", tok, {**body, "agentid": 9})
    assert answer["errcode"] == 40056
    sent = await (await standin.get("/__sent__", params={"to": "rep-wang"})).json()
    assert len(sent) == 1 and sent[0]["payload"]["text"]["content"] == "新订单"


async def test_card_response_code_updates_once_within_72_hours(
    standin: TestClient, standin_state: StandinState
) -> None:
    tok = await token(standin, WECOM)
    await standin.post("/__users__", json={"userid": "rep-li", "app": "wecom"})
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "新订单 SO-1"},
        "task_id": "order-1",
        "button_list": [{"text": "确认", "key": "confirm:1"}],
    }
    body = {"touser": "rep-li", "msgtype": "template_card", "agentid": 1000002, "template_card": card}
    code = (await post(standin, "/cgi-bin/message/send", tok, body))["response_code"]
    update = {"agentid": 1000002, "response_code": code, "button": {"replace_name": "已确认"}}
    path = "/cgi-bin/message/update_template_card"
    assert (await post(standin, path, tok, update))["errcode"] == 0
    assert (await post(standin, path, tok, update))["errcode"] == 40078

    code2 = (await post(standin, "/cgi-bin/message/send", tok, body))["response_code"]
    standin_state.clock.advance(72 * 3600 + 1)
    tok = await token(standin, WECOM)  # the old token expired too
    assert (await post(standin, path, tok, {**update, "response_code": code2}))["errcode"] == 40078


async def test_media_download_returns_the_uploaded_bytes(standin: TestClient) -> None:
    uploaded = await (
        await standin.post("/__media__", data=PNG, headers={"Content-Type": "image/png"})
    ).json()
    tok = await token(standin, OA)
    resp = await standin.get(
        "/cgi-bin/media/get", params={"access_token": tok, "media_id": uploaded["media_id"]}
    )
    assert resp.content_type == "image/png"
    assert await resp.read() == PNG
    resp = await standin.get("/cgi-bin/media/get", params={"access_token": tok, "media_id": "nope"})
    assert (await resp.json())["errcode"] == 40007
    wecom_tok = await token(standin, WECOM)
    resp = await standin.get(
        "/cgi-bin/media/get", params={"access_token": wecom_tok, "media_id": uploaded["media_id"]}
    )
    assert (await resp.json())["errcode"] == 40007  # WeCom cannot read OA media


async def test_jscode2session_redeems_a_login_code_once(standin: TestClient) -> None:
    code = (await (await standin.post("/__login__", json={"openid": "mp-erin", "unionid": "u-erin"})).json())[
        "code"
    ]
    params = {"appid": MP["appid"], "secret": MP["secret"], "js_code": code, "grant_type": "authorization_code"}
    first = await (await standin.get("/sns/jscode2session", params=params)).json()
    assert first["openid"] == "mp-erin" and first["unionid"] == "u-erin" and first["session_key"]
    again = await (await standin.get("/sns/jscode2session", params=params)).json()
    assert again["errcode"] == 40163
    bad = await (await standin.get("/sns/jscode2session", params={**params, "js_code": "zz"})).json()
    assert bad["errcode"] == 40029
    oa = await (await standin.get("/sns/jscode2session", params={**params, **{"appid": OA["appid"], "secret": OA["secret"]}})).json()
    assert oa["errcode"] == 40013


async def test_sent_log_is_newest_last_and_can_be_cleared(standin: TestClient) -> None:
    tok = await token(standin, OA)
    for openid in ("o-1", "o-2"):
        await standin.post("/__window__", json={"openid": openid})
        await post(standin, "/cgi-bin/message/custom/send", tok, text(openid, openid))
    sent = await (await standin.get("/__sent__")).json()
    assert [e["to"] for e in sent] == ["o-1", "o-2"]
    assert sent[0]["id"] < sent[1]["id"]
    newer = await (await standin.get("/__sent__", params={"after": str(sent[0]["id"])})).json()
    assert [e["to"] for e in newer] == ["o-2"]
    assert (await standin.get("/__sent__", params={"after": "x"})).status == 400
    assert (await standin.delete("/__sent__")).status == 200
    assert await (await standin.get("/__sent__")).json() == []


async def test_control_endpoints_reject_bad_input(standin: TestClient) -> None:
    assert (await standin.post("/__window__", json={})).status == 400
    assert (await standin.post("/__consent__", json={"openid": "x"})).status == 400
    assert (await standin.post("/__clock__", json={"advance": "soon"})).status == 400
    assert (await standin.post("/__users__", json={"openid": "x", "app": "qq"})).status == 400
    resp = await standin.post("/__media__", json={"base64": "!!not base64!!"})
    assert resp.status == 400


async def test_refused_calls_are_listed_for_debugging(standin: TestClient) -> None:
    tok = await token(standin, OA)
    await post(standin, "/cgi-bin/message/custom/send", tok, text("o-unknown", "你好"))
    errors = await (await standin.get("/__errors__")).json()
    assert errors[-1]["errcode"] == 40003
    assert json.loads(errors[-1]["body"])["text"]["content"] == "你好"
    assert errors[-1]["path"] == "/cgi-bin/message/custom/send"


async def test_subscribe_values_must_fit_their_field_types(standin: TestClient) -> None:
    tok = await token(standin, MP)
    await standin.post("/__consent__", json={"openid": "mp-fan", "template_id": "T", "times": 9})
    path = "/cgi-bin/message/subscribe/send"

    async def send(data: dict) -> dict:
        body = {"touser": "mp-fan", "template_id": "T", "data": {k: {"value": v} for k, v in data.items()}}
        return await post(standin, path, tok, body)

    good = {"thing1": "M8 镀锌螺栓 5000个", "character_string2": "SO20261122-0001", "phrase3": "已发货",
            "amount4": "¥12800.00", "date5": "2026年11月23日", "phone_number6": "+86-519-88888888"}
    assert (await send(good))["errcode"] == 0
    for key, bad in [("thing1", "吉尔吉斯斯坦进口黑麦列巴(700克/条)*2"), ("character_string2", "订单一"),
                     ("phrase3", "已经发货了啊"), ("amount4", "一万"), ("thing1", "")]:
        answer = await send({**good, key: bad})
        assert answer["errcode"] == 47003 and f"data.{key}.value" in answer["errmsg"], (key, answer)
    consents = await (await standin.post("/__consent__", json={"openid": "mp-fan", "template_id": "T", "times": 0})).json()
    assert consents["consents"] == 8  # refused sends spent no consent


async def test_long_texts(standin: TestClient, standin_state: StandinState) -> None:
    tok = await token(standin, OA)
    await standin.post("/__window__", json={"openid": "o-long"})
    long_text = "订单明细" * 200  # 2400 bytes
    answer = await post(standin, "/cgi-bin/message/custom/send", tok, text("o-long", long_text))
    assert answer["errcode"] == 45002
    wecom = await token(standin, WECOM)
    await standin.post("/__users__", json={"userid": "rep-long", "app": "wecom"})
    body = {"touser": "rep-long", "msgtype": "text", "agentid": 1000002, "text": {"content": long_text}}
    assert (await post(standin, "/cgi-bin/message/send", wecom, body))["errcode"] == 0
    shown = standin_state.sent[-1]["payload"]["text"]
    assert shown["truncated"] and len(shown["content"].encode()) <= 2048


async def test_template_client_msg_id_delivers_once_within_ten_minutes(
    standin: TestClient, standin_state: StandinState
) -> None:
    tok = await token(standin, OA)
    await standin.post("/__users__", json={"openid": "o-erin"})
    body = {"touser": "o-erin", "template_id": "TPL-ship", "data": {"first": {"value": "已发货"}},
            "client_msg_id": "order:7:v3:notify_customer"}
    path = "/cgi-bin/message/template/send"
    first = await post(standin, path, tok, body)
    again = await post(standin, path, tok, body)
    assert first["errcode"] == again["errcode"] == 0 and again["msgid"] == first["msgid"]
    other = await post(standin, path, tok, {**body, "client_msg_id": "order:7:v4:notify_customer"})
    assert other["msgid"] != first["msgid"]
    standin_state.clock.advance(601)
    tok = await token(standin, OA)
    await post(standin, path, tok, body)  # past 10 minutes the id no longer protects
    sent = await (await standin.get("/__sent__", params={"api": "template_send"})).json()
    assert len(sent) == 3
    assert (await (await standin.get("/__stats__")).json())["deduplicated"] == {"template_send": 1}


async def test_wecom_duplicate_check_delivers_the_same_request_once(
    standin: TestClient, standin_state: StandinState
) -> None:
    tok = await token(standin, WECOM)
    await standin.post("/__users__", json={"userid": "rep-li", "app": "wecom"})
    body = {"touser": "rep-li", "msgtype": "text", "agentid": 1000002, "text": {"content": "订单已确认"},
            "enable_duplicate_check": 1, "duplicate_check_interval": 600}
    path = "/cgi-bin/message/send"
    first = await post(standin, path, tok, body)
    again = await post(standin, path, tok, body)
    assert first["errcode"] == again["errcode"] == 0 and again["msgid"] == first["msgid"]
    # another text, or the same one without the check, is delivered
    await post(standin, path, tok, {**body, "text": {"content": "订单已发货"}})
    unchecked = {k: v for k, v in body.items() if k not in {"enable_duplicate_check", "duplicate_check_interval"}}
    await post(standin, path, tok, unchecked)
    await post(standin, path, tok, unchecked)
    standin_state.clock.advance(601)
    tok = await token(standin, WECOM)
    await post(standin, path, tok, body)  # the interval is over
    sent = await (await standin.get("/__sent__", params={"to": "rep-li"})).json()
    assert [e["payload"]["text"]["content"] for e in sent] == ["订单已确认", "订单已发货", "订单已确认",
                                                                "订单已确认", "订单已确认"]
