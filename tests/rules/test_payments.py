"""Receivables: payments from a CSV (bad rows listed by line, good rows kept) and from the
signed payment hook, matched to orders; delivered and paid closes an order. Both databases."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.logistics_hook import SIG_HEADER, TS_HEADER, sign
from bot.payment_hook import PaymentHook
from bot.payment_hook import setup as setup_hook
from orders import actions
from orders.actions import DraftLine
from orders.actors import Actor
from orders.models import Order, Payment
from service.cli import main
from service.commands.import_payments import import_payments, read_rows
from tests.orders.hub_factories import COMPLETE, World
from tests.rules.conftest import Tables

SECRET = "test-hook-secret"


async def delivered_order(w: World, boxes: int = 3) -> Order:
    created = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", boxes, "盒")],
                                         w.as_customer, fields=COMPLETE, submit=True)
    oid = created.order.id
    await actions.confirm(w.sm, oid, w.as_rep)
    await actions.ship(w.sm, oid, w.as_rep, "顺丰", "SF1")
    return (await actions.deliver(w.sm, oid, Actor.system("hook:wms"))).order


async def payments(w: World) -> list[Payment]:
    async with w.sm() as s:
        return list((await s.exec(select(Payment).order_by(Payment.id))).all())


async def status_of(w: World, order_id: int) -> str:
    async with w.sm() as s:
        return (await s.get(Order, order_id)).status


async def test_csv_import_keeps_good_rows_lists_bad_ones_and_closes_paid_orders(
    ruled: tuple[World, Tables],
) -> None:
    w, _ = ruled
    order = await delivered_order(w)  # 750.00, delivered: owed
    text = (
        "reference,customer,order,amount,paid_at,note\n"
        f"B1,,{order.number},500,2026-03-01,first half\n"  # line 2: part payment
        "B2,张工,,abc,,\n"  # line 3: amount not a number
        f"B3,,{order.number},250.00,2026-03-02T10:00:00+08:00,\n"  # line 4: settles it
        "B4,nobody,,100,,\n"  # line 5: unknown customer
        "B5,张工,SO20990101-0001,100,,\n"  # line 6: unknown order
        "B6,张工,,300,,prepaid\n"  # line 7: no order of 300: prepaid balance
        "B1,,,500,,\n"  # line 8: the same reference again: skipped
        ",张工,,10,,\n"  # line 9: no reference
    )
    report = await import_payments(w.sm, read_rows(text))
    assert (report.recorded, report.matched, report.repeated) == (3, 2, 1)
    assert [line for line, _ in report.rejected] == [3, 5, 6, 9]
    assert "abc" in report.rejected[0][1] and "nobody" in report.rejected[1][1]
    assert report.closed == [order.number] and await status_of(w, order.id) == "closed"
    rows = await payments(w)
    assert [(p.reference, p.order_id, p.amount) for p in rows] == [
        ("B1", order.id, Decimal(500)), ("B3", order.id, Decimal(250)), ("B6", None, Decimal(300))]


async def test_payment_matched_by_amount_before_delivery_closes_at_delivery(ruled: tuple[World, Tables]) -> None:
    w, _ = ruled
    created = await actions.create_order(w.sm, w.customer.id, [DraftLine("HB-M6X20-304", 3, "盒")],
                                         w.as_customer, fields=COMPLETE, submit=True)
    report = await import_payments(w.sm, read_rows("reference,customer,amount\nP9,张工,750.00\n"))
    assert report.matched == 1 and await status_of(w, created.order.id) == "pending"
    await actions.confirm(w.sm, created.order.id, w.as_rep)
    await actions.ship(w.sm, created.order.id, w.as_rep, "顺丰", "SF2")
    delivered = await actions.deliver(w.sm, created.order.id, Actor.system("hook:wms"))
    assert delivered.order.status == "closed"


def test_import_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_header = tmp_path / "p.csv"
    bad_header.write_text("ref,money\n1,2\n", encoding="utf-8")
    assert main(["import-payments", str(bad_header)]) == 2
    assert "reference" in capsys.readouterr().err
    assert main(["import-payments", str(tmp_path / "missing.csv")]) == 2


@pytest.fixture
async def hook_client(ruled: tuple[World, Tables]) -> AsyncIterator[TestClient]:
    app = web.Application()
    setup_hook(app, PaymentHook(ruled[0].sm, SECRET))
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def post(client: TestClient, body: object, *, secret: str = SECRET, ts: float | None = None):  # type: ignore[no-untyped-def]
    raw = json.dumps(body).encode()
    stamp = str(int(ts if ts is not None else time.time()))
    headers = {TS_HEADER: stamp, SIG_HEADER: sign(secret, stamp, raw), "Content-Type": "application/json"}
    return await client.post("/hooks/payment", data=raw, headers=headers)


async def test_hook_refuses_bad_and_stale_signatures(ruled: tuple[World, Tables], hook_client: TestClient) -> None:
    w, _ = ruled
    order = await delivered_order(w)
    body = {"reference": "H1", "amount": "750.00", "order_number": order.number}
    assert (await post(hook_client, body, secret="wrong")).status == 401
    assert (await post(hook_client, body, ts=time.time() - 3600)).status == 401
    assert (await hook_client.post("/hooks/payment", json=body)).status == 401
    assert await payments(w) == [] and await status_of(w, order.id) == "delivered"


async def test_signed_hook_records_once_and_closes_the_paid_order(
    ruled: tuple[World, Tables], hook_client: TestClient,
) -> None:
    w, _ = ruled
    order = await delivered_order(w)
    body = {"payments": [{"reference": "H1", "amount": "750.00", "order_number": order.number},
                         {"reference": "H2", "amount": "-5", "customer": "张工"}]}
    resp = await post(hook_client, body)
    results = (await resp.json())["results"]
    assert resp.status == 207
    assert results[0] == {"reference": "H1", "order": order.number, "closed": True, "result": "recorded"}
    assert "大于零" in results[1]["error"]
    again = await post(hook_client, {"reference": "H1", "amount": "750.00", "order_number": order.number})
    assert again.status == 200 and (await again.json())["results"][0]["result"] == "duplicate"
    assert [p.reference for p in await payments(w)] == ["H1"] and await status_of(w, order.id) == "closed"
