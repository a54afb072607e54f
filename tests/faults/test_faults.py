"""The short form of bench/faults.py (issue 16): two minutes of customers ordering on the
production profile while workers and web processes are killed, PostgreSQL connections are
cut and the stand-in fails; nothing may be lost, and a message is sent twice at most once
per crash. Marked `faults` (about three minutes): `pytest -m faults`; .ci/run runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PG_HOST, PG_PORT, ROOT, require_service

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_nothing_is_lost_and_crashes_repeat_at_most_one_send() -> None:
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    require_service("Redis", "127.0.0.1", 6379)
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faults.py"), "--minutes", "2", "--customers-per-minute", "20",
         "--fault-gap", "8", "--seed", "16", "--json"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    report = json.dumps(result, ensure_ascii=False, indent=1)
    assert result["customers"] >= 20 and result["flows_completed"] == result["customers"], report
    assert result["messages"]["accepted"] == result["messages"]["stored"] > 0, report
    causes = result["causes"]
    assert causes["order"]["missing"] == 0 and causes["order"]["duplicates"] == 0, report
    assert all(row["missing"] == 0 for row in causes.values()), report
    assert result["duplicate_sends"] <= result["crashes"], report
    assert result["outbox_parked"] == {} and result["outbox_pending"] == 0, report
    # the send ledger: every interrupted send was settled by its retry, none left in doubt
    states = result["ledger"]["rows_by_state"]
    assert states.get("sending", 0) == 0 and states.get("unsure", 0) == 0, report
    # every kind of fault was injected at least once
    assert set(result["faults"]) >= {"kill_worker", "kill_web", "pg_terminate", "standin_faults"}, report
