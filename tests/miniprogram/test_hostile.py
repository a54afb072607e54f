"""Hostile input to /mp/v1 (issue 16, part 3): malformed, deep and oversized JSON, control
characters and SQL-looking text in every text field, image bombs and non-images.

Each is answered 4xx with a code, never 5xx, and leaves nothing stored half-way; SQL-looking
text is stored and returned verbatim. Text fields run on both profiles: PostgreSQL is the
one that cannot store NUL.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import zlib

import pytest
from aiohttp import FormData
from PIL import Image

from miniprogram_api import ENDPOINTS
from orders.models import CustomerAddress, OcrJob, Order, Outbox
from tests.ocr.test_loading import png_bomb

from .conftest import Mp
from .test_api import ADDRESS, count, form, key, order_body

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
JSON_ROUTES = [(ep.method, "/mp/v1" + ep.path.replace("{number}", "SO1").replace("{address_id}", "1"))
               for ep in ENDPOINTS if ep.body is not None]


async def _raw_post(mp: Mp, path: str, body: bytes, headers: str) -> tuple[int, bytes]:
    """A request no well-behaved client library would send (control characters in a header)."""
    reader, writer = await asyncio.open_connection(mp.client.host, mp.client.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1") + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return int(answer.split(b" ", 2)[1]), answer


async def _code(resp) -> tuple[int, str]:
    return resp.status, (await resp.json())["code"]


@sqlite_only
@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
async def test_bodies_that_are_not_json_are_400_invalid_json(mp: Mp, method: str, path: str) -> None:
    token = await mp.login("json-1")
    for body in (b'{"items": [', b"\xff\xfe{}", b"{'single': 'quotes'}", b"[" * 30_000 + b"]" * 30_000, b"{}}"):
        resp = await mp.client.request(method, path, data=body, headers=mp.auth(token, **key()))
        assert await _code(resp) == (400, "invalid_json"), (path, body[:20])
    assert await count(mp, Order) == 0 and await count(mp, CustomerAddress) == 0


@sqlite_only
@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
async def test_oversized_json_is_413_declared_or_streamed(mp: Mp, method: str, path: str) -> None:
    token = await mp.login("json-2")
    big = b'{"remarks": "' + b"x" * 70_000 + b'"}'

    async def streamed():  # no Content-Length: the limit holds on the bytes read
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    for data in (big, streamed()):
        resp = await mp.client.request(method, path, data=data, headers=mp.auth(token, **key()))
        assert await _code(resp) == (413, "payload_too_large"), path
    assert await count(mp, Order) == 0


BAD = ("\x00", "\x1b[31m", "\x7f", "\x08")


async def test_control_characters_in_any_text_field_are_422_and_store_nothing(mp: Mp) -> None:
    token = await mp.login("ctrl")
    for bad in BAD:
        for field in ("contact", "province", "city", "district", "detail"):
            resp = await mp.client.post("/mp/v1/addresses", json={**ADDRESS, field: ADDRESS[field] + bad},
                                        headers=mp.auth(token))
            body = await resp.json()
            assert (resp.status, body["errors"]) == (422, [{"field": field, "error": "control_characters"}])
        order = order_body()
        variants = [
            {**order, "remarks": "尽快" + bad},
            {**order, "items": [{"sku": "HB-M6X20-304" + bad, "quantity": 1}]},
            {**order, "items": [{"sku": "HB-M6X20-304", "quantity": 1, "unit": "个" + bad}]},
            {**order, "address": {**ADDRESS, "detail": "88号" + bad}},
        ]
        for body in variants:
            resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
            assert await _code(resp) == (422, "validation_error"), body
        for path, body in (("/mp/v1/drafts", {"text": "M6螺栓" + bad}),
                           ("/mp/v1/subscriptions", {"results": {"TPL" + bad: "accept"}}),
                           ("/mp/v1/auth/login", {"code": "abc" + bad})):
            assert (await mp.client.post(path, json=body, headers=mp.auth(token))).status == 422, path
        resp = await mp.client.get("/mp/v1/catalog/products", params={"q": "M6" + bad})
        assert resp.status == 422
    status, answer = await _raw_post(mp, "/mp/v1/orders", json.dumps(order_body()).encode(),
                                     f"Authorization: Bearer {token}\r\nIdempotency-Key: k\x01\x7f")
    assert 400 <= status < 500 and b"order" not in answer  # the parser or our check refuses it
    assert await count(mp, Order) == 0 and await count(mp, CustomerAddress) == 0


async def test_sql_looking_text_is_stored_and_returned_verbatim(mp: Mp) -> None:
    token = await mp.login("bobby'); DROP TABLE customer; --")
    sneaky = {**ADDRESS, "contact": "Robert'); DROP TABLE orders;--", "detail": "长虹路88号' OR '1'='1\t二楼",
              "district": "%s%%_\\"}
    resp = await mp.client.post("/mp/v1/addresses", json=sneaky, headers=mp.auth(token))
    assert resp.status == 201, await resp.text()
    saved = await resp.json()
    assert {k: saved[k] for k in ("contact", "detail", "district")} == {
        k: sneaky[k] for k in ("contact", "detail", "district")}
    body = {**order_body(), "remarks": "'; DELETE FROM order_line; -- 周五前\n谢谢"}
    resp = await mp.client.post("/mp/v1/orders", json=body, headers=mp.auth(token, **key()))
    assert resp.status == 201, await resp.text()
    order = await resp.json()
    assert order["remarks"] == body["remarks"]
    got = await (await mp.client.get(f"/mp/v1/orders/{order['number']}", headers=mp.auth(token))).json()
    assert got["remarks"] == body["remarks"] and len(got["lines"]) >= 1
    resp = await mp.client.get("/mp/v1/catalog/products", params={"q": "' OR 1=1 --"})
    assert resp.status == 200
    resp = await mp.client.get("/mp/v1/orders/SO1' OR '1'='1", headers=mp.auth(token))
    assert resp.status == 404


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, format="PNG")
    return buf.getvalue()


def _zero_bomb(side: int = 20_000) -> bytes:
    """A 400-megapixel all-white PNG compressed into a few hundred kilobytes."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\xff" * side
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@sqlite_only
async def test_image_bombs_and_non_images_are_refused_before_queueing(mp: Mp) -> None:
    token = await mp.login("bomber")
    cut = {(415, "not_an_image"), (422, "truncated")}  # PIL may or may not recognise what is left
    cases = [
        (png_bomb(), {(422, "too_many_pixels")}),
        (_zero_bomb(), {(422, "too_many_pixels")}),
        (_png()[:20], cut),  # the signature, then the header cut off
        (b"GIF89a" + b"\x00" * 3, cut),
        (b"PK\x03\x04zip file", {(415, "unsupported_media_type")}),
        (b"%PDF-1.7", {(415, "unsupported_media_type")}),
        (b"", {(415, "unsupported_media_type")}),
    ]
    for data, expected in cases:
        resp = await mp.client.post("/mp/v1/uploads", data=form(data), headers=mp.auth(token))
        assert await _code(resp) in expected, data[:12]
    assert await count(mp, OcrJob) == 0 and await count(mp, Outbox) == 0
    assert (await mp.client.post("/mp/v1/uploads", data=form(_png()), headers=mp.auth(token))).status == 202


@sqlite_only
async def test_an_image_cut_after_its_header_fails_its_job_with_a_reason(mp: Mp) -> None:
    token = await mp.login("half-photo")
    cut = _png((400, 300))
    cut = cut[: len(cut) - 30]  # header intact, pixel data cut
    fd = FormData()
    fd.add_field("file", cut, filename="half.png", content_type="image/png")
    job = await (await mp.client.post("/mp/v1/uploads", data=fd, headers=mp.auth(token))).json()
    await mp.run_ocr_job()
    done = await (await mp.client.get(f"/mp/v1/jobs/{job['id']}", headers=mp.auth(token))).json()
    assert done["state"] == "failed" and "不完整" in done["error"]
