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

from .catalog import Catalog
from .numbers import NUMBER_RE
from .specs import find_specs
from .units import UNIT_WORDS

_FILLER = r"(?:[哦噢啊呃嗯哎呀,，。!！\s]|sorry|抱歉|不好意思)*"
_CUE = re.compile(
    _FILLER
    + r"(?:刚才|上面|前面的?|那个|等下|等等|等一下)?\s*(?:看错[^\s,，。]{0,4}?了|不对|写错了|搞错了|说错了|打错了|弄错了|发错了|记错了|错了|更正一下|更正|纠正一下|纠正|重新说一下|算少了|算多了)"
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
    r"|(?P<y>[^\s,，。；;！!：:—]{1,12}?)的?\s*(?:不要了|取消了?|删掉|去掉)(?![\u4e00-\u9fff\d])"
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


def apply_corrections(text: str, catalog: Catalog) -> str:
    """`text` with every self-correction folded into the item it corrects."""
    text = _apply_aimed(text, catalog)
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
