"""Coded errors of the order hub.

Every refusal carries a stable `code` (an Enum value) that APIs, bots and tests match on;
the message is Chinese text a person may read. `http_status` lets the web edge translate
the whole family in one middleware instead of in every handler.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class OrderErrorCode(StrEnum):
    # not found
    ORDER_NOT_FOUND = "order_not_found"
    CUSTOMER_NOT_FOUND = "customer_not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
    REP_NOT_FOUND = "rep_not_found"
    LINE_NOT_FOUND = "line_not_found"
    # the state machine and who may act
    ILLEGAL_TRANSITION = "illegal_transition"
    ROLE_FORBIDDEN = "role_forbidden"
    NOT_OWN_ORDER = "not_own_order"  # a customer acting on someone else's order
    NOT_ASSIGNED = "not_assigned"  # a rep acting on an order assigned to another rep
    OUTSIDE_REGION = "outside_region"  # a manager acting outside their regions
    CONFLICT = "conflict"  # the order changed under us (version check failed); retry
    # input the action refuses
    MISSING_FIELDS = "missing_fields"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_FIELD = "invalid_field"
    INVALID_PRICE = "invalid_price"
    INVALID_QUANTITY = "invalid_quantity"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_TIER = "unknown_tier"
    PRODUCT_INACTIVE = "product_inactive"
    PRICE_CHANGE_FORBIDDEN = "price_change_forbidden"
    PRICE_BELOW_LIMIT = "price_below_limit"  # beyond the rep's discount limit
    PRICES_LOCKED = "prices_locked"  # confirmed orders keep their prices
    LINE_TYPE_FORBIDDEN = "line_type_forbidden"  # a customer adding a gift / freight / service line
    STOCK_SHORT = "stock_short"
    REASON_REQUIRED = "reason_required"
    WAYBILL_REQUIRED = "waybill_required"
    NOTHING_TO_CHANGE = "nothing_to_change"
    MERGE_NOT_ALLOWED = "merge_not_allowed"  # 合并: not one customer's, or nothing to merge
    # other systems' statuses
    UNKNOWN_EXTERNAL_SYSTEM = "unknown_external_system"
    UNMAPPED_EXTERNAL_STATUS = "unmapped_external_status"


_HTTP: dict[OrderErrorCode, int] = {
    OrderErrorCode.ORDER_NOT_FOUND: 404,
    OrderErrorCode.CUSTOMER_NOT_FOUND: 404,
    OrderErrorCode.PRODUCT_NOT_FOUND: 404,
    OrderErrorCode.REP_NOT_FOUND: 404,
    OrderErrorCode.LINE_NOT_FOUND: 404,
    OrderErrorCode.ROLE_FORBIDDEN: 403,
    OrderErrorCode.NOT_OWN_ORDER: 403,
    OrderErrorCode.NOT_ASSIGNED: 403,
    OrderErrorCode.OUTSIDE_REGION: 403,
    OrderErrorCode.PRICE_CHANGE_FORBIDDEN: 403,
    OrderErrorCode.ILLEGAL_TRANSITION: 409,
    OrderErrorCode.CONFLICT: 409,
    OrderErrorCode.PRICES_LOCKED: 409,
    OrderErrorCode.STOCK_SHORT: 409,
}


class OrderError(Exception):
    """A refused action. Raised before anything is written, or with the transaction rolled back."""

    def __init__(self, code: OrderErrorCode, message: str, /, **details: Any) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.details = details

    @property
    def http_status(self) -> int:
        """404 not found, 403 forbidden, 409 state conflicts, 422 for everything else."""
        return _HTTP.get(self.code, 422)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, **self.details}
