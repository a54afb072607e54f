"""Pasted chat logs and quoted messages: what in them is not today's order.

A customer often pastes a stretch of conversation: speaker/timestamp lines
("王建军 2026-03-20 09:12", "[09:01] 刘老板:", "10:15:22 小郑"), earlier days'
messages (last week's order, already delivered), the seller's replies, and WeChat
quotes of earlier messages ("「陈工：M6*16 两千个」", "引用 吴老板 的消息：…").
The order is what is said today: speaker lines, quotes, and blocks dated before the
day the message arrived are spans for every extractor to skip.
"""

from __future__ import annotations

import datetime as dt
import re

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_DATE = r"(?:20\d\d\s*[-/.年]\s*)?\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
_DATE_PARTS = re.compile(r"(?:(20\d\d)\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_NAME = r"[^\s\d:：\[\]【】]{1,12}(?:\s*[(（][^)）\n]{1,8}[)）])?"
_TALK = re.compile(r"[送到发要前后]")
# A whole line naming who spoke and when: "王建军 2026-03-20 09:12", "赵经理 6/9 14:20",
# "2026/6/24 17:30 小甘(采购)", "10:15:22 小郑", "销售 王丽 08:30".
_SPEAKER_LINE = re.compile(
    rf"(?m)^[ \t]*(?:(?P<n1>(?:{_NAME}[ \t]+){{0,2}}){_DATE}[ \t]+{_TIME}[ \t]*[:：]?"
    rf"|(?:{_DATE}[ \t]+)?{_TIME}[ \t]+(?P<n2>(?:{_NAME}[ \t]*){{1,2}})[:：]?"
    rf"|(?P<n3>(?:{_NAME}[ \t]+){{1,2}}){_TIME}[ \t]*[:：]?)[ \t]*$"
)
# A line opening with the time and the speaker, the message after it: "[09:01] 刘老板: 在吗".
_SPEAKER_PREFIX = re.compile(rf"(?m)^[ \t]*[\[【(]?{_TIME}[\]】)]?[ \t]*{_NAME}[ \t]*[:：]")
# WeChat quotes: 「name：text」 (the reply below a dashed rule), 引用 X 的消息：text.
_QUOTE = re.compile(r"(?m)「[^」\n]{1,16}[:：][^」]*」|^[ \t]*引用[^\n]{0,20}?的消息[:：][^\n]*$|^[ \t]*(?:-[ \t]*){3,}$")


def _speaker_lines(text: str) -> list[re.Match[str]]:
    out = []
    for m in _SPEAKER_LINE.finditer(text):
        names = m.group("n1") or m.group("n2") or m.group("n3") or ""
        if not _TALK.search(names):
            out.append(m)
    return out


def _date_of(m: re.Match[str], today: dt.date) -> dt.date | None:
    d = _DATE_PARTS.search(re.sub(_TIME, " ", m.group(0)))
    if not d:
        return None
    try:
        return dt.date(int(d.group(1) or today.year), int(d.group(2)), int(d.group(3)))
    except ValueError:
        return None


def chat_spans(text: str, today: dt.date) -> list[tuple[int, int]]:
    """Spans of `text` that are not today's order: speaker lines, quotes, and the
    messages under speaker lines dated before `today` (kept when every block is old:
    then the whole paste is the order)."""
    spans: list[tuple[int, int]] = [(m.start(), m.end()) for m in _QUOTE.finditer(text)]
    spans += [(m.start(), m.end()) for m in _SPEAKER_PREFIX.finditer(text)]
    heads = _speaker_lines(text)
    spans += [(m.start(), m.end()) for m in heads]
    blocks = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        day = _date_of(m, today)
        blocks.append((m.end(), end, day is not None and day < today))
    if any(not old for *_span, old in blocks):
        spans += [(s, e) for s, e, old in blocks if old]
    return spans
