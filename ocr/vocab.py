"""Check read text against the region vocabulary: a division name the recogniser got one
character wrong (郸都区 for 郫都区) or dropped a rare character of (成都市都区) is put back,
but only next to a division it belongs with (its parent or child read correctly), so a
street or a company name is never "corrected" into a place.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from nlp.regions import Region, Regions, load_regions

_CJK = re.compile(r"[\u4e00-\u9fff]")
_SPLIT_WORD = re.compile(r"([\u4e00-\u9fff]+)[ \u3000]+(?=([\u4e00-\u9fff]+))")
_SUFFIXES = ("省", "市", "区", "县", "旗", "州", "盟")


class RegionVocab:
    """Full division names indexed by one masked (substituted) or missing (dropped) char."""

    def __init__(self, regions: Regions) -> None:
        self.regions = regions
        self.sub: dict[str, list[Region]] = defaultdict(list)
        self.drop: dict[str, list[Region]] = defaultdict(list)
        for r in regions.by_code.values():
            name = r.name
            if len(name) < 3 or not name.endswith(_SUFFIXES):
                continue
            for i in range(len(name) - 1):            # the suffix (区, 市) is never the bad char
                self.sub[name[:i] + "?" + name[i + 1:]].append(r)
                self.drop[name[:i] + name[i + 1:]].append(r)
        self.lengths = sorted({len(r.name) for r in regions.by_code.values()}, reverse=True)

    def exact(self, text: str) -> list[tuple[int, int, list[Region]]]:
        """(start, end, divisions) for each full or short division name, longest first."""
        out, i, names = [], 0, self.regions.names
        while i < len(text):
            for ln in range(min(self.regions.max_len, len(text) - i), 1, -1):
                opts = names.get(text[i:i + ln])
                if opts:
                    out.append((i, i + ln, [r for r, _ in opts]))
                    i += ln
                    break
            else:
                i += 1
        return out


def _related(a: Region, b: Region) -> bool:
    """One division contains the other (province ⊃ city ⊃ county)."""
    if a.code == b.code:
        return False
    for x, y in ((a, b), (b, a)):
        if x.level < y.level and (x.code[:2] == y.code[:2]) and (x.level == 1 or x.code[:4] == y.code[:4]):
            return True
    return False


@lru_cache(maxsize=1)
def region_vocab() -> RegionVocab:
    return RegionVocab(load_regions())


def repair_regions(text: str, vocab: RegionVocab | None = None) -> str:
    """The text with misread division names next to a correctly read one put right."""
    vocab = vocab or region_vocab()
    for _ in range(2):                      # a fixed city can anchor its district next
        fixed = _repair_once(text, vocab)
        if fixed == text:
            break
        text = fixed
    return text


def _repair_once(text: str, vocab: RegionVocab) -> str:
    mentions = vocab.exact(text)
    for s, e, anchors in mentions:
        # never rewrite into another name read right that belongs with this one
        kin = [(ms, me) for ms, me, opts in mentions
               if (ms, me) != (s, e) and any(_related(o, a) for o in opts for a in anchors)]
        # after the anchor: a child misread; before it: a parent misread
        gap_after = len(text[e:]) - len(text[e:].lstrip())        # 成都市 郫都区: spaces between
        gap_before = len(text[:s]) - len(text[:s].rstrip())
        for after in (True, False):
            for ln in vocab.lengths:
                for cand_len, table in ((ln, vocab.sub), (ln - 1, vocab.drop)):
                    if cand_len < 2:
                        continue
                    i = e + gap_after if after else s - gap_before - cand_len
                    if i < 0 or i + cand_len > len(text):
                        continue
                    window = text[i:i + cand_len]
                    if window in vocab.regions.names or not _CJK.match(window[-1]) \
                            or any(ms < i + cand_len and i < me for ms, me in kin):
                        continue
                    found = _lookup(window, table, cand_len == ln)
                    fits = {r.code: r for r in found if any(_related(r, a) for a in anchors)}
                    if len(fits) == 1:
                        r = next(iter(fits.values()))
                        if r.name[-1] == window[-1] or cand_len < ln:
                            return text[:i] + r.name + text[i + cand_len:]
    return text


def _lookup(window: str, table: dict[str, list[Region]], substituted: bool) -> list[Region]:
    if not substituted:
        return table.get(window, [])
    out: list[Region] = []
    for k in range(len(window) - 1):
        if _CJK.match(window[k]):
            out += table.get(window[:k] + "?" + window[k + 1:], [])
    return out


# ---------------------------------------------------------------- the catalog's words


class CatalogVocab:
    """The catalog's product words, letter-led material codes and hyphenated part numbers."""

    def __init__(self, catalog) -> None:
        words: set[str] = set()
        codes: set[str] = set()
        self.parts: dict[str, set[str]] = {}
        for p in catalog.products:
            for w in (*p.name.split(), p.category, p.material, *p.aliases):
                if _CJK.search(w) and len(w) >= 2 and not re.search(r"\d", w):
                    words.add(w)
                elif re.fullmatch(r"[A-Za-z][A-Za-z]+\d*", w):
                    codes.add(w)
            for token in {p.spec, *p.spec.split()}:
                if re.search(r"\d", token) and re.search(r"[-.]", token):
                    self.parts.setdefault(_skeleton(token), set()).add(token)
        self.words = words
        self.long_words = sorted((w for w in words if len(w) >= 3), key=len, reverse=True)
        self.max_len = max((len(w) for w in words), default=0)
        self.sub: dict[str, set[str]] = defaultdict(set)
        self.drop: dict[str, set[str]] = defaultdict(set)
        for w in words:
            if len(w) < 3:
                continue
            for i in range(len(w)):
                self.sub[w[:i] + "?" + w[i + 1:]].add(w)
                self.drop[w[:i] + w[i + 1:]].add(w)
        materials = {w for p in catalog.products for w in (p.material, *p.aliases)}
        materials |= {m[2] + m[1] for w in materials if (m := re.fullmatch(r"(\d+)([\u4e00-\u9fff]+)", w))}
        tailed = sorted((w for w in materials if w[-1:].isdigit() and not w[0].isdigit()
                         and len(re.sub(r"[\d.]", "", w)) >= 2), key=len, reverse=True)
        # 不锈钢30420000: a material word that ends in digits, glued to the quantity after it
        self.glued_qty = re.compile("({})(?=\\d)".format("|".join(map(re.escape, tailed)))) \
            if tailed else None
        alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
        self.glued_code = re.compile(rf"(?<=\d)(?=(?:{alternatives})(?![A-Za-z]))") if codes else None
        self.exact_specs = {t.upper().replace("*", "×") for p in catalog.products
                            for t in (p.spec, *p.spec.split())}
        self.part_token = re.compile(r"(?<![A-Za-z0-9.×*-])[A-Za-z]{0,3}\d[0-9A-Za-z×*]{3,}(?![A-Za-z0-9.×*-])")

    def covered(self, text: str) -> list[bool]:
        """Which characters belong to a catalog word read exactly."""
        cov = [False] * len(text)
        for ln in range(min(self.max_len, len(text)), 1, -1):
            for i in range(len(text) - ln + 1):
                if not all(cov[i:i + ln]) and text[i:i + ln] in self.words:
                    for k in range(i, i + ln):
                        cov[k] = True
        return cov

    def repair(self, text: str) -> str:
        """Product text with glued codes spaced (M8×30SUS304), hyphens a fax ate put back
        (6082RS → 608-2RS) and one misread or dropped character of a catalog word fixed
        (弹篮垫圈 → 弹簧垫圈, 外角螺栓 → 外六角螺栓) where exactly one word fits."""
        if self.glued_code:
            text = self.glued_code.sub(" ", text)
        text = _SPLIT_WORD.sub(self._join, text)
        if self.glued_qty:
            text = self.glued_qty.sub(r"\1 ", text)
        text = self.part_token.sub(self._part, text)
        for _ in range(3):
            fixed = self._fix_word(text)
            if fixed == text:
                break
            text = fixed
        return text

    def _join(self, m: re.Match) -> str:
        """十字盘头 自攻螺钉 → 十字盘头自攻螺钉: one product word the recogniser read as two
        boxes (or a cell wrapped), joined when a catalog word runs across the gap."""
        a, b = m.group(1), m.group(2)
        joined = a + b
        for w in self.long_words:
            at = joined.find(w)
            while at >= 0:
                if at < len(a) < at + len(w):
                    return a                  # the space goes; b follows as it was
                at = joined.find(w, at + 1)
        return m.group(0)

    def _part(self, m: re.Match) -> str:
        """A spec or part number read without its dot or hyphens (ST35×25, 6082RS) put back,
        when exactly one catalog spec has that skeleton and the token is no spec itself."""
        token = m.group(0)
        if token.upper().replace("*", "×") in self.exact_specs:
            return token
        found = self.parts.get(_skeleton(token), set())
        return next(iter(found)) if len(found) == 1 else token

    def _fix_word(self, text: str) -> str:
        cov = self.covered(text)
        for ln in range(min(self.max_len, len(text)), 2, -1):
            for i in range(len(text) - ln + 2):
                # a misread character: same length, the odd one out not part of a known word
                window = text[i:i + ln]
                if len(window) == ln and _CJK.fullmatch(window[0]) and window not in self.words:
                    hits = set()
                    for k in range(ln):
                        if not cov[i + k] and _CJK.match(window[k]):
                            hits |= self.sub.get(window[:k] + "?" + window[k + 1:], set())
                    if len(hits) == 1:
                        return text[:i] + hits.pop() + text[i + ln:]
                # a dropped character: one shorter, with an unexplained character inside
                short = text[i:i + ln - 1]
                if len(short) == ln - 1 and not all(cov[i:i + ln - 1]) \
                        and all(_CJK.match(ch) for ch in short):
                    hits = self.drop.get(short, set())
                    if len(hits) == 1:
                        return text[:i] + next(iter(hits)) + text[i + ln - 1:]
        return text


def _skeleton(token: str) -> str:
    """A spec without the marks a recogniser loses (. and -), × spelt one way."""
    return re.sub(r"[-.\s]", "", token.upper().replace("X", "×").replace("*", "×"))


_catalog_vocabs: dict[int, tuple[object, CatalogVocab]] = {}


def catalog_vocab(catalog) -> CatalogVocab:
    """One vocabulary per catalog object (built in a few milliseconds, kept)."""
    hit = _catalog_vocabs.get(id(catalog))
    if hit is None or hit[0] is not catalog:
        if len(_catalog_vocabs) > 8:
            _catalog_vocabs.clear()
        hit = _catalog_vocabs[id(catalog)] = (catalog, CatalogVocab(catalog))
    return hit[1]
