"""Runs in the store: recorded at the start, completed in one transaction, or interrupted."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from govnet.store.db import Store, run_status, runs

T0 = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_is_running_then_complete_with_its_findings(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.start_run("audit-1", "audit", T0, {"devices": 2})
    row = store.run("audit-1")
    assert row is not None and run_status(row) == "running" and row["finished"] is None
    assert store.previous_run("audit", T0 + timedelta(hours=1)) is None  # not a complete run
    finding = {
        "device": "sw1",
        "zone": "z",
        "site": "s",
        "unit": "u",
        "rule": "r",
        "control": "c",
        "severity": "high",
        "status": "fail",
        "message": "m",
        "evidence": [],
        "detail": {},
    }
    store.finish_run("audit-1", T0 + timedelta(minutes=1), {"devices": 2}, [finding], 1)
    row = store.run("audit-1")
    assert row is not None and run_status(row) == "complete" and row["exit_code"] == 1
    assert len(store.findings("audit-1")) == 1
    prev = store.previous_run("audit", T0 + timedelta(hours=1))
    assert prev is not None and prev["id"] == "audit-1"


def test_a_run_whose_process_died_reads_interrupted_and_is_marked_by_the_next(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.start_run("audit-1", "audit", T0, {})
    with store.begin() as conn:  # as if a process killed with SIGKILL had started it
        conn.execute(
            runs.update()
            .where(runs.c.id == "audit-1")
            .values(meta={"status": "running", "pid": _dead_pid()})
        )
    row = store.run("audit-1")
    assert row is not None and run_status(row) == "interrupted"
    store.start_run("audit-2", "audit", T0 + timedelta(hours=1), {})
    row = store.run("audit-1")
    assert row is not None and row["meta"]["status"] == "interrupted"
    assert row["meta"]["reason"] == "process died" and store.findings("audit-1") == []
    store.interrupt_run("audit-2", T0 + timedelta(hours=2), "interrupted by the user")
    row = store.run("audit-2")
    assert row is not None and run_status(row) == "interrupted" and row["finished"] is not None
    # a complete run is never turned into an interrupted one
    store.start_run("audit-3", "audit", T0 + timedelta(hours=3), {})
    store.finish_run("audit-3", T0 + timedelta(hours=3, minutes=1), {}, [], 0)
    store.interrupt_run("audit-3", T0 + timedelta(hours=4), "late")
    row = store.run("audit-3")
    assert row is not None and run_status(row) == "complete"
