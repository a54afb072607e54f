"""The order hub: the domain (status, pricing, routing) and its use cases.

`place_order` is the one way an intake (WeChat chat, the mini-program, a rep in WeCom) turns
a request into a routed, submitted order; see orders/place.py.
"""

from orders.place import (
    Idempotency,
    IdempotencyConflict,
    Placed,
    claimed_together,
    duplicates_read_together,
    place_order,
    recorded_together,
)

__all__ = [
    "Idempotency", "IdempotencyConflict", "Placed", "claimed_together", "duplicates_read_together", "place_order",
    "recorded_together",
]
