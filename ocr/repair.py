"""Undo the recogniser's habitual confusions before nlp reads the text.

Only confusions seen on our rendered faxes and photos, each unambiguous in this
domain: a zero before 型 is the letter O (O型圈), 晴 in a rubber name is 腈 (丁腈橡胶),
禹 after 番 is 禺 (番禺区). Spacing between a size and a grade that the recogniser
drops is restored separately (pipeline.unglue).
"""

from __future__ import annotations

import re

_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\d.])0(?=型)"), "O"),
    (re.compile(r"丁晴"), "丁腈"),
    (re.compile(r"番禹"), "番禺"),
    (re.compile(r"(?<=\d)[xX](?=\d)"), "×"),
)


def repair_text(text: str) -> str:
    for pattern, replacement in _FIXES:
        text = pattern.sub(replacement, text)
    return text
