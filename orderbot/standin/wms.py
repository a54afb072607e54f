"""A stand-in WMS receiving orderbot's outbound order pushes (workers/outbound.py).

  POST /__wms__/orders        an order document; Idempotency-Key header (or the body's
                              idempotency_key) dedups: a repeat answers 200 with the same id
                              and "duplicate": true, a new one 201 {"id", "shipment_status"}.
  POST /__wms__ {mode, fail_rate?, delay?, secret?, seed?, reset?, shipment_status?, waybill_no?, carrier?}
       steer it (the status code, and a waybill, it answers with: "created" by default):
       accept  — take every order;  reject — 422 every order;
       timeout — answer only after `delay` seconds (504);  flaky — 503 for `fail_rate` of calls
  GET  /__wms__               {"calls", "orders", "accepted": {key: 2xx answers}, "mode"}
With `secret` set, a call without a valid X-Orderbot-Signature (HMAC-SHA256 of timestamp +
body) is refused with 401, as the real receiver would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random

from aiohttp import web

from orderbot.standin.keys import STATE, json_body, readable_json
from orderbot.standin.state import WmsState

routes = web.RouteTableDef()
MODES = ("accept", "reject", "timeout", "flaky")


def _signed(wms: WmsState, request: web.Request, body: bytes) -> bool:
    ts = request.headers.get("X-Orderbot-Timestamp", "")
    sig = request.headers.get("X-Orderbot-Signature", "")
    want = hmac.new(wms.secret.encode(), ts.encode() + body, hashlib.sha256).hexdigest()
    return bool(ts) and hmac.compare_digest(want, sig.lower())


@routes.post("/__wms__/orders")
async def receive(request: web.Request) -> web.Response:
    wms = request.app[STATE].wms
    body = await request.read()
    wms.calls += 1
    if wms.rng is None:
        wms.rng = random.Random(wms.seed)
    if wms.secret and not _signed(wms, request, body):
        return readable_json({"ok": False, "error": "bad signature"}, status=401)
    if wms.mode == "reject":
        return readable_json({"ok": False, "error": "拒收：仓库不接受该订单"}, status=422)
    if wms.mode == "timeout":
        await asyncio.sleep(wms.delay)
        return readable_json({"ok": False, "error": "gateway timeout"}, status=504)
    if wms.mode == "flaky" and wms.rng.random() < wms.fail_rate:
        return readable_json({"ok": False, "error": "service unavailable"}, status=503)
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return readable_json({"ok": False, "error": "body is not JSON"}, status=400)
    key = request.headers.get("Idempotency-Key") or str(doc.get("idempotency_key") or "")
    if not key:
        return readable_json({"ok": False, "error": "Idempotency-Key required"}, status=400)
    duplicate = key in wms.orders
    if not duplicate:
        wms.orders[key] = doc
        wms.ids[key] = f"W{len(wms.orders):06d}"
    wms.accepted[key] = wms.accepted.get(key, 0) + 1
    answer = {"ok": True, "id": wms.ids[key], "shipment_status": wms.shipment_status, "duplicate": duplicate}
    if wms.waybill_no:
        answer.update(waybill_no=wms.waybill_no, carrier=wms.carrier)
    return readable_json(answer,
                         status=200 if duplicate else 201)


@routes.post("/__wms__")
async def steer(request: web.Request) -> web.Response:
    body = await json_body(request)
    state = request.app[STATE]
    if body.get("reset"):
        state.wms = WmsState()
    wms = state.wms
    mode = str(body.get("mode", wms.mode))
    if mode not in MODES:
        return readable_json({"ok": False, "error": f"mode must be one of {', '.join(MODES)}"}, status=400)
    wms.mode = mode
    wms.fail_rate = float(body.get("fail_rate", wms.fail_rate))
    wms.delay = float(body.get("delay", wms.delay))
    wms.secret = str(body.get("secret", wms.secret))
    wms.shipment_status = str(body.get("shipment_status", wms.shipment_status))
    wms.waybill_no = str(body.get("waybill_no", wms.waybill_no))
    wms.carrier = str(body.get("carrier", wms.carrier))
    if "seed" in body:
        wms.seed, wms.rng = int(body["seed"]), random.Random(int(body["seed"]))
    return readable_json({"ok": True, "mode": wms.mode, "fail_rate": wms.fail_rate})


@routes.get("/__wms__")
async def show(request: web.Request) -> web.Response:
    wms = request.app[STATE].wms
    return readable_json({"mode": wms.mode, "calls": wms.calls, "orders": len(wms.orders),
                          "accepted": wms.accepted})
