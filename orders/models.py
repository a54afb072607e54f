"""The order hub's tables. Plain sqlmodel classes: no I/O here, sessions live elsewhere.

Money is Decimal (Numeric columns): prices like 0.095 元 per piece must not drift.
JSON columns hold small lists and change records; everything queried is a real column.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, partial
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Numeric, UniqueConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(t: datetime) -> datetime:
    """A datetime without a zone is UTC here (SQLite, old rows, callers' naive values)."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


M = TypeVar("M", bound=SQLModel)
_IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, date, datetime, tuple, frozenset)


@cache
def _defaults(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Any], frozenset[str], frozenset[str]]:
    """(plain defaults, default factories, required fields, every field) of a table model.
    Immutable defaults (None, numbers, strings, Decimal, dates) are shared by every row; a
    mutable one is copied for each row, as pydantic does."""
    plain: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            continue
        if field.default_factory is not None:
            factories[name] = field.default_factory
        elif isinstance(field.default, _IMMUTABLE):
            plain[name] = field.default
        else:
            factories[name] = partial(copy.deepcopy, field.default)
    required = frozenset(n for n, f in model.model_fields.items() if f.is_required())
    return plain, factories, required, frozenset(model.model_fields)


def row_defaults(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """A new row of `model` as a plain dict for a Core INSERT: every field's default (factories
    called), then `values`. The defaults live on the model, not in the database, and building
    the ORM object costs more than inserting the row (a burst of new customers)."""
    plain, factories, _, _ = _defaults(model)
    row = {name: value for name, value in plain.items() if name != "id"}
    row.update({name: factory() for name, factory in factories.items()})
    row.update(values)
    return row


def new_row(model: type[M], **values: Any) -> M:
    """A new (transient) ORM object of `model`, built the way the ORM builds one it loads: its
    fields written straight into the instance, not one instrumented setattr each as
    SQLModel's constructor does (an Order: 390 → 14 µs on a slow 2-core machine; the placing
    round builds an Order and its lines for every customer). Same defaults as the
    constructor; an unknown or missing required field is a TypeError, not a bad row."""
    plain, factories, required, known = _defaults(model)
    unknown = values.keys() - known
    missing = required - values.keys()
    if unknown or missing:
        raise TypeError(f"{model.__name__}: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
    obj: M = sa_inspect(model).class_manager.new_instance()
    fields = obj.__dict__
    fields.update(plain)
    for name, factory in factories.items():
        fields[name] = factory()
    fields.update(values)
    return obj


class UTCDateTime(TypeDecorator[datetime]):
    """Every timestamp column: stored with its zone, always read back aware in UTC —
    PostgreSQL keeps the zone, SQLite does not, so rows read there are made UTC here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _money(default: Decimal | None = Decimal("0"), **kw: Any) -> Any:
    return Field(default=default, sa_type=Numeric(14, 4), **kw)


def _new_list() -> list[Any]:
    return []


def _new_dict() -> dict[str, Any]:
    return {}


# Plain functions, not the builtins `list` / `dict`: pydantic inspects a default factory's
# signature on every new row, and for a builtin that means parsing its text signature
# (≈ 5 % of the conversation's CPU when a burst of new customers arrives).
_FACTORIES: dict[Any, Any] = {list: _new_list, dict: _new_dict}


def _json(default_factory: Any = list) -> Any:
    return Field(default_factory=_FACTORIES.get(default_factory, default_factory),
                 sa_column=Column(JSON, nullable=False))


class SalesRep(SQLModel, table=True):
    __tablename__ = "sales_rep"

    id: int | None = Field(default=None, primary_key=True)
    wecom_userid: str = Field(unique=True, index=True)  # WeCom UserID, the card/push target
    name: str
    team: str = Field(default="default", index=True)
    regions: list[str] = _json()  # provinces or cities this rep covers
    manager_id: int | None = Field(default=None, foreign_key="sales_rep.id")
    is_manager: bool = False
    discount_limit: Decimal = _money(Decimal("0"))  # max discount fraction, 0.05 = 5%
    active: bool = True


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    company: str | None = None
    phones: list[str] = _json()
    openid: str | None = Field(default=None, unique=True, index=True)  # Official Account openid
    mp_openid: str | None = Field(default=None, unique=True, index=True)  # mini-program openid
    unionid: str | None = Field(default=None, index=True)
    external_userid: str | None = Field(default=None, index=True)  # WeCom external contact
    province: str | None = None
    city: str | None = None
    tier: str = "standard"  # pricing tier: standard / silver / gold / vip
    credit_limit: Decimal = _money(Decimal("0"))  # 0 = cash customer, no credit
    rep_id: int | None = Field(default=None, foreign_key="sales_rep.id")  # own rep
    last_address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    last_contact: str | None = None
    created_at: datetime = _ts()
    # Receivables (issue 14): prepayment customers owe from the order date, others
    # `payment_terms_days` after delivery; open receivables count against credit_limit.
    prepayment: bool = False
    payment_terms_days: int = 30


class Product(SQLModel, table=True):
    __tablename__ = "product"

    sku: str = Field(primary_key=True)
    name: str
    category: str = Field(default="", index=True)
    spec: str = ""
    material: str = ""
    unit: str = "个"  # base unit
    pack_unit: str | None = None  # 盒 / 箱 / 包
    pack_size: int | None = None  # base units per pack
    price: Decimal = _money()  # per base unit
    aliases: list[str] = _json()
    stock: int = 0  # base units on hand
    safety_stock: int = 0
    active: bool = True
    updated_at: datetime = _ts()


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    # The duplicate check (orders/duplicates.py) reads one customer's, or one phone's, recent orders.
    __table_args__ = (
        Index("ix_orders_status_rep", "status", "rep_id"),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_phone_created", "phone", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)  # SO20260302-0001
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = "wechat"  # wechat / miniprogram / wecom / api
    status: str = Field(default="draft", index=True)  # orders.status.OrderStatus
    rep_id: int | None = Field(default=None, foreign_key="sales_rep.id", index=True)
    routing_rule: str | None = None
    subtotal: Decimal = _money()
    discount: Decimal = _money()
    total: Decimal = _money()
    contact: str | None = None
    phone: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address_detail: str | None = None
    delivery_date: date | None = None
    rush: bool = False
    remarks: str | None = None  # the customer's own remark (备注)
    rep_remarks: str | None = None  # the desk's note for itself (业务员备注), shown on the rep's card
    carrier: str | None = None
    waybill_no: str | None = None
    hold_reason: str | None = None
    source_message_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    version: int = 1  # optimistic lock: every change bumps it
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    confirm_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source_ip: str | None = Field(default=None, index=True)  # the client's address (risk rules)
    promotions: list[dict[str, Any]] = _json()  # price rules applied: orders.promotions.Applied
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    # The board finds the open orders short of stock from the few products below safety stock.
    __table_args__ = (Index("ix_order_line_sku", "sku"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    sku: str | None = Field(default=None, foreign_key="product.sku")
    name: str = ""
    quantity: Decimal = Field(sa_type=Numeric(14, 3))  # as ordered: 3 (箱)
    unit: str  # as ordered: 箱
    base_quantity: Decimal = Field(sa_type=Numeric(14, 3))  # after pack conversion: 3000 (个)
    base_unit: str
    unit_price: Decimal = _money()  # per base unit, locked at confirmation
    amount: Decimal = _money()
    line_type: str = "main"  # main / gift / freight / service
    counts_as_sales: bool = True  # gift lines do not
    parent_line_id: int | None = Field(default=None, foreign_key="order_line.id")
    raw: str | None = None  # the customer's words for this line
    rule_id: str | None = None  # the price rule that set its price or generated it; "manual"
    note: str | None = None  # why a rep added this line by hand (orders/special_lines.py)


class OrderEvent(SQLModel, table=True):
    """Append-only audit trail: never updated, never deleted."""

    __tablename__ = "order_event"
    # The board's "today's exceptions" and the desk metrics' window select by type and time.
    __table_args__ = (Index("ix_order_event_type_at", "type", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    type: str  # created / submitted / confirmed / edited / routed / reminded / ...
    actor_kind: str  # orders.status.Role
    actor_id: str | None = None  # openid, WeCom userid, "rule:..." or "hook:..."
    at: datetime = _ts()
    from_status: str | None = None
    to_status: str | None = None
    changes: dict[str, Any] = _json(dict)  # {field: [before, after]}
    reason: str | None = None
    source_message_id: int | None = None
    visible_to_customer: bool = True


class Outbox(SQLModel, table=True):
    """Side effects written in the same transaction as the change that causes them."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_claim", "state", "next_attempt_at"),
        # A worker claims per kind (orders/outbox.py: _build_claim_by_kind): an ordered read of
        # the batch, however many rows of other kinds are waiting.
        Index("ix_outbox_kind_claim", "kind", "state", "next_attempt_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # cs_message / template_message / wecom_card / robot / ocr_job / ...
    target: str = ""  # openid, WeCom userid, robot key, ...
    payload: dict[str, Any] = _json(dict)
    dedup_key: str = Field(unique=True)  # a retry carries the same key
    state: str = Field(default="pending")  # pending / done / parked
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = None
    last_error: str | None = None
    created_at: datetime = _ts()
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InboundMessage(SQLModel, table=True):
    """Every inbound callback, stored before it is acknowledged."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("channel", "dedup_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str  # wechat / wecom / miniprogram
    dedup_key: str  # MsgId, or FromUserName+CreateTime for events
    from_user: str = Field(index=True)  # openid / WeCom userid
    msg_type: str  # text / image / voice / location / event
    content: str | None = None  # text, voice Recognition, or event key
    raw: str = ""  # decrypted XML as received
    received_at: datetime = _ts()
    state: str = "received"  # received / handled / failed
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderCounter(SQLModel, table=True):
    """Per-day sequence behind readable order numbers (SO20260302-0001)."""

    __tablename__ = "order_counter"

    day: str = Field(primary_key=True)  # 20260302
    last: int = 0


class IdempotencyRecord(SQLModel, table=True):
    """A client's Idempotency-Key and the order it produced, so a retry returns the same one."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str  # e.g. customer:42
    key: str
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    request_hash: str | None = None  # sha256 of the request body: same key, other body → 409
    created_at: datetime = _ts()


class ChatSession(SQLModel, table=True):
    """One open order draft per customer and channel, as the conversation keeps it.

    Kept in the database (not only a cache) so that the draft, the replies it causes
    (outbox rows) and the inbound message's handled mark commit together.
    """

    __tablename__ = "chat_session"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str  # wechat / wecom
    user_key: str = Field(index=True)  # openid, or WeCom userid + customer for a rep
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    stage: str = "idle"  # idle / collecting / choosing / confirming
    draft: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    pending_choice: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    version: int = 1
    updated_at: datetime = _ts()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PushDelivery(SQLModel, table=True):
    """One push that left orderbot (or was folded into a digest), keyed by its outbox dedup key.

    Written before the remote call (`sending`) and finished after it (`sent`), before the outbox
    row is acknowledged: a redelivered row finds its key `sent` here and is not sent twice, and
    one found still `sending` is a send that may have happened (sent again and counted). Also the ledger behind the
    48-hour customer-service budget (channel "cs" since the customer's last message).
    """

    __tablename__ = "push_delivery"
    __table_args__ = (Index("ix_push_delivery_target", "target", "channel", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(unique=True)
    channel: str  # cs / subscribe / template / wecom_app / wecom_card / card_update / robot / digest_pending / digested
    target: str = ""  # openid, WeCom userid, robot key
    order_id: int | None = Field(default=None, index=True)
    text: str = ""  # what a person saw (summary), for digests and audits
    remote_id: str | None = None  # msgid / response_code the API returned
    sent_at: datetime = _ts()
    # The send ledger (workers/push_router.py): `sending` is written and committed before the
    # outbound call, `sent` / `failed` after it, `unsure` when a call's outcome is unknown (a
    # timeout, or an earlier attempt found still `sending`: its worker died mid-call).
    state: str = Field(default="sent", sa_column_kwargs={"server_default": "sent"})
    attempts: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # calls made
    repeats: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # calls after an unsure one
    repeat_cause: str | None = None  # crash (found `sending`) / timeout (found `unsure`), the last one


class SubscribeConsent(SQLModel, table=True):
    """One-time subscribe-message consents a customer granted and we have not used yet."""

    __tablename__ = "subscribe_consent"
    __table_args__ = (UniqueConstraint("openid", "template_id"),)

    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(index=True)
    template_id: str
    remaining: int = 0
    updated_at: datetime = _ts()


class RoutingCursor(SQLModel, table=True):
    """The rep each team gave its last order to: the round-robin position (orders/routing.py)."""

    __tablename__ = "routing_cursor"

    team: str = Field(primary_key=True)
    last_rep_id: int | None = None
    updated_at: datetime = _ts()


class CustomerAddress(SQLModel, table=True):
    """A customer's address book (mini-program): delivery places chosen at checkout."""

    __tablename__ = "customer_address"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    contact: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""
    is_default: bool = False
    created_at: datetime = _ts()


class OcrJob(SQLModel, table=True):
    """An image waiting for OCR (Outbox kind "ocr_job" with payload {"job_id": id}) and its result.

    The image bytes live here, not in the outbox payload, so any worker process can read them;
    `draft` holds the Draft JSON (contracts/extraction.md) once the job is done.
    """

    __tablename__ = "ocr_job"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    source: str = "miniprogram"  # miniprogram / wechat
    state: str = "queued"  # queued / running / done / failed
    content_type: str = ""
    image: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    media_id: str | None = None  # a WeChat media id when the image is still on WeChat's side
    draft: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Payment(SQLModel, table=True):
    """Money received (bank import, payment hook), matched to an order or kept as the
    customer's prepaid balance until an order takes it. `reference` makes a re-import or a
    repeated hook call a no-op."""

    __tablename__ = "payment"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True)  # bank serial / payment id
    customer_id: int = Field(foreign_key="customer.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    amount: Decimal = _money()
    paid_at: datetime = _ts()
    source: str = "import"  # import / hook
    note: str | None = None
    created_at: datetime = _ts()


class OrderReturn(SQLModel, table=True):
    """A returned delivery, behind the high-return-rate risk rule (by phone)."""

    __tablename__ = "order_return"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    phone: str | None = Field(default=None, index=True)
    reason: str | None = None
    at: datetime = _ts()
    # The warehouse's return number (RMA), or one made from order + date + reason: a
    # re-imported file records each return once, so return rates are not inflated.
    reference: str | None = Field(default=None, unique=True)


class DeskMetricsSnapshot(SQLModel, table=True):
    """The board's desk metrics as last computed (orders.desk_metrics.to_stored), so a
    restarted web process paints its charts at once instead of recomputing them first."""

    __tablename__ = "desk_metrics_snapshot"

    name: str = Field(primary_key=True, max_length=40)  # e.g. "days:14"
    since: datetime = Field(sa_type=UTCDateTime)
    computed_at: datetime = _ts()
    payload: dict[str, Any] = _json(dict)


class CoeiSurvey(SQLModel, table=True):
    """One completed order of a month's COEI sample (orders/coei.py): its customer is asked
    the three questions in chat, one at a time; `answers` holds {question key: score, or
    None for 不适用} as they come. state: asking → done (all answered) / expired."""

    __tablename__ = "coei_survey"
    __table_args__ = (UniqueConstraint("month", "order_id", name="uq_coei_survey_month_order"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, index=True)  # the month the orders were completed, YYYY-MM
    order_id: int = Field(foreign_key="orders.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    state: str = Field(default="asking", max_length=10)
    question: int = 0  # index of the question awaiting an answer
    answers: dict[str, Any] = _json(dict)
    sent_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
