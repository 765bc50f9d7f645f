"""The lab's running configs, audited offline with the shipped baseline.

Every SSH switch of inventory/lab.yaml passes every baseline rule except the seeded problems:
int-acc-town's Telnet and SNMP community "public", int-acc-east's (Ruijie) VTY without timeout.
"""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
import yaml

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.model import exit_code
from govnet.checks.playbook import Playbook
from govnet.core.configtext import parse_config
from govnet.core.vocabulary import Status
from govnet.inventory.loader import load_inventory
from govnet.inventory.model import Inventory
from tests.unit.checks.support import ROOT

LAB = ROOT / "inventory" / "lab.yaml"
LAB_DATA = ROOT / "inventory" / "lab-data"
SWITCHES = {
    "int-core-1": "huawei",
    "ext-core-1": "hp_comware",
    "int-agg-east": "huawei",
    "ext-agg-east": "cisco_ios",
    "int-acc-west": "hp_comware",
    "ext-acc-west": "cisco_ios",
    "int-acc-town": "huawei",
    "int-acc-east": "ruijie_os",
}
CISCO_LIKE = {"cisco_ios", "ruijie_os"}  # hostname, "!" separators, "end"
SEEDED = {
    ("int-acc-town", "huawei.mgmt.ssh-only"),
    ("int-acc-town", "vrp-comware.snmp.no-default-community"),
    ("int-acc-town", "vrp-comware.snmp.v3-only"),
    ("int-acc-east", "ruijie.mgmt.idle-timeout"),  # VTY exec-timeout 0
}


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(LAB)


def running(name: str) -> str:
    return (LAB_DATA / name / "running.cfg").read_text(encoding="utf-8")


def test_only_the_seeded_violations_fail(inventory: Inventory, baseline: list[Playbook]) -> None:
    devices = [inventory.devices[name] for name in SWITCHES]
    assert {d.name: d.platform for d in devices} == SWITCHES
    facts = {name: DeviceFacts(name, config=running(name)) for name in SWITCHES}
    findings = evaluate(devices, facts, baseline)
    failed = {(f.device, f.rule) for f in findings if f.status is Status.FAIL}
    assert failed == SEEDED
    assert {f.status for f in findings} == {Status.PASS, Status.FAIL, Status.SKIP}
    applied = [f for f in findings if f.status is not Status.SKIP]
    assert len(applied) == 13 * len(SWITCHES)  # every required control tested on every switch
    assert exit_code(findings) == 1


def test_seeded_findings_show_the_seeded_lines(
    inventory: Inventory, baseline: list[Playbook]
) -> None:
    town = inventory.devices["int-acc-town"]
    facts = {town.name: DeviceFacts(town.name, config=running(town.name))}
    findings = {f.rule: f for f in evaluate([town], facts, baseline)}
    assert {e.text for e in findings["huawei.mgmt.ssh-only"].evidence} == {
        "telnet server enable",
        "protocol inbound all",
    }
    assert [e.text for e in findings["vrp-comware.snmp.no-default-community"].evidence] == [
        "snmp-agent community read public"
    ]


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_config_matches_the_lab_data(inventory: Inventory, name: str) -> None:
    text = running(name)
    platform = SWITCHES[name]
    device = inventory.devices[name]
    keyword = "hostname" if platform in CISCO_LIKE else "sysname"
    assert re.search(rf"^ ?{keyword} {re.escape(name)}$", text, re.M)
    assert text.endswith("end\n" if platform in CISCO_LIKE else "return\n")
    cfg = parse_config(text)
    tables = yaml.safe_load((LAB_DATA / name / "tables.yaml").read_text(encoding="utf-8"))
    headers = {cfg.lines[i].text: i for i in cfg.top}
    for iface in tables["interfaces"]:
        index = headers[f"interface {iface['name']}"]
        body = [cfg.lines[i].text for i in range(*cfg.body(index))]
        assert f"description {iface['description']}" in body
        assert "shutdown" not in body
        if iface.get("ip"):  # the VLAN interface carries the device's inventory address
            assert any(line.startswith(f"ip address {device.address} ") for line in body)
    physical = [
        t for t in headers if re.match(r"interface (Ten-)?GigabitEthernet|interface XGig", t)
    ]
    listed = {f"interface {i['name']}" for i in tables["interfaces"]}
    assert len(physical) >= 24
    for header in physical:
        if header not in listed:
            assert [cfg.lines[i].text for i in range(*cfg.body(headers[header]))] == ["shutdown"]


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_vendor_layout(name: str) -> None:
    """# / ! separators between top-level blocks, one-space indentation inside them."""
    lines = running(name).splitlines()
    comment = "!" if SWITCHES[name] in CISCO_LIKE else "#"
    assert lines[0].startswith(comment) or lines[0].startswith("!")
    assert lines[-2] == comment
    for previous, line in pairwise(lines):
        indent = len(line) - len(line.lstrip(" "))
        assert "\t" not in line and line == line.rstrip()
        if indent:
            prev_indent = len(previous) - len(previous.lstrip(" "))
            assert indent <= prev_indent + 1, f"{name}: indentation jumps at {line!r}"
        if SWITCHES[name] not in CISCO_LIKE and line.startswith("interface "):
            assert previous == "#", f"{name}: no '#' before {line!r}"


FIREWALLS = {"int-fw-1": "huawei_usg", "ext-fw-1": "h3c_secpath"}


def test_lab_firewalls_fail_only_their_seeded_policy_rules(
    inventory: Inventory, baseline: list[Playbook]
) -> None:
    devices = [inventory.devices[name] for name in FIREWALLS]
    assert {d.name: (d.platform, d.role) for d in devices} == {
        name: (platform, "firewall") for name, platform in FIREWALLS.items()
    }
    facts = {name: DeviceFacts(name, config=running(name)) for name in FIREWALLS}
    findings = evaluate(devices, facts, baseline)
    failed = {(f.device, f.rule) for f in findings if f.status is Status.FAIL}
    assert failed == {("int-fw-1", "fw.policy-log-syslog"), ("ext-fw-1", "fw.no-any-any-permit")}
    applied = [f for f in findings if f.status is not Status.SKIP]
    assert len(applied) == 16 * 2  # 12 management-plane + 4 firewall controls each
    anyany = next(
        f for f in findings if f.rule == "fw.no-any-any-permit" and f.status is Status.FAIL
    )
    assert [e.text for e in anyany.evidence] == [
        "rule 0 name web-out",
        "source-zone Trust",
        "destination-zone Untrust",
        "action pass",
    ]
