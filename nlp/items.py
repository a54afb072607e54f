"""Order lines: which products, how many, in what unit.

The message is read as a sequence of quantities ("5000个", "两千五", "×20", "一箱半").
Each quantity takes the product words written just before it (M6*20外六角 304的 5000个)
or, if there are none, just after it (再来两盒O型圈组合盒). Words the line leaves out
(M8×30的也要两千) are inherited from the line before. Text that is not about products
(phones, the address, dates) is blanked out first so its digits are never quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .catalog import Catalog
from .draft import Item
from .numbers import NUMBER_RE, as_number, parse_number
from .specs import SpecHit, find_specs
from .units import UNIT_WORDS

_UNIT_ALT = "|".join(re.escape(u) for u in UNIT_WORDS)
_QTY = re.compile(
    rf"(?P<pre>[×xX*]\s*)?(?P<num>{NUMBER_RE})(?:[ ]?(?:来|多|余)?(?P<unit>{_UNIT_ALT})(?P<half>半)?)?"
    rf"|(?P<halfonly>半)(?P<hunit>箱|盒|包|袋|桶|卷)"
)
_BLANK = "\x01"
_HARD = "\n，,。；;！!？?"
_OK_BEFORE = set(" \t\n，,。；;：:！!？?、/()（）[]【】" + _BLANK + "要来各共订的是为再加补")
_BAD_AFTER = re.compile(r"^(?:%|元|块|号|年|月|日|点|时|分|岁|楼|层|mm|cm|L\b|T\b|V\b|W\b|寸|度|:|\.\d|-\d|/\d)")
_NOT_QTY_AFTER = re.compile(r"^[ \t]*(?:款|年款|年产|年的车|装|起|以上|以下|左右的价|种|/\s*(?:箱|盒|包)|一(?:箱|盒|包))")
_GENERIC_HEAD = re.compile(r"(螺丝|螺钉|螺栓|螺母|螺帽|垫片|垫圈|链条|轴承|铆钉|密封圈|管件|阀门|滤芯|刹车片|接头|弹簧|销子|卡箍|扎带|钻头|砂轮|胶带)")
_EACH = "各"
_NEXT_LINE = re.compile(r"还有|另外|然后|再来|再要|还要|以及")
_FILLER = set("的要来个只和跟与及还也再都各给我你帮订买发送请批些点先另外同样")
_LIST_MARKER = re.compile(r"(?m)^\s*(?:\d{1,2}|[一二三四五六七八九十]{1,2})\s*(?:[、)）]|\.(?!\d))")
_PRICE = re.compile(r"[¥￥$]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*(?:元|块钱|块一|毛)")
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
_DISPLACEMENT = re.compile(r"(?<![\d.])\d\.\d\s?[LT](?![A-Za-z])")


@dataclass
class _Qty:
    start: int
    end: int
    value: float
    unit: str | None


@dataclass
class _Context:
    words: list[str] = field(default_factory=list)
    material: str | None = None
    spec: SpecHit | None = None


def _blank(chars: list[str], start: int, end: int, fill: str = _BLANK) -> None:
    for i in range(max(0, start), min(len(chars), end)):
        if chars[i] != "\n":
            chars[i] = fill


def _quantities(masked: str) -> list[_Qty]:
    out: list[_Qty] = []
    for m in _QTY.finditer(masked):
        if m.group("halfonly"):
            out.append(_Qty(m.start(), m.end(), 0.5, m.group("hunit")))
            continue
        num, unit, pre = m.group("num"), m.group("unit"), m.group("pre")
        s = m.start("num")
        before = masked[s - 1] if s > 0 else " "
        after = masked[m.end() : m.end() + 4]
        value = parse_number(num)
        if value is None or value <= 0:
            continue
        if _NOT_QTY_AFTER.match(after) or "每" in masked[max(0, s - 3) : s]:
            continue  # 386只装, 一百个起, 每箱1000个: pack sizes and minimums, not orders
        if parse_number(num) == 1 and re.search(r"(?:多少钱|几钱|钱|元|块|价格?|单价|\d)\s*$", masked[max(0, s - 4) : s]):
            continue  # 多少钱一箱, 200一箱: the unit a price is given for, not a count
        if re.fullmatch(r"\d{7,}", num):
            continue  # order numbers, dates run together: nobody orders ten million bolts
        chinese = not re.match(r"\d", num)
        if not unit:
            if _BAD_AFTER.match(after):
                continue
            nxt = after[:1]
            if chinese:
                if not re.search(r"[十百千万]", num) and not pre:
                    continue
                if nxt and re.match(r"[\u4e00-\u9fff]", nxt) and nxt not in "的啊吧呀哈了":
                    continue
            elif not pre and before not in _OK_BEFORE:
                continue
            elif not pre and "." in num and not re.search(r"[万千wWkK]", num):
                continue  # 朗逸1.5: a bare decimal is a size, not a count
            if nxt and re.match(r"[A-Za-z\d]", nxt):
                continue
        elif chinese and before in "第周期礼拜初":
            continue
        if m.group("half"):
            value += 0.5
        out.append(_Qty(m.start(), m.end(), value, unit))
    return out


def read_items(
    text: str,
    catalog: Catalog,
    blank_spans: list[tuple[int, int]],
) -> list[Item]:
    """Items in normalised `text`; `blank_spans` cover phones, address, dates."""
    chars = list(text)
    for s, e in blank_spans:
        _blank(chars, s, e, "\n")
    for rx in (_LIST_MARKER, _PRICE, _TIME):
        for m in rx.finditer("".join(chars)):
            _blank(chars, m.start(), m.end())
    masked = "".join(chars)

    specs = [h for h in find_specs(masked) if _spec_counts(h, masked, catalog)]
    work = list(masked)
    for h in specs:
        _blank(work, h.start, h.end)
    for m in _DISPLACEMENT.finditer(masked):
        _blank(work, m.start(), m.end())
    no_specs = "".join(work)
    tokens = catalog.tokens(no_specs)
    for s, e, _w, _k in tokens:
        _blank(work, s, e)
    blanked = "".join(work)
    qtys = _quantities(blanked)

    word_anchors = [(s, e) for s, e, _w, k in tokens if k == "word"]
    anchors = sorted([(h.start, h.end) for h in specs] + word_anchors)
    items: list[Item] = []
    ctx = _Context()
    boundary = 0
    for qi, q in enumerate(qtys):
        if q.start < boundary:
            continue
        nxt_start = qtys[qi + 1].start if qi + 1 < len(qtys) else len(masked)
        left = (boundary, q.start)
        # A sentence ended before this line's product words (有M6法兰螺栓吗？没有的话
        # M6外六角 3000个): the words before the full stop are not part of the line.
        # Likewise a line of a list: its count belongs to its own product, not to the
        # line above that gave none (1. M8螺母 镀锌 / 2. M8平垫 镀锌 1000片).
        cut = max(masked.rfind(ch, boundary, q.start) for ch in "。？?！!；;")
        if cut >= 0 and _has_anchor(anchors, cut + 1, q.start):
            left = (cut + 1, q.start)
        line = masked.rfind("\n", boundary, q.start)
        if line >= 0 and _has_anchor(word_anchors, line + 1, q.start):
            left = (max(left[0], line + 1), q.start)  # a line naming its own product (外六角 alone above stays a heading)
        if _has_anchor(anchors, *left):
            window, raw_span = left, (boundary, q.end)
            end = q.end
        else:
            stop = next((i for i in range(q.end, nxt_start) if masked[i] in _HARD), nxt_start)
            # 五百个M10外六角的 还有 M10螺母的五百个: "还有" starts the next line.
            nxt_line = _NEXT_LINE.search(masked, q.end, stop)
            if nxt_line and _has_anchor(anchors, nxt_line.end(), stop):
                stop = nxt_line.start()
            first = next((a for a in anchors if q.end <= a[0] < stop), None)
            gap = masked[q.end : first[0]] if first else ""
            if first and re.fullmatch(r"[\s的个只片:：" + _BLANK + "]*", gap):
                window = (q.end, stop)
                raw_span = (q.start, stop)
                end = stop
            else:
                window, raw_span, end = left, (boundary, q.end), q.end
        # A material said right after the quantity (两千，同样12.9级) belongs to this line.
        extra_material, end = _trailing_material(masked, tokens, anchors, end, nxt_start)
        new = _make_items(text, masked, window, raw_span, q, specs, tokens, catalog, ctx, extra_material)
        for item in new:
            if item.sku and _unexplained_qualifier(blanked, window, tokens, catalog.by_sku[item.sku], catalog):
                # 六角法兰面螺栓 is not the catalog's 外六角螺栓: keep it for a person.
                item.alternatives = [item.sku]
                item.sku, item.name, item.confidence = None, None, 0.3
        items.extend(new)
        boundary = end
    return items


def _trailing_material(masked, tokens, anchors, end, nxt_start) -> tuple[str | None, int]:
    """A material said after the quantity (两千，同样12.9级 / 两千个不锈钢的还有…) belongs
    to that line, unless it leads straight into the next product (… 1000个 304 M8平垫)."""
    tail_stop = next((i for i in range(end, nxt_start) if masked[i] in "\n。；;"), nxt_start)
    first_anchor = next((a[0] for a in anchors if end <= a[0] < tail_stop), tail_stop)
    run = [t for t in tokens if end <= t[0] and t[1] <= first_anchor]
    if not run or not all(k.startswith("material:") for *_x, k in run):
        return None, end
    last = run[-1]
    gap = masked[end : run[0][0]]
    if re.search(r"[\u4e00-\u9fff]", gap.replace("同样", "").replace("都", "").replace("也", "").replace("是", "")):
        return None, end  # words between: not an afterthought about this line
    after = masked[last[1] : last[1] + 4]
    closes = first_anchor == tail_stop or re.match(r"\s*(?:的|[，,。；;\n]|还有|另外|和|再|然后|也)", after)
    if not closes or (first_anchor < tail_stop and re.fullmatch(r"[\s的]*", masked[last[1] : first_anchor])):
        return None, end  # 两万个 304的4*12: the material leads into the next size
    return last[3].split(":", 1)[1], last[1]


def _unexplained_qualifier(blanked: str, window, tokens, product, catalog: Catalog) -> bool:
    """CJK characters glued before a product word that name products elsewhere in the
    catalog but not this one (法兰 in 六角法兰面螺栓 matched as 螺栓)."""
    ws, we = window
    own = set(product.text)
    for s, _e, _w, kind in tokens:
        if kind != "word" or not (ws <= s < we):
            continue
        j, strange = s, 0
        while j > ws and s - j < 6 and "\u4e00" <= blanked[j - 1] <= "\u9fff":
            j -= 1
            ch = blanked[j]
            if ch in catalog.vocab_chars and ch not in own and ch not in _FILLER:
                strange += 1
        if strange >= 2:  # one stray character (然后) is speech, two name something
            return True
    return False


def _spec_counts(h: SpecHit, masked: str, catalog: Catalog) -> bool:
    if h.kind == "code":
        return h.key in catalog.spec_index
    if h.kind == "bearing" and "-" not in h.key:
        line_start = masked.rfind("\n", 0, h.start) + 1
        line_end = masked.find("\n", h.end)
        line = masked[line_start : line_end if line_end >= 0 else len(masked)]
        return h.base in catalog.bearing_index or "轴承" in line
    return True


def _has_anchor(anchors: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start <= s and e <= end for s, e in anchors)


def _make_items(text, masked, window, raw_span, q, specs, tokens, catalog, ctx, extra_material) -> list[Item]:
    """The line(s) one quantity closes: its window's specs, words and material, matched
    against the catalog with the previous line as soft context (several for 各)."""
    ws, we = window
    w_specs = [h for h in specs if ws <= h.start and h.end <= we]
    w_tokens = [t for t in tokens if ws <= t[0] and t[1] <= we]
    words = [w for _s, _e, w, k in w_tokens if k == "word"]
    mats = [k.split(":", 1)[1] for _s, _e, _w, k in w_tokens if k.startswith("material:")]
    material = mats[-1] if mats else extra_material
    raw = re.sub(r"\s+", " ", text[raw_span[0] : raw_span[1]].replace(_BLANK, " ")).strip(" ，,。：:;；、")
    prefix = masked[max(ws, q.start - 3) : q.start]
    parts: list[tuple[list[SpecHit], list[str]]]
    if _EACH in prefix and (len(w_specs) > 1 or len(words) > 1):
        parts = _split_each(masked, ws, we, w_specs, w_tokens)
    else:
        parts = [(w_specs[-1:] if w_specs else [], words)]
    if not w_specs and not words and not material:
        if _GENERIC_HEAD.search(masked[ws:we]) and q.unit:
            return [Item(None, None, raw, as_number(q.value), q.unit, 0.0)]
        return []
    out = []
    for p_specs, p_words in parts:
        region = masked[ws:we]
        if not p_specs and ctx.spec is not None:
            # Nothing but a material or a type changed: the size carries over
            # (M8螺栓 100个 螺母 100个; 304 的 1000个, 316 的 500个).
            m = catalog.match([], p_words, material, region, ctx.words, ctx.material)
            for spec in _inheritable(ctx.spec):
                inherited = catalog.match([spec], p_words, material, region, ctx.words, ctx.material)
                if inherited.product and (not p_words or any(w in inherited.product.words for w in p_words)):
                    m = inherited
                    break
        else:
            m = catalog.match(p_specs, p_words, material, region, ctx.words, ctx.material)
        if not p_specs and not p_words and not m.product:
            continue
        product = m.product
        out.append(
            Item(
                sku=product.sku if product else None,
                name=product.name if product else None,
                raw=raw,
                quantity=as_number(q.value),
                unit=catalog.unit_for(product, q.unit),
                confidence=m.confidence,
                alternatives=m.alternatives,
            )
        )
        if p_words:
            ctx.words = p_words
        if material:
            ctx.material = material
        if p_specs:
            ctx.spec = p_specs[-1]
    return out


def _inheritable(spec: SpecHit) -> list[SpecHit]:
    """The previous line's size, then its thread alone (M8×30 bolt → M8 nut)."""
    if spec.kind == "code":
        return []  # a part number names one product: 空滤 after a 机滤 code is not that filter
    out = [spec]
    if spec.kind == "dims" and "x" in spec.key:
        out.append(SpecHit(spec.key.split("x")[0], "dims", spec.start, spec.end))
    return out


def _split_each(masked, ws, we, w_specs, w_tokens):
    """M6、M8螺母各1000个 → (M6, 螺母), (M8, 螺母)."""
    cuts = [ws] + [i + 1 for i in range(ws, we) if masked[i] in "、,，/和及与跟&+ "] + [we]
    parts = []
    shared: list[str] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        sp = [h for h in w_specs if a <= h.start and h.end <= b]
        wd = [w for s, e, w, k in w_tokens if a <= s and e <= b and k == "word"]
        if sp:
            parts.append((sp[-1:], wd))
        elif wd and len(w_specs) > 1:
            shared += wd  # 304外六角 M6*20、M6*30 各…: the words name every size
        elif wd:
            parts.append((sp, wd))
    if shared:
        parts = [(sp, wd or shared) for sp, wd in parts]
    # Fill what a part leaves out from its neighbours (the shared word often comes last).
    all_words = [w for p in parts for w in p[1]]
    last_spec = None
    filled = []
    for sp, wd in parts:
        if sp:
            last_spec = sp
        filled.append((sp or (last_spec or []), wd or all_words))
    return filled
