"""The whole transition table, checked cell by cell."""

from __future__ import annotations

import itertools

import pytest

from orders.status import (
    TRANSITIONS,
    Action,
    OrderStatus,
    Role,
    TransitionError,
    allowed_actions,
    next_status,
)


@pytest.mark.parametrize(
    ("status", "action", "role"), list(itertools.product(OrderStatus, Action, Role))
)
def test_every_cell_of_the_table(status: OrderStatus, action: Action, role: Role) -> None:
    transition = TRANSITIONS.get((status, action))
    if transition is None:
        with pytest.raises(TransitionError) as err:
            next_status(status, action, role)
        assert err.value.code == "illegal_transition"
    elif role not in transition.roles:
        with pytest.raises(TransitionError) as err:
            next_status(status, action, role)
        assert err.value.code == "role_forbidden"
    else:
        assert next_status(status, action, role) == transition.to


def test_terminal_states_have_no_way_out() -> None:
    for status in (OrderStatus.CLOSED, OrderStatus.CANCELLED):
        for role in Role:
            assert allowed_actions(status, role) == []


def test_customer_cannot_confirm_or_cancel_after_shipping() -> None:
    with pytest.raises(TransitionError):
        next_status(OrderStatus.PENDING, Action.CONFIRM, Role.CUSTOMER)
    with pytest.raises(TransitionError):
        next_status(OrderStatus.SHIPPED, Action.CANCEL, Role.CUSTOMER)
    assert next_status(OrderStatus.CONFIRMED, Action.CANCEL, Role.CUSTOMER) == OrderStatus.CANCELLED


def test_only_managers_release_holds() -> None:
    assert next_status(OrderStatus.ON_HOLD, Action.RELEASE, Role.MANAGER) == OrderStatus.PENDING
    with pytest.raises(TransitionError):
        next_status(OrderStatus.ON_HOLD, Action.RELEASE, Role.REP)


def test_errors_name_the_status_in_chinese() -> None:
    with pytest.raises(TransitionError) as err:
        next_status(OrderStatus.SHIPPED, Action.CONFIRM, Role.REP)
    assert "已发货" in err.value.message


def test_card_buttons_follow_the_transition_table() -> None:
    from types import SimpleNamespace

    from orders.status import buttons_for

    def names(status: OrderStatus, role: Role = Role.REP) -> list[str]:
        return [a.value for a in buttons_for(SimpleNamespace(status=status.value), role)]

    assert names(OrderStatus.PENDING) == ["confirm", "edit", "reassign", "reject", "cancel"]
    assert names(OrderStatus.CONFIRMED) == ["edit", "cancel"]  # no 确认 twice, no 转交 for a rep
    assert names(OrderStatus.ON_HOLD) == ["edit", "cancel"]  # a rep cannot release a hold
    assert names(OrderStatus.ON_HOLD, Role.MANAGER) == ["release", "edit", "reassign", "cancel"]
    assert names(OrderStatus.SHIPPED) == [] and names(OrderStatus.CANCELLED) == []
    for status in OrderStatus:  # never a button the table refuses
        for action in buttons_for(SimpleNamespace(status=status.value), Role.REP):
            assert next_status(status, action, Role.REP)
