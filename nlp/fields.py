"""Contact, company, rush and remarks: the short fields around an order."""

from __future__ import annotations

import re

from .address import TITLE
from .names import COMPOUND_SURNAMES, is_surnameless_name, surname_len
from .phone import role_before
from .regions import load_regions

_SURNAME_TITLE = rf"[\u4e00-\u9fff]{{1,2}}{TITLE}(?![业程厂地人作具艺期资位商区件部共计价线台装头])"
_OLD_YOUNG = r"[老小阿][\u4e00-\u9fff](?=[啊呀哈吧呢嘛]|(?![\u4e00-\u9fff]{2}))"
_RECEIVER = re.compile(
    r"(?:收货信息|收件信息|收货人|收件人|联系人|收货|收件|联系|对接人|姓名|找|[(（]收[)）]|(?<![\u4e00-\u9fff])收[:：])\s*(?:的是|是|为|写|叫|我们的?|我|:|：|\s)*"
    # 找项目部杨工, 收货人 仓库的老李: a department or role before the person
    r"(?:司机|仓管|库管|同事|门卫|保安|老公|老婆|师傅(?=[老小])|(?:项目部|工地上?|仓库|车间|办公室|前台|采购部?|[\u4e00-\u9fff]{1,2}部)的?(?=[\u4e00-\u9fff]{1,2}"
    + TITLE
    + r"|[老小]))?"
    rf"(?P<name>{_SURNAME_TITLE}|{_OLD_YOUNG}|(?:{'|'.join(sorted(COMPOUND_SURNAMES))})[\u4e00-\u9fff]{{1,2}}|[\u4e00-\u9fff]{{2,3}})"
)
# Characters that never stand where a surname does (问了师傅, 我们老板, 找我就行).
_NOT_SURNAME = set("了们的吗呢吧啊呀嘛在是有和跟请把给个我你他她它这那哪就也都还又再才上下里打")
# An English contact: "attn: Kevin Xu", "Contact Mr. Chen", "Frank 139-1234-0987".
_EN_HONORIFIC = r"(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+"
_EN_RECEIVER = re.compile(
    rf"\b(?:attn|contact|receiver|consignee|recipient)\b\s*[:：.]?\s*(?P<name>{_EN_HONORIFIC}|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)",
    re.IGNORECASE,
)
_EN_BEFORE_PHONE = re.compile(
    rf"(?:^|[\s,.;:，。])(?P<name>{_EN_HONORIFIC}|[A-Z][a-z]{{2,}}(?:\s+[A-Z][a-z]+)?)[\s,:：]*(?:tel|phone|mob)?[\s.:：]*$"
)
_EN_NOT_NAME = re.compile(
    r"^(?:Deliver|Delivery|Need|Please|Pls|Thanks|Thank|Hi|Hello|Dear|Contact|Tel|Phone|Mobile|Urgent|Before|By|To|Ship|Send|Attn|Call|Order|Total)\b"
)
# A vocative opening the message (王老板，这批料…): the seller addressed, not the receiver.
_VOCATIVE_END = re.compile(r"\s*[，,:：!！]")
# A title ends the name: 工 in 工业/工程 or 总 in 总部/总共 is a word, not a title.
_TITLE_END = r"(?![业程厂地人作具艺期资位商区件部共计价线台装头])"
_TITLED = re.compile(
    rf"(?<![\u4e00-\u9fff])(?P<name>[\u4e00-\u9fff]{TITLE}){_TITLE_END}(?![\u4e00-\u9fff])"
    rf"|(?:(?<![\u4e00-\u9fff])|(?<=[找是叫问系给话的]))(?P<name2>[\u4e00-\u9fff]{{1,2}}{TITLE}){_TITLE_END}"
)
_OLD = re.compile(rf"(?:(?<![\u4e00-\u9fff])|(?<=[的是叫找]))(?P<name>{_OLD_YOUNG})")
_NOT_NAME = re.compile(
    r"^(?:信息|方式|时间|日期|找|唔该|多谢|包工头|工头|老板|老板娘|老样子|老地方|老规矩|老客户|小时|小的|小件|师傅|地址|电话|手机|一下|方式|采购|我们|你们|货|收到|人|"
    r"的|送|发|要|急|加急|明天|后天|今天|谢谢|好的|下单|订单|联系|[一二三四五六七八九十两]).*"
)
_GREETED = re.compile(r"\s*(?:您好|你好|好[，,。!！\s]|好$|早上好|早[，,!！\s]|在吗|在不|在么|辛苦)")
_BAD_NAME_CHARS = re.compile(r"[的了吗呢吧啊呀嘛送发要到在是有和跟请把给个号路街区县市省镇我你他她]")
_COMPANY = re.compile(
    r"(?P<c>[\u4e00-\u9fffA-Za-z()（）]{2,30}?(?:有限责任公司|股份有限公司|有限公司|分公司|公司|集团|工厂|制造厂|厂|商行|经营部|门市部|五金店|店|工作室))"
)
_RUSH = re.compile(r"要急|急单|急着用|急等|等着用|赶时间|加急|急用|急件|急需|急要|特急|很急|挺急|比较急|着急|十万火急|火急|越快越好|尽快|赶紧|赶快|火速|要的急|急急|赶工|催|急[!！]*(?:\s|$|，|,|。)|^急")
_NOT_RUSH = re.compile(r"(?:不|别|没|无需|不必|不用|不要|不是)(?:很|太|那么|特别|是很)?(?:着急|急|赶)")
_SAME_DAY = re.compile(r"(?:今天|当天|今晚)\s*(?:必须|务必|一定要?|就要|得|要)\s*(?:发|送|到|出)")
_REMARK = re.compile(
    r"[^\n，,。；;]*(?:包装|打包|防静电|托盘|标签|唛头|备注|发票|开票|专票|普票|顺丰|到付|德邦|物流|快递|送货上门|卸货|木箱|纸箱|分开装|单独装)[^\n，,。；;]*"
)


def _clean_name(name: str) -> str | None:
    name = name.strip()
    if not name or _NOT_NAME.match(name):
        return None
    return name


def find_contact(text: str, phone_start: int | None, phone_end: int | None = None) -> str | None:
    """The receiver as written with their title (张工, 老周): one named after a
    收货人/联系人 marker wins; else a titled name next to the phone; else the first
    titled name that is not a greeting (老板, 师傅)."""
    for m in _RECEIVER.finditer(text):
        if role_before(text, m.start()) == "sender":
            continue
        name = m.group("name")
        m2 = re.match(rf"{_SURNAME_TITLE}|{_OLD_YOUNG}", name)
        if m2:
            name = m2.group(0)
        elif not _bare_name(name) and not _marked_name(text, m):
            continue  # 找我就行, 收货：138…: a name without a title starts with a surname
        name = _clean_name(name)
        if name and name not in load_regions().names:  # 收货人：郑州 马师傅
            return name
    cands: list[tuple[int, str]] = []
    for m in _TITLED.finditer(text):
        name = m.group("name") or m.group("name2")
        if m.group("name2"):
            # 'XX经理' inside a longer run: keep the surname (1 char) + title.
            title = re.search(TITLE + "$", name)
            stem = name[: title.start()] if title else name
            name = stem[-1:] + (title.group(0) if title else "")
            start = m.end() - len(name)
            if name[:1] in _NOT_SURNAME:
                continue  # 问了师傅, 我们老板: the word before a title is no surname
        else:
            start = m.start()
        name = _clean_name(name) or ""
        if text[max(0, start - 2) : start + 1].endswith(("谢谢", "麻烦", "辛苦")) or text[start - 1 : start] == name[:1]:
            continue  # 谢谢老板 is thanks, not 谢老板
        if _GREETED.match(text, start + len(name)):
            continue  # 李姐好, 王总您好: the seller greeted, not the receiver
        if not text[:start].strip() and _VOCATIVE_END.match(text, start + len(name)):
            continue  # 王老板，这批料…: the message opens by addressing the seller
        if name and not re.match(r"^[这那哪每各本该此我你他她它大]", name):
            cands.append((start, name))
    for m in re.finditer(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]生)(?!(?!收)[\u4e00-\u9fff])", text):
        if m.group(1) not in ("先生", "学生", "医生", "师生", "后生", "一生", "发生", "出生"):
            cands.append((m.start(), m.group(1)))  # Cantonese 刘生 = Mr Liu
    for m in _OLD.finditer(text):
        if _NOT_NAME.match(text[m.start() : m.start() + 4]) or text[m.start() : m.start() + 3] in ("老地址", "老位置"):
            continue  # 老地方, 老样子: a word, not a name
        name = _clean_name(m.group("name"))
        if name:
            cands.append((m.start(), name))
    # A bare name right before or after the phone (王斌 13891234567).
    if phone_start is not None:
        before = text[max(0, phone_start - 6) : phone_start]
        if phone_start > 6 and "\u4e00" <= text[phone_start - 7] <= "\u9fff":
            before = "\x00" + before  # the window starts inside a word: that is no boundary
        glued = re.search(rf"(?:[老小][\u4e00-\u9fff]|[\u4e00-\u9fff]{TITLE}|[\u4e00-\u9fff]生)\s*$", before)
        if glued and not _NOT_NAME.match(glued.group(0).strip()) and glued.group(0).strip() not in ("先生", "学生"):
            cands.append((phone_start - 1, glued.group(0).strip()))
        m = re.search(r"(?:^|[\s，,：:\n])([\u4e00-\u9fff]{2,3})\s*(?:电话|手机)?[:：，,、]?\s*$", before)
        if m and not _NOT_NAME.match(m.group(1)) and _bare_name(m.group(1)):
            cands.append((phone_start - 1, m.group(1)))
        # Names of four characters (次仁多吉, 欧阳小红) or joined by a dot (买买提·艾力).
        m = re.search(r"(?:^|[\s，,：:\n])([\u4e00-\u9fff]{2,5}·[\u4e00-\u9fff]{2,5}|[\u4e00-\u9fff]{4})\s*(?:电话|手机)?[:：，,、]?\s*$", text[max(0, phone_start - 14) : phone_start])
        if m and ("·" in m.group(1) or is_surnameless_name(m.group(1)) or surname_len(m.group(1)) == 2):
            cands.append((phone_start - 1, m.group(1)))
        after = text[phone_end : phone_end + 8] if phone_end else ""
        m4 = re.match(r"^[\s，,]*([\u4e00-\u9fff]{2,5}·[\u4e00-\u9fff]{2,5}|[\u4e00-\u9fff]{4})(?=$|[\s，,。\n])", text[phone_end : phone_end + 14] if phone_end else "")
        if m4 and ("·" in m4.group(1) or is_surnameless_name(m4.group(1)) or surname_len(m4.group(1)) == 2):
            cands.append((phone_end + 1, m4.group(1)))
        m = re.match(r"^[\s，,]*([\u4e00-\u9fff]{2,3})(?=$|[\s，,。\n])", after)
        if m and not _NOT_NAME.match(m.group(1)) and _bare_name(m.group(1)):
            cands.append((phone_end + 1, m.group(1)))
    cands += _english_contacts(text, phone_start)
    regions = load_regions().names
    cands = [c for c in cands if c[1] not in regions]  # 苏州 13912345678: a place, not a person
    if not cands:
        return None
    # On a waybill the sender's name is never the contact.
    cands = [c for c in cands if role_before(text, c[0]) != "sender"] or cands
    if phone_start is not None:
        cands.sort(key=lambda c: abs(c[0] - phone_start))
    return cands[0][1]


_MARKED_BAD = re.compile(r"[的了吗呢吧啊呀嘛送发要到在是给个我你他她号路街区县市省镇]")


def _marked_name(text: str, m: re.Match[str]) -> bool:
    """A surname and one or two more characters standing alone after a receiver label
    (收货人：苏和 139…): given names may hold characters (和, 有) that rule out a name
    elsewhere in a sentence."""
    name = m.group("name")
    k = surname_len(name)
    after = text[m.end("name") : m.end("name") + 1]
    return bool(k) and len(name) > k and not _MARKED_BAD.search(name[k:]) and (not after or after in " \t\n，,。;；:：" or after.isdigit())


def _bare_name(s: str) -> bool:
    """A name written without a title (霍晓峰, 皇甫明轩): a surname, then no word that
    cannot be in a given name (汽修, 仓库打, 上急用 are no names)."""
    if is_surnameless_name(s):
        return True
    k = surname_len(s)
    return bool(k) and (len(s) > k or k == 2) and not _BAD_NAME_CHARS.search(s[k:])  # 欧阳 alone is a name


def _english_contacts(text: str, phone_start: int | None) -> list[tuple[int, str]]:
    """English receivers: after attn/contact, or a capitalised name right before the phone."""
    out = [(m.start("name"), m.group("name")) for m in _EN_RECEIVER.finditer(text) if not _EN_NOT_NAME.match(m.group("name"))]
    if phone_start is not None:
        m = _EN_BEFORE_PHONE.search(text[max(0, phone_start - 24) : phone_start])
        if m and not _EN_NOT_NAME.match(m.group("name")):
            out.append((phone_start - 1, m.group("name")))
    return out


def find_company(text: str) -> str | None:
    m = _COMPANY.search(text)
    if not m:
        return None
    c = re.sub(r"^(?:我是|我们是|这里是|这边是|我们|来自|是)", "", m.group("c"))
    return c if len(c) >= 4 else None


def is_rush(text: str) -> bool:
    """Explicit markers or a same-day demand; negated markers (不急) are not rush."""
    if _SAME_DAY.search(text):
        return True
    cleaned = _NOT_RUSH.sub(" ", text)
    return bool(_RUSH.search(cleaned))


def find_remarks(text: str) -> str | None:
    notes = [m.group(0).strip() for m in _REMARK.finditer(text)]
    notes = [n for n in notes if n]
    return "；".join(dict.fromkeys(notes)) or None
