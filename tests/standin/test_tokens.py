"""The stand-in's access tokens behave as WeChat and WeCom document them."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from orderbot.standin import StandinState

OA = {"grant_type": "client_credential", "appid": "wx0000test0000oa", "secret": "oa-secret"}


async def get_token(standin: TestClient, **params: str) -> dict:
    resp = await standin.get("/cgi-bin/token", params={**OA, **params})
    assert resp.status == 200
    return await resp.json()


async def stable(standin: TestClient, force: bool = False, **fields: str) -> dict:
    resp = await standin.post("/cgi-bin/stable_token", json={**OA, **fields, "force_refresh": force})
    return await resp.json()


async def template_send(standin: TestClient, token: str) -> dict:
    """Any call that needs a valid OA token (the user is unknown, so success is 40003)."""
    resp = await standin.post(
        "/cgi-bin/message/template/send", params={"access_token": token},
        json={"touser": "o-nobody", "template_id": "T1", "data": {}},
    )
    return await resp.json()


async def test_token_is_issued_with_two_hours_to_live(standin: TestClient) -> None:
    body = await get_token(standin)
    assert len(body["access_token"]) > 64
    assert body["expires_in"] == 7200
    assert (await template_send(standin, body["access_token"]))["errcode"] == 40003


async def test_wrong_credentials_are_refused(standin: TestClient) -> None:
    assert (await get_token(standin, secret="nope"))["errcode"] == 40125
    assert (await get_token(standin, appid="wx-other"))["errcode"] == 40013
    assert (await get_token(standin, grant_type="password"))["errcode"] == 40002
    assert (await stable(standin, secret="nope"))["errcode"] == 40125


async def test_missing_or_unknown_token(standin: TestClient) -> None:
    resp = await standin.post("/cgi-bin/message/custom/send", json={"touser": "x"})
    assert (await resp.json())["errcode"] == 41001
    assert (await template_send(standin, "forged"))["errcode"] == 40014


async def test_a_newer_token_invalidates_the_older_one(standin: TestClient) -> None:
    old = (await get_token(standin))["access_token"]
    new = (await get_token(standin))["access_token"]
    assert new != old
    assert (await template_send(standin, old))["errcode"] == 40001
    assert (await template_send(standin, new))["errcode"] == 40003


async def test_superseded_token_lives_through_the_grace_period(
    standin: TestClient, standin_state: StandinState
) -> None:
    standin_state.config = standin_state.config.with_(token_grace=300)
    old = (await get_token(standin))["access_token"]
    await get_token(standin)
    assert (await template_send(standin, old))["errcode"] == 40003
    standin_state.clock.advance(301)
    assert (await template_send(standin, old))["errcode"] == 40001


async def test_token_expires_with_the_clock(standin: TestClient) -> None:
    token = (await get_token(standin))["access_token"]
    resp = await standin.post("/__clock__", json={"advance": 7201})
    assert resp.status == 200
    assert (await template_send(standin, token))["errcode"] == 42001


async def test_stable_token_is_stable_and_isolated_from_token(standin: TestClient) -> None:
    first = (await stable(standin))["access_token"]
    assert (await stable(standin))["access_token"] == first
    await get_token(standin)  # another process using /cgi-bin/token does not disturb it
    assert (await template_send(standin, first))["errcode"] == 40003


async def test_stable_token_force_refresh_revokes_the_old_one(standin: TestClient) -> None:
    first = (await stable(standin))["access_token"]
    second = (await stable(standin, force=True))["access_token"]
    assert second != first
    assert (await template_send(standin, first))["errcode"] == 40001
    assert (await stable(standin))["access_token"] == second


async def test_stable_token_renews_in_its_last_five_minutes(
    standin: TestClient, standin_state: StandinState
) -> None:
    first = (await stable(standin))["access_token"]
    standin_state.clock.advance(7200 - 200)
    renewed = await stable(standin)
    assert renewed["access_token"] != first
    assert renewed["expires_in"] == 7200
    assert (await template_send(standin, first))["errcode"] == 40003  # still alive


async def test_wecom_gettoken_returns_the_same_token_until_expiry(
    standin: TestClient, standin_state: StandinState
) -> None:
    params = {"corpid": "ww0000test0000corp", "corpsecret": "wecom-secret"}
    first = await (await standin.get("/cgi-bin/gettoken", params=params)).json()
    again = await (await standin.get("/cgi-bin/gettoken", params=params)).json()
    assert first["errcode"] == 0 and again["access_token"] == first["access_token"]
    standin_state.clock.advance(7201)
    later = await (await standin.get("/cgi-bin/gettoken", params=params)).json()
    assert later["access_token"] != first["access_token"]
    bad = await (await standin.get("/cgi-bin/gettoken", params={**params, "corpsecret": "x"})).json()
    assert bad["errcode"] == 40001
    bad = await (await standin.get("/cgi-bin/gettoken", params={**params, "corpid": "ww-x"})).json()
    assert bad["errcode"] == 40013


async def test_tokens_of_one_app_do_not_open_another(standin: TestClient) -> None:
    params = {"corpid": "ww0000test0000corp", "corpsecret": "wecom-secret"}
    wecom = (await (await standin.get("/cgi-bin/gettoken", params=params)).json())["access_token"]
    assert (await template_send(standin, wecom))["errcode"] == 40014
    oa = (await get_token(standin))["access_token"]
    resp = await standin.post(
        "/cgi-bin/message/send", params={"access_token": oa},
        json={"touser": "rep1", "msgtype": "text", "agentid": 1000002, "text": {"content": "x"}},
    )
    assert (await resp.json())["errcode"] == 40014
