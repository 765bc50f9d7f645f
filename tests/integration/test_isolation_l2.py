"""Isolation against the running lab: ARP/MAC tables over real SSH and SNMP, and the audit
finding the seeded dual-homed PC (pc-west-03 on int-acc-west and ext-acc-west) — and nothing
else — over either transport, alongside the 等保 baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.collect.fetch import collect
from govnet.collect.tables import DeviceTables, collect_snmp, table_commands, tables_from_ssh
from govnet.isolation.correlate import correlate
from tests.conftest import ROOT
from tests.integration.conftest import Lab

pytestmark = pytest.mark.integration

PC_WEST_03 = "00:1a:2b:10:02:03"
SWITCHES = (
    "int-core-1",
    "ext-core-1",
    "int-agg-east",
    "ext-agg-east",
    "int-acc-west",
    "ext-acc-west",
    "int-acc-town",
)
ISOLATION_FAILS = {
    ("int-acc-west", "isolation.no-dual-homed-host"),
    ("ext-acc-west", "isolation.no-dual-homed-host"),
    ("pc-west-03", "isolation.no-dual-homed-terminal"),
    ("int-fw-1", "isolation.no-cross-zone-path"),  # the firewall's seeded cross-zone permit
}
BASELINE_FAILS = {
    ("int-acc-town", "huawei.mgmt.ssh-only"),
    ("int-acc-town", "vrp-comware.snmp.no-default-community"),
    ("int-acc-town", "vrp-comware.snmp.v3-only"),
    ("int-acc-east", "ruijie.mgmt.idle-timeout"),
    ("int-fw-1", "fw.policy-log-syslog"),
    ("ext-fw-1", "fw.no-any-any-permit"),
}


def sightings(tables: dict[str, DeviceTables]) -> set[tuple[str, str, int | None, str | None]]:
    return {
        (t.device, e.mac, e.vlan, e.port)
        for t in tables.values()
        for e in t.entries
        if not e.is_arp
    }


def test_tables_over_ssh_and_snmp_tell_the_same_story(lab: Lab) -> None:
    inv = lab.inventory
    switches = [inv.devices[name] for name in SWITCHES]
    fleet = collect(switches, lambda d: list(table_commands(d.platform).values()))
    assert all(r.ok for r in fleet), [str(r.error) for r in fleet if not r.ok]
    ssh: dict[str, DeviceTables] = {}
    for r in fleet:
        assert r.result is not None
        ssh[r.device] = tables_from_ssh(inv.devices[r.device], r.result.outputs)
    assert all(t.ok for t in ssh.values()), {n: t.error for n, t in ssh.items() if t.error}

    snmp = collect_snmp([*switches, inv.devices["ext-acc-town"]])
    town = snmp.pop("ext-acc-town")
    assert not town.ok and "no SNMP reply" in (town.error or "")
    assert all(t.ok for t in snmp.values()), {n: t.error for n, t in snmp.items() if t.error}

    # the same MAC-table rows, port names included, whichever way they were read
    assert sightings(ssh) == sightings(snmp)
    assert ("int-acc-west", PC_WEST_03, 102, "GigabitEthernet1/0/3") in sightings(ssh)
    assert ("ext-acc-west", PC_WEST_03, 202, "GigabitEthernet0/5") in sightings(ssh)
    arp = {
        (e.device, e.ip)
        for t in snmp.values()
        for e in t.entries
        if e.mac == PC_WEST_03 and e.is_arp
    }
    assert arp == {("int-acc-west", "10.10.102.13"), ("ext-acc-west", "172.20.102.99")}
    # the switches' own VLAN interfaces are known to SNMP (ifPhysAddress) and to SSH (ARP rows of
    # the device's address)
    assert "00:e0:fc:01:00:01" in snmp["int-core-1"].own_macs
    assert "00:e0:fc:01:00:01" in ssh["int-core-1"].own_macs

    for tables in (ssh, snmp):
        result = correlate(inv, tables)
        assert [d.mac for d in result.dual_homed] == [PC_WEST_03]
        assert set(result.dual_by_device) == {"int-acc-west", "ext-acc-west"}


def audit(lab: Lab, *playbooks: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    args = ["-i", str(lab.inventory_path), "--lang", "en", "audit", "--timeout", "3", "-f", "json"]
    for p in playbooks:
        args += ["-p", str(p)]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, json.loads(result.stdout)  # stderr: notices (host keys learned)


def fails(report: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f["device"], f["rule"]) for f in report["findings"] if f["status"] == "fail"}


def test_audit_with_the_baseline_finds_the_dual_homed_pc_over_ssh(
    lab: Lab, store_env: Path
) -> None:
    code, report = audit(
        lab, ROOT / "playbooks/mlps2-baseline.yaml", ROOT / "playbooks/isolation.yaml"
    )
    assert code == 3  # findings, and the hung switch unread (README: exit codes)
    assert fails(report) == BASELINE_FAILS | ISOLATION_FAILS
    errors = {f["device"] for f in report["findings"] if f["status"] == "error"}
    assert errors == {"ext-acc-town"}
    static = [
        f
        for f in report["findings"]
        if f["control"] == "isolation.no-cross-zone-path" and f["status"] != "skip"
    ]
    # the switches' configs pass; int-fw-1 fails on its policy; the hung switch is an error
    assert {f["device"] for f in static if f["status"] == "fail"} == {"int-fw-1"}
    assert {f["status"] for f in static} == {"pass", "fail", "error"}
    finding = next(
        f
        for f in report["findings"]
        if (f["device"], f["rule"]) == ("int-acc-west", "isolation.no-dual-homed-host")
    )
    assert "ext-acc-west GigabitEthernet0/5" in finding["message"]
    assert finding["evidence"][0]["text"].startswith(
        f"{PC_WEST_03} in internal at int-acc-west GigabitEthernet1/0/3"
    )


def test_audit_finds_the_dual_homed_pc_over_snmp(lab: Lab, store_env: Path) -> None:
    text = (ROOT / "playbooks/isolation.yaml").read_text(encoding="utf-8")
    text = text.replace("kind: isolation-l2,", "kind: isolation-l2, source: snmp,")
    assert text.count("source: snmp") == 3
    playbook = store_env / "isolation-snmp.yaml"
    playbook.write_text(text, encoding="utf-8")
    code, report = audit(lab, playbook)
    assert code == 3  # findings, and the hung switch unread
    assert fails(report) == ISOLATION_FAILS
    assert {f["device"] for f in report["findings"] if f["status"] == "error"} == {"ext-acc-town"}
    finding = next(
        f
        for f in report["findings"]
        if (f["device"], f["rule"]) == ("ext-acc-west", "isolation.no-dual-homed-host")
    )
    assert "(snmp)" not in finding["message"] and PC_WEST_03 in finding["message"]
    passes = [
        f["message"]
        for f in report["findings"]
        if f["rule"] == "isolation.no-unknown-device" and f["status"] == "pass"
    ]
    assert passes and all("(snmp)" in m for m in passes)
    # the tables the audit read are recorded as MAC sightings (shutdown-unused-ports)
    from govnet.store import macs
    from govnet.store.db import Store

    store = Store.open(f"sqlite:///{store_env / 'store.sqlite'}")
    assert "GigabitEthernet1/0/3" in macs.last_seen_by_port(store, "int-acc-west")
    assert len(macs.collections(store, "int-acc-west")) == 1
    assert macs.collections(store, "ext-acc-town") == []  # unread: not watched
