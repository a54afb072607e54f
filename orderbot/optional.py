"""Importing modules that other parts of the project add over time (routers, handlers)."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_if_present(name: str) -> ModuleType | None:
    """The module, or None when it does not exist (yet).

    Only the absence of `name` itself (or of its parent package) is forgiven: a module that
    exists but fails to import — a typo, a missing dependency — raises, so a broken feature
    is never silently switched off.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if name == missing or name.startswith(missing + "."):
            return None
        raise
