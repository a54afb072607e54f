"""Mini-program authorisation as a property (issue 16, part 4).

Two customers, each with addresses, orders (one placed with an Idempotency-Key), an OCR job and
a subscribe consent. Hypothesis walks every operation of GET /mp/v1/openapi.json — the route
list comes from the document, so a new route is walked without touching this test — as one
customer aimed at the other's objects (ids in the path, the other's address in an order, the
other's Idempotency-Key replayed) and asserts: no 5xx; an object route answers 404; no answer
carries anything of the other customer; and the other customer's rows are exactly as before.
Expired, logged-out and forged tokens get 401 on every authenticated operation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from miniprogram_api.services import Principal, Sessions
from orders.models import Customer, CustomerAddress, OcrJob, Order, SubscribeConsent

from .test_api import ADDRESS, PNG
from .test_openapi import ThreadServer

WHO = ("A", "B")
SKU = "HB-M6X20-304"
WHEN = {"delivery_date": (dt.date.today() + dt.timedelta(days=7)).isoformat()}
OWNED_PARAMS = {"number", "address_id", "job_id"}  # path parameters naming a customer's object


class TwoCustomers(ThreadServer):
    """ThreadServer's API with a second customer; `run` executes a coroutine on its loop."""

    async def _start(self) -> tuple[str, str]:
        base, token_a = await super()._start()
        async with self.services.sessionmaker() as s, s.begin():
            a = (await s.exec(select(Customer).where(Customer.mp_openid == "fuzz-openid"))).one()
            b = Customer(name="乙", mp_openid="openid-b")
            s.add(b)
            await s.flush()
            self.customers = {"A": (a.id, "fuzz-openid"), "B": (b.id, "openid-b")}
        token_b = await self.services.sessions.open(Principal(*self.customers["B"]), "sk-b")
        self.tokens = {"A": token_a, "B": token_b}
        return base, token_a


class World:
    """The live API, both customers' tokens and what each of them owns."""

    def __init__(self, server: TwoCustomers, base: str) -> None:
        self.server, self.base, self.http = server, base, requests.Session()
        self.tokens = server.tokens
        self.marker = {w: f"密{w}-{uuid.uuid4().hex[:8]}" for w in WHO}
        self.owned: dict[str, dict[str, list[Any]]] = {
            w: {"number": [], "address_id": [], "job_id": [], "idem": []} for w in WHO}
        doc = self.http.get(f"{base}/mp/v1/openapi.json").json()
        self.operations = sorted(
            (method.upper(), path, op) for path, ops in doc["paths"].items() for method, op in ops.items())

    def call(self, who: str | None, method: str, path: str, *, token: str | None = None, **kw: Any):
        headers = dict(kw.pop("headers", {}))
        if token is None and who is not None:
            token = self.tokens[who]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def seed(self, who: str) -> None:
        """Each customer's objects, made through the API as the customer would."""
        mark = self.marker[who]
        for n in range(2):
            resp = self.call(who, "POST", "/mp/v1/addresses", json={**ADDRESS, "contact": f"{mark}{n}",
                                                                    "detail": f"{mark} 仓库"})
            assert resp.status_code == 201, resp.text
            self.owned[who]["address_id"].append(resp.json()["id"])
        for body in ({"items": [{"sku": SKU, "quantity": 100}], "address": {**ADDRESS, "contact": mark},
                      "remarks": mark, **WHEN},
                     {"items": [{"sku": SKU, "quantity": 200}], "address_id": self.owned[who]["address_id"][0],
                      **WHEN}):
            idem = uuid.uuid4().hex
            resp = self.call(who, "POST", "/mp/v1/orders", json=body, headers={"Idempotency-Key": idem})
            assert resp.status_code == 201, resp.text
            self.owned[who]["number"].append(resp.json()["number"])
            self.owned[who]["idem"].append(idem)
        resp = self.call(who, "POST", "/mp/v1/uploads", files={"file": ("o.png", PNG, "image/png")})
        assert resp.status_code == 202, resp.text
        self.owned[who]["job_id"].append(resp.json()["id"])
        resp = self.call(who, "POST", "/mp/v1/subscriptions", json={"results": {f"TPL_{who}": "accept"}})
        assert resp.status_code == 200, resp.text

    def secrets_of(self, who: str) -> list[str]:
        """Strings that appear only in this customer's objects."""
        return [self.marker[who], f"TPL_{who}", *self.owned[who]["number"]]

    def rows_of(self, who: str) -> dict[str, Any]:
        """Everything stored for this customer, to compare before and after the other acts."""
        customer_id, openid = self.server.customers[who]

        async def read() -> dict[str, Any]:
            async with self.server.services.sessionmaker() as s:
                def dump(rows: Any) -> list[dict[str, Any]]:
                    return sorted((r.model_dump(exclude={"image", "updated_at"}) for r in rows), key=lambda d: d["id"])
                return {
                    "customer": (await s.get(Customer, customer_id)).model_dump(),  # type: ignore[union-attr]
                    "addresses": dump(await s.exec(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id))),
                    "orders": dump(await s.exec(select(Order).where(Order.customer_id == customer_id))),
                    "jobs": dump(await s.exec(select(OcrJob).where(OcrJob.customer_id == customer_id))),
                    "consents": dump(await s.exec(select(SubscribeConsent).where(col(SubscribeConsent.openid) == openid))),
                }

        return self.server.run(read())


@pytest.fixture
def world(tmp_path: Path, shared_dir: Path) -> Iterator[World]:
    server = TwoCustomers(tmp_path / "authz.db", shared_dir)
    with server as (base, _):
        w = World(server, base)
        for who in WHO:
            w.seed(who)
        yield w


# ---- the requests one customer may send at the other's objects ----------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=12)


def _body(w: World, schema: str, actor: str, victim: str) -> st.SearchStrategy[Any]:
    """A valid body of each request schema, aimed at the victim where a body can name an object."""
    theirs = w.owned[victim]
    if schema == "AddressIn":
        return st.builds(lambda c, d: {**ADDRESS, "contact": c.strip() or "x", "is_default": d}, _text, st.booleans())
    if schema == "OrderIn":
        by_id = st.integers(0, 99).map(lambda i: theirs["address_id"][i % len(theirs["address_id"])]).map(
            lambda a: {"items": [{"sku": SKU, "quantity": 10}], "address_id": a, **WHEN})
        inline = st.integers(1, 5000).map(lambda q: {"items": [{"sku": SKU, "quantity": q}], "address": ADDRESS, **WHEN})
        return st.one_of(by_id, inline)
    if schema == "CancelIn":
        return st.one_of(st.just({}), _text.map(lambda r: {"reason": r}))
    if schema == "OrderEditIn":  # adding a line, or removing a line id that may be the victim's
        add = _text.map(lambda r: {"add_items": [{"sku": SKU, "quantity": 10}], "reason": r})
        remove = st.integers(1, 50).map(lambda i: {"remove_lines": [i], "reason": "不要了"})
        return st.one_of(add, remove, st.just({"remarks": "改一下"}))
    if schema == "DraftIn":
        return st.just({"text": "M6螺栓 100个，明天送"})
    if schema == "SubscriptionIn":
        return st.just({"results": {"TPL_X": "accept"}})
    if schema == "LoginIn":
        return _text.map(lambda c: {"code": c})
    raise AssertionError(f"no body strategy for {schema}: teach this test the new request model")


def _pick(draw: st.DrawFn, items: list[Any]) -> Any:
    """One of `items`, which grow as the walk creates objects: drawn as an index, so that
    hypothesis sees the same choices when it replays an example."""
    return items[draw(st.integers(0, 99)) % len(items)]


def _request(w: World, method: str, path: str, op: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        actor = draw(st.sampled_from(WHO))
        victim = "B" if actor == "A" else "A"
        url = path
        for name in OWNED_PARAMS:
            if "{" + name + "}" in url:
                url = url.replace("{" + name + "}", str(_pick(draw, w.owned[victim][name])))
        url = url.replace("{sku}", SKU)
        kw: dict[str, Any] = {"headers": {}}
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            schema = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            kw["json"] = draw(_body(w, schema, actor, victim))
        elif "multipart/form-data" in content:
            kw["files"] = {"file": ("o.png", PNG, "image/png")}
        if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []) if p["in"] == "header"):
            # replaying the victim's key must not hand the victim's order to the actor
            replay = draw(st.booleans())
            kw["headers"]["Idempotency-Key"] = _pick(draw, w.owned[victim]["idem"]) if replay else uuid.uuid4().hex
        aims = any("{" + n + "}" in path for n in OWNED_PARAMS) or "address_id" in (kw.get("json") or {})
        return {"actor": actor, "victim": victim, "method": method, "url": url, "kw": kw,
                "template": (method, path), "aims_at_object": aims}

    return build()


def test_no_customer_can_read_or_write_anothers_objects(world: World) -> None:
    assert world.operations, "the OpenAPI document lists no operation"
    requests_ = st.one_of(*(_request(world, m, p, op) for m, p, op in world.operations))
    walked: set[tuple[str, str]] = set()

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(steps=st.lists(requests_, min_size=1, max_size=4))
    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            actor, victim = step["actor"], step["victim"]
            before = world.rows_of(victim)
            resp = world.call(actor, step["method"], step["url"], **step["kw"])
            label = f'{actor} {step["method"]} {step["url"]} {step["kw"].get("json")} -> {resp.status_code}'
            assert resp.status_code < 500, label + resp.text[:300]
            if step["aims_at_object"]:
                # 404, or refused earlier: the actor reusing one of its own Idempotency-Keys
                # (it may have replayed the victim's key before: keys are per customer)
                code = resp.json().get("code") if resp.status_code == 409 else None
                assert resp.status_code == 404 or code == "idempotency_key_reused", label
            for secret in world.secrets_of(victim):
                assert secret not in resp.text, f"{label}: answer shows {victim}'s {secret}"
            assert world.rows_of(victim) == before, f"{label}: changed {victim}'s data"
            if step["method"] == "POST" and step["url"] == "/mp/v1/orders" and resp.status_code in (200, 201):
                world.owned[actor]["number"].append(resp.json()["number"])
            walked.add(step["template"])

    walk()
    templates = {(m, p) for m, p, _ in world.operations}
    assert walked == templates, f"never walked: {sorted(templates - walked)}"


# ---- tokens that are not (or no longer) a session ------------------------------------------


def _bad_tokens(world: World) -> dict[str, str]:
    genuine = world.tokens["A"]
    customer = Principal(*world.server.customers["A"])
    expired = world.server.run(Sessions(world.server.services.store, ttl=1).open(customer, "sk"))
    logged_out = world.server.run(world.server.services.sessions.open(customer, "sk"))
    world.server.run(world.server.services.sessions.close(logged_out))
    time.sleep(1.2)  # the one-second session has lapsed
    return {
        "expired": expired,
        "logged_out": logged_out,
        "random": uuid.uuid4().hex + uuid.uuid4().hex,
        "one_character_changed": genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),
        "extended": genuine + "x",
        "truncated": genuine[:-4],
        "store_key_instead_of_token": hashlib.sha256(genuine.encode()).hexdigest(),
        "sql": "' OR '1'='1",
        "overlong": "t" * 4000,
    }


def test_expired_logged_out_and_forged_tokens_are_401_everywhere(world: World) -> None:
    before = {w: world.rows_of(w) for w in WHO}
    authed = [(m, p) for m, p, op in world.operations if op.get("security") or "401" in op.get("responses", {})]
    authed = [(m, p) for m, p in authed if p != "/mp/v1/auth/login"]
    assert len(authed) >= 10
    for name, token in _bad_tokens(world).items():
        for method, path in authed:
            url = path.replace("{number}", world.owned["A"]["number"][0]).replace(
                "{address_id}", str(world.owned["A"]["address_id"][0])).replace(
                "{job_id}", str(world.owned["A"]["job_id"][0]))
            resp = world.call(None, method, url, token=token, json={} if method in ("POST", "PUT") else None,
                              headers={"Idempotency-Key": world.owned["A"]["idem"][0]})
            assert resp.status_code == 401, (name, method, url, resp.status_code)
            assert resp.json()["code"] == "unauthorized"
    for header in ("Basic " + world.tokens["A"], world.tokens["A"], "Bearer", "Bearer  "):
        resp = world.http.get(world.base + "/mp/v1/orders", headers={"Authorization": header})
        assert resp.status_code == 401, header
    resp = world.http.get(world.base + "/mp/v1/orders", params={"token": world.tokens["A"]})
    assert resp.status_code == 401
    assert {w: world.rows_of(w) for w in WHO} == before
    # and the genuine token still works
    assert world.call("A", "GET", "/mp/v1/orders").status_code == 200
