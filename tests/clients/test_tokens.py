"""Access tokens: cached and shared through the store, one fetch for many callers, and one
retry with a fresh token when the server says ours is stale."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from bot.clients import AccessTokens, Clients, WeChatAPIError
from bot.clients.tokens import cache_ttl
from orderbot.standin import StandinState
from orderbot.stores import KeyValueStore

OA = {"grant_type": "client_credential", "appid": "wx0000test0000oa", "secret": "oa-secret"}


async def test_token_is_fetched_once_and_reused(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__window__", json={"openid": "o-a"})
    assert clients.wechat is not None
    await clients.wechat.send_text("o-a", "一")
    await clients.wechat.send_text("o-a", "二")
    assert standin_state.token_fetches == {"wechat": 1}
    assert len(standin_state.sent) == 2


async def test_second_process_reuses_the_stored_token(
    process: Callable[..., Clients], standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__window__", json={"openid": "o-b"})
    one, two = process(), process()
    await one.wechat.send_text("o-b", "from one")
    await two.wechat.send_text("o-b", "from two")
    assert standin_state.token_fetches == {"wechat": 1}


async def test_many_concurrent_callers_cause_one_fetch(
    process: Callable[..., Clients], standin: TestClient, standin_state: StandinState
) -> None:
    one, two = process(), process()  # two processes, one store
    for i in range(40):
        await standin.post("/__users__", json={"openid": f"o-{i}"})
    await asyncio.gather(
        *(c.wechat.send_template(f"o-{i}", "TPL", {"k": "v"}) for i, c in enumerate([one, two] * 20))
    )
    assert standin_state.token_fetches == {"wechat": 1}
    assert len(standin_state.sent) == 40


async def test_token_invalidated_by_another_fetch_is_refreshed_once(
    process: Callable[..., Clients], standin: TestClient, standin_state: StandinState
) -> None:
    clients = process(stable_token=False)
    await standin.post("/__window__", json={"openid": "o-c"})
    await clients.wechat.send_text("o-c", "before")
    # Someone outside our store (another deployment, a developer's curl) takes a new token.
    await standin.get("/cgi-bin/token", params=OA)
    await clients.wechat.send_text("o-c", "after")
    assert [e["payload"]["text"]["content"] for e in standin_state.sent] == ["before", "after"]
    assert standin_state.token_fetches == {"wechat": 3}


async def test_stable_token_survives_a_plain_token_fetch_elsewhere(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__window__", json={"openid": "o-d"})
    await clients.wechat.send_text("o-d", "before")
    await standin.get("/cgi-bin/token", params=OA)
    await clients.wechat.send_text("o-d", "after")
    assert len(standin_state.sent) == 2
    assert standin_state.token_fetches == {"wechat": 2}  # ours (stable) + the outsider's


async def test_force_refreshed_stable_token_is_picked_up(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__window__", json={"openid": "o-e"})
    await clients.wechat.send_text("o-e", "before")
    await standin.post("/cgi-bin/stable_token", json={**OA, "force_refresh": True})
    await clients.wechat.send_text("o-e", "after")
    assert len(standin_state.sent) == 2


async def test_expired_token_is_replaced(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    await standin.post("/__users__", json={"userid": "rep-1", "app": "wecom"})
    await clients.wecom.send_text(["rep-1"], "早")
    standin_state.clock.advance(7201)  # the server's clock: our cache does not know yet
    await clients.wecom.send_text(["rep-1"], "晚")
    assert standin_state.token_fetches == {"wecom": 2}
    assert len(standin_state.sent) == 2


async def test_only_one_retry_then_the_error_surfaces(store: KeyValueStore, clients: Clients) -> None:
    fetched: list[str] = []

    async def fetch_forged() -> tuple[str, float]:
        fetched.append("x")
        return f"forged-{len(fetched)}", 7200

    tokens = AccessTokens(store, "token:test:forged", fetch_forged)
    assert clients.wechat is not None
    http = clients.wechat.http
    with pytest.raises(WeChatAPIError) as info:
        await tokens.call(
            lambda t: http.call("POST", "/cgi-bin/message/custom/send", params={"access_token": t}, json_body={})
        )
    assert info.value.errcode == 40014 and info.value.token_error
    assert len(fetched) == 2


async def test_wrong_secret_is_a_permanent_error(
    process: Callable[..., Clients], settings, store: KeyValueStore
) -> None:
    from bot.clients import make_clients

    bad = make_clients(settings.model_copy(update={"wechat_secret": "wrong"}), store)
    try:
        with pytest.raises(WeChatAPIError) as info:
            await bad.wechat.send_text("o-x", "hi")
        assert info.value.errcode == 40125 and info.value.permanent and not info.value.transient
    finally:
        await bad.close()


def test_cache_ttl_leaves_a_margin() -> None:
    assert cache_ttl(7200) == 6900
    assert 0 < cache_ttl(10) < 10


async def test_a_burst_of_sends_reads_the_store_once(
    clients: Clients, store: KeyValueStore, standin: TestClient, standin_state: StandinState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process keeps the token it just used: a reply burst is not a store round trip a push."""
    await standin.post("/__users__", json={"openid": "o-f"})
    reads: list[str] = []
    real_get = store.get

    async def counting_get(key: str) -> str | None:
        reads.append(key)
        return await real_get(key)

    monkeypatch.setattr(store, "get", counting_get)
    for i in range(10):
        await clients.wechat.send_template("o-f", "TPL", {"k": f"第{i}条"})
    assert len(standin_state.sent) == 10
    assert standin_state.token_fetches == {"wechat": 1}
    assert len(reads) <= 3  # the first call's look, lock and look again; none after


async def test_a_remembered_token_that_expired_is_dropped_and_replaced(
    clients: Clients, standin: TestClient, standin_state: StandinState
) -> None:
    """A token the server no longer takes is not used again from the process's memory."""
    await standin.post("/__users__", json={"userid": "rep-2", "app": "wecom"})
    await clients.wecom.send_text(["rep-2"], "一")
    standin_state.clock.advance(7201)
    await clients.wecom.send_text(["rep-2"], "二")
    await clients.wecom.send_text(["rep-2"], "三")
    assert standin_state.token_fetches == {"wecom": 2}
    assert [e.get("payload", {}).get("text", {}).get("content") for e in standin_state.sent] == ["一", "二", "三"]
