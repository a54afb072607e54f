"""Prometheus metrics: one registry for the process, and the few series we watch.

A registry of our own (not prometheus_client's global one) so tests and embedded use can
create several apps in one process without "duplicated timeseries" errors.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from orders import risk

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "orderbot_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "orderbot_http_request_seconds",
    "Time to answer an HTTP request (WeChat allows 5 s for callbacks).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4.5, 10),
    registry=REGISTRY,
)
OUTBOX_DELIVERED = Counter(
    "orderbot_outbox_delivered_total", "Outbox rows delivered.", ["kind"], registry=REGISTRY
)
OUTBOX_FAILED = Counter(
    "orderbot_outbox_failures_total",
    "Failed outbox deliveries, by what happened next (retry or parked).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
OUTBOX_SECONDS = Histogram(
    "orderbot_outbox_delivery_seconds", "Time a handler took per outbox row.", ["kind"], registry=REGISTRY
)
OUTBOX_PARKED = Gauge(
    "orderbot_outbox_parked", "Outbox rows parked after failing for good (need a person).", registry=REGISTRY
)
OUTBOX_PENDING = Gauge(
    "orderbot_outbox_pending", "Outbox rows waiting for delivery.", registry=REGISTRY
)
PUSH_REPEATS = Counter(
    "orderbot_push_repeats_total",
    "Pushes sent again after a call whose outcome is unknown (its worker died mid-call: cause crash; "
    "it timed out: cause timeout), by channel (workers/push_router.py send ledger). Each may reach the "
    "person twice unless the platform dedups (template client_msg_id, WeCom duplicate check).",
    ["kind", "cause"],
    registry=REGISTRY,
)
RISK_HITS = Counter(
    "orderbot_risk_hits_total", "Hold rules that fired on an order, by rule id.", ["rule"], registry=REGISTRY
)
risk.on_hit(lambda hit: RISK_HITS.labels(hit.rule_id).inc())

COEI = Gauge(
    "orderbot_coei",
    "Customer order experience index (0-100, orders/coei.py) of the latest surveyed month; "
    "part=index, or responses / asked.",
    ["part"],
    registry=REGISTRY,
)
DESK = Gauge(
    "orderbot_desk",
    "Desk metrics over the orders placed in the last 7 days (orders/desk_metrics.py): "
    "rates 0-1, times in seconds.",
    ["metric"],
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

