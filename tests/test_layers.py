"""The layer rule (docs/ARCHITECTURE.md) holds for the tree, and the check catches breaking it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import check_layers


def test_the_tree_keeps_its_layers_and_has_no_package_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_layers.main([]) == 0, capsys.readouterr().out


def _tree(root: Path, files: dict[str, str]) -> Path:
    for pkg in check_layers.PACKAGES:
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_an_upward_import_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, {"orders/hub.py": "def f():\n    from workers.runner import OutboxWorker\n"})
    assert check_layers.main(["--root", str(root)]) == 1
    assert "orders.hub -> workers.runner  (orders may not import workers)" in capsys.readouterr().out


def test_a_package_cycle_is_named(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"bot/a.py": "import workers.b\n", "workers/b.py": "from bot import a\n"})
    edges = check_layers.imports(root)
    assert check_layers.cycles(edges) == [["bot", "workers", "bot"]]
    assert check_layers.main(["--root", str(root)]) == 1
