"""The project alone, without ../shared beside it (a newcomer's `git clone`): collection never
errors, the tests that need the shared data skip with one line saying why, and under CI=true
the missing data stops the run loudly instead of skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The modules that once read ../shared when imported, and a catalog-backed suite.
READERS = ["tests/bot/test_wechat_crypto.py", "tests/bot/test_messages.py",
           "tests/nlp/test_address.py", "tests/nlp/test_dates.py", "tests/nlp/test_numbers.py",
           "tests/nlp/test_extract_command.py"]


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree's files (tracked and new, not ignored) copied to a folder with no
    shared/ beside it."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the project's files")
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    dest = tmp_path_factory.mktemp("bare") / "orderbot"
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    assert not (dest.parent / "shared").exists()
    return dest


def _pytest(bare: Path, *args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "ORDERBOT_SHARED_DIR")}
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=bare, env=env, capture_output=True, text=True, timeout=600)


def test_the_whole_suite_collects_without_shared(bare: Path) -> None:
    proc = _pytest(bare, "--collect-only", "-q", ci=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "error" not in proc.stdout.lower().splitlines()[-1]


def test_tests_needing_shared_skip_with_one_line(bare: Path) -> None:
    proc = _pytest(bare, "-q", *READERS, ci=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = [line for line in proc.stdout.splitlines() if "tests skipped: they read" in line]
    assert len(summary) == 1 and str(bare.parent / "shared") in summary[0], proc.stdout[-2000:]
    assert " passed" in proc.stdout  # what does not need the data still runs


def test_under_ci_missing_shared_fails_loudly(bare: Path) -> None:
    proc = _pytest(bare, "-q", "tests/nlp/test_numbers.py", ci=True)
    assert proc.returncode != 0
    assert "../shared not found" in proc.stdout + proc.stderr
