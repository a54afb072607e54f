"""The mini-program API as `orderbot serve` mounts it: create_app finds miniprogram_api.setup
and the sub-app takes its database, store and HTTP client from the service at startup."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import in_service
from .test_api import order_body


async def test_login_and_order_through_create_app(engine: AsyncEngine, shared_dir: Path) -> None:
    async with in_service(engine, shared_dir) as (client, state):
        code = state.issue_login_code("svc-openid")
        token = (await (await client.post("/mp/v1/auth/login", json={"code": code})).json())["token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        resp = await client.post("/mp/v1/orders", json=order_body("广东省", "佛山市"), headers=headers)
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["status"] == "pending"
        doc = await (await client.get("/mp/v1/openapi.json")).json()
        assert "/mp/v1/orders" in doc["paths"]
        missing = await client.get("/mp/v1/orders/SO-NOPE", headers=headers)
        assert missing.status == 404 and (await missing.json())["code"] == "order_not_found"
