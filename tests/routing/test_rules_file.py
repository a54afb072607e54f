"""The rule file is re-read when it changes, and a broken edit never stops routing."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from orderbot.routing_rules import RulesFile, rules_file_from_settings
from orderbot.settings import Settings
from orders.routing import OrderFacts, route

from .test_routing import REPS

ONE = """
version: v1
fallback_team: general
rules:
  - {id: gd, provinces: [广东], team: south}
"""
TWO = """
version: v2
fallback_team: general
rules:
  - {id: gd-north, provinces: [广东], team: north}
"""


def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()  # make the change visible even on coarse-mtime filesystems
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))


def test_rules_reload_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, ONE, 0)
    rules = RulesFile(path)
    order = OrderFacts(amount=Decimal(100), province="广东省")
    assert route(order, rules.current(), REPS).rule_id == "gd"
    assert rules.current() is rules.current()  # unchanged file: not re-parsed

    _write(path, TWO, 2)
    assert rules.current().version == "v2"
    assert route(order, rules.current(), REPS).rule_id == "gd-north"


def test_a_broken_edit_keeps_the_last_good_table(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, ONE, 0)
    rules = RulesFile(path)
    assert rules.current().version == "v1"
    _write(path, "rules:\n  - {id: x}\n", 2)  # no target: invalid
    assert rules.current().version == "v1"
    assert rules.last_error and "neither a rep nor a team" in rules.last_error
    _write(path, TWO, 4)  # fixed: picked up
    assert rules.current().version == "v2" and rules.last_error is None


def test_a_missing_file_at_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        RulesFile(tmp_path / "nope.yaml").current()


def test_the_setting_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, TWO, 0)
    monkeypatch.setenv("ORDERBOT_ROUTING_RULES", str(path))
    assert rules_file_from_settings(Settings()).current().version == "v2"
    monkeypatch.delenv("ORDERBOT_ROUTING_RULES")
    assert rules_file_from_settings(Settings()).current().version == "default-1"


def test_the_checker_accepts_the_shipped_table_and_names_the_bad_field(tmp_path: Path, capsys) -> None:
    from orderbot.routing_rules import main

    assert main(["--explain", "province=广东省", "amount=100"]) == 0
    assert "first matching rule: south" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {id: x, team: t, strategy: random}\n", encoding="utf-8")
    assert main([str(bad)]) == 1
    assert "strategy" in capsys.readouterr().out
