"""The two provisioning properties, shared by the test and the bench."""

from __future__ import annotations

import re
from functools import cache

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.playbook import Playbook, load_playbooks
from govnet.provision.operations import CHANGED, ROLLED_BACK, UNCHANGED
from govnet.provision.remediation import pushable, remediate
from govnet.provision.rules import left_to_people
from tests.conftest import ROOT
from tests.provision_sim.run import Sim


@cache
def baseline() -> list[Playbook]:
    return load_playbooks(ROOT / "playbooks" / "mlps2-baseline.yaml")


def audit_failures(sim: Sim, platform: str, config: str) -> set[str]:
    device = sim.device(platform)
    findings = evaluate(
        [device], {device.name: DeviceFacts(device.name, config=config)}, baseline()
    )
    return {f.control for f in findings if f.status.value == "fail"}


def apply_reaches_baseline(sim: Sim, platform: str, start: str) -> None:
    """Apply from ``start``: the device ends as intended, the audit fails only controls the
    baseline leaves to people, and a new plan is empty."""
    device = sim.device(platform)
    sim.bench.load(device, start)
    change = sim.apply(platform)
    assert change.status in (CHANGED, UNCHANGED), (change.status, change.message)
    assert not change.problems, change.problems
    after = sim.bench.running(device)
    failed = audit_failures(sim, platform, after) - set(left_to_people(platform))
    assert not failed, (failed, after)
    job, _ = sim.jobs[platform]
    again = remediate(job.intended(device), after, device.name)
    assert not again.changed, again.commands


def pushable_lines(sim: Sim, platform: str, start: str) -> list[str]:
    """The lines an apply from ``start`` pushes (those a device could refuse)."""
    device = sim.device(platform)
    job, _ = sim.jobs[platform]
    rem = remediate(job.intended(device), start, device.name)
    exits = {"quit", "exit"}
    return [line for line in pushable(rem.commands) if line not in exits]


def rejection_rolls_back(sim: Sim, platform: str, start: str, refused: str) -> None:
    """The device refuses ``refused`` half-way: the apply rolls back to exactly ``start``."""
    device = sim.device(platform)
    sim.bench.load(device, start, reject=[f"^{re.escape(refused)}$"])
    before = sim.bench.running(device)
    change = sim.apply(platform)
    if change.status != ROLLED_BACK:
        _keep(platform, start, refused)
    assert change.status == ROLLED_BACK, (change.status, change.message, change.rollback)
    assert sim.bench.running(device) == before


def _keep(platform: str, start: str, refused: str) -> None:
    """Leave a failing example where a developer finds it (PROVISION_KEEP=folder)."""
    import os
    from pathlib import Path

    folder = os.environ.get("PROVISION_KEEP")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{platform}.cfg").write_text(start, encoding="utf-8")
        (Path(folder) / f"{platform}.refused").write_text(refused, encoding="utf-8")
