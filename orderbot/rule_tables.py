"""Rule tables kept as YAML files that change without a deploy (prices, risk holds).

`TableFile.current()` stats the file on each call and re-reads it when its mtime or size
changed. A file that fails to parse or validate is logged with the line of the offending
rule and ignored: the last good table stays in force. Errors name the line because the
person fixing them is looking at the file, not at a pydantic location tuple.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError

log = logging.getLogger(__name__)

T = TypeVar("T")


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file and the line."""


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along a validation error's location."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_table(path: str | os.PathLike[str], parse: Callable[[dict[str, Any]], T]) -> T:
    """Read, parse and validate one rule file; RuleFileError names the line on failure."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise RuleFileError(f"{path}{where}: not valid YAML: {exc.problem or exc}") from exc
    if not isinstance(data, dict):
        raise RuleFileError(f"{path} line 1: the rule file must be a mapping (version, rules…)")
    try:
        return parse(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            # A model-level check (e.g. "a ladder rule needs…") reports the rule itself.
            line = _line_of(root, loc)
            field = ".".join(str(p) for p in loc) or "(file)"
            msg = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{path} line {line}: {field}: {msg}")
        raise RuleFileError("\n".join(parts)) from exc
    except ValueError as exc:
        raise RuleFileError(f"{path}: {exc}") from exc


class TableFile(Generic[T]):
    """A rule file and the last good table read from it."""

    def __init__(self, path: str | os.PathLike[str], parse: Callable[[dict[str, Any]], T], what: str) -> None:
        self.path, self.parse, self.what = Path(path), parse, what
        self._stamp: tuple[int, int] | None = None
        self._table: T | None = None
        self.last_error: str | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> T:
        """The table in force now, re-read if the file changed since the last call."""
        stamp = self._stat()
        if self._table is not None and stamp == self._stamp:
            return self._table
        try:
            table = load_table(self.path, self.parse)
        except (OSError, RuleFileError) as exc:
            self.last_error = str(exc)
            if self._table is None:
                raise
            log.error("%s %s not reloaded, keeping version %r: %s", self.what, self.path,
                      getattr(self._table, "version", None), exc)
            self._stamp = stamp  # do not re-parse the same broken file on every call
            return self._table
        if self._table is not None:
            log.info("%s reloaded from %s (version %r)", self.what, self.path, getattr(table, "version", None))
        self._table, self._stamp, self.last_error = table, stamp, None
        return table


class TableKind(Generic[T]):
    """One kind of table: its shipped file, its parser and the setting naming a replacement."""

    def __init__(self, default_path: Path, parse: Callable[[dict[str, Any]], T], what: str, setting: str) -> None:
        self.default_path, self.parse, self.what, self.setting = default_path, parse, what, setting

    def load(self, path: str | os.PathLike[str]) -> T:
        return load_table(path, self.parse)

    def file(self, path: str | os.PathLike[str] | None = None) -> TableFile[T]:
        return TableFile(path or self.default_path, self.parse, self.what)

    def from_settings(self, settings: Any) -> TableFile[T]:
        """The configured file (e.g. ORDERBOT_PRICE_RULES), else the shipped default."""
        return self.file(getattr(settings, self.setting, "") or None)


def check_file(path: str | os.PathLike[str], load: Callable[[str | os.PathLike[str]], T]) -> T | None:
    """For the checker CLIs: the table, or None after printing INVALID and the error."""
    try:
        return load(path)
    except (OSError, RuleFileError) as exc:
        print(f"INVALID {exc}" if isinstance(exc, RuleFileError) else f"INVALID {path}: {exc}")
        return None


def checker(
    prog: str, doc: str | None, default: Path, explain_help: str, argv: list[str] | None,
    load: Callable[[str | os.PathLike[str]], T],
) -> tuple[argparse.Namespace, T | None]:
    """The checker CLIs' common part: `prog [FILE] [--explain FIELD=VALUE …]`, the file loaded
    (None after printing INVALID and the error)."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default=str(default))
    parser.add_argument("--explain", nargs="*", metavar="FIELD=VALUE", help=explain_help)
    args = parser.parse_args(argv)
    return args, check_file(args.file, load)


def explain_args(items: list[str] | None) -> dict[str, str]:
    """`key=value` words of an --explain option as a dict."""
    return dict(item.split("=", 1) for item in items or [] if "=" in item)
