"""Value rules of mini-program subscribe-message fields, keyed by the field's type prefix
(thing1, phrase2, character_string3...), as the platform enforces them (47003).

A wrong value here is the most common way a subscribe push fails in production (a product
name longer than 20 characters in a thing field, Chinese in a character_string), so the
stand-in refuses it as WeChat does instead of letting tests pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

CJK = re.compile(r"[\u3400-\u9fff]")


def _re(pattern: str, limit: int) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda v: len(v) <= limit and bool(compiled.fullmatch(v))


RULES: dict[str, Callable[[str], bool]] = {
    "thing": lambda v: len(v) <= 20,
    "number": _re(r"-?\d+(\.\d+)?", 32),
    "letter": _re(r"[A-Za-z]+", 32),
    "symbol": lambda v: len(v) <= 5 and not re.search(r"[\w\u3400-\u9fff]", v),
    "character_string": _re(r"[\x21-\x7e]+", 32),
    "time": _re(r"[\d年月日:：\-/ ~.]+", 40),
    "date": _re(r"[\d年月日:：\-/ ~.]+", 40),
    "amount": _re(r"[¥￥$€£]?\d{1,10}(\.\d+)?元?", 16),
    "phone_number": _re(r"[\d+\-() ]+", 17),
    "car_number": lambda v: len(v) <= 8,
    "name": lambda v: len(v) <= (10 if CJK.search(v) else 20),
    "phrase": _re(r"[\u3400-\u9fff]+", 5),
}
TYPE = re.compile(r"([a-z_]+?)\d+")


def invalid_field(data: dict[str, Any]) -> str | None:
    """WeChat's errmsg for the first bad field, or None when every value fits its type."""
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        if value is None or str(value) == "":
            return f"argument invalid! data.{key}.value is empty"
        match = TYPE.fullmatch(key)
        rule = RULES.get(match.group(1)) if match else None
        if rule is not None and not rule(str(value)):
            return f"argument invalid! data.{key}.value invalid"
    return None
