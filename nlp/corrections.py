"""Self-corrections inside one message: `先要500个 不对 算少了 要900个`,
`M6*2O … 写错了 是M6*20`, `内六角M6*16 1000个 哦搞错了 是M6*20`.

A correction cue (不对, 写错了, 搞错了…) splits the line into the order as first written
(the last item before the cue) and the correction after it. The correction replaces
what it names and keeps the rest:
- a count only (要900个): the item's count;
- a size only (是M6*20): the item's size;
- a size and a count: both;
- a material (算了不要304的 要镀锌的): the item's material;
- a product named anew (是M10螺母 2000个): the whole item.
The message is rewritten before it is read, so every later reader sees one order.
"""

from __future__ import annotations

import re

from .catalog import HEAD_WORDS, Catalog
from .numbers import NUMBER_RE
from .specs import find_specs
from .units import UNIT_WORDS

_FILLER = r"(?:[哦噢啊呃嗯哎呀,，。!！\s]|sorry|抱歉|不好意思)*"
_CUE = re.compile(
    _FILLER
    + r"(?:刚才|上面|前面的?|那个|等下|等等|等一下)?\s*(?:看错[^\s,，。]{0,4}?了|(?:材质|规格|型号|尺寸)(?:搞|写|弄|打|说|记)错了?|不对|写错了|搞错了|说错了|打错了|弄错了|发错了|记错了|错了|更正一下|更正|纠正一下|纠正|重新说一下|算少了|算多了)"
    + r"(?:[,，。!！\s]*(?:算少了|算多了|少了|多了|不好意思|抱歉|sorry))*"
    + r"[,，。:：!！\s]*(?:应该是|应该|改成|改为|换成|是|要|就要|那就|那)?\s*"
    # 算了不要304的 要镀锌的: the old value named and dropped, the new one given.
    + r"|(?:算了|不对)?[,，\s]*不要(?:这个|那个)?[^\s,，。；;]{1,8}?的?[,，\s]*(?:要|换成|改成|改为)\s*"
)
_UNIT_ALT = "|".join(re.escape(u) for u in UNIT_WORDS)
_QTY = re.compile(rf"(?<![\dA-Za-z.*xX×])({NUMBER_RE})\s*(?:{_UNIT_ALT})")
# A count without a unit, said as the whole fix: 算多了 一百五就够.
_BARE_QTY = re.compile(rf"\s*({NUMBER_RE})(?=\s*(?:就够|就行|就好|就可以|够了|吧|$))")
_LINE_END = re.compile(r"[\n。；;]")


# A change aimed at one line by naming it: 弹垫改成2包, 前片改成12套, 数量改为500个 (the
# last line), 后片不要了, M6*30不要了 (the line is dropped).
_AIMED = re.compile(
    rf"(?P<x>[^\s,，。；;！!：:—]{{0,12}}?)的?\s*(?:数量)?(?:改成|改为|换成|改到)\s*(?P<q>(?:{NUMBER_RE})\s*(?:{_UNIT_ALT}))"
    r"|(?P<y>[^\s,，。；;！!：:—]{1,12}?)的?\s*(?:不要了|取消了?|删掉|去掉|(?:先|暂时|这次|就)不要(?:了)?)(?![\u4e00-\u9fff\d])"
)


def _segments(text: str, end: int) -> list[tuple[int, int]]:
    """The order lines before `end`: each runs from the previous count (or line break) to
    the end of its own count (or line)."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(rf"(?<![\dA-Za-z.*xX×])(?:{NUMBER_RE})\s*(?:{_UNIT_ALT})|(?<=\d)[ \t]*(?=\n)", text[:end]):
        out.append((start, m.end()))
        start = m.end()
    return out


def _apply_aimed(text: str, catalog: Catalog) -> str:
    """Fold the changes aimed at a named line (see _AIMED) into that line."""
    for _ in range(6):
        done = False
        for m in _AIMED.finditer(text):
            name = (m.group("x") or m.group("y") or "").strip()
            named = [t for t in catalog.tokens(name) if t[3] == "word"]
            specs = find_specs(name)
            keys = [name[t[0] : t[1]] for t in named] + [name[h.start : h.end] for h in specs]
            segs = [sg for sg in _segments(text, m.start()) if catalog.tokens(text[sg[0] : sg[1]]) or find_specs(text[sg[0] : sg[1]])]
            if keys:
                segs = [sg for sg in segs if all(k.lower() in text[sg[0] : sg[1]].lower() for k in keys)]
            elif m.group("y") or not re.search(r"数量|^$", name):
                continue  # 不要了 with no line named, or 改成 after a word that is no line
            if not segs:
                continue
            s0, s1 = segs[-1]
            seg = text[s0:s1]
            if m.group("y"):
                # The line goes; words it shared with the next line stay (卡罗拉前片… 后片…).
                kept = [seg[a:b] for a, b, _w, kind in catalog.tokens(seg) if kind == "word" and seg[a:b] not in keys]
                new_seg = " " + " ".join(kept) + " "
            else:
                qs = list(_QTY.finditer(seg))
                if not qs:
                    continue
                new_seg = seg[: qs[-1].start()] + m.group("q") + seg[qs[-1].end() :]
            text = text[:s0] + new_seg + text[s1 : m.start()] + " " + text[m.end() :]
            done = True
            break
        if not done:
            return text
    return text


# A change of one attribute aimed at one line: 第二个换成304的, 外六角那个改成内六角,
# 6204要2RS的 不要zz, 4.8的要不锈钢的, 改一下 要沉头的 不是盘头. The attribute families a
# customer swaps: the head, the bearing's seal, the material or grade (catalog words).
_HEAD = "|".join(HEAD_WORDS)
_SEAL = r"2RS|2Z|ZZ|RS"
_HEAD_RE = re.compile(_HEAD)
_SEAL_RE = re.compile(rf"-?(?:{_SEAL})(?![A-Za-z\d])", re.IGNORECASE)
_VERB = re.compile(r"(?:要|换成|改成|改为|换)\s*")
_ORDINAL = re.compile(r"第\s*([一二两三四五六七八九十\d]{1,2})\s*(?:个|项|行|条|样|种)")
_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "十": 10}
_SEP = re.compile(r"[,，。；;！!\n]|——|…")
_RESTATED = re.compile(r"[,，\s]*(?:还是|也是|其他不变|数量一样|数量不变|数量照旧)[^,，。；;\n]{0,12}")


def _attr_at(text: str, i: int, catalog: Catalog) -> tuple[str, int] | None:
    """(family, end) of an attribute word starting at `i`, or None."""
    m = _HEAD_RE.match(text, i)
    if m:
        return "head", m.end()
    m = _SEAL_RE.match(text, i)
    if m:
        return "seal", m.end()
    toks = catalog.tokens(text[i : i + 10])
    if toks and toks[0][0] == 0 and toks[0][3].startswith("material:"):
        return "material", i + toks[0][1]
    return None


def _attrs_in(seg: str, family: str, catalog: Catalog) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(seg):
        a = _attr_at(seg, i, catalog)
        if a and a[0] == family and (family != "seal" or (i and seg[i - 1].isdigit() or seg[i - 1 : i] == "-")):
            out.append((i, a[1]))
            i = a[1]
        else:
            i += 1
    return out


def _cn_int(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if len(s) == 1:
        return _CN_DIGIT.get(s)
    if s.startswith("十") and len(s) == 2:
        return 10 + _CN_DIGIT.get(s[1], 0)
    return None


def _apply_attr_changes(text: str, catalog: Catalog) -> str:
    """Fold each aimed attribute change into the line it names (see the note above)."""
    pos = 0
    for _ in range(6):
        done = False
        for v in _VERB.finditer(text, pos):
            new = _attr_at(text, v.end(), catalog)
            if not new:
                continue
            family, new_end = new
            new_word = text[v.end() : new_end].lstrip("-")
            end = new_end + (1 if text[new_end : new_end + 1] == "的" else 0)
            old_word = None
            om = re.compile(r"[,，\s]*(?:不要|不是|别要?|而不是)\s*").match(text, end)
            if om:
                o = _attr_at(text, om.end(), catalog)
                if o and o[0] == family:
                    old_word = text[om.end() : o[1]].lstrip("-")
                    end = o[1] + (1 if text[o[1] : o[1] + 1] == "的" else 0)
            rest = _SEP.split(text[end:], maxsplit=1)[0]
            r = _RESTATED.match(text, end)
            if r:
                end = r.end()
                rest = _SEP.split(text[end:], maxsplit=1)[0]
            if _QTY.search(rest[:12]) or any(h.kind != "code" for h in find_specs(rest[:12])):
                continue  # 要304的M8 500个: a new line, not a change
            # What the change is aimed at: the words right before the verb, in its clause.
            clause_start = max([0] + [m.end() for m in _SEP.finditer(text, 0, v.start())])
            tm = re.search(r"(\S*?)(?:的|那个|那款|那种|这个|都)*\s*$", text[clause_start : v.start()])
            target = tm.group(1)
            target_start = clause_start + tm.start()
            target = re.sub(r"^(?:等下|等等|改一下|换一下|然后|另外|还有|那个|哦|对了)+", "", target)
            lines = [sg for sg in _segments(text, v.start()) if catalog.tokens(text[sg[0] : sg[1]]) or find_specs(text[sg[0] : sg[1]])]
            if not lines:
                continue
            chosen = None
            key_attr = None
            om2 = _ORDINAL.fullmatch(target)
            if om2:
                n = _cn_int(om2.group(1))
                chosen = lines[n - 1] if n and n <= len(lines) else None
            elif target:
                ka = _attr_at(target, 0, catalog)
                if ka and ka[0] == family and ka[1] == len(target):
                    key_attr = target  # 外六角那个改成内六角: the old value names the line
                keys = [target[h.start : h.end] for h in find_specs(target)] or re.findall(r"\d+(?:\.\d+)?", target)
                keys += [target[a:b] for a, b, _w, k in catalog.tokens(target) if k == "word"]
                if key_attr:
                    keys = [key_attr]
                if not keys:
                    continue
                fits = [sg for sg in lines if all(_has_key(text[sg[0] : sg[1]], k) for k in keys)]
                chosen = fits[-1] if fits else None
            elif old_word:
                fits = [sg for sg in lines if _attrs_in(text[sg[0] : sg[1]], family, catalog)
                        and any(text[sg[0] + a : sg[0] + b].lstrip("-").lower() == old_word.lower() for a, b in _attrs_in(text[sg[0] : sg[1]], family, catalog))]
                chosen = fits[-1] if fits else None
            if not chosen:
                continue
            s0, s1 = chosen
            seg = text[s0:s1]
            olds = _attrs_in(seg, family, catalog)
            if old_word or key_attr:
                want = (old_word or key_attr).lower()
                olds = [o for o in olds if seg[o[0] : o[1]].lstrip("-").lower() == want] or olds
            said = "-" + new_word if family == "seal" else " " + new_word + " "
            if olds:
                a, b = olds[-1]
                seg = seg[:a] + said + seg[b:]
            else:
                sp = find_specs(seg)
                at = sp[0].end if sp and family == "seal" else (sp[0].start if sp else 0)
                seg = seg[:at] + said + seg[at:]
            cut = min(target_start, v.start()) if target else v.start()
            text = text[:s0] + seg + text[s1:cut] + " " * (end - cut) + text[end:]
            pos = 0
            done = True
            break
        if not done:
            return text
    return text


def _has_key(seg: str, key: str) -> bool:
    """`key` (M8, 4.8, 6204, 外六角) written in `seg` as a whole number or word."""
    if re.fullmatch(r"\d+(?:\.\d+)?", key):
        return bool(re.search(rf"(?<![\d.]){re.escape(key)}(?![\d.])", seg))
    return key.lower() in seg.lower()


def apply_corrections(text: str, catalog: Catalog) -> str:
    """`text` with every self-correction folded into the item it corrects."""
    text = _apply_aimed(text, catalog)
    text = _apply_attr_changes(text, catalog)
    pos = 0
    for _ in range(8):  # a message corrects itself a few times at most
        m = _CUE.search(text, pos)
        if not m:
            return text
        fixed = _fold(text, m, catalog)
        if fixed is None:
            pos = m.end()
            continue
        text, pos = fixed
    return text


def _fold(text: str, cue: re.Match[str], catalog: Catalog) -> tuple[str, int] | None:
    line_start = max(text.rfind(ch, 0, cue.start()) for ch in "\n。；;") + 1
    if line_start > 0 and not text[line_start : cue.start()].strip():
        # The fix on a line of its own (M8螺母 2000个 / 不对 3000个): it corrects the line above.
        line_start = max(text.rfind(ch, 0, line_start - 1) for ch in "\n。；;") + 1
    stop = _LINE_END.search(text, cue.end())
    line_end = stop.start() if stop else len(text)
    before = text[line_start : cue.start()]
    after = text[cue.end() : line_end]
    clause = re.split(r"[,，]", after, maxsplit=1)[0]  # …要900个，M6螺母…: the next item is not the fix
    new_specs = [h for h in find_specs(clause) if h.start < 12]
    new_qty = _QTY.search(clause) or _BARE_QTY.match(clause)
    if new_qty and new_qty.start() > 20:
        new_qty = None
    if new_qty:
        # 不对 要300只 6202ZZ 100只: what follows the new count is the next item.
        new_specs = [h for h in new_specs if h.start < new_qty.start()]
        clause = clause[: new_qty.end()]
    new_mats = [t for t in catalog.tokens(clause[:12]) if t[3].startswith("material:")]
    if not new_specs and not new_qty and not new_mats:
        return None
    # The corrected item: from the end of the item before it (its count) to the cue.
    qtys = list(_QTY.finditer(before))
    if not qtys and not find_specs(before):
        return None
    item_start = qtys[-2].end() if len(qtys) >= 2 else 0
    old = before[item_start:]
    end_new = max([h.end for h in new_specs[:1]] + ([new_qty.end()] if new_qty else []) + [t[1] for t in new_mats[:1]])
    new_part = after[:end_new]
    words = [t for t in catalog.tokens(new_part) if t[3] == "word"]
    if words and new_specs and new_qty:
        fixed = " " + new_part  # a product named anew: it replaces the item
    else:
        fixed = old
        if new_specs:
            olds = find_specs(fixed)
            if olds:
                h = olds[-1]
                fixed = fixed[: h.start] + new_part[new_specs[0].start : new_specs[0].end] + fixed[h.end :]
            else:
                fixed = new_part[new_specs[0].start : new_specs[0].end] + " " + fixed
        if new_mats:
            old_mats = [t for t in catalog.tokens(fixed) if t[3].startswith("material:")]
            word = new_part[new_mats[0][0] : new_mats[0][1]]
            if old_mats:
                fixed = fixed[: old_mats[-1][0]] + word + fixed[old_mats[-1][1] :]
            else:
                fixed = word + " " + fixed
        if new_qty:
            olds_q = list(_QTY.finditer(fixed))
            if olds_q:
                q = olds_q[-1]
                said = new_qty.group(0) if new_qty.re is _QTY else new_qty.group(1) + q.group(0)[len(q.group(1)) :]
                fixed = fixed[: q.start()] + said + fixed[q.end() :]  # 一百五就够: the count, in the old unit
            else:
                fixed = fixed.rstrip() + " " + new_qty.group(0)
    head = text[: line_start + item_start]
    rest = after[end_new:]
    out = head + fixed.rstrip() + " " + rest + text[line_end:]
    return out, len(head) + len(fixed)
