"""The routing table as a file that changes without a deploy (ORDERBOT_ROUTING_RULES).

`RulesFile.current()` stats the file on each call and re-reads it when its mtime or size
changed, so an edit takes effect on the next order in every process. A file that fails to
parse or validate is logged and ignored: the last good table stays in force, an operator's
typo never stops routing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from orders.routing import RuleSet

log = logging.getLogger(__name__)

DEFAULT_RULES_PATH = Path(__file__).with_name("routing_rules.yaml")


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Parse and validate one rule file (YAML, so JSON works too)."""
    text = Path(path).read_text(encoding="utf-8")
    data: Any = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the rule file must be a mapping with a 'rules' list")
    return RuleSet.from_dict(data)


class RulesFile:
    """A rule file and the last good table read from it."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else DEFAULT_RULES_PATH
        self._stamp: tuple[int, int] | None = None
        self._rules: RuleSet | None = None
        self.last_error: str | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> RuleSet:
        """The table in force now, re-read if the file changed since the last call."""
        stamp = self._stat()
        if self._rules is not None and stamp == self._stamp:
            return self._rules
        try:
            rules = load_rules(self.path)
        except (OSError, ValueError, ValidationError, yaml.YAMLError) as exc:
            self.last_error = str(exc)
            if self._rules is None:
                raise
            log.error("routing rules %s not reloaded, keeping version %r: %s",
                      self.path, self._rules.version, exc)
            self._stamp = stamp  # do not re-parse the same broken file on every call
            return self._rules
        if self._rules is not None:
            log.info("routing rules reloaded from %s (version %r)", self.path, rules.version)
        self._rules, self._stamp, self.last_error = rules, stamp, None
        return rules


def rules_file_from_settings(settings: Any) -> RulesFile:
    """The configured file (ORDERBOT_ROUTING_RULES), else the shipped default."""
    return RulesFile(getattr(settings, "routing_rules", "") or None)
