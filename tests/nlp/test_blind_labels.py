"""The blind sets (tests/nlp/blind) must be internally consistent before they are scored:
a label error would otherwise be counted against the reader. Pure data checks, no reader."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BLIND = Path(__file__).resolve().parent / "blind"


def _checker(catalog_csv: Path):
    """check_labels.py as a module, reading the catalog the suite found (tests/shared_data)."""
    spec = importlib.util.spec_from_file_location("check_labels", BLIND / "check_labels.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.CATALOG_CSV = catalog_csv
    return mod


def test_blind_sets_pass_the_label_checks(capsys: pytest.CaptureFixture[str], catalog_csv: Path) -> None:
    assert _checker(catalog_csv).main(["check_labels.py"]) == 0, capsys.readouterr().out


def test_label_checks_catch_a_wrong_sku_region_and_phone(tmp_path: Path, catalog_csv: Path) -> None:
    case = json.loads((BLIND / "waybill_l.jsonl").read_text(encoding="utf-8").splitlines()[0])
    case["expect"]["address"]["district"] = "鼓楼区"  # 北京 has no 鼓楼区
    case["expect"]["phone"] = "1234"
    case["expect"]["items"] = [{"sku": "NO-SUCH-SKU", "quantity": 1, "unit": "个"}]
    bad = tmp_path / "waybill_bad.jsonl"
    bad.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    mod = _checker(catalog_csv)
    errs = mod.check_case(case, mod.load_catalog(mod.CATALOG_CSV), mod.load_regions(), True)
    assert any("not in catalog" in e for e in errs)
    assert any("cpca table" in e for e in errs)
    assert any("phone" in e for e in errs)
    assert any("waybill line has no items" in e for e in errs)
    assert mod.main(["check_labels.py", str(bad)]) == 1


def test_second_blind_sets_pass_the_label_checks(capsys: pytest.CaptureFixture[str], catalog_csv: Path) -> None:
    """tests/nlp/blind2 (chat_p, waybill_q) is held to the same data checks."""
    files = sorted(str(p) for p in (BLIND.parent / "blind2").glob("*.jsonl"))
    assert len(files) == 2
    assert _checker(catalog_csv).main(["check_labels.py", *files]) == 0, capsys.readouterr().out


def test_third_blind_sets_pass_the_label_checks(capsys: pytest.CaptureFixture[str], catalog_csv: Path) -> None:
    """tests/nlp/blind3 (chat_r, waybill_s) is held to the same data checks before its blind run."""
    files = sorted(str(p) for p in (BLIND.parent / "blind3").glob("*.jsonl"))
    assert len(files) == 2
    assert _checker(catalog_csv).main(["check_labels.py", *files]) == 0, capsys.readouterr().out
