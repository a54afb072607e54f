"""Rule tables as files: a bad file names its line, the last good table stays in force, the
CLIs check a file and explain what an order would get."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from orderbot.price_rules import DEFAULT_PRICE_RULES_PATH, load_price_rules, price_rules_file
from orderbot.price_rules import main as price_main
from orderbot.risk_rules import DEFAULT_RISK_RULES_PATH, load_risk_rules, risk_rules_file
from orderbot.risk_rules import main as risk_main
from orderbot.rule_tables import RuleFileError

GOOD = """version: v1
promotions:
  - id: mj
    kind: full_reduction
    threshold: 1000
    reduction: 50
"""


def test_the_shipped_tables_are_valid() -> None:
    assert load_price_rules(DEFAULT_PRICE_RULES_PATH).version == "default-1"
    assert [r.id for r in load_risk_rules(DEFAULT_RISK_RULES_PATH).active()] == ["credit", "stock", "parcel-locker"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD + "  - id: pct\n    kind: percentage\n    percent: 150\n", 9, "percent"),
        (GOOD + "  - id: g\n    kind: gift\n    buy_qty: 10\n", 7, "gift_qty"),
        (GOOD + "  - id: x\n    kind: buy_one\n", 8, "kind"),
        (GOOD + "  - id: mj\n    kind: percentage\n    percent: 5\n", None, "appears twice"),
        (GOOD + "  - id: y\n    kind: percentage\n   percent: 5\n", 9, "not valid YAML"),
        ("version: v\nprices:\n  - id: l\n    kind: ladder\n    ladder: []\n", 3, "ladder"),
        ("version: v\nprices:\n  - id: w\n    kind: special\n    price: 1\n    valid_from: 2026-03-02\n"
         "    valid_to: 2026-03-01\n", 3, "valid_to is before valid_from"),
    ],
)
def test_a_bad_price_file_names_the_line(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as err:
        load_price_rules(path)
    assert words in str(err.value) and str(path) in str(err.value)
    if line is not None:
        assert f"line {line}:" in str(err.value)


def test_a_bad_risk_rule_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("version: v\nrules:\n  - id: c\n    kind: credit_limit\n  - id: r\n    kind: order_rate\n"
                    "    per: street\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"line 7: rules\.1\.per"):
        load_risk_rules(path)


def test_edit_is_picked_up_and_a_broken_edit_keeps_the_last_good_table(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD, encoding="utf-8")
    source = price_rules_file(path)
    assert source.current().version == "v1"
    path.write_text(GOOD.replace("v1", "v2"), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert source.current().version == "v2"
    path.write_text(GOOD.replace("v1", "v3") + "  - id: bad\n    kind: percentage\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert source.current().version == "v2"
    assert "line 7" in caplog.text and "keeping version 'v2'" in caplog.text
    assert source.last_error is not None and "percent" in source.last_error


def test_a_missing_file_at_start_is_an_error_not_an_empty_table(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        risk_rules_file(tmp_path / "nope.yaml").current()


def test_price_cli_explains_which_rules_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD + "  - id: vip\n    kind: percentage\n    percent: 5\n    tiers: [vip]\n"
                    "prices:\n  - id: c\n    kind: contract\n    customers: [恒锐五金]\n    price: 0.2\n", encoding="utf-8")
    assert price_main([str(path), "--explain", "sku=B", "qty=5000", "price=0.25", "customer=恒锐五金"]) == 0
    out = capsys.readouterr().out
    assert "unit price 0.2000 (c)" in out and "applied mj" in out and "skipped vip" in out and "tier" in out
    path.write_text(GOOD + "  - id: bad\n", encoding="utf-8")
    assert price_main([str(path)]) == 1
    assert "INVALID" in capsys.readouterr().out


def test_risk_cli_explains_which_rules_hold(capsys: pytest.CaptureFixture[str]) -> None:
    assert risk_main([str(DEFAULT_RISK_RULES_PATH), "--explain", "total=7500", "address=武进区快递柜"]) == 0
    assert "HOLD parcel-locker" in capsys.readouterr().out
