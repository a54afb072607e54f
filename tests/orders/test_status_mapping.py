"""Other systems' status codes onto our states, through the shipped mapping table."""

from __future__ import annotations

import pytest

from orders.errors import OrderError, OrderErrorCode
from orders.status import TRANSITIONS, Action, OrderStatus
from orders.status_mapping import action_for, default_table, map_status, parse_table


def test_erp_status_3_means_shipped() -> None:
    mapped = map_status("erp", 3)  # an int from JSON and the string "3" are the same code
    assert (mapped.status, mapped.action) == (OrderStatus.SHIPPED, Action.SHIP)
    assert map_status("erp", "3") == mapped
    assert action_for(OrderStatus.CONFIRMED, mapped) == Action.SHIP
    assert action_for(OrderStatus.SHIPPED, mapped) is None  # already there: nothing to do


def test_wms_ready_is_informational() -> None:
    mapped = map_status("wms", "ready")
    assert mapped.status == OrderStatus.CONFIRMED and mapped.action is None
    assert action_for(OrderStatus.CONFIRMED, mapped) is None


def test_unmapped_code_is_a_clear_coded_error() -> None:
    with pytest.raises(OrderError) as err:
        map_status("erp", 7)
    assert err.value.code == OrderErrorCode.UNMAPPED_EXTERNAL_STATUS
    assert err.value.details == {"system": "erp", "code": "7"}
    assert "7" in err.value.message
    with pytest.raises(OrderError) as err:
        map_status("sap", "1")
    assert err.value.code == OrderErrorCode.UNKNOWN_EXTERNAL_SYSTEM


def test_every_mapped_action_leads_to_its_status_in_our_table() -> None:
    for codes in default_table().values():
        for mapped in codes.values():
            if mapped.action is None:
                continue
            targets = {t.to for (_, a), t in TRANSITIONS.items() if a == mapped.action}
            assert mapped.status in targets, mapped


def test_table_refuses_states_we_do_not_have() -> None:
    with pytest.raises(ValueError):
        parse_table({"erp": {"field": "status", "codes": {"8": {"status": "partially_shipped"}}}})
