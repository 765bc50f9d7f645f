"""Probe results into the audit (kind ``isolation-probe``) and ``govnet isolation report``."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.fleet import FLEET_KEY, FleetContext
from govnet.checks.playbook import load_playbooks
from govnet.cli.main import cli
from govnet.core.vocabulary import Status
from govnet.inventory import Inventory, load_inventory
from govnet.isolation.probe.overview import exit_code, overview, zone_pairs
from govnet.store.db import Store
from tests.conftest import LAB_INVENTORY
from tests.unit.isolation.probe.probe_support import Clock, FakeNetwork, canary_for, probe

PLAYBOOK = """
name: probe-test
rules:
  - id: probe-leak
    control: isolation.no-outbound-leak
    title: {en: No leak, zh: 无违规外联}
    severity: critical
    applies_to: {role: [core]}
    check: {kind: isolation-probe, max_age: 1h}
"""


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(LAB_INVENTORY)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")


def audit(
    inv: Inventory, store: Store | None, clock: Clock, tmp_path: Path, age: timedelta = timedelta(0)
) -> dict[str, tuple[Status, str, list[str]]]:
    (tmp_path / "pb.yaml").write_text(textwrap.dedent(PLAYBOOK))
    books = load_playbooks(tmp_path / "pb.yaml")
    cores = [d for d in inv.devices.values() if d.role == "core"]
    facts = {d.name: DeviceFacts(d.name, config="") for d in cores}
    ctx = FleetContext(inv, cores, facts, store, clock.now + age, "dir")
    for f in facts.values():
        f.cache[FLEET_KEY] = ctx
    return {
        f.device: (f.status, f.message, [str(e) for e in f.evidence])
        for f in evaluate(cores, facts, books)
    }


def test_no_probe_is_an_error_not_a_pass(inv: Inventory, store: Store, tmp_path: Path) -> None:
    out = audit(inv, store, Clock(), tmp_path)
    status, message, _ = out["int-core-1"]
    assert status is Status.ERROR and message.startswith("no recent probe")
    assert "govnet isolation probe --from internal" in message
    assert out["ext-core-1"][0] is Status.SKIP  # internal declares no canary
    assert audit(inv, None, Clock(), tmp_path)["int-core-1"][0] is Status.ERROR


def test_a_leak_fails_with_protocols_and_an_old_probe_is_no_recent_probe(
    inv: Inventory, store: Store, tmp_path: Path
) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    probe(inv, store, FakeNetwork(deliver_to=canary), clock, canary)
    status, message, evidence = audit(inv, store, clock, tmp_path, timedelta(minutes=5))[
        "int-core-1"
    ]
    assert status is Status.FAIL
    assert "reached external over dns, icmp, tcp" in message and "5m ago" in message
    assert any(
        e.startswith("LEAK icmp → 172.20.255.250 (external) from 10.10.255.253") for e in evidence
    )
    assert any(e.startswith("untested → internet") for e in evidence)
    status, message, _ = audit(inv, store, clock, tmp_path, timedelta(hours=2))["int-core-1"]
    assert status is Status.ERROR and "2h old, more than 1h" in message


def test_an_isolated_zone_passes(inv: Inventory, store: Store, tmp_path: Path) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    probe(inv, store, FakeNetwork(), clock, canary)
    status, message, evidence = audit(inv, store, clock, tmp_path)["int-core-1"]
    assert status is Status.PASS, message
    assert message.startswith("no probe from internal reached external (dns, icmp, tcp")
    assert "isolated tcp → 172.20.255.250:53 (external)" in " ".join(evidence)


def test_zone_pairs_are_symmetric_and_unique(inv: Inventory) -> None:
    assert zone_pairs(inv) == [("external", "internal"), ("internal", "internet")]


def test_the_report_joins_audit_findings_and_probes(inv: Inventory, store: Store) -> None:
    clock = Clock()
    canary = canary_for(store, clock)
    canary.beat()
    probe(inv, store, FakeNetwork(deliver_to=canary), clock, canary)
    finding: dict[str, Any] = {
        "zone": "internal",
        "site": "city",
        "unit": None,
        "rule": "r",
        "severity": "high",
        "message": "",
        "evidence": [],
        "detail": {},
    }
    store.save_run(
        "audit-1",
        "audit",
        clock.now - timedelta(hours=30),
        clock.now,
        {},
        [
            {
                **finding,
                "device": "int-acc-west",
                "control": "isolation.no-dual-homed-host",
                "status": "fail",
            },
            {
                **finding,
                "device": "int-core-1",
                "control": "isolation.no-cross-zone-path",
                "status": "pass",
            },
            {
                **finding,
                "device": "int-core-1",
                "control": "isolation.no-unknown-device",
                "status": "skip",
            },
        ],
    )
    verdicts = {
        (v.zone_a, v.zone_b, v.angle): v
        for v in overview(inv, store, clock.now, timedelta(hours=24))
    }
    ext = verdicts[("external", "internal", "probe")]
    assert ext.verdict == "fail" and "internal→external: LEAK dns,icmp,tcp" in ext.detail
    assert not ext.stale
    l2 = verdicts[("external", "internal", "l2")]
    assert (l2.verdict, l2.run, l2.stale) == ("fail", "audit-1", True)
    assert "int-acc-west" in l2.detail
    assert verdicts[("internal", "internet", "static")].verdict == "pass"
    assert verdicts[("internal", "internet", "probe")].verdict == "none"
    assert exit_code(verdicts.values()) == 1


def test_the_report_command_renders_json_and_csv(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVNET_DB", str(store.engine.url))
    args = ["-i", str(LAB_INVENTORY), "--lang", "en", "isolation", "report"]
    result = CliRunner().invoke(cli, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {v["verdict"] for v in data["verdicts"]} == {"none"} and len(data["verdicts"]) == 6
    result = CliRunner().invoke(cli, [*args, "-f", "csv"])
    assert result.output.splitlines()[0] == "pair,angle,verdict,age,run,detail"


def test_probe_refuses_a_zone_it_cannot_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 's.sqlite'}")
    args = ["-i", str(LAB_INVENTORY), "isolation", "probe", "--from"]
    result = CliRunner().invoke(cli, [*args, "intranet"])
    assert result.exit_code == 2 and "no such zone" in result.output
    result = CliRunner().invoke(cli, [*args, "external"])
    assert result.exit_code == 2 and "declares a canary" in result.output


def test_the_shipped_playbook_loads_with_the_other_isolation_angles() -> None:
    root = LAB_INVENTORY.parent.parent / "playbooks"
    books = load_playbooks([root / "isolation.yaml", root / "isolation-probe.yaml"])
    (rule,) = [r for b in books for r in b.rules if r.kind == "isolation-probe"]
    assert rule.control == "isolation.no-outbound-leak" and rule.applies_to.role == ["core"]
