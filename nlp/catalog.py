"""The product catalog and its matching index, built once per catalog version.

Matching never scans the catalog: a message's spec (M8×30, 6203-2RS, 90915-YZZE1)
or, failing that, its rarest product words pick a small block of candidates, and only
that block is scored (words matched, material agreement, rapidfuzz as a tie-breaker).
Near-duplicates (same spec, other material) stay apart because material is a hard
filter when the customer names one and an open question (low confidence, the
alternatives listed) when they do not.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from .materials import iter_vocab, material_class, word_pattern
from .specs import SpecHit, find_specs

BLOCK_LIMIT = 400  # word postings larger than this are too generic to block on
DEFAULT_MATERIAL = "ZN"
MAX_ALTERNATIVES = 8
GRADES = frozenset({"8.8", "10.9", "12.9"})  # strength grades of bolts, not materials of nuts
BIG_BLOCK = 64  # spec blocks larger than this are narrowed through their own word index  # plain carbon steel, zinc plated: what an unqualified order means
# Head types are how people tell screws apart (沉头 / 盘头, 外六角 / 内六角): a product
# whose name or aliases carry one is also named by it alone (沉头的ST4.2×25), unless
# the word already names other products.
HEAD_WORDS = ("十字沉头", "十字盘头", "外六角", "内六角", "半圆头", "圆柱头", "沉头", "盘头", "圆头", "平头")
_ASCII_WORD = re.compile(r"^[A-Za-z\d.\-+/]+$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


@dataclass
class Product:
    sku: str
    name: str
    category: str
    spec: str
    material: str
    unit: str
    pack_unit: str = ""
    pack_size: float | None = None
    price: float | None = None
    aliases: tuple[str, ...] = ()
    material_class: str | None = None
    words: frozenset[str] = field(default_factory=frozenset)
    spec_keys: tuple[str, ...] = ()
    text: str = ""  # everything a customer might write about it, for fuzzy tie-breaks


@dataclass
class Match:
    """The catalog's answer for one item's words."""

    product: Product | None
    confidence: float
    alternatives: list[str] = field(default_factory=list)
    found_spec: bool = False  # a spec or part number was read (even if not in the catalog)


@lru_cache(maxsize=65536)
def _specs_of(text: str) -> list[SpecHit]:
    return find_specs(text)


def _split_aliases(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value).split("|")
    return tuple(a.strip() for a in items if a and a.strip())


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Catalog:
    """Products plus the index used to match message text against them."""

    def __init__(self, products: list[Product]):
        self.products = products
        self.by_sku = {p.sku: p for p in products}
        self.spec_index: dict[str, list[int]] = defaultdict(list)
        self.bearing_index: dict[str, list[int]] = defaultdict(list)
        self.word_index: dict[str, list[int]] = defaultdict(list)
        self.materials: dict[str, str] = {w.lower(): c for w, c in iter_vocab()}
        self._build()

    # ---- construction -------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: list[dict]) -> Catalog:
        products = []
        for r in rows:
            sku = str(r.get("sku") or "").strip()
            if not sku:
                continue
            products.append(
                Product(
                    sku=sku,
                    name=str(r.get("name") or "").strip(),
                    category=str(r.get("category") or "").strip(),
                    spec=str(r.get("spec") or "").strip(),
                    material=str(r.get("material") or "").strip(),
                    unit=str(r.get("unit") or "个").strip() or "个",
                    pack_unit=str(r.get("pack_unit") or "").strip(),
                    pack_size=_float(r.get("pack_size")),
                    price=_float(r.get("price")),
                    aliases=_split_aliases(r.get("aliases")),
                )
            )
        return cls(products)

    @classmethod
    def from_csv(cls, path: str | Path) -> Catalog:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return cls.from_rows(list(csv.DictReader(f)))

    def _build(self) -> None:
        # Catalog material cells and the aliases they contain extend the vocabulary.
        for p in self.products:
            if p.material:
                cls = material_class(p.material) or p.material
                p.material_class = cls
                self.materials.setdefault(p.material.lower(), cls)
                for a in p.aliases:
                    if len(a) >= 2 and not a.isdigit() and (a in p.material or p.material in a):
                        self.materials.setdefault(a.lower(), cls)
        # A head type no product is named by yet (沉头, 盘头) becomes a word of the products
        # that carry it; one already used as a name (内六角 for socket cap screws) stays theirs.
        named = {a for p in self.products for a in p.aliases} | {p.name.partition(" ")[0] for p in self.products}
        free_heads = [h for h in HEAD_WORDS if h not in named]
        for i, p in enumerate(self.products):
            words: set[str] = set()
            head, _, rest = p.name.partition(" ")
            if head:
                words.add(head)
            for a in p.aliases:
                if a.lower() in self.materials or a.isdigit():
                    continue
                words.add(a)
            words.update(h for h in free_heads if h in p.name or any(h in a for a in p.aliases))
            # Model names inside the name/spec (大众朗逸, 日产轩逸/骐达) and their
            # tails (轩逸), which is how people shorten brand + model.
            for part in re.split(r"[\s/,，]+", f"{rest} {p.spec}"):
                if re.search(r"\d", part):
                    continue  # 386只装, 30种规格: counts and sizes, not names
                for run in _CJK_RUN.findall(part):
                    if run.lower() in self.materials:
                        continue
                    words.add(run)
                    for k in range(1, len(run) - 1):
                        words.add(run[k:])  # 日产轩逸 → 轩逸
                        words.add(run[: k + 1])  # 丰田卡罗拉 → 丰田
            p.words = frozenset(w.lower() for w in words)
            keys: list[str] = []
            for hit in _specs_of(p.spec) + [
                h
                for a in p.aliases
                if a.lower() not in self.materials
                for h in _specs_of(a)
                if h.kind == "code"
            ]:
                if hit.key not in keys:
                    keys.append(hit.key)
                    if hit.kind == "bearing":
                        self.bearing_index[hit.base].append(i)
                    self.spec_index[hit.key].append(i)
            p.spec_keys = tuple(keys)
            for w in p.words:
                self.word_index[w].append(i)
            p.text = " ".join([p.name, p.spec, *p.aliases]).lower()
        # Every character the catalog uses to name products: a message's qualifier made of
        # these that a matched product does not carry (法兰 before 螺栓) means another product.
        self.vocab_chars: frozenset[str] = frozenset(
            ch for p in self.products for ch in p.text if "\u4e00" <= ch <= "\u9fff"
        )
        # Big spec blocks (every M8 part) get their own word index, so a message naming
        # the type (M8螺母) narrows the block without scanning it.
        self.spec_words: dict[str, dict[str, list[int]]] = {}
        blocks = list(self.spec_index.items()) + [("bearing:" + b, ids) for b, ids in self.bearing_index.items()]
        for key, ids in blocks:
            if len(ids) > BIG_BLOCK:
                sub: dict[str, list[int]] = defaultdict(list)
                for i in ids:
                    for w in self.products[i].words:
                        sub[w].append(i)
                self.spec_words[key] = dict(sub)
        # The tokenizer's vocabulary: product words and material words, longest first.
        self.lexicon: dict[str, str] = {w: "word" for w in self.word_index}
        for w, c in self.materials.items():
            self.lexicon[w] = "material:" + c
        self._lengths: dict[str, list[int]] = defaultdict(list)
        for w in self.lexicon:
            if w:
                self._lengths[w[0]].append(len(w))
        for k in self._lengths:
            self._lengths[k] = sorted(set(self._lengths[k]), reverse=True)
        self._material_res = [
            (re.compile(word_pattern(w), re.IGNORECASE), c)
            for w, c in sorted(self.materials.items(), key=lambda x: -len(x[0]))
            if re.match(r"^[\d.]+", w)
        ]

    # ---- reading text -------------------------------------------------------------
    def tokens(self, text: str) -> list[tuple[int, int, str, str]]:
        """Longest-match catalog words and material words in `text`:
        (start, end, word, kind) where kind is "word" or "material:<class>"."""
        low = text.lower()
        out = []
        i, n = 0, len(low)
        while i < n:
            lengths = self._lengths.get(low[i])
            hit = None
            if lengths:
                for ln in lengths:
                    w = low[i : i + ln]
                    if len(w) == ln and w in self.lexicon:
                        if _ASCII_WORD.match(w):
                            before = low[i - 1] if i else " "
                            after = low[i + ln] if i + ln < n else " "
                            if before.isascii() and before.isalnum() or after.isascii() and after.isalnum():
                                continue
                            if re.match(r"^[\d.]+", w) and not self._numeric_ok(low, i, ln):
                                continue
                        hit = (i, i + ln, w, self.lexicon[w])
                        break
            if hit:
                out.append(hit)
                i = hit[1]
            else:
                i += 1
        return out

    def _numeric_ok(self, low: str, i: int, ln: int) -> bool:
        """A numeric grade (304, 8.8) counts only where it is not a quantity (304个)."""
        w = low[i : i + ln]
        for rx, _c in self._material_res:
            m = rx.match(low, i)
            if m and m.end() - m.start() >= len(w):
                return True
        return False

    # ---- matching -----------------------------------------------------------------
    def match(
        self,
        specs: list[SpecHit],
        words: list[str],
        material: str | None,
        text: str,
        context_words: list[str] | None = None,
        context_material: str | None = None,
    ) -> Match:
        """Best product for one item.

        specs/words/material come from the item's own text; context_* from the item
        before it ("M8×30的也要两千" inherits 内六角 and 12.9级 softly)."""
        block: list[int] | None = None
        block_key: str | None = None
        found_spec = by_code = False
        for hit in reversed(specs):
            if hit.kind == "code":
                if hit.key in self.spec_index:
                    block = list(self.spec_index[hit.key])
                    block_key = hit.key
                    found_spec = by_code = True
                    break
                continue
            found_spec = True
            if hit.kind == "bearing" and "-" not in hit.key:
                block = list(self.bearing_index.get(hit.base, []))
                block_key = "bearing:" + hit.base
            else:
                block = list(self.spec_index.get(hit.key, []))
                block_key = hit.key
            break
        if found_spec and not block:
            return Match(None, 0.0, found_spec=True)
        if block is None:
            ids: set[int] = set()
            for w in words:
                posting = self.word_index.get(w, [])
                if len(posting) <= BLOCK_LIMIT:
                    ids.update(posting)
            if not ids:
                return Match(None, 0.0)
            block = sorted(ids)
        own = set(words)
        if len(block) > BIG_BLOCK and own:
            # A big spec block (every M20 part): keep the ones of the type named.
            narrowed = self._with_words(block_key, block, own)
            if narrowed:
                block = narrowed
        cands = [self.products[i] for i in block]
        if material:
            cands = [p for p in cands if p.material_class == material]
            if not cands:
                return Match(None, 0.0, found_spec=found_spec)
        # The line before counts softly; when this line names its own type it only
        # settles a tie (卡罗拉前片 8套 后片 6套: the rear pads of the same car).
        ctx = set(context_words or []) - own
        ctx_weight = 0.2 if own else 0.5

        def score(p: Product) -> float:
            s = sum(len(w) for w in own if w in p.words)
            s += ctx_weight * sum(len(w) for w in ctx if w in p.words)
            if not material and context_material and p.material_class == context_material:
                # The previous line's material, softly: a line naming no type of its own
                # (M6*25 三千 after 12.9级内六角) takes it whatever it is; a line of another
                # type (304 bolts, then 螺母) takes a material, not a bolt grade.
                if not own or context_material not in GRADES:
                    s += 0.75
            return s

        scored = sorted(((score(p), p) for p in cands), key=lambda x: -x[0])
        best = scored[0][0]
        if own and best == 0 and not by_code and not any(w in p.words for w in own for p in cands):
            # The type named (内六角 with a nut-only size) is not in this block.
            return Match(None, 0.0, alternatives=[p.sku for p in cands][:MAX_ALTERNATIVES], found_spec=found_spec)
        tied = [p for s, p in scored if s == best]
        if 1 < len(tied) <= 64:
            tied = self._tie_break(tied, text)
        conf = 0.95 if found_spec else 0.85
        if own and not any(w in tied[0].words for w in own):
            conf -= 0.25  # the words said match nothing here (e.g. a typo'd type name)
        if len(tied) == 1:
            margin = best - (scored[1][0] if len(scored) > 1 else 0)
            if len(scored) > 1 and margin < 1 and not material:
                conf -= 0.1
            return Match(tied[0], round(conf, 2), found_spec=found_spec)
        alts = [p.sku for p in tied][:MAX_ALTERNATIVES]
        # An open choice: the plain carbon-steel product is what an unqualified order
        # usually means, and among those the one with no series or brand to its name.
        default = [p for p in tied if p.material_class == DEFAULT_MATERIAL]
        if len({p.spec_keys for p in tied}) > 1 or len({p.name.split(" ")[0] for p in tied}) > 1:
            default = []  # the size or the type itself is open (螺母 with no size, M8的螺丝): ask
        if default:
            pick = min(default, key=lambda p: len(p.name.split()))
            if alts[0] != pick.sku:
                alts = [pick.sku] + [a for a in alts if a != pick.sku][: MAX_ALTERNATIVES - 1]
            return Match(pick, 0.5, alternatives=alts, found_spec=found_spec)
        return Match(None, 0.3, alternatives=alts, found_spec=found_spec)

    def _with_words(self, block_key: str | None, block: list[int], words: set[str]) -> list[int]:
        """Members of a big spec block that carry any of `words`, from the per-spec
        word index built with the catalog (no scan of the block)."""
        sub = self.spec_words.get(block_key or "")
        if sub is None:
            products = self.products
            return [i for i in block if not words.isdisjoint(products[i].words)]
        ids: set[int] = set()
        for w in words:
            ids.update(sub.get(w, ()))
        return sorted(ids)

    @staticmethod
    def _tie_break(tied: list[Product], text: str) -> list[Product]:
        """Among equal scores, prefer the product whose distinguishing characters the
        text uses (前 vs 后, 胶 vs 铁), then a clear rapidfuzz lead."""
        chars = set(re.findall(r"[\u4e00-\u9fff]", text))
        sets = [set(re.findall(r"[\u4e00-\u9fff]", p.text)) for p in tied]
        common = set.intersection(*sets)
        gains = [len((s - common) & chars) for s in sets]
        top = max(gains)
        if top > 0:
            tied = [p for p, g in zip(tied, gains, strict=True) if g == top]
            if len(tied) == 1:
                return tied
        low = text.lower()
        fz = [fuzz.partial_ratio(p.name.lower(), low) for p in tied]
        top_fz = max(fz)
        lead = [p for p, f in zip(tied, fz, strict=True) if f >= top_fz - 0.5]
        if len(lead) == 1 and sorted(fz)[-2] < top_fz - 5:
            return lead
        return tied

    def unit_for(self, product: Product | None, said: str | None) -> str | None:
        """Unit normalised to the catalog's spelling (see units.py)."""
        from .units import normalise_unit

        return normalise_unit(said, product.unit if product else None)
