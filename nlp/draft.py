"""The order draft: exactly the DRAFT JSON of contracts/extraction.md.

`Draft.to_dict()` gives the contract's fields and nothing the scorer would trip on;
items may carry `alternatives` (candidate skus when the message left a choice open)
so the conversation can ask "which material?".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REQUIRED = ("items", "phone", "address", "delivery_date")


@dataclass
class Address:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    detail: str | None = None
    raw: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "detail": self.detail,
            "raw": self.raw,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Address | None:
        if not d:
            return None
        return cls(**{k: d.get(k) for k in ("province", "city", "district", "detail", "raw")})


@dataclass
class Item:
    sku: str | None
    name: str | None
    raw: str
    quantity: float | int | None
    unit: str | None
    confidence: float
    alternatives: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "sku": self.sku,
            "name": self.name,
            "raw": self.raw,
            "quantity": self.quantity,
            "unit": self.unit,
            "confidence": self.confidence,
        }
        if self.alternatives:
            d["alternatives"] = list(self.alternatives)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        return cls(
            sku=d.get("sku"),
            name=d.get("name"),
            raw=d.get("raw") or "",
            quantity=d.get("quantity"),
            unit=d.get("unit"),
            confidence=float(d.get("confidence") or 0.0),
            alternatives=list(d.get("alternatives") or []),
        )


@dataclass
class Draft:
    items: list[Item] = field(default_factory=list)
    contact: str | None = None
    company: str | None = None
    phone: str | None = None
    address: Address | None = None
    delivery_date: str | None = None
    rush: bool = False
    remarks: str | None = None
    cancelled: bool = False  # set by a follow-up such as 不要了; not part of the contract

    @property
    def missing(self) -> list[str]:
        """Fields an order needs that are not known yet, in the contract's order."""
        out = []
        if not self.items:
            out.append("items")
        if not self.phone:
            out.append("phone")
        if not self.address or not (self.address.detail or self.address.district or self.address.city):
            out.append("address")
        if not self.delivery_date:
            out.append("delivery_date")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = {
            "items": [i.to_dict() for i in self.items],
            "contact": self.contact,
            "company": self.company,
            "phone": self.phone,
            "address": self.address.to_dict() if self.address else None,
            "delivery_date": self.delivery_date,
            "rush": bool(self.rush),
            "remarks": self.remarks,
            "missing": self.missing,
        }
        if self.cancelled:
            d["cancelled"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Draft:
        return cls(
            items=[Item.from_dict(i) for i in d.get("items") or []],
            contact=d.get("contact"),
            company=d.get("company"),
            phone=d.get("phone"),
            address=Address.from_dict(d.get("address")),
            delivery_date=d.get("delivery_date"),
            rush=bool(d.get("rush")),
            remarks=d.get("remarks"),
            cancelled=bool(d.get("cancelled")),
        )
