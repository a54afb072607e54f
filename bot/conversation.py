"""The order conversation: one open draft per customer, asked along until it is complete.

`step` is a pure function: (session state, one incoming message, the reading and pricing
functions) → (new state, replies, intents). The chat handler runs it under a per-user lock,
carries out the intents (create the order, look orders up, queue OCR) and commits the new
state, the replies (outbox rows) and the inbound message's handled mark together.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot import replies

REQUIRED_FIELDS = ("items", "phone", "address", "delivery_date")
ORDER_NUMBER = re.compile(r"SO\d{8}-\d{4}", re.IGNORECASE)
LOW_CONFIDENCE = 0.6

_CONFIRM = {
    "确认",
    "确定",
    "确认下单",
    "下单",
    "好的",
    "好",
    "可以",
    "没问题",
    "对",
    "是的",
    "ok",
    "OK",
    "嗯",
    "行",
}
_CANCEL = {"取消", "不要了", "算了", "不下了", "取消订单", "取消下单"}
_MY_ORDERS = {"我的订单", "订单", "查订单", "查询订单", "订单查询", "我的订单呢"}
_REMOVE_LINE = re.compile(
    r"^(?:删掉|删除|去掉|不要)第?([0-9一二三四五六七八九十]+)(?:项|个|条|行)?$"
)
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十")}
_PUNCT = " \t\r\n。.!！~～，,、?？"


@dataclass
class SessionState:
    stage: str = "idle"  # idle / collecting / choosing / confirming
    draft: dict[str, Any] | None = None
    pending_choice: dict[str, Any] | None = None


@dataclass(frozen=True)
class Incoming:
    kind: str  # text / location / image / subscribe / ocr_result
    text: str = ""
    location_label: str = ""
    media_id: str = ""
    draft: dict[str, Any] | None = None


@dataclass(frozen=True)
class CreateOrder:
    draft: dict[str, Any]


@dataclass(frozen=True)
class ListOrders:
    pass


@dataclass(frozen=True)
class ShowOrder:
    number: str


@dataclass(frozen=True)
class RunOcr:
    media_id: str


Intent = CreateOrder | ListOrders | ShowOrder | RunOcr


@dataclass
class Step:
    state: SessionState
    replies: list[str] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)


class Reader(Protocol):
    """What the conversation needs from nlp/ and the hub, as plain dict-in, dict-out calls."""

    def extract(self, text: str) -> dict[str, Any]: ...

    def followup(self, draft: dict[str, Any], text: str) -> dict[str, Any]: ...

    def price(self, draft: dict[str, Any]) -> Any:
        """orders.drafts.Priced: `lines` (table-added gift/freight/service lines after the
        draft's), `total` as the order will have it, `discount`, `promotions` (Chinese lines)."""
        ...

    def name_of(self, sku: str) -> str | None:
        """The catalog name customers read for a SKU (None when unknown)."""
        ...


Profile = dict[str, Any]  # the customer's last contact / phone / address, or {}


def step(
    state: SessionState, msg: Incoming, reader: Reader, profile: Profile | None = None
) -> Step:
    profile = profile or {}
    if msg.kind == "subscribe":
        return Step(state, [replies.WELCOME])
    if msg.kind == "image":
        return Step(state, [replies.IMAGE_RECEIVED], [RunOcr(msg.media_id)])
    if msg.kind == "ocr_result":
        merged = _merge(state.draft, msg.draft or {})
        return _evaluate(merged, reader, profile)
    if msg.kind == "location":
        draft = copy.deepcopy(state.draft) if state.draft else _empty_draft()
        draft["address"] = _address_from_label(msg.location_label, reader)
        return _evaluate(draft, reader, profile)
    return _on_text(state, msg.text.strip(), reader, profile)


def _on_text(state: SessionState, text: str, reader: Reader, profile: Profile) -> Step:
    bare = text.strip(_PUNCT)
    number = ORDER_NUMBER.search(text)
    if number:
        return Step(state, [], [ShowOrder(number.group(0).upper())])
    if bare in _MY_ORDERS:
        return Step(state, [], [ListOrders()])
    if not bare:
        return Step(state, [replies.HELP])

    if state.stage == "choosing" and state.pending_choice and state.draft:
        chosen = _resolve_choice(state.pending_choice, bare)
        if chosen is not None:
            draft = copy.deepcopy(state.draft)
            item = draft["items"][state.pending_choice["item"]]
            item.update(
                sku=chosen["sku"], name=chosen.get("name", item.get("name")), confidence=1.0
            )
            item.pop("alternatives", None)
            return _evaluate(draft, reader, profile)

    if bare in _CONFIRM:
        if state.stage == "confirming" and state.draft:
            return Step(SessionState(), [], [CreateOrder(state.draft)])
        if state.draft:
            return _evaluate(state.draft, reader, profile)
        return Step(state, [replies.NOTHING_TO_CONFIRM])
    removal = _REMOVE_LINE.match(bare)
    if removal and state.draft:
        index = _small_number(removal.group(1)) - 1
        draft = copy.deepcopy(state.draft)
        if 0 <= index < len(draft.get("items") or []):
            draft["items"].pop(index)
            return _evaluate(draft, reader, profile)

    if _is_cancel(bare):
        if state.draft:
            return Step(SessionState(), [replies.CANCELLED_DRAFT])
        return Step(state, [replies.NOTHING_TO_CONFIRM])

    if state.draft:
        updated = reader.followup(copy.deepcopy(state.draft), text)
        if not updated or (not updated.get("items") and updated.get("cancelled")):
            return Step(SessionState(), [replies.CANCELLED_DRAFT])
        if _same_order(updated, state.draft):
            # Nothing in the message changed the draft: say so, and ask again.
            again = _evaluate(state.draft, reader, profile)
            again.replies.insert(0, "没太看懂这句～")
            return again
        return _evaluate(updated, reader, profile)

    draft = reader.extract(text)
    if not draft.get("items") and not (draft.get("phone") or draft.get("address")):
        return Step(state, [replies.NOT_AN_ORDER if _looks_like_question(text) else replies.HELP])
    return _evaluate(draft, reader, profile)


def _evaluate(draft: dict[str, Any], reader: Reader, profile: Profile) -> Step:
    """Decide what to ask next: a choice, the missing fields, or the summary to confirm."""
    draft = copy.deepcopy(draft)
    reused = _fill_from_profile(draft, profile)
    draft["missing"] = [f for f in REQUIRED_FIELDS if not draft.get(f)]

    for index, item in enumerate(draft.get("items") or []):
        options = _options(item, reader)
        if item.get("sku") and len(options) > 1 and (item.get("confidence") or 0) < LOW_CONFIDENCE:
            choice = {"item": index, "options": options}
            text = replies.ask_choice(item.get("raw") or item.get("name") or "", options)
            return Step(SessionState("choosing", draft, choice), [text])

    if draft["missing"]:
        texts = []
        if draft.get("items"):
            texts.append(_recap(draft))
        texts.append(replies.ask_missing(draft["missing"]))
        return Step(SessionState("collecting", draft), ["\n".join(texts)])

    priced = reader.price(draft)
    text = replies.summary(priced.lines, priced.total, draft, reused_from_last=reused,
                           promotions=priced.promotions, discount=priced.discount)
    if draft.get("to_confirm"):
        text += "\n" + replies.check_ocr(draft["to_confirm"])
    unknown = [
        (i, it.get("raw") or "") for i, it in enumerate(draft["items"], 1) if not it.get("sku")
    ]
    if unknown:
        text = replies.unknown_items(unknown) + "\n\n" + text
    return Step(SessionState("confirming", draft), [text])


def _recap(draft: dict[str, Any]) -> str:
    items = draft.get("items") or []
    listed = "；".join(
        f"{it.get('name') or it.get('raw')} × {replies.fmt_qty(it.get('quantity') or 0)}{it.get('unit') or ''}"
        for it in items
    )
    return f"已记下：{listed}"


def _fill_from_profile(draft: dict[str, Any], profile: Profile) -> bool:
    """A returning customer's last contact, phone and address fill what this message left out."""
    reused = False
    for key in ("address", "phone", "contact"):
        if not draft.get(key) and profile.get(key):
            draft[key] = copy.deepcopy(profile[key])
            reused = True
    return reused


def _options(item: dict[str, Any], reader: Reader) -> list[dict[str, Any]]:
    """The products an open item may mean, by the names customers read."""
    out: list[dict[str, Any]] = []
    for alt in item.get("alternatives") or []:
        sku = alt.get("sku") if isinstance(alt, dict) else alt
        out.append({"sku": sku, "name": reader.name_of(sku) or sku})
    if out and item.get("sku") and all(o["sku"] != item["sku"] for o in out):
        out.insert(0, {"sku": item["sku"], "name": item.get("name") or item["sku"]})
    return out


def _resolve_choice(choice: dict[str, Any], text: str) -> dict[str, Any] | None:
    options = choice["options"]
    if text.isdigit() or text in _CN_DIGITS:
        n = _small_number(text)
        return options[n - 1] if 1 <= n <= len(options) else None
    matches = [o for o in options if text in (o.get("name") or "") or text == o.get("sku")]
    return matches[0] if len(matches) == 1 else None


def _small_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 2 and text[0] == "十":
        return 10 + _CN_DIGITS.get(text[1], 0)
    return _CN_DIGITS.get(text, 0)


def _merge(base: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if not base:
        return copy.deepcopy(new)
    merged = copy.deepcopy(base)
    merged["items"] = list(merged.get("items") or []) + list(new.get("items") or [])
    for key, value in new.items():
        if key != "items" and value and not merged.get(key):
            merged[key] = copy.deepcopy(value)
    return merged


def _address_from_label(label: str, reader: Reader) -> dict[str, Any]:
    parsed = reader.extract(label).get("address") if label else None
    return parsed or {
        "province": None,
        "city": None,
        "district": None,
        "detail": label,
        "raw": label,
    }


def _empty_draft() -> dict[str, Any]:
    return {
        "items": [],
        "contact": None,
        "company": None,
        "phone": None,
        "address": None,
        "delivery_date": None,
        "rush": False,
        "remarks": None,
        "missing": list(REQUIRED_FIELDS),
    }


def _same_order(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("items", "contact", "phone", "address", "delivery_date", "rush", "remarks", "company")
    strip: Callable[[dict[str, Any]], Any] = lambda d: [d.get(k) for k in keys]  # noqa: E731
    return strip(a) == strip(b)


def _is_cancel(text: str) -> bool:
    """算了 / 不要了 / 取消, also inside a short message ("那算了不要了"), but not in an order
    line that merely contains the words."""
    return text in _CANCEL or (len(text) <= 8 and any(w in text for w in _CANCEL) and not any(c.isdigit() for c in text))


def _looks_like_question(text: str) -> bool:
    return any(
        w in text for w in ("多少钱", "价格", "什么价", "报价", "吗", "？", "?", "有没有", "优惠")
    )
