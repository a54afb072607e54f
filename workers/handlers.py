"""Every outbox handler, in one table: Outbox.kind -> the function that carries it out.

This is the only place handlers are registered (no registration by importing a module, no
loading by name): `build_registry()` checks that every OutboxKind has a handler, and the
worker calls it at start-up, so a handler missing here stops start-up instead of parking
rows at run time. The handler API (JobContext, TransientError, PermanentError, enqueue)
lives in orderbot/jobs.py, which every layer may import.
"""

from __future__ import annotations

from board.digest import send_digest
from bot.chat import wechat_inbound, wechat_inbound_many
from bot.wecom_commands import wecom_inbound
from orderbot.jobs import (
    BatchHandler,
    Handler,
    HandlerRegistry,
    JobContext,
    MissingHandlers,
    PermanentError,
    TransientError,
    once,
)
from orders.outbox import OutboxKind
from workers import notify, notify_batch, outbound
from workers.coei_survey import send_survey
from workers.ocr_jobs import run_ocr

__all__ = [
    "BATCH_HANDLERS", "DELIVER_FIRST", "HANDLERS", "BatchHandler", "Handler", "HandlerRegistry", "JobContext", "MissingHandlers", "PermanentError",
    "TransientError", "build_registry", "checked_registry", "once", "registry",
]

HANDLERS: dict[str, Handler] = {
    OutboxKind.INBOUND: wechat_inbound,  # the customer's WeChat conversation
    OutboxKind.WECOM_INBOUND: wecom_inbound,  # a rep's commands, card presses and inquiries
    OutboxKind.NOTIFY_CUSTOMER: notify.notify_customer,
    OutboxKind.NOTIFY_REP: notify.notify_rep,
    OutboxKind.ALERT_MANAGER: notify.alert_manager,
    OutboxKind.WECOM_CARD_UPDATE: notify.update_card,
    OutboxKind.ROBOT_DIGEST: notify.robot_digest,
    OutboxKind.OCR_JOB: run_ocr,  # images from chat and mini-program uploads
    OutboxKind.BOARD_DIGEST: send_digest,  # the managers' daily digest (self-scheduling)
    OutboxKind.COEI_SURVEY: send_survey,  # the month's COEI sample asked in WeChat (self-scheduling)
    OutboxKind.OUTBOUND_ORDER: outbound.fan_out,  # a confirmed/edited/cancelled order, per system
    OutboxKind.OUTBOUND_PUSH: outbound.push,  # the signed webhook to one WMS / ERP
}


# Kinds the worker carries out a claim's rows of together (workers/runner.py): the same work
# as the row handler above, with one query per table per batch instead of per row. The row
# handler stays the one for a single row (and for workers built with their own handlers).
BATCH_HANDLERS: dict[str, BatchHandler] = {
    OutboxKind.INBOUND: wechat_inbound_many,
    OutboxKind.NOTIFY_CUSTOMER: notify_batch.notify_customers,
    OutboxKind.NOTIFY_REP: notify_batch.notify_reps,
}
# Among those, deliveries go before new work: in a burst, the customers who wrote first get
# their answers while later messages are still being read, not after all of them.
DELIVER_FIRST: frozenset[str] = frozenset({OutboxKind.NOTIFY_CUSTOMER, OutboxKind.NOTIFY_REP})


def build_registry(handlers: dict[str, Handler] = HANDLERS) -> HandlerRegistry:
    """The registry workers use; MissingHandlers when an OutboxKind has no handler."""
    built = HandlerRegistry(handlers)
    built.require(OutboxKind)
    return built


registry = build_registry()  # the process's registry (tests may register extra kinds on it)


def checked_registry() -> HandlerRegistry:
    """The process's registry, checked again where a worker starts (MissingHandlers)."""
    registry.require(OutboxKind)
    return registry
