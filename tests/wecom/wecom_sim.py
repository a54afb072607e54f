"""WeCom's side of the callback, built with wechatpy's enterprise crypto (not our code)."""

from __future__ import annotations

import time
from typing import Any

import xmltodict
from aiohttp.test_utils import TestClient
from wechatpy.enterprise.crypto import WeChatCrypto

from orderbot.settings import Settings


def _xml(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        text = str(value)
        parts.append(f"<{name}>{text}</{name}>" if isinstance(value, int) else f"<{name}><![CDATA[{text}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def card_event_xml(settings: Settings, userid: str, event_key: str, task_id: str, response_code: str,
                   create_time: int | None = None) -> str:
    return _xml({
        "ToUserName": settings.wecom_corpid, "FromUserName": userid,
        "CreateTime": int(create_time or time.time()), "MsgType": "event", "Event": "template_card_event",
        "EventKey": event_key, "TaskId": task_id, "CardType": "button_interaction",
        "ResponseCode": response_code, "AgentID": int(settings.wecom_agentid),
    })


def text_xml(settings: Settings, userid: str, text: str, msgid: int) -> str:
    return _xml({
        "ToUserName": settings.wecom_corpid, "FromUserName": userid, "CreateTime": int(time.time()),
        "MsgType": "text", "Content": text, "MsgId": msgid, "AgentID": int(settings.wecom_agentid),
    })


async def post(client: TestClient, settings: Settings, xml: str, nonce: str = "n0nce"):
    """Encrypt and sign like WeCom does, and POST it to /wecom/callback."""
    crypto = WeChatCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corpid)
    timestamp = str(int(time.time()))
    envelope = crypto.encrypt_message(xml, nonce, timestamp)
    fields = xmltodict.parse(envelope)["xml"]
    params = {"msg_signature": fields["MsgSignature"], "timestamp": fields["TimeStamp"], "nonce": fields["Nonce"]}
    body = f"<xml><ToUserName><![CDATA[{settings.wecom_corpid}]]></ToUserName><Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt><AgentID><![CDATA[{settings.wecom_agentid}]]></AgentID></xml>"
    return await client.post("/wecom/callback", params=params, data=body.encode())


def image_xml(settings: Settings, userid: str, media_id: str, msgid: int) -> str:
    return _xml({
        "ToUserName": settings.wecom_corpid, "FromUserName": userid, "CreateTime": int(time.time()),
        "MsgType": "image", "PicUrl": "http://wework.qpic.cn/test.jpg", "MediaId": media_id,
        "MsgId": msgid, "AgentID": int(settings.wecom_agentid),
    })
