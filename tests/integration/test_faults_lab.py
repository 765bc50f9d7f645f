"""An audit of 40 lab switches of which 12 are faulty (issue 12, item 8).

4 hung (no SSH banner), 2 refusing the password, 2 garbling their output, 2 dropping the
session mid-command, 1 slow within the read timeout and 1 slow beyond it. Every healthy
device must be audited (pass/fail), every faulty one must give ``error`` findings whose
message names its fault, the exit code follows the contract and the store holds complete
rows. Timings are the bench's business (bench/faults_bench.py), not asserted here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.checks.audit import AuditOptions, history, load_report, run_audit
from govnet.cli.main import cli
from govnet.collect.fetch import CollectOptions
from govnet.core.vocabulary import Severity, Status
from govnet.errors import ExitCode, GovnetError
from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.store.db import Store
from govnet.transport.ssh import SshOptions
from tests.conftest import ROOT
from tests.integration.faultlab import FaultFleet, write_fleet

pytestmark = pytest.mark.integration

N = 40
READ_TIMEOUT = 4.0
CONNECT_TIMEOUT = 4.0
BASELINE = ROOT / "playbooks" / "mlps2-baseline.yaml"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultFleet]:
    folder = tmp_path_factory.mktemp("faults")
    fleet = write_fleet(folder, N, read_timeout=READ_TIMEOUT, connect_timeout=CONNECT_TIMEOUT)
    launcher.up(fleet.inventory, folder / "state", wait=60)
    try:
        yield fleet
    finally:
        launcher.down(folder / "state")


def test_fleet_has_the_fault_mix() -> None:
    from tests.integration.faultlab import assign

    kinds = assign(N)
    counts = {k: kinds.count(k) for k in set(kinds)}
    assert counts == {
        "": 28,
        "silent": 4,
        "wrong_password": 2,
        "garbled": 2,
        "drop": 2,
        "slow-ok": 1,
        "slow-timeout": 1,
    }


def test_audit_names_every_fault(
    fleet: FaultFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "store.sqlite"
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{db}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    args = ["-i", str(fleet.inventory), "--lang", "en", "audit", "-p", str(BASELINE)]
    args += ["--timeout", str(CONNECT_TIMEOUT), "--read-timeout", str(READ_TIMEOUT)]
    result = CliRunner().invoke(cli, [*args, "-f", "json"])
    report = json.loads(result.stdout)
    by_device: dict[str, list[dict[str, str]]] = {}
    for f in report["findings"]:
        by_device.setdefault(f["device"], []).append(f)

    assert set(by_device) == set(fleet.faults)
    for name, fault in fleet.faults.items():
        statuses = {f["status"] for f in by_device[name]} - {"skip"}  # rules for others
        if fault in ("", "slow-ok"):  # healthy, or slow within the timeout: audited
            assert "error" not in statuses, (name, fault, by_device[name][0]["message"])
            assert statuses & {"pass", "fail"}, (name, statuses)
        else:
            assert statuses == {"error"}, (name, fault, statuses)
            messages = {f["message"] for f in by_device[name] if f["status"] == "error"}
            assert len(messages) == 1, messages
            assert fleet.expect[name] in messages.pop(), (name, fault)

    # Exit code contract (README): unreadable devices (3) outrank findings (1); both facts
    # stay in the JSON.
    high_fail = any(
        f["status"] == "fail" and Severity(f["severity"]) >= Severity.HIGH
        for f in report["findings"]
    )
    assert high_fail and result.exit_code == ExitCode.UNREACHABLE
    assert report["run"]["failed_by_severity"]["high"] > 0
    assert len(report["run"]["unreadable_devices"]) == sum(
        1 for fault in fleet.faults.values() if fault not in ("", "slow-ok")
    )
    assert report["run"]["exit_code"] == result.exit_code

    # The store has the run as one complete row with every finding, and it reads back equal.
    store = Store.open(f"sqlite:///{db}")
    row = store.run(report["run"]["id"])
    assert row is not None and row["finished"] is not None
    assert row["exit_code"] == result.exit_code and row["meta"]["status"] == "complete"
    assert len(store.findings(row["id"])) == len(report["findings"])
    again = load_report(store, row["id"])
    assert again.run.counts() == report["run"]["counts"]


def test_critical_only_audit_exits_3_when_devices_are_unreadable(
    fleet: FaultFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no failure at --fail-on, the unreadable devices decide: exit 3."""
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    faulty = sorted(n for n, k in fleet.faults.items() if k == "wrong_password")
    result = CliRunner().invoke(
        cli,
        [
            "-i",
            str(fleet.inventory),
            "--lang",
            "en",
            "audit",
            "-p",
            str(BASELINE),
            "--no-store",
            "--limit",
            ",".join(faulty),
            "-f",
            "json",
        ],
    )
    assert result.exit_code == ExitCode.UNREACHABLE, result.output
    findings = json.loads(result.stdout)["findings"]
    messages = {f["message"] for f in findings if f["status"] == "error"}
    assert messages and all("authentication failed" in m for m in messages)


def test_interrupted_audit_is_marked_and_never_the_previous_run(
    fleet: FaultFleet, tmp_path: Path
) -> None:
    inv = load_inventory(fleet.inventory)
    healthy = [inv.devices[n] for n, k in sorted(fleet.faults.items()) if not k][:4]
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    options = AuditOptions(
        (BASELINE,), collect=CollectOptions(workers=1, ssh=SshOptions(read_timeout=READ_TIMEOUT))
    )
    complete = run_audit(healthy, options, store)

    def stop(_: object) -> None:
        raise KeyboardInterrupt  # the admin presses Ctrl-C after the first device

    with pytest.raises(KeyboardInterrupt):
        run_audit(healthy, options, store, on_done=stop)
    runs = history(store)
    assert [r["status"] for r in runs] == ["interrupted", "complete"]
    interrupted = runs[0]["id"]
    assert store.findings(interrupted) == []  # nothing half-written
    with pytest.raises(GovnetError, match="interrupted"):
        load_report(store, interrupted)
    again = run_audit(healthy, options, store)
    assert again.previous_run == complete.run.id  # the interrupted one is skipped
    assert all(f.status is not Status.ERROR for f in again.run.findings)
