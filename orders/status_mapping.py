"""Other systems' statuses (an ERP's status=3, a WMS's shipment_status='ready') mapped onto
our state machine through a data table (orders/status_mapping.json), never onto new states.

A mapped code names our target status and the Action that reaches it; `action_for` says
what the hub should do for an order currently in some status: nothing when the order is
already there or the code is informational, else the action (which the hub's table may
still refuse). An unknown system or an unmapped code is a coded OrderError, so a new ERP
code shows up as a clear failure instead of a silent guess.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from orders.errors import OrderError, OrderErrorCode
from orders.status import Action, OrderStatus


@dataclass(frozen=True)
class MappedStatus:
    system: str
    code: str
    status: OrderStatus
    action: Action | None  # None: informational, no transition
    label: str = ""


Table = Mapping[str, Mapping[str, MappedStatus]]


def parse_table(data: Mapping[str, Any]) -> dict[str, dict[str, MappedStatus]]:
    """Validate the mapping data: every status and action must be one of ours."""
    table: dict[str, dict[str, MappedStatus]] = {}
    for system, spec in data.items():
        if system.startswith("_"):
            continue
        table[system] = {
            str(code): MappedStatus(
                system=system,
                code=str(code),
                status=OrderStatus(entry["status"]),
                action=Action(entry["action"]) if entry.get("action") else None,
                label=entry.get("label", ""),
            )
            for code, entry in spec["codes"].items()
        }
    return table


@lru_cache(maxsize=1)
def default_table() -> dict[str, dict[str, MappedStatus]]:
    text = resources.files("orders").joinpath("status_mapping.json").read_text("utf-8")
    return parse_table(json.loads(text))


def map_status(system: str, code: object, table: Table | None = None) -> MappedStatus:
    """Our status for `system`'s `code`, or UNKNOWN_EXTERNAL_SYSTEM / UNMAPPED_EXTERNAL_STATUS."""
    table = default_table() if table is None else table
    codes = table.get(system)
    if codes is None:
        raise OrderError(
            OrderErrorCode.UNKNOWN_EXTERNAL_SYSTEM, f"没有「{system}」系统的状态映射", system=system
        )
    key = str(code).strip()
    mapped = codes.get(key)
    if mapped is None:
        raise OrderError(
            OrderErrorCode.UNMAPPED_EXTERNAL_STATUS,
            f"{system} 状态码「{key}」没有映射到订单状态",
            system=system,
            code=key,
        )
    return mapped


def action_for(current: OrderStatus | str, mapped: MappedStatus) -> Action | None:
    """The action moving an order from `current` towards `mapped.status`, or None if no move."""
    if OrderStatus(current) == mapped.status or mapped.action is None:
        return None
    return mapped.action
