"""Later messages applied to an open draft (the conversation calls this).

- 再加两千个M6平垫 / 还要…: items read from the message are added (same sku: summed).
- 地址改成… / 电话换成… / 改到下周三: the field is replaced by what the message gives.
- 304的那个改成316 / M8的改成M10: the line matching the first part is re-matched with
  the change applied; its quantity and unit are kept.
- M8螺母改成3000 / 数量改成…: the line's quantity is replaced.
- 不要了 / 取消 / 算了: the whole draft is cancelled — items emptied and
  `cancelled` set, so the conversation can close it (a message that names a line,
  e.g. 螺母不要了, removes only that line).
- anything else: fields the message gives fill or replace the draft's.
"""

from __future__ import annotations

import copy
import datetime as dt
import re

from .catalog import Catalog
from .draft import Draft, Item
from .extract import extract_draft
from .specs import find_specs
from .text import normalize

_CANCEL_ALL = re.compile(
    r"^\s*(?:(?:都|全部|整单|订单|这单|那就|那|我)\s*)?(?:不要了|取消|算了|不用了|撤单|作废|不买了|不订了)"
    r"(?:订单|这单|了|吧|啊|哈|吧)*[。.!！\s]*$"
)
_REMOVE = re.compile(r"(?P<what>.+?)(?:不要了|不要|取消|删掉|去掉)")
_CHANGE = re.compile(r"(?P<old>.+?)(?:的那个|那个|的)?\s*(?:改成|换成|改为|换为|变成)\s*(?P<new>.+)")
_ADD = re.compile(r"^\s*(?:再|还)(?:加|要|来|补)")


def apply_followup(draft: Draft, text: str, today: dt.date, catalog: Catalog) -> Draft:
    """A new Draft: `draft` with the follow-up `text` applied (the input is not changed)."""
    out = copy.deepcopy(draft)
    t = normalize(text).strip()
    if _CANCEL_ALL.match(t):
        out.items = []
        out.cancelled = True
        return out
    m = _CHANGE.search(t)
    if m and not re.match(r"\s*(?:地址|电话|手机|收货人|联系人|时间|日期|送货)", m.group("old")):
        if _change_line(out, m.group("old"), m.group("new"), today, catalog):
            return out
    m = _REMOVE.search(t)
    if m and not _ADD.match(t):
        idx = _find_line(out, m.group("what"), today, catalog)
        if idx is not None:
            del out.items[idx]
            return out
    new = extract_draft(t, today, catalog)
    for item in new.items:
        same = next((i for i in out.items if i.sku and i.sku == item.sku and i.unit == item.unit), None)
        if same and _ADD.match(t) and isinstance(same.quantity, (int, float)):
            same.quantity = same.quantity + (item.quantity or 0)
        else:
            out.items.append(item)
    for field in ("contact", "company", "phone", "address", "delivery_date", "remarks"):
        value = getattr(new, field)
        if value:
            setattr(out, field, value)
    out.rush = out.rush or new.rush
    return out


def _find_line(draft: Draft, words: str, today: dt.date, catalog: Catalog) -> int | None:
    """Index of the draft line that `words` (304的那个, M8螺母) points at; 数量 on a
    one-line draft is that line."""
    if re.fullmatch(r"\s*(?:数量|个数|数目|件数)\s*", words) and len(draft.items) == 1:
        return 0
    probe = extract_draft(words + " 1", today, catalog)
    if probe.items and probe.items[0].sku:
        for i, it in enumerate(draft.items):
            if it.sku == probe.items[0].sku:
                return i
    tokens = [w for _s, _e, w, _k in catalog.tokens(normalize(words))]
    specs = re.findall(r"[A-Za-z]*\d+(?:[*x×]\d+)?", words)
    best, best_hits = None, 0
    for i, it in enumerate(draft.items):
        p = catalog.by_sku.get(it.sku or "")
        hay = (p.text if p else it.raw).lower()
        hits = sum(1 for w in tokens if w in hay) + sum(2 for s in specs if s.lower() in hay)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def _change_line(draft: Draft, old: str, new: str, today: dt.date, catalog: Catalog) -> bool:
    idx = _find_line(draft, old, today, catalog)
    if idx is None:
        return False
    line = draft.items[idx]
    qty = re.fullmatch(r"\s*([\d.]+[万千wk]?|[零一二两三四五六七八九十百千万]+)\s*([个只片套箱盒包]?)\s*", new)
    if qty and any(k.startswith("material:") for *_x, k in catalog.tokens(normalize(new))):
        qty = None  # 改成316 is a material, not a quantity
    if qty:
        from .numbers import as_number, parse_number

        v = parse_number(qty.group(1))
        if v:
            line.quantity = as_number(v)
            if qty.group(2):
                line.unit = catalog.unit_for(catalog.by_sku.get(line.sku or ""), qty.group(2))
            return True
    product = catalog.by_sku.get(line.sku or "")
    old_n, new_n = normalize(old), normalize(new)
    if product:
        # Put the new words in place of the old ones in the product's own name: a new
        # material replaces the material, a new size replaces the size.
        base = product.name
        if any(k.startswith("material:") for *_x, k in catalog.tokens(new_n)):
            base = base.replace(product.material, "")
        new_specs = find_specs(new_n)
        if new_specs:
            for h in find_specs(base):
                base = base[: h.start] + " " + base[h.end :]
        probe_text = f"{base} {new_n} {line.quantity}{line.unit or ''}"
    else:
        probe_text = f"{line.raw.replace(old_n, new_n)}"
    probe = extract_draft(probe_text, today, catalog)
    if probe.items and probe.items[0].sku:
        got = probe.items[0]
        draft.items[idx] = Item(
            got.sku, got.name, f"{line.raw} → {new}", line.quantity, line.unit, got.confidence, got.alternatives
        )
        return True
    return False
