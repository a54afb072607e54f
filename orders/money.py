"""Money as text, in one place: what people read (¥1,234.50) and what payloads carry (1234.50).

Amounts are Decimal yuan everywhere (orders/pricing.py); these only format them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
Amount = Decimal | int | float | str | None


def _cents(value: Amount) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Amount) -> str:
    """¥1,234.50 — two decimals, thousands separated, as customers and reps read amounts."""
    return f"¥{_cents(value):,.2f}"


def amount(value: Amount) -> str:
    """1234.50 — two decimals, no symbol or separators: amounts inside outbox payloads."""
    return f"{_cents(value):.2f}"
