"""One person, two customer records: merged into one, with nothing left pointing at the other.

It happens when the same phone arrives from two places — the Official Account chat (openid),
the mini-program (mp_openid), a rep entering the customer in WeCom. The kept record takes the
other's identities (openid, mp_openid, unionid, WeCom external contact) where it has none, its
phones, and fills its gaps (name, company, region, last address, own rep; the desk's terms —
tier, credit limit, prepayment, payment days — where the kept record still has the defaults);
then every row that references the removed record moves to the kept one and the removed record
is deleted. "Every row" is read from the table metadata (each foreign key to customer.id, e.g.
orders, chat sessions with their open drafts, OCR jobs, payments, the address book), so a table
added later is moved too; idempotency scopes of the form `customer:<id>` move with them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders.errors import OrderError, OrderErrorCode
from orders.models import Customer, IdempotencyRecord

IDENTITIES = ("openid", "mp_openid", "unionid", "external_userid")
PROFILE = ("name", "company", "province", "city", "last_address", "last_contact", "rep_id")
# The desk's terms, taken from the removed record while the kept one has the default.
TERMS = {"tier": "standard", "credit_limit": 0, "prepayment": False, "payment_terms_days": 30}


@dataclass
class CustomerMerge:
    kept_id: int
    removed_id: int
    moved: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows moved


def customer_references() -> list[tuple[Table, str]]:
    """Every (table, column) with a foreign key to customer.id, from the models' metadata."""
    refs = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == Customer.__tablename__ and fk.column.name == "id":
                refs.append((table, fk.parent.name))
    return refs


async def merge_customers(session: AsyncSession, keep_id: int, remove_id: int) -> CustomerMerge:
    """Fold customer `remove_id` into `keep_id` in the caller's transaction (see the module
    docstring); the removed row is gone when this returns (flushed)."""
    if keep_id == remove_id:
        raise OrderError(OrderErrorCode.MERGE_NOT_ALLOWED, "不能把客户合并到自己")
    rows = (await session.exec(
        select(Customer).where(col(Customer.id).in_([keep_id, remove_id])).order_by(col(Customer.id)).with_for_update()
    )).all()
    found = {c.id: c for c in rows}
    if keep_id not in found or remove_id not in found:
        raise OrderError(OrderErrorCode.CUSTOMER_NOT_FOUND, "要合并的客户不存在")
    keep, gone = found[keep_id], found[remove_id]
    report = CustomerMerge(keep_id, remove_id)

    # Identities are unique: take them off the removed row (flushed) before the kept row gets them.
    taken = {k: getattr(gone, k) for k in IDENTITIES if getattr(gone, k) and not getattr(keep, k)}
    for k in IDENTITIES:
        setattr(gone, k, None)
    session.add(gone)
    await session.flush()
    for k, v in taken.items():
        setattr(keep, k, v)
    for k in PROFILE:
        if not getattr(keep, k) and getattr(gone, k):
            setattr(keep, k, getattr(gone, k))
    for k, default in TERMS.items():
        if getattr(keep, k) == default and getattr(gone, k) != default:
            setattr(keep, k, getattr(gone, k))
    keep.phones = [*(keep.phones or []), *[p for p in (gone.phones or []) if p not in (keep.phones or [])]]
    session.add(keep)
    await session.flush()

    for table, column in customer_references():
        result = await session.exec(  # type: ignore[call-overload]
            update(table).where(table.c[column] == remove_id).values({column: keep_id})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            report.moved[f"{table.name}.{column}"] = result.rowcount
    report.moved.update(await _move_idempotency_scope(session, remove_id, keep_id))
    await session.delete(gone)
    await session.flush()
    return report


async def _move_idempotency_scope(session: AsyncSession, remove_id: int, keep_id: int) -> dict[str, int]:
    """Mini-program Idempotency-Keys are scoped per customer: a retry after the merge must find
    its first order. A key the kept customer already used stays with the removed scope's rows
    dropped (the order it names was moved above)."""
    old, new = f"customer:{remove_id}", f"customer:{keep_id}"
    mine = set((await session.exec(select(IdempotencyRecord.key).where(IdempotencyRecord.scope == new))).all())
    rows = (await session.exec(select(IdempotencyRecord).where(IdempotencyRecord.scope == old))).all()
    moved = 0
    for row in rows:
        if row.key in mine:
            await session.delete(row)
        else:
            row.scope = new
            session.add(row)
            moved += 1
    await session.flush()
    return {"idempotency_record.scope": moved} if moved else {}


async def join_by_phone(session: AsyncSession, customer: Customer, phone: str | None, *,
                        free: str, keep_existing: bool) -> Customer:
    """A phone new to `customer` that another record already has: the two are one person.

    `free` is the identity column the other record must not have yet ("openid" when the phone
    arrives from the chat, "mp_openid" from the mini-program), so the merged record can hold
    both. `keep_existing`: keep the other (older) record and fold `customer` into it, else the
    reverse — except that a record with a mini-program login always stays (its session tokens
    name it). Without such a record the phone is just added to `customer`. Returns the record
    that remains. Runs in the caller's transaction."""
    if not phone or phone in (customer.phones or []):
        return customer
    unheld = session.info.get(_UNHELD)
    if unheld is not None and phone in unheld:  # nobody had it when the block began: no read
        unheld.discard(phone)  # `customer` holds it now; the next one with it reads as usual
        customer.phones = [*(customer.phones or []), phone]
        session.add(customer)
        return customer
    # A text match on the JSON narrows it in SQL, the list test decides: one order must not
    # load every customer.
    others = (await session.exec(_holders_of_phone(free), params={  # type: ignore[call-overload]
        "p_customer": customer.id, "p_like": _like(phone)})).all()
    match = next((c for c in others if phone in (c.phones or [])), None)
    if match is None:
        customer.phones = [*(customer.phones or []), phone]
        session.add(customer)
        return customer
    assert customer.id is not None and match.id is not None
    keep, remove = (match, customer) if keep_existing else (customer, match)
    if remove.mp_openid and not keep.mp_openid:  # mini-program tokens name their record: it stays
        keep, remove = remove, keep
    await merge_customers(session, keep.id, remove.id)  # type: ignore[arg-type]
    if phone not in (keep.phones or []):
        keep.phones = [*(keep.phones or []), phone]
        session.add(keep)
    return keep


_HOLDERS: dict[str, Any] = {}
_UNHELD = "orders.customers.unheld_phones"


@asynccontextmanager
async def phones_read_together(session: AsyncSession, phones: Iterable[str | None]) -> AsyncIterator[None]:
    """For a block placing many orders in one transaction (a batch of confirmations): which
    of their phones no customer holds yet, read once, so join_by_phone adds such a phone
    without a read of its own (one LIKE scan of the customers an order otherwise). The first
    order to take a phone removes it from the set: a second order with the same phone in
    the block reads as usual and finds the first. Only join_by_phone may add phones inside
    the block. Nested blocks join the outer one."""
    wanted = sorted({p for p in phones if p})
    if not wanted or session.info.get(_UNHELD) is not None:
        yield
        return
    stmt = select(Customer.phones).where(or_(*(
        cast(Customer.phones, String).like(bindparam(f"p{i}"), escape="/") for i in range(len(wanted)))))
    rows = (await session.exec(stmt, params={f"p{i}": _like(p) for i, p in enumerate(wanted)})).all()  # type: ignore[call-overload]
    held = {p for row in rows for p in (row or [])}
    session.info[_UNHELD] = set(wanted) - held
    try:
        yield
    finally:
        session.info.pop(_UNHELD, None)


def _like(phone: str) -> str:
    """A LIKE pattern for the phone as a JSON string, wildcards escaped by hand (SQLAlchemy's
    autoescape takes a literal, not the bound parameter a prebuilt statement needs)."""
    return "%" + f'"{phone}"'.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _holders_of_phone(free: str) -> Any:
    """The other customers whose phones' JSON text holds a phone, without `free` set: built
    once per identity column, run with parameters (each order from the chat runs it)."""
    if free not in _HOLDERS:
        _HOLDERS[free] = select(Customer).where(
            Customer.id != bindparam("p_customer"), col(getattr(Customer, free)).is_(None),
            cast(Customer.phones, String).like(bindparam("p_like"), escape="/"),
        ).order_by(col(Customer.id))
    return _HOLDERS[free]
