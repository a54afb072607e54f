"""The mini-program API end to end: login through the stand-in, catalog, orders with an
Idempotency-Key, routing to the reps the rules name, object-level authorisation, uploads,
address book and subscribe consents."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from aiohttp import FormData
from sqlalchemy import func
from sqlmodel import select

from orders.models import Customer, IdempotencyRecord, Order, OrderEvent, Outbox
from tests.placing import one_routed_order

from .conftest import Mp

# Tests whose behaviour does not depend on the database run on SQLite only (fast suite);
# logins, idempotency, routing, authorisation and upserts run on both.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ADDRESS = {"contact": "张工", "phone": "13812345678", "province": "江苏省", "city": "常州市",
           "district": "武进区", "detail": "湖塘镇长虹路88号"}


def order_body(province: str = "江苏省", city: str = "常州市", qty: int = 5000, sku: str = "HB-M6X20-304") -> dict:
    return {"items": [{"sku": sku, "quantity": qty}],
            "address": {**ADDRESS, "province": province, "city": city},
            "delivery_date": "2026-12-01"}


def form(data: bytes) -> FormData:
    fd = FormData()
    fd.add_field("file", data, filename="order.png", content_type="image/png")
    return fd


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def count(mp: Mp, model, *where) -> int:
    async with mp.services.sessionmaker() as s:
        return (await s.exec(select(func.count()).select_from(model).where(*where))).one()


# ---- login -------------------------------------------------------------------------------


async def test_login_with_a_code_gives_a_token_that_authenticates(mp: Mp) -> None:
    code = mp.standin.issue_login_code("mp-openid-1")
    resp = await mp.client.post("/mp/v1/auth/login", json={"code": code})
    assert resp.status == 201
    body = await resp.json()
    assert body["is_new"] and body["token"] and "session_key" not in body
    resp = await mp.client.get("/mp/v1/orders", headers=mp.auth(body["token"]))
    assert resp.status == 200 and (await resp.json())["items"] == []

    # the same person logging in again is the same customer
    again = await mp.client.post("/mp/v1/auth/login", json={"code": mp.standin.issue_login_code("mp-openid-1")})
    assert again.status == 200
    assert (await again.json())["customer_id"] == body["customer_id"]
    # a code is single use
    reused = await mp.client.post("/mp/v1/auth/login", json={"code": code})
    assert reused.status == 401
    assert (await reused.json())["code"] == "invalid_login_code"


async def test_login_merges_with_the_official_account_customer_by_unionid(mp: Mp) -> None:
    async with mp.services.sessionmaker() as s, s.begin():
        oa = Customer(name="老周", openid="oa-openid-9", unionid="union-9")
        s.add(oa)
        await s.flush()
        oa_id = oa.id
    code = mp.standin.issue_login_code("mp-openid-9", "union-9")
    body = await (await mp.client.post("/mp/v1/auth/login", json={"code": code})).json()
    assert body["customer_id"] == oa_id and not body["is_new"]
    assert await count(mp, Customer) == 1


@sqlite_only
async def test_missing_or_bad_tokens_are_401_in_the_error_shape(mp: Mp) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        resp = await mp.client.get("/mp/v1/orders", headers=headers)
        assert resp.status == 401
        body = await resp.json()
        assert body["code"] == "unauthorized" and body["message"] == "请先登录"


@sqlite_only
async def test_validation_errors_are_422_with_a_chinese_message(mp: Mp) -> None:
    token = await mp.login("v-1")
    resp = await mp.client.post("/mp/v1/orders", json={"items": []}, headers=mp.auth(token, **key()))
    assert resp.status == 422
    body = await resp.json()
    assert body["code"] == "validation_error" and "请求参数有误" in body["message"]
    assert any(e["field"] == "items" for e in body["errors"])
    resp = await mp.client.get("/mp/v1/no-such-thing")
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"


# ---- catalog -------------------------------------------------------------------------------


@sqlite_only
async def test_catalog_search_by_spec_alias_and_name(mp: Mp) -> None:
    async def first(q: str) -> dict:
        resp = await mp.client.get("/mp/v1/catalog/products", params={"q": q})
        assert resp.status == 200
        items = (await resp.json())["items"]
        assert items, q
        return items[0]

    assert (await first("M6*20 304外六角"))["sku"] == "HB-M6X20-304"
    assert (await first("M6x20 外六角 不锈钢"))["sku"] == "HB-M6X20-304"
    assert (await first("刹车片"))["category"] == "刹车片"
    assert (await first("M8华司"))["name"].startswith("平垫圈 M8")  # trade slang for a washer
    assert (await first("膨胀螺丝 M10"))["name"].startswith("膨胀螺栓 M10×")  # the size family
    assert (await first("6203"))["category"] == "轴承"
    nothing = await (await mp.client.get("/mp/v1/catalog/products", params={"q": "xyz"})).json()
    assert nothing == {"items": [], "total": 0, "page": 1, "page_size": 20}
    resp = await mp.client.get("/mp/v1/catalog/products", params={"category": "轴承", "page_size": 50})
    body = await resp.json()
    assert body["total"] == 15 and {p["category"] for p in body["items"]} == {"轴承"}


@sqlite_only
async def test_product_detail_and_unknown_sku(mp: Mp) -> None:
    resp = await mp.client.get("/mp/v1/catalog/products/HB-M6X20-304")
    body = await resp.json()
    assert body["name"] == "外六角螺栓 M6×20 304不锈钢" and body["price"] == "0.25"
    resp = await mp.client.get("/mp/v1/catalog/products/NOPE-1")
    assert resp.status == 404 and (await resp.json())["code"] == "product_not_found"


# ---- orders ----------------------------------------------------------------------------------


async def test_one_idempotency_key_makes_one_order(mp: Mp) -> None:
    token = await mp.login("buyer-1")
    headers = mp.auth(token, **key())
    first = await mp.client.post("/mp/v1/orders", json=order_body(), headers=headers)
    assert first.status == 201, await first.text()
    retry = await mp.client.post("/mp/v1/orders", json=order_body(), headers=headers)
    assert retry.status == 200 and retry.headers["Idempotent-Replayed"] == "true"
    a, b = await first.json(), await retry.json()
    assert a["number"] == b["number"] and a["status"] == "pending"
    assert a["total"] == "1250" or a["total"].startswith("1250")
    assert await count(mp, Order) == 1
    await one_routed_order(mp.services.sessionmaker)  # routed once, with a confirmation deadline

    # the same key with another body is refused, and makes nothing
    other = await mp.client.post("/mp/v1/orders", json=order_body(qty=6000), headers=headers)
    assert other.status == 409 and (await other.json())["code"] == "idempotency_key_reused"
    assert await count(mp, Order) == 1
    # a new key is a new order
    assert (await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(token, **key()))).status == 201
    assert await count(mp, Order) == 2


async def test_concurrent_retries_with_one_key_make_one_order(mp: Mp) -> None:
    import asyncio

    token = await mp.login("buyer-c")
    headers = mp.auth(token, **key())
    answers = await asyncio.gather(*(
        mp.client.post("/mp/v1/orders", json=order_body(), headers=headers) for _ in range(4)
    ))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}
    assert await count(mp, Order) == 1
    assert await count(mp, IdempotencyRecord) == 1


async def test_order_needs_an_idempotency_key_and_an_address(mp: Mp) -> None:
    token = await mp.login("buyer-2")
    resp = await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(token))
    assert resp.status == 422 and (await resp.json())["code"] == "idempotency_key_required"
    body = order_body()
    del body["address"]
    resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
    assert resp.status == 422 and (await resp.json())["code"] == "missing_fields"
    assert await count(mp, Order) == 0 and await count(mp, IdempotencyRecord) == 0


async def test_orders_reach_the_reps_the_rules_name(mp: Mp) -> None:
    token = await mp.login("router-1")
    cases = [
        (order_body("江苏省", "常州市"), "east-a", "east"),
        (order_body("广东省", "佛山市"), "south-a", "south"),
        (order_body("广东省", "佛山市", qty=300_000), "ka-a", "key-accounts"),  # 75 000 元
        (order_body("四川省", "成都市"), "online-a", "miniprogram"),  # mini-program channel rule
        (order_body("四川省", "成都市", sku="BP-LY-F-TC", qty=2), "parts-a", "auto-parts"),
    ]
    async with mp.services.sessionmaker() as s:
        from orders.models import Product

        assert await s.get(Product, "BP-LY-F-TC") is not None, "catalog sku used by the test"
    for body, rep, rule in cases:
        resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
        assert resp.status == 201, await resp.text()
        number = (await resp.json())["number"]
        async with mp.services.sessionmaker() as s:
            order = (await s.exec(select(Order).where(Order.number == number))).one()
            routed = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                            OrderEvent.type == "routed"))).one()
            card = (await s.exec(select(Outbox).where(Outbox.kind == "notify_rep",
                                                      Outbox.payload["number"].as_string() == number))).all()
        assert (order.routing_rule, routed.changes["rule"]) == (rule, rule), body
        assert [c.target for c in card] == [rep]
        assert order.confirm_due_at is not None
        # the customer never sees the routing event
        detail = await (await mp.client.get(f"/mp/v1/orders/{number}", headers=mp.auth(token))).json()
        assert "routed" not in {e["type"] for e in detail["events"]}


@sqlite_only
async def test_list_detail_and_filter(mp: Mp) -> None:
    token = await mp.login("lister")
    numbers = []
    for _ in range(3):
        resp = await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(token, **key()))
        numbers.append((await resp.json())["number"])
    page = await (await mp.client.get("/mp/v1/orders", params={"page_size": 2}, headers=mp.auth(token))).json()
    assert page["total"] == 3 and [o["number"] for o in page["items"]] == numbers[::-1][:2]
    await mp.client.post(f"/mp/v1/orders/{numbers[0]}/cancel", json={"reason": "下错了"}, headers=mp.auth(token))
    cancelled = await (await mp.client.get("/mp/v1/orders", params={"status": "cancelled"},
                                           headers=mp.auth(token))).json()
    assert [o["number"] for o in cancelled["items"]] == [numbers[0]]
    detail = await (await mp.client.get(f"/mp/v1/orders/{numbers[1]}", headers=mp.auth(token))).json()
    assert detail["lines"][0]["sku"] == "HB-M6X20-304" and detail["ship_to"]["city"] == "常州市"
    assert [e["type"] for e in detail["events"]][:2] == ["created", "submitted"]
    assert detail["can_cancel"] is True


async def test_cancel_only_before_shipping(mp: Mp) -> None:
    token = await mp.login("canceller")
    a = await (await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(token, **key()))).json()
    resp = await mp.client.post(f"/mp/v1/orders/{a['number']}/cancel", headers=mp.auth(token))
    assert resp.status == 422 and (await resp.json())["code"] == "reason_required"  # placed: say why
    resp = await mp.client.post(f"/mp/v1/orders/{a['number']}/cancel", json={"reason": "工地停工"},
                                headers=mp.auth(token))
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    async with mp.services.sessionmaker() as s:
        order = (await s.exec(select(Order).where(Order.number == a["number"]))).one()
        last = (await s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id)
                             .order_by(OrderEvent.id.desc()))).first()
    assert (last.type, last.reason) == ("cancelled", "工地停工")

    b = await (await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(token, **key()))).json()
    async with mp.services.sessionmaker() as s, s.begin():
        order = (await s.exec(select(Order).where(Order.number == b["number"]))).one()
        order.status, order.waybill_no = "shipped", "SF1234567890"
    resp = await mp.client.post(f"/mp/v1/orders/{b['number']}/cancel", headers=mp.auth(token))
    assert resp.status == 409 and (await resp.json())["code"] == "cannot_cancel"
    detail = await (await mp.client.get(f"/mp/v1/orders/{b['number']}", headers=mp.auth(token))).json()
    assert detail["status"] == "shipped" and detail["waybill_no"] == "SF1234567890" and not detail["can_cancel"]


async def test_customers_order_products_and_may_not_add_gifts_or_freight(mp: Mp) -> None:
    token = await mp.login("liner")
    for line_type in ("gift", "freight", "service"):
        body = order_body()
        body["items"] = [*body["items"], {**body["items"][0], "line_type": line_type}]
        resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
        assert (resp.status, (await resp.json())["code"]) == (422, "line_type_forbidden"), line_type
    resp = await mp.client.post("/mp/v1/orders", json={**order_body(), "items": [{"sku": "X", "quantity": 1,
                                                                                     "line_type": "free"}]},
                                headers=mp.auth(token, **key()))
    assert (resp.status, (await resp.json())["code"]) == (422, "validation_error")
    body = order_body()
    body["items"] = [{**body["items"][0], "line_type": "product"}]
    placed = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
    assert placed.status == 201
    assert [ln["line_type"] for ln in (await placed.json())["lines"]] == ["main"]
    async with mp.services.sessionmaker() as s:
        assert (await s.exec(select(func.count()).select_from(Order))).one() == 1  # the refused ones left nothing


async def test_customer_edits_a_placed_order_with_a_reason_and_line_types(mp: Mp) -> None:
    token = await mp.login("editor")
    placed = await (await mp.client.post("/mp/v1/orders", json=order_body(qty=1000),
                                         headers=mp.auth(token, **key()))).json()
    edit = f"/mp/v1/orders/{placed['number']}/edit"
    more = {"sku": "HB-M6X20-304", "quantity": 500}
    resp = await mp.client.post(edit, json={"add_items": [more]}, headers=mp.auth(token))
    assert (resp.status, (await resp.json())["code"]) == (422, "reason_required")
    resp = await mp.client.post(edit, json={"add_items": [{**more, "line_type": "freight"}], "reason": "要运费"},
                                headers=mp.auth(token))
    assert (resp.status, (await resp.json())["code"]) == (422, "line_type_forbidden")
    resp = await mp.client.post(edit, json={"add_items": [more], "remarks": "下午送", "reason": "工地多要了半箱"},
                                headers=mp.auth(token))
    detail = await resp.json()
    assert resp.status == 200, detail
    assert [ln["quantity"] for ln in detail["lines"]] == ["1000", "500"] and detail["remarks"] == "下午送"
    assert Decimal(detail["total"]) == Decimal(placed["total"]) * Decimal("1.5")
    assert detail["events"][-1]["type"] == "edited" and detail["events"][-1]["reason"] == "工地多要了半箱"
    async with mp.services.sessionmaker() as s:
        event = (await s.exec(select(OrderEvent).where(OrderEvent.type == "edited"))).one()
    added = next(k for k in event.changes if k.startswith("line:"))
    assert event.changes[added][0] is None and event.changes["remarks"] == [None, "下午送"]
    resp = await mp.client.post(edit, json={"remove_lines": [detail["lines"][1]["id"]], "reason": "还是不要了"},
                                headers=mp.auth(token))
    assert [ln["quantity"] for ln in (await resp.json())["lines"]] == ["1000"]


async def test_another_customers_token_gets_404_on_every_object_route(mp: Mp) -> None:
    owner, other = await mp.login("owner"), await mp.login("stranger")
    order = await (await mp.client.post("/mp/v1/orders", json=order_body(), headers=mp.auth(owner, **key()))).json()
    address = await (await mp.client.post("/mp/v1/addresses", json=ADDRESS, headers=mp.auth(owner))).json()
    job = await (await mp.client.post("/mp/v1/uploads", data=form(PNG), headers=mp.auth(owner))).json()
    attempts = [
        ("GET", f"/mp/v1/orders/{order['number']}", None, "order_not_found"),
        ("POST", f"/mp/v1/orders/{order['number']}/cancel", {}, "order_not_found"),
        ("GET", f"/mp/v1/jobs/{job['id']}", None, "job_not_found"),
        ("PUT", f"/mp/v1/addresses/{address['id']}", ADDRESS, "address_not_found"),
        ("DELETE", f"/mp/v1/addresses/{address['id']}", None, "address_not_found"),
        ("POST", "/mp/v1/orders", {**order_body(), "address": None, "address_id": address["id"]}, "address_not_found"),
    ]
    for method, path, body, code in attempts:
        resp = await mp.client.request(method, path, json=body, headers=mp.auth(other, **key()))
        assert (resp.status, (await resp.json())["code"]) == (404, code), (method, path)
    # and the owner still can
    for method, path, body, _ in attempts[:1] + attempts[2:4]:
        resp = await mp.client.request(method, path, json=body, headers=mp.auth(owner))
        assert resp.status == 200, (method, path)
    # the stranger's lists do not show the owner's things
    assert (await (await mp.client.get("/mp/v1/orders", headers=mp.auth(other))).json())["total"] == 0
    assert (await (await mp.client.get("/mp/v1/addresses", headers=mp.auth(other))).json())["items"] == []
    async with mp.services.sessionmaker() as s:
        assert (await s.exec(select(Order).where(Order.number == order["number"]))).one().status == "pending"


# ---- address book, uploads, subscriptions -------------------------------------------------


async def test_address_book_and_ordering_from_it(mp: Mp) -> None:
    token = await mp.login("addr")
    first = await (await mp.client.post("/mp/v1/addresses", json=ADDRESS, headers=mp.auth(token))).json()
    assert first["is_default"]  # the first address is the default
    second = await (await mp.client.post("/mp/v1/addresses", json={**ADDRESS, "city": "无锡市", "is_default": True},
                                         headers=mp.auth(token))).json()
    book = await (await mp.client.get("/mp/v1/addresses", headers=mp.auth(token))).json()
    assert [(a["id"], a["is_default"]) for a in book["items"]] == [(second["id"], True), (first["id"], False)]
    body = {**order_body(), "address_id": second["id"]}
    del body["address"]
    order = await (await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))).json()
    assert order["ship_to"]["city"] == "无锡市"
    resp = await mp.client.post("/mp/v1/addresses", json={**ADDRESS, "phone": "12ab"}, headers=mp.auth(token))
    assert resp.status == 422


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@sqlite_only
async def test_upload_queues_an_ocr_job_and_can_be_polled(mp: Mp) -> None:
    token = await mp.login("uploader")
    resp = await mp.client.post("/mp/v1/uploads", data=form(PNG), headers=mp.auth(token))
    assert resp.status == 202
    job = await resp.json()
    assert job["state"] == "queued"
    async with mp.services.sessionmaker() as s:
        rows = (await s.exec(select(Outbox).where(Outbox.kind == "ocr_job"))).all()
    assert [r.payload for r in rows] == [{"job_id": job["id"]}]
    polled = await (await mp.client.get(f"/mp/v1/jobs/{job['id']}", headers=mp.auth(token))).json()
    assert polled["id"] == job["id"] and polled["state"] == "queued"

    resp = await mp.client.post("/mp/v1/uploads", data=form(b"%PDF-1.4 not an image"), headers=mp.auth(token))
    assert resp.status == 415 and (await resp.json())["code"] == "unsupported_media_type"
    resp = await mp.client.post("/mp/v1/uploads", json={"file": "x"}, headers=mp.auth(token))
    assert resp.status == 415
    # OCR is CPU-heavy: a customer may have only a few images waiting
    for _ in range(4):
        assert (await mp.client.post("/mp/v1/uploads", data=form(PNG), headers=mp.auth(token))).status == 202
    resp = await mp.client.post("/mp/v1/uploads", data=form(PNG), headers=mp.auth(token))
    assert resp.status == 429 and (await resp.json())["code"] == "too_many_jobs"
    other = await mp.login("uploader-2")
    assert (await mp.client.post("/mp/v1/uploads", data=form(PNG), headers=mp.auth(other))).status == 202


async def test_subscriptions_count_each_accept(mp: Mp) -> None:
    token = await mp.login("subscriber")
    for _ in range(2):
        resp = await mp.client.post("/mp/v1/subscriptions", json={"results": {"TPL_SHIP": "accept", "TPL_X": "reject"}},
                                    headers=mp.auth(token))
        assert resp.status == 200
    body = await (await mp.client.get("/mp/v1/subscriptions", headers=mp.auth(token))).json()
    assert body["items"] == [{"template_id": "TPL_SHIP", "remaining": 2}]


# ---- drafts ----------------------------------------------------------------------------------


@sqlite_only
async def test_draft_preview_reads_items_contact_and_date(mp: Mp) -> None:
    token = await mp.login("drafter")
    text = "M6*20的外六角 304的 5000个，明天送到常州武进湖塘镇长虹路88号，张工 13812345678"
    resp = await mp.client.post("/mp/v1/drafts", json={"text": text, "today": "2026-03-02"}, headers=mp.auth(token))
    assert resp.status == 200, await resp.text()
    draft = await resp.json()
    assert [(i["sku"], i["quantity"]) for i in draft["items"]] == [("HB-M6X20-304", 5000)]
    assert draft["phone"] == "13812345678" and draft["delivery_date"] == "2026-03-03"
    assert draft["address"]["city"] == "常州市" and draft["missing"] == []
    assert await count(mp, Order) == 0  # a preview stores nothing
    resp = await mp.client.post("/mp/v1/drafts", json={"text": ""}, headers=mp.auth(token))
    assert resp.status == 422


@sqlite_only
async def test_order_lines_the_catalog_does_not_sell_are_422(mp: Mp) -> None:
    token = await mp.login("bad-lines")
    for item, code in (({"sku": "NOPE-1", "quantity": 5}, "product_not_found"),
                       ({"sku": "HB-M6X20-304", "quantity": 5, "unit": "吨"}, "unknown_unit"),
                       ({"sku": "HB-M6X20-304", "quantity": -5}, "validation_error")):
        body = {**order_body(), "items": [item]}
        resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
        assert (resp.status, (await resp.json())["code"]) == (422, code), item
    assert await count(mp, Order) == 0 and await count(mp, IdempotencyRecord) == 0
    # a pack unit the catalog knows is fine: 2 盒 of 1000
    body = {**order_body(), "items": [{"sku": "HB-M6X20-304", "quantity": 2, "unit": "盒"}]}
    resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
    assert resp.status == 201 and (await resp.json())["total"] == "500"


@sqlite_only
async def test_login_problems_on_our_side_are_5xx_not_the_users_fault(mp: Mp) -> None:
    good = mp.services.settings
    try:
        mp.services.settings = good.model_copy(update={"miniprogram_secret": "wrong"})
        resp = await mp.client.post("/mp/v1/auth/login", json={"code": mp.standin.issue_login_code("x1")})
        assert (resp.status, (await resp.json())["code"]) == (502, "wechat_error")
        mp.services.settings = good.model_copy(update={"miniprogram_appid": ""})
        resp = await mp.client.post("/mp/v1/auth/login", json={"code": mp.standin.issue_login_code("x2")})
        assert (resp.status, (await resp.json())["code"]) == (503, "login_not_configured")
        mp.services.settings = good.model_copy(update={"wechat_api_base": "http://127.0.0.1:9"})
        resp = await mp.client.post("/mp/v1/auth/login", json={"code": "whatever"})
        assert (resp.status, (await resp.json())["code"]) == (503, "wechat_unavailable")
    finally:
        mp.services.settings = good
    assert await count(mp, Customer) == 0
