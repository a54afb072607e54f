"""Request and response models of /mp/v1: they validate input and generate the OpenAPI document.

Money and quantities are Decimal, sent as strings ("0.095") so no client rounds them.
Models that validate input forbid unknown fields: a misspelt field is a 422, not a silent drop.
Every input string refuses control characters (422 `control_characters`; tab and newline
are text): PostgreSQL cannot store NUL, and the rest would reach reps' cards and chat as junk.
SQL-looking text is just text: it is stored verbatim (every query is parameterised).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from orders.status import OrderStatus

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _NoControls:
    """Annotation: refuse control characters (422 `control_characters`), and say so in the
    OpenAPI document as a pattern, so generated clients and fuzzers know the rule."""

    PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_no_controls, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "pattern": self.PATTERN}


def _no_controls(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "不能包含控制字符")
    return value


NO_CONTROLS = _NoControls()
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NO_CONTROLS]
# Amounts leave as plain decimal strings without trailing zeros: "0.25", "1250".
Money = Annotated[
    Decimal, PlainSerializer(lambda d: format(Decimal(d).normalize(), "f"), return_type=str, when_used="json")
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{7,12}$")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Query strings ignore parameters they do not know (cache busters, tracking)."""

    model_config = ConfigDict(extra="ignore")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Error(Out):
    """Every error: a stable code for programs and a Chinese message for people."""

    code: str = Field(examples=["order_not_found"])
    message: str = Field(examples=["订单不存在"])


# ---- login ---------------------------------------------------------------------------


class LoginIn(In):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128), NO_CONTROLS] = Field(
        description="wx.login() 返回的 code"
    )


class LoginOut(Out):
    token: str = Field(description="Authorization: Bearer <token>")
    expires_in: int = Field(description="seconds")
    customer_id: int
    is_new: bool


# ---- catalog -------------------------------------------------------------------------


class CatalogQuery(Query):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NO_CONTROLS] = ""
    category: Annotated[str, StringConstraints(max_length=50), NO_CONTROLS] = ""
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=50)


class ProductOut(Out):
    sku: str
    name: str
    category: str
    spec: str
    material: str
    unit: str
    pack_unit: str | None
    pack_size: int | None
    price: Money = Field(description="list price per base unit, before tier pricing")
    aliases: list[str]
    in_stock: bool


class ProductPage(Out):
    items: list[ProductOut]
    total: int
    page: int
    page_size: int


# ---- drafts --------------------------------------------------------------------------


class DraftIn(In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NO_CONTROLS]
    today: date | None = Field(None, description="defaults to today in Asia/Shanghai")


class DraftAddress(Out):
    province: str | None = None
    city: str | None = None
    district: str | None = None
    detail: str | None = None
    raw: str | None = None


class DraftItem(Out):
    sku: str | None
    name: str | None = None
    raw: str | None = None
    quantity: float | None = None
    unit: str | None = None
    confidence: float | None = None


class DraftOut(Out):
    """The Draft of contracts/extraction.md."""

    items: list[DraftItem]
    contact: str | None = None
    company: str | None = None
    phone: str | None = None
    address: DraftAddress | None = None
    delivery_date: date | None = None
    rush: bool = False
    remarks: str | None = None
    missing: list[str] = []


# ---- addresses -----------------------------------------------------------------------


class AddressIn(In):
    contact: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), NO_CONTROLS]
    phone: Phone
    province: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20), NO_CONTROLS]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20), NO_CONTROLS]
    district: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), NO_CONTROLS] = ""
    detail: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NO_CONTROLS]
    is_default: bool = False


class AddressOut(Out):
    id: int
    contact: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool


class AddressList(Out):
    items: list[AddressOut]


# ---- orders --------------------------------------------------------------------------


LineTypeIn = Literal["product", "freight", "gift", "service"]
LINE_TYPE_HELP = (
    "product（默认）：客户可下的商品行。gift / freight / service（赠品、运费、服务费）由业务员添加："
    "客户提交这几种会被拒绝，422 line_type_forbidden"
)


class OrderLineIn(In):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NO_CONTROLS]
    line_type: LineTypeIn = Field("product", description=LINE_TYPE_HELP)
    quantity: Decimal = Field(gt=0, le=10_000_000, max_digits=14, decimal_places=3)
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=8), NO_CONTROLS] | None = Field(
        None, description="the catalog unit, or its pack unit (盒/箱); default the catalog unit"
    )


class OrderIn(In):
    items: list[OrderLineIn] = Field(min_length=1, max_length=100)
    address_id: int | None = Field(None, ge=1, le=2**31 - 1, description="from the address book")
    address: AddressIn | None = Field(None, description="instead of address_id")
    delivery_date: date | None = None
    rush: bool = False
    remarks: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NO_CONTROLS] | None = None


class OrderQuery(Query):
    status: OrderStatus | None = None
    page: int = Field(1, ge=1, le=1000)
    page_size: int = Field(20, ge=1, le=50)


class OrderLineOut(Out):
    id: int = Field(description="the line's id (remove_lines of POST /orders/{number}/edit)")
    sku: str | None
    name: str
    quantity: Money
    unit: str
    unit_price: Money
    amount: Money
    line_type: str = Field(description="main（商品）/ gift（赠品，不计销售额）/ freight（运费）/ service（服务费）")
    counts_as_sales: bool = True


class OrderEventOut(Out):
    type: str
    at: datetime
    from_status: str | None
    to_status: str | None
    reason: str | None


class ShipTo(Out):
    contact: str | None
    phone: str | None
    province: str | None
    city: str | None
    district: str | None
    detail: str | None


class OrderSummary(Out):
    number: str
    status: OrderStatus
    status_label: str
    total: Money
    delivery_date: date | None
    rush: bool
    created_at: datetime


class OrderOut(OrderSummary):
    channel: str
    subtotal: Money
    discount: Money
    ship_to: ShipTo
    remarks: str | None
    carrier: str | None
    waybill_no: str | None
    can_cancel: bool
    lines: list[OrderLineOut]
    events: list[OrderEventOut] = Field(description="the events a customer may see, oldest first")


class OrderPage(Out):
    items: list[OrderSummary]
    total: int
    page: int
    page_size: int


class CancelIn(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NO_CONTROLS] | None = Field(
        None, description="取消已提交的订单必须说明原因，否则 422 reason_required"
    )


class OrderEditIn(In):
    """A customer's change to their order (before a rep confirms it)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NO_CONTROLS] | None = Field(
        None, description="修改已提交的订单必须说明原因，否则 422 reason_required；记在订单记录里"
    )
    add_items: list[OrderLineIn] = Field(default_factory=list, max_length=50,
                                         description="added lines; line_type as when ordering")
    remove_lines: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=100)
    delivery_date: date | None = None
    remarks: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NO_CONTROLS] | None = None


# ---- uploads and jobs ----------------------------------------------------------------


class JobOut(Out):
    id: int
    state: Literal["queued", "running", "done", "failed"]
    draft: DraftOut | None = None
    error: str | None = None
    created_at: datetime


# ---- subscriptions -------------------------------------------------------------------


class SubscriptionIn(In):
    """What wx.requestSubscribeMessage resolved with: template id → the user's choice."""

    results: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64), NO_CONTROLS],
        Literal["accept", "reject", "ban", "filter"],
    ] = Field(min_length=1, max_length=20)


class SubscriptionOut(Out):
    template_id: str
    remaining: int


class SubscriptionList(Out):
    items: list[SubscriptionOut]
