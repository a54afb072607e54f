"""Who is acting on an order: a role plus the ids the hub needs to check ownership.

Handlers build an Actor from an authenticated identity (openid, WeCom userid); the hub
then decides, from the database, whether that actor may touch the order.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders.status import Role


@dataclass(frozen=True)
class Actor:
    role: Role
    id: str | None = None  # openid, WeCom userid, "rule:credit", "hook:wms" ...
    customer_id: int | None = None  # set for customers
    rep_id: int | None = None  # set for reps and managers (their SalesRep row)

    @classmethod
    def customer(cls, customer_id: int, openid: str | None = None) -> Actor:
        return cls(Role.CUSTOMER, openid or f"customer:{customer_id}", customer_id=customer_id)

    @classmethod
    def rep(cls, rep_id: int, userid: str | None = None) -> Actor:
        return cls(Role.REP, userid or f"rep:{rep_id}", rep_id=rep_id)

    @classmethod
    def manager(cls, rep_id: int, userid: str | None = None) -> Actor:
        return cls(Role.MANAGER, userid or f"rep:{rep_id}", rep_id=rep_id)

    @classmethod
    def admin(cls, name: str) -> Actor:
        return cls(Role.ADMIN, name)

    @classmethod
    def system(cls, name: str) -> Actor:
        """Rules, hooks and timers: `name` says which, e.g. "rule:credit" or "hook:wms"."""
        return cls(Role.SYSTEM, name)
