"""/__faults__: the stand-in fails its API paths on purpose (for bench/faults.py), and only them."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from orderbot.standin import StandinState


async def _token(standin: TestClient, state: StandinState):
    cfg = state.config
    return await standin.get("/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": cfg.wechat_appid, "secret": cfg.wechat_secret})


async def test_each_kind_of_fault_and_back_to_normal(standin: TestClient, standin_state: StandinState) -> None:
    assert (await _token(standin, standin_state)).status == 200
    expect = {"5xx": (502, None), "busy": (200, -1), "rate_limit": (200, 45009), "timeout": (504, None)}
    for kind, (status, errcode) in expect.items():
        plan = {"rate": 1, "kinds": [kind], "hang_seconds": 0.05}
        assert (await standin.post("/__faults__", json=plan)).status == 200
        resp = await _token(standin, standin_state)
        assert resp.status == status, kind
        if errcode is not None:
            assert (await resp.json())["errcode"] == errcode
        # control paths are never failed: the bench must still be able to look
        assert (await standin.get("/__sent__")).status == 200
    fetched = (await (await standin.get("/__stats__")).json())["token_fetches"]
    assert sum(fetched.values()) == 1  # no injected fault reached the handler
    await standin.post("/__faults__", json={"rate": 1, "kinds": ["lost_answer"], "hang_seconds": 0.05})
    assert (await _token(standin, standin_state)).status == 504
    fetched = (await (await standin.get("/__stats__")).json())["token_fetches"]
    assert sum(fetched.values()) == 2  # handled, then the answer was lost
    report = await (await standin.get("/__faults__")).json()
    assert report["injected"] == {"5xx": 1, "busy": 1, "rate_limit": 1, "timeout": 1, "lost_answer": 1}
    await standin.delete("/__faults__")
    assert (await _token(standin, standin_state)).status == 200


async def test_paths_narrow_the_faults_and_bad_plans_are_400(standin: TestClient, standin_state: StandinState) -> None:
    await standin.post("/__faults__", json={"rate": 1, "kinds": ["5xx"], "paths": ["/cgi-bin/message/"]})
    assert (await _token(standin, standin_state)).status == 200
    for bad in ({"rate": 2}, {"rate": "x"}, {"kinds": ["meteor"]}):
        assert (await standin.post("/__faults__", json=bad)).status == 400
