"""Delivery addresses: province, city and district as full official names, and the
rest of the address as written (spaces removed).

A chain of division names (江苏省常州市武进区, 常州武进, 北京大兴区, 江阴市) is found
with the region index; missing upper levels are inferred from the division codes
(武进 → 常州市 → 江苏省); municipalities give the municipality as city; county-level
cities stay in `district`. The detail is what follows, chunk by chunk, until
something that is not an address: a name with a title, a phone, a date, a marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product as cartesian

from .draft import Address
from .names import could_be_name, is_name, is_surnameless_name
from .phone import role_before
from .regions import CITY, COUNTY, PROVINCE, Region, Regions, load_regions
from .specs import find_specs

_MARKER_BEFORE = re.compile(r"(?:地址|地点|送到|送至|送往|送去|发到|发往|发去|寄到|寄往|寄去|运到|到货地|收货地|送货到|送|发|到|去)[：:\s]*$")
_ADDRESS_AFTER = re.compile(r"^\s*[\u4e00-\u9fff\dA-Za-z]{0,8}?(?:镇|街道|乡|路|街|大道|村|工业园|开发区|新区|高新区|工业区|保税区|度假区|园区|号|弄|巷|小区|社区|大厦|广场|大学|学院|医院|中学|小学|市场|花园|公寓|中心|物流园|产业园)")
_HARD_STOP = re.compile(r"[\n，,。；;！!？?]")
TITLE = r"(?:工|总|经理|师傅|先生|小姐|女士|老板|主任|老师|姐|哥|科长|部长|厂长|主管|会计|总监|老总)"
_NAME_CHUNK = re.compile(rf"^(?:[老小阿][\u4e00-\u9fff]|[\u4e00-\u9fff]{{1,3}}{TITLE}|[\u4e00-\u9fff]生)(?:[(（]收[)）])?$")
_STOP_CHUNK = re.compile(
    r"^(?:收货|收件|收[:：]|[(（]收[)）]|收$|给$|联系|电话|手机|座机|找|打电话|到了|麻烦|谢谢|老板|急|加急|越快|尽快|今天|明天|后天|大后天|下下?周|这周|本周|"
    r"这礼拜|下礼拜|周[一二三四五六日天]|星期|月底|月末|\d{1,2}月|\d{1,2}号前|前到|送到|送货|发货|要|备注|顺丰(?![路街大道村镇])|到付|"
    r"走物流|物流发|快递|包装|姓名|公司|tel|Tel|TEL|电话|微信|QQ|发票|号码|我姓|我叫|本人|[Mm]\d|ST\d|\d+(?:\.\d+)?[*xX×]\d|(?:Mr|Mrs|Ms|Miss|Attn|ATTN|attn|Contact|contact|Phone|phone|Tel)\b"
    # A Latin name after a Chinese address (…66号 Ann Wu, …号 Tony): the receiver, not the street.
    r"|[A-Z][a-z]+(?:\d|$)"
    # 马鞍山来的老周, 湖州的老钱: a person introduced by where they are from
    r"|[\u4e00-\u9fff]{1,6}的[老小阿][\u4e00-\u9fff]$)"
)
_PHONEISH = re.compile(r"^[+\d][\d\s-]{6,}$")
# What can follow the last address word (号, 室, 楼…) inside one chunk without a space:
# a name, a marker, a date, or the order itself (88号明天送, 88号M8螺母). 仓库收 ending the
# address is where it goes (the warehouse receives), written as part of it, and stays.
_INNER_NAME = re.compile(
    rf"(?<=[号室楼弄院栋幢层库座])(?:[(（]收[)）]|(?<!库)收(?!到)|(?<=库)收(?!到|$)|[老小][\u4e00-\u9fff]|[\u4e00-\u9fff]{{1,3}}{TITLE}|收货人|收件人|联系人|联系|收货|收件|找|电话|手机|[\u4e00-\u9fff]生(?=[\d+]|$)"
    r"|今天|明天|后天|大后天|下下?周|这周|本周|月底|急|要|送到|送货|号码|我姓|我叫|本人|[Mm]\d|\d+(?:\.\d+)?[*xX×]"
    r"|(?<![A-Za-z])[A-Z][a-z]+(?:[A-Z][a-z]+)?$).*$"
)

_DETAIL_LINE = re.compile(r"[ \t]*\n[ \t]*(?:详细地址|街道地址|详细|地址)[：:\s]*")
# A contact marker glued to any address word (汽配城电话…, 仓库收货人…) ends the address.
_INNER_MARKER = re.compile(r"电话|手机|座机|联系人|联系电话|收货人|收件人")


@dataclass
class _Mention:
    start: int
    end: int
    options: list[tuple[Region, bool]]


def _mentions(text: str, regions: Regions) -> list[_Mention]:
    out: list[_Mention] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] not in regions.first_chars:
            i += 1
            continue
        found = _longest_at(text, i, regions)
        if found and not any(full for _r, full in found.options):
            # 姚爱武江西省: a short name (武江) cut through by a full one (江西省) is not one.
            for j in range(i + 1, found.end):
                other = _longest_at(text, j, regions)
                if other and other.end > found.end and any(full for _r, full in other.options):
                    found = None
                    break
        if found and not any(full for _r, full in found.options) and _STREET_AFTER.match(text, found.end):
            found = None  # 白云大道北, 中山北路: a street named after a place, not the place
        if found:
            out.append(found)
            i = found.end
        else:
            i += 1
    return out


_STREET_AFTER = re.compile(r"[东南西北中]{0,2}(?:大道|大街|路|街|巷)")


_OUTSIDE_MAINLAND = ("71", "81", "82")  # Taiwan, Hong Kong, Macau: no deliveries by this desk's couriers


def _longest_at(text: str, i: int, regions: Regions) -> _Mention | None:
    for ln in regions.lengths.get(text[i], ()):
        if ln >= 2 and i + ln <= len(text):
            opts = regions.names.get(text[i : i + ln])
            if opts:
                return _Mention(i, i + ln, opts)
    return None


def _consistent(parent: Region, child: Region) -> bool:
    if child.level <= parent.level and not (parent.level == PROVINCE and child.level == CITY and parent.code[:2] == child.code[:2]):
        # 北京 (province) then 北京 (city) is fine; anything else must go deeper.
        return False
    if parent.level == PROVINCE:
        return child.code[:2] == parent.code[:2]
    if parent.level == CITY:
        return child.code[:4] == parent.code[:4]
    return False


def _chains(text: str, ms: list[_Mention]):
    """For each run of adjacent mentions, its longest nesting prefix:
    (score, picks, start, end)."""
    out = []
    s = 0
    while s < len(ms):
        run = [ms[s]]
        for k in range(s + 1, len(ms)):
            gap = text[run[-1].end : ms[k].start]
            if len(gap.strip()) > 0 or len(gap) > 2:
                break
            run.append(ms[k])
        found = None
        for length in range(min(len(run), 4), 0, -1):
            sub = run[:length]
            choices = None
            for combo in cartesian(*[m.options for m in sub]):
                if all(_consistent(combo[j][0], combo[j + 1][0]) for j in range(len(combo) - 1)):
                    sc = _score(combo)
                    if choices is None or sc > choices[0]:
                        choices = (sc, combo)
            if choices:
                found = (choices[0], list(choices[1]), sub[0].start, sub[-1].end)
                out.append(found)
                break
        s += len(found[1]) if found else 1
    return out


_RECEIVER_BEFORE = re.compile(r"(?:收货|收件|送货|送到|送至|发到|发往|寄到|寄往|运到|到货)[^\n]{0,30}$")
_SENDER_BEFORE = re.compile(r"(?:发货地|发货人|寄件|发件|公司地址|我司|厂址|我们在|我们是|退货)[^\n]{0,30}$")


def _score(combo) -> float:
    sc = 0.0
    for r, full in combo:
        sc += 2 if full else 1
        if r.level == COUNTY and not full:
            sc -= 0.25
    return sc + 0.5 * (len(combo) - 1)


def _detail(text: str, start: int) -> tuple[str, int]:
    """The address remainder from `start`: chunks until a stop; returns (detail, end)."""
    stop = _HARD_STOP.search(text, start)
    while stop and stop.group(0) in ",，" and _continues(text, stop.end()):
        stop = _HARD_STOP.search(text, stop.end())  # 服务区,天池林场对面: one address
    seg_end = stop.start() if stop else len(text)
    seg = text[start:seg_end]
    chunks = [(m.start() + start, m.end() + start, m.group(0)) for m in re.finditer(r"\S+", seg)]
    kept: list[str] = []
    end = start
    for idx, (cs, ce, chunk) in enumerate(chunks):
        chunk = chunk.lstrip("：:")
        if chunk in ("/", "|", "-", "--"):
            break  # …长江中路 9号 / Mr. Wang: a field separator
        if re.search(r"[\u4e00-\u9fff\d][./|]$", chunk):
            # …工农路88号. Contact: an English sentence or field ends after the address.
            kept.append(chunk[:-1])
            end = ce - 1
            break
        if not chunk:
            continue
        nxt = chunks[idx + 1][2] if idx + 1 < len(chunks) else ""
        if _STOP_CHUNK.match(chunk) or _PHONEISH.match(chunk) or _NAME_CHUNK.match(chunk):
            break
        if _is_order_chunk(chunk):
            break  # 杨桥东路20号 6203zz 60只: the order goes on after the address
        if kept and _NUMBERED.search(kept[-1]) and _is_request_chunk(chunk):
            break  # 长虹路88号 下午送 / 货到付款 / 开专票: a request after the house number
        named = load_regions().names.get(re.sub(r"(?:这边|那边|这里|那里|一带)$", "", chunk.strip("()（）的")), [])
        if not kept and any(r.level in (PROVINCE, CITY) for r, _f in named):
            continue  # 鼓楼区 福州 杨桥东路…: the city after a district is its hint, the street follows
        if any(r.level in (PROVINCE, CITY) for r, _f in named) and (
            not re.match(r"[路街道巷弄号\d]", nxt) or _PHONEISH.match(nxt) or re.match(r"0\d{2,3}-|1[3-9]\d{9}", nxt)
        ):
            break  # 中山北路8号 南京: a city named after the street is a hint, not the street
        tail = re.search(r"[(（]([\u4e00-\u9fff]{2,8})[)）]$", chunk)
        if tail and tail.start() > 0 and load_regions().names.get(tail.group(1)):
            kept.append(chunk[: tail.start()])
            end = cs + tail.start()
            break
        # A name right before a phone ends the address; 汽配店, 仓库 (address words) do not.
        if ((re.fullmatch(r"[\u4e00-\u9fff]{2,3}", chunk) and (is_name(chunk) or could_be_name(chunk))) or is_surnameless_name(chunk)) and (_PHONEISH.match(nxt) or re.match(r"^1\d{10}", nxt)):
            break  # a bare name right before a phone number
        found = [x for x in (_INNER_MARKER.search(chunk, 1), _INNER_NAME.search(chunk)) if x]
        m = min(found, key=lambda x: x.start()) if found else None
        if m:
            kept.append(chunk[: m.start()])
            end = cs + m.start()
            break
        # A phone glued to the chunk (…37号18513386163, …62-213264429666林…): the address ends there.
        m = re.search(r"(?:\+?86)?1[3-9]\d{9}(?!\d)|0\d{2,3}-?\d{7,8}$", chunk)
        if m and m.start() > 0:
            kept.append(chunk[: m.start()])
            end = cs + m.start()
            break
        kept.append(chunk)
        end = ce
    return "".join(kept), end


_COUNT_CHUNK = re.compile(r"^\d+(?:\.\d+)?\s*(?:个|只|套|箱|盒|包|件|片|颗|粒|支|根|条|pcs|PCS|Pcs)$")


def _is_order_chunk(chunk: str) -> bool:
    """A chunk of the order (6203zz, 钻尾5.5*25镀锌, 60只), not of the address."""
    if re.search(r"\d[号室楼弄栋幢层院座]", chunk):
        return False  # 海天大道681号: a house number, though 681 is also a bearing
    return bool(_COUNT_CHUNK.match(chunk)) or any(h.kind in ("dims", "bearing") for h in find_specs(chunk))


# After the house number (88号, 302室) a chunk that opens with a request is talk, not
# more address (下午送, 货到付款, 放门卫, 电联); places (工地, 汽配城B区, 东门) go on.
_NUMBERED = re.compile(r"\d\s*[号室楼弄栋幢层座]$")
_REQUEST_START = re.compile(
    r"^(?:[上下中]午|早上|晚上|白天|工作日|周[一二三四五六日天]|送|发|到了|打|电联|联系|货到|到付|付款|开票|开专票|开普票|开发票|"
    r"卸货|需要|请|麻烦|谢谢|尽快|帮忙|帮|放|交给|门卫|收货|签收|务必|记得)"
)


def _is_request_chunk(chunk: str) -> bool:
    """A chunk of talk after the house number, not a place."""
    return bool(_REQUEST_START.match(chunk))


_CONTINUATION = re.compile(r"[\u4e00-\u9fffA-Za-z\d\-]{2,20}(?=[\s，,。；;！!？?]|$)")
_PLACE_WORD = re.compile(r"路|街|巷|弄|号|室|楼|栋|幢|层|单元|村|组|林场|园|对面|旁边|附近|米|路口|交叉口|门口|大厦|广场|小区")
_NOT_PLACE = re.compile(r"\d+\s*(?:个|只|套|箱|盒|包|件|片|pcs)|明天|后天|今天|周[一二三四五六日天]|星期|下周|月底|\d+月|急|谢谢|麻烦|电话|手机|收货|联系|老板|师傅|[Mm]\d")


def _continues(text: str, pos: int) -> bool:
    """The part after a comma is more of the same address (…3楼106室,204室-208室), not
    the next field: a short run of address words with no name, phone, date or order."""
    m = _CONTINUATION.match(text, pos)
    if not m:
        return False
    part = m.group(0)
    if not _PLACE_WORD.search(part) or _NOT_PLACE.search(part) or re.search(r"1[3-9]\d{9}|\d{7,}", part):
        return False
    return not (_STOP_CHUNK.match(part) or _NAME_CHUNK.match(part))


def ms_at(ms: list[_Mention], start: int) -> _Mention:
    return next(m for m in ms if m.start == start)


@dataclass
class AddressHit:
    address: Address
    start: int
    end: int


def find_address(text: str, regions: Regions | None = None, hints: tuple[str, ...] = ()) -> AddressHit | None:
    """The delivery address in `text`, or None. `hints` are city names known from
    elsewhere (a landline's area code) that settle an ambiguous district."""
    regions = regions or load_regions()
    ms = _mentions(text, regions)
    best = None
    for chain in _chains(text, ms):
        sc, combo, start, end = chain
        single = len(combo) == 1
        r, full = combo[-1]
        before = text[max(0, start - 6) : start]
        if single and not full:
            # A lone short name must start a word (湘江道与阿里山大街 is not 阿里地区).
            starts_word = not before or not re.match(r"[\u4e00-\u9fff]", before[-1]) or bool(_MARKER_BEFORE.search(before))
            accept = starts_word and bool(_ADDRESS_AFTER.match(text[end:]) or _MARKER_BEFORE.search(before))
        else:
            accept = not single or r.level in (CITY, COUNTY) or bool(_ADDRESS_AFTER.match(text[end:]))
        if single and r.level == PROVINCE and not _ADDRESS_AFTER.match(text[end:]):
            accept = False  # 发物流到新疆要几天: a province named in talk is not an address
        if not accept:
            continue
        # The receiver's address beats the sender's when a message gives both.
        line_start = text.rfind("\n", 0, start) + 1
        wide = text[max(0, start - 14) : start]
        if start - line_start < 40:
            wide = text[line_start:start]  # a waybill's 收件人：… line, marker far before
        sc += 3 if _RECEIVER_BEFORE.search(wide) else 0
        sc -= 3 if _SENDER_BEFORE.search(wide) else 0
        role = role_before(text, start)
        sc += {"receiver": 2, "sender": -2}.get(role or "", 0)
        if best is not None and best[1][-1][0].code == r.code and _repeats_inside(text, best[3], start):
            continue  # …松湖镇江西省南昌市…: the same place again inside the first address's detail
        if best is None or sc > best[0]:
            best = (sc, combo, start, end)
    if best:
        sc, combo, start, end = best
        r = combo[-1][0]
        options = [o for o in ms_at(ms, start).options if o[0].level == r.level]
        ambiguous = len(combo) == 1 and len({o[0].code[:4] for o in options}) > 1
        if ambiguous:
            extra = [_Mention(-1, -1, regions.names[h]) for h in hints if h in regions.names]
            hinted = _hinted(options, [m for m in ms if m.start != start] + extra)
            mainland = [o for o in options if not o[0].code.startswith(_OUTSIDE_MAINLAND)]
            if not hinted and len({o[0].code[:4] for o in mainland}) == 1:
                hinted = mainland[0]  # 永康 alone: 永康市 in Zhejiang, not 永康区 in Tainan
            if hinted:
                combo, ambiguous = [hinted], False
        return _build(text, combo, start, end, regions, ambiguous)
    m = re.search(r"(?:收货地址|送货地址|地址)[：:\s]*", text)
    if m:
        detail, dend = _detail(text, m.end())
        if detail and re.search(r"(路|街|道|号|弄|巷|村|镇|园|大厦)", detail):
            return AddressHit(Address(None, None, None, detail, text[m.end() : dend].strip()), m.end(), dend)
    return None


def _repeats_inside(text: str, first_end: int, start: int) -> bool:
    """Whether a place named at `start` lies inside the detail of the same place named
    first, when that detail reads as an address (松湖镇…), not as talk (的老俞啊要…)."""
    if not _ADDRESS_AFTER.match(text[first_end:]):
        return False
    _detail_text, dend = _detail(text, first_end)
    return start < dend


def _hinted(options, others: list[_Mention]):
    """The one reading of an ambiguous name (鼓楼区: 南京, 福州, 徐州, 开封) that another
    place named in the message (南京, 福州市, 江苏) points at; None if no single one."""
    for level in (CITY, PROVINCE):
        hints = {o.code[: 4 if level == CITY else 2] for m in others for o, _full in m.options if o.level == level}
        fits = [opt for opt in options if opt[0].code[: 4 if level == CITY else 2] in hints]
        if len({opt[0].code for opt in fits}) == 1:
            return fits[0]
    return None


# Some word of a street, a building or a place (or a number) in every address detail.
_ADDRESS_WORD = re.compile(
    r"\d|[零一二三四五六七八九十百]+[号弄]|[路街道巷弄号室楼栋幢层村组园区镇乡厦场院站城馆店厂库门苑府居庄湾岛桥坊堂所局司部段里屯寨营圩埠口湖山塘港坝洲旁边侧行团盘厅队连社会殿寺阁亭]"
    r"|小区|单元|中心|市场|花园|公寓|大学|学院|学校|中学|小学|对面|旁边|附近"
)


_TALK = re.compile(r"^[了的吗呢啊吧呀嘛哦哈]|以后|下次|我们|你们|一下|的话|时候")


def _build(text: str, combo, start: int, end: int, regions: Regions, ambiguous: bool = False) -> AddressHit:
    deepest = combo[-1][0]
    province = regions.province_of(deepest)
    city: Region | None = None
    district: Region | None = None
    if deepest.level == COUNTY:
        district = deepest
        city = regions.parent_city(deepest)
    elif deepest.level == CITY:
        city = deepest
    elif deepest.level == PROVINCE:
        # A municipality named alone is also its own city.
        city = regions.by_code.get(deepest.code[:2] + "0100") if deepest.name.endswith("市") else None
    if ambiguous:
        province = city = None  # 西湖区 alone: Hangzhou or Nanchang? say only what is known
    detail, dend = _detail(text, end)
    if not detail:
        # A form with the region on one line and the street on the next (地区：… / 详细地址：…).
        nxt = _DETAIL_LINE.match(text, end)
        if nxt:
            detail, dend = _detail(text, nxt.end())
    if detail and not _ADDRESS_WORD.search(detail) and _TALK.search(detail):
        detail = None  # 搬到昆山了 以后…: talk after a place name, no street in it
    raw = re.sub(r"\s+", "", text[start:dend])
    return AddressHit(
        Address(
            province=province.name if province else None,
            city=city.name if city else None,
            district=district.name if district else None,
            detail=detail or None,
            raw=raw,
        ),
        start,
        dend,
    )
