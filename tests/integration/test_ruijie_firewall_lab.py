"""The Ruijie switch and the two firewalls of the lab, over real SSH: backed up, audited with
their seeded findings, the isolation audit failing on the firewall's cross-zone permit, and a
factory-default Ruijie provisioned to the baseline (a private lab of one device)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.lab import launcher
from tests.conftest import ROOT
from tests.integration.conftest import Lab, relocate_lab

pytestmark = pytest.mark.integration

NEW = "int-acc-east,int-fw-1,ext-fw-1"


def govnet(inventory: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(inventory), "--lang", "en", *args])
    return result.exit_code, result.stdout


def test_backed_up_and_audited_with_their_seeded_findings(lab: Lab, store_env: Path) -> None:
    code, out = govnet(lab.inventory_path, "backup", "--limit", NEW, "-f", "json")
    assert code == 0, out
    results = {r["device"]: r["status"] for r in json.loads(out)["results"]}
    assert results == {"int-acc-east": "new", "int-fw-1": "new", "ext-fw-1": "new"}
    code, shown = govnet(lab.inventory_path, "backup", "show", "int-fw-1")
    assert code == 0 and "rule name temp-ext-portal" in shown and "security-policy" in shown
    code, out = govnet(
        lab.inventory_path,
        "audit",
        "--limit",
        NEW,
        "-p",
        "playbooks/mlps2-baseline.yaml",
        "-p",
        "playbooks/isolation.yaml",
        "-f",
        "json",
    )
    assert code == 1, out
    findings = json.loads(out)["findings"]
    fails = {(f["device"], f["rule"]) for f in findings if f["status"] == "fail"}
    assert fails == {
        ("int-acc-east", "ruijie.mgmt.idle-timeout"),
        ("int-fw-1", "fw.policy-log-syslog"),
        ("int-fw-1", "isolation.no-cross-zone-path"),
        ("ext-fw-1", "fw.no-any-any-permit"),
    }
    assert not [f for f in findings if f["status"] == "error"]
    by_device: dict[str, int] = {}
    for f in findings:
        if f["status"] in ("pass", "fail"):
            by_device[f["device"]] = by_device.get(f["device"], 0) + 1
    # 13 switch controls + isolation; 12 management-plane + 4 firewall controls + isolation
    assert by_device == {"int-acc-east": 14, "int-fw-1": 17, "ext-fw-1": 17}
    isolation = next(
        f
        for f in findings
        if f["device"] == "int-fw-1" and f["rule"] == "isolation.no-cross-zone-path"
    )
    assert "rule temp-ext-portal permits 10.10.8.0/24 (zone internal)" in isolation["message"]
    assert "172.20.0.20/32 (zone external)" in isolation["message"]
    evidence = [e["text"] for e in isolation["evidence"]]
    assert evidence[0] == "rule name temp-ext-portal"
    assert "destination-address address-set EXT-PORTAL" in evidence
    assert all(e["line"] for e in isolation["evidence"])
    idle = next(
        f for f in findings if f["rule"] == "ruijie.mgmt.idle-timeout" and f["status"] == "fail"
    )
    assert [e["text"] for e in idle["evidence"]] == ["exec-timeout 0"]


@pytest.fixture
def factory_ruijie(tmp_path: Path) -> Iterator[Path]:
    """A private lab serving int-acc-east alone, with RGOS's factory configuration."""
    source = tmp_path / "source"
    data = source / "lab-data" / "int-acc-east"
    data.mkdir(parents=True)
    shutil.copy(ROOT / "inventory" / "lab-data" / "int-acc-east" / "tables.yaml", data)
    os.symlink(ROOT / "inventory" / "lab-secrets", source / "lab-secrets")
    os.symlink(ROOT / "inventory" / "lab-terminals.csv", source / "lab-terminals.csv")
    doc = yaml.safe_load((ROOT / "inventory" / "lab.yaml").read_text(encoding="utf-8"))
    doc["devices"] = {"int-acc-east": doc["devices"]["int-acc-east"]}
    doc["links"], doc["services"] = [], {}
    (source / "lab.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    path = relocate_lab(tmp_path / "inventory", source / "lab.yaml")
    state = tmp_path / "state"
    launcher.up(path, state)
    try:
        yield path
    finally:
        launcher.down(state)


def test_factory_ruijie_is_provisioned_to_the_baseline(
    factory_ruijie: Path, store_env: Path
) -> None:
    def fails() -> set[str]:
        code, out = govnet(factory_ruijie, "audit", "-f", "json")
        assert code in (0, 1), out
        return {f["control"] for f in json.loads(out)["findings"] if f["status"] == "fail"}

    before = fails()
    assert {"mgmt.ssh-only", "snmp.no-default-community", "auth.password-policy"} <= before
    code, out = govnet(factory_ruijie, "provision", "apply", "baseline", "--yes")
    assert code == 0 and "changed" in out, out
    code, out = govnet(factory_ruijie, "provision", "plan", "baseline")
    assert code == 0 and "no change" in out, out  # applied as planned: nothing left to push
    # what is left is what the baseline leaves to people (accounts, re-entered passwords, ports)
    assert fails() == {"auth.default-accounts", "auth.password-storage", "port.unused-shutdown"}
    code, _ = govnet(factory_ruijie, "backup", "--limit", "int-acc-east")
    assert code == 0
    code, running = govnet(factory_ruijie, "backup", "show", "int-acc-east")
    assert "no enable service telnet-server" in running and "enable service ssh-server" in running
