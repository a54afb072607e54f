"""The receiver's name on a waybill line, where name, phone and address are glued
together in any order (`18967123456钱美玲安徽省芜湖市镜湖区北京西路7号`,
`…解放路12号林晓东13757712345`).

The line is cut at the phone numbers and the address; what is left are short runs of
characters ("islands"). An island touching a phone or the address that reads as a
bare name (names.is_name) is the name. When no island is one, the name may be glued
to the end of the address detail (…王庄村李丽颖): names.split_tail_name takes it off.
"""

from __future__ import annotations

import re

from .address import AddressHit
from .names import could_be_name, is_name, is_talk, split_tail_name
from .phone import PhoneHit

_MARKER = re.compile(r"^(?:收货人|收件人|联系人|收货|收件|姓名|名字|收)[:：]?")
_ISLAND = re.compile(r"[\u4e00-\u9fff]+(?:[·•・][\u4e00-\u9fff]+)?")
_RECEIVED = re.compile(r"[(（]收[)）]|(?<=[\u4e00-\u9fff])收(?![\u4e00-\u9fff])")


def glued_name(
    text: str, addr: AddressHit | None, phones: list[PhoneHit], tail: bool = True
) -> tuple[str | None, str | None]:
    """(name, detail without the name) for a waybill-style line; (None, None) when the
    line does not read that way. The detail is returned only when it changed."""
    anchors = [(h.start, h.end) for h in phones]
    if addr:
        anchors.append((addr.start, addr.end))
    if not anchors:
        return None, None
    first = min(s for s, _e in anchors)
    line_start = text.rfind("\n", 0, first) + 1
    line_end = text.find("\n", first)
    line_end = len(text) if line_end < 0 else line_end
    chars = list(text)
    for s, e in anchors:
        for i in range(s, min(e, len(chars))):
            chars[i] = "\x00"
    masked = _RECEIVED.sub(lambda m: " " * len(m.group(0)), "".join(chars))  # 林晓东(收): 收 marks the receiver
    islands = list(_ISLAND.finditer(masked, line_start, line_end))
    # A line that is nothing but name, phone and address (separated or not) is a waybill.
    bare = len(islands) <= 2 and (
        sum(len(m.group(0)) for m in islands) <= 5 or (len(islands) == 1 and is_name(islands[0].group(0)))
    )  # 买买提·艾力 is one name of six characters
    fits = []
    for m in islands:
        run = _MARKER.sub("", m.group(0))
        glued = masked[m.start() - 1 : m.start()] == "\x00" or masked[m.end() : m.end() + 1] == "\x00"
        sep = " \t,，;；、\x00"
        bounded = (m.start() == line_start or masked[m.start() - 1] in sep) and (
            m.end() == line_end or masked[m.end() : m.end() + 1] in sep
        )
        if (glued or bare) and bounded:
            fits.append(run)
    for run in fits:
        if is_name(run) and not is_talk(run):  # 明天 has a surname's shape, not a name's sense
            return run, None
    if bare and len(fits) == 1 and could_be_name(fits[0]):
        return fits[0], None  # the one word on a waybill line: a name whose surname the list lacks
    if tail and addr and addr.address.detail:
        after = text[addr.end : addr.end + 1]
        at_phone = any(h.start == addr.end for h in phones)
        if phones and (at_phone or not after.strip()):
            split = split_tail_name(_RECEIVED.sub("", addr.address.detail))
            if split:
                return split[1], split[0]
    return None, None
