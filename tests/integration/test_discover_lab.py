"""Discovery against the running lab over real SSH: LLDP/CDP neighbours compared with the
inventory. The lab always serves one undeclared switch (town-annex-sw under int-acc-town); a
private lab started with the ``cross-zone-cable`` scenario also has a cable between
int-acc-west (internal) and ext-acc-west (external), which fails the isolation audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.inventory import load_inventory
from govnet.lab import launcher
from tests.conftest import ROOT
from tests.integration.conftest import Lab, relocate_lab

pytestmark = pytest.mark.integration

RULE = "isolation.no-cross-zone-neighbor"
CABLE = {"a": "ext-acc-west:GigabitEthernet0/20", "b": "int-acc-west:GigabitEthernet1/0/20"}


@pytest.fixture(scope="module")
def cable_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("cable-lab")
    path = relocate_lab(base / "inventory")
    state = base / "state"
    status = launcher.up(path, state, scenarios=("cross-zone-cable",))
    try:
        yield Lab(path, state, load_inventory(path), status)
    finally:
        launcher.down(state)


def run(lab: Lab, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(lab.inventory_path), "--lang", "en", *args])
    return result.exit_code, result.stdout


def test_discover_finds_the_undeclared_switch_and_no_cross_zone_cable(
    lab: Lab, store_env: Path
) -> None:
    code, out = run(lab, "discover", "--timeout", "3", "-f", "json")
    report = json.loads(out)
    assert code == 3  # findings, and ext-acc-town never answers (exit 3 outranks 1)
    assert set(report["unreadable"]) == {"ext-acc-town"}
    [unknown] = report["unknown_neighbors"]
    assert unknown["name"] == "town-annex-sw" and unknown["address"] == "10.10.3.99"
    assert [(s["device"], s["port"]) for s in unknown["seen"]] == [
        ("int-acc-town", "GigabitEthernet0/0/5")
    ]
    assert "zone: internal" in unknown["candidate"] and "site: town-qingshi" in unknown["candidate"]
    assert report["undeclared_links"] == [] and report["cross_zone"] == []
    # every declared link is seen from at least one end (gap-1 and ext-acc-town are not asked)
    assert report["declared_links_not_seen"] == []
    # the Ruijie switch is read over SSH (govnet's own LLDP template) and its uplink, like the
    # firewalls' management links, is declared and seen from both switch ends
    assert "int-acc-east" in report["devices_read"]
    seen = {(n["device"], n["port"], n["name"]) for n in report["neighbors"]}
    assert {
        ("int-acc-east", "GigabitEthernet0/24", "int-agg-east"),
        ("int-agg-east", "GigabitEthernet0/0/23", "int-acc-east"),
        ("int-core-1", "GigabitEthernet0/0/23", "int-fw-1"),
        ("ext-core-1", "GigabitEthernet1/0/23", "ext-fw-1"),
    } <= seen


def test_discover_reads_ruijie_over_ssh_without_a_skip_notice(lab: Lab, store_env: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "-i",
            str(lab.inventory_path),
            "--lang",
            "en",
            "discover",
            "--timeout",
            "3",
            "--limit",
            "int-acc-east,int-agg-east",
            "-f",
            "json",
        ],
    )
    assert "skipping" not in result.stderr
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    assert report["devices_read"] == ["int-acc-east", "int-agg-east"]
    assert report["unknown_neighbors"] == report["undeclared_links"] == []


def test_discover_table_prints_candidate_yaml(lab: Lab, store_env: Path) -> None:
    code, out = run(lab, "discover", "--timeout", "3", "--zone", "internal")
    assert code == 1  # the internal switches all answer: findings only
    assert "neighbour not in the inventory" in out
    assert "town-annex-sw:\n  {host: 10.10.3.99" in out
    assert (
        '- {a: "int-acc-town:GigabitEthernet0/0/5", b: "town-annex-sw:GigabitEthernet0/1"}' in out
    )


def test_the_cross_zone_cable_is_discovered_and_fails_the_isolation_audit(
    cable_lab: Lab, store_env: Path
) -> None:
    code, out = run(cable_lab, "discover", "--timeout", "3", "-f", "json")
    report = json.loads(out)
    assert code == 3
    assert [{"a": s["a"], "b": s["b"]} for s in report["undeclared_links"]] == [CABLE]
    assert report["undeclared_links"][0]["seen_by"] == ["ext-acc-west", "int-acc-west"]
    assert report["cross_zone"] == [
        {**CABLE, "a_zone": "external", "b_zone": "internal", "via": None}
    ]

    code, out = run(
        cable_lab,
        "audit",
        "--timeout",
        "3",
        "-f",
        "json",
        "-p",
        str(ROOT / "playbooks/isolation.yaml"),
    )
    findings = [f for f in json.loads(out)["findings"] if f["rule"] == RULE]
    assert code == 3
    status = {f["device"]: f["status"] for f in findings if f["status"] != "skip"}
    assert {d for d, s in status.items() if s == "fail"} == {"int-acc-west", "ext-acc-west"}
    assert status["ext-acc-town"] == "error"
    assert {
        s for d, s in status.items() if d not in {"int-acc-west", "ext-acc-west", "ext-acc-town"}
    } == {"pass"}
    west = next(f for f in findings if f["device"] == "int-acc-west")
    assert west["control"] == "isolation.no-cross-zone-path" and west["severity"] == "critical"
    evidence = west["evidence"][0]["text"]
    assert "ext-acc-west GigabitEthernet0/20 (external)" in evidence
    assert "int-acc-west GigabitEthernet1/0/20 (internal)" in evidence


def test_without_the_scenario_the_isolation_rule_passes(lab: Lab, store_env: Path) -> None:
    _code, out = run(
        lab,
        "audit",
        "--timeout",
        "3",
        "-f",
        "json",
        "--zone",
        "internal",
        "-p",
        str(ROOT / "playbooks/isolation.yaml"),
    )
    findings = [f for f in json.loads(out)["findings"] if f["rule"] == RULE]
    assert {f["status"] for f in findings if f["status"] != "skip"} == {"pass"}


def test_snmp_lldp_mib_tells_the_same_story(cable_lab: Lab, store_env: Path) -> None:
    code, out = run(cable_lab, "discover", "--via", "snmp", "-f", "json")
    report = json.loads(out)
    assert code == 3  # ext-acc-town's agent never answers
    assert set(report["unreadable"]) == {"ext-acc-town"}
    assert [u["name"] for u in report["unknown_neighbors"]] == ["town-annex-sw"]
    assert report["unknown_neighbors"][0]["address"] == "10.10.3.99"
    assert [{"a": s["a"], "b": s["b"]} for s in report["undeclared_links"]] == [CABLE]
    assert [(c["a"], c["b"]) for c in report["cross_zone"]] == [(CABLE["a"], CABLE["b"])]
    assert report["declared_links_not_seen"] == []
    # the firewalls answer LLDP-MIB too: their management links are seen from both ends
    assert {"int-fw-1", "ext-fw-1", "int-acc-east"} <= set(report["devices_read"])
    seen = {(n["device"], n["name"]) for n in report["neighbors"]}
    assert {("int-fw-1", "int-core-1"), ("ext-fw-1", "ext-core-1")} <= seen
