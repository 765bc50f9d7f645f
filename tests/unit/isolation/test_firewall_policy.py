"""Firewall security policies in the static isolation check (Huawei USG and H3C SecPath)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from govnet.checks.audit import applicable
from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.fleet import FLEET_KEY, FleetContext
from govnet.checks.model import Finding
from govnet.checks.playbook import load_playbooks
from govnet.collect.interfaces import read_config
from govnet.core.configtext import parse_config
from govnet.core.vocabulary import Status
from govnet.inventory import Inventory, load_inventory
from govnet.isolation.firewall import read_policy
from govnet.isolation.static import policy_leaks
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "isolation"
PLAYBOOK = ROOT / "playbooks" / "isolation.yaml"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(FIXTURES / "firewalls.yaml")


def text(platform: str, name: str = "fw-leaky.cfg") -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


def test_usg_policy_zones_and_address_sets() -> None:
    policy = read_policy(parse_config(text("huawei_usg")), "huawei_usg")
    assert policy.zones == {
        "trust": ["GigabitEthernet1/0/1"],
        "dmz": ["GigabitEthernet1/0/2"],
        "untrust": ["GigabitEthernet1/0/3"],
    }
    assert [r.name for r in policy.rules] == [
        "office-to-oa",
        "temp-ext-portal",
        "ext-to-gap",
        "old-vendor",
        "no-ext",
    ]
    temp = policy.rules[1]
    assert temp.source.networks == [ipaddress.ip_network("10.10.8.0/24")]
    assert temp.destination.networks == [ipaddress.ip_network("172.20.0.20/32")]
    assert temp.action == "permit" and not temp.session_logging
    assert policy.rules[3].disabled
    assert [str(n) for n in policy.rules[3].destination.networks] == [
        "172.20.5.1/32",
        "172.20.5.2/31",
        "172.20.5.4/30",
        "172.20.5.8/31",
    ]
    assert policy.rules[4].action == "deny" and policy.rules[4].logging
    assert policy.default_action == "deny" and policy.default_logging


def test_secpath_policy_object_groups() -> None:
    policy = read_policy(parse_config(text("h3c_secpath")), "h3c_secpath")
    assert policy.zones == {"Trust": ["GigabitEthernet1/0/1"], "Untrust": ["GigabitEthernet1/0/2"]}
    web, oa = policy.rules
    assert web.action == "permit" and web.source.any_address and web.logging
    assert oa.destination.networks == [ipaddress.ip_network("10.10.9.0/24")]


def test_a_permit_into_an_isolated_zone_is_a_leak_with_the_rule_lines(
    inventory: Inventory,
) -> None:
    cfg = parse_config(text("huawei_usg"))
    leaks = policy_leaks(read_policy(cfg, "huawei_usg"), read_config(cfg, "huawei_usg"), inventory)
    # the disabled rule, the deny rule and the rule whose destination is the gap are legal
    assert [leak.message for leak in leaks] == [
        "security policy rule temp-ext-portal permits 10.10.8.0/24 (zone internal) to "
        "172.20.0.20/32 (zone external) outside the gap"
    ]
    (leak,) = leaks
    assert leak.kind == "policy" and leak.zone == "external"
    assert [line.text for line in leak.lines] == [
        "rule name temp-ext-portal",
        "source-zone trust",
        "source-address address-set OFFICE",
        "destination-zone untrust",
        "destination-address address-set EXT-PORTAL",
        "action permit",
    ]
    lines = text("huawei_usg").splitlines()
    assert all(lines[line.number - 1].strip() == line.text for line in leak.lines)


def audit(inventory: Inventory, configs: dict[str, str]) -> dict[str, Finding]:
    playbooks = load_playbooks([PLAYBOOK])
    devices = applicable([inventory.devices[n] for n in configs], playbooks)
    facts = {n: DeviceFacts(n, config=t) for n, t in configs.items()}
    ctx = FleetContext(inventory, devices, facts, None, datetime.now(UTC), "dir")
    for f in facts.values():
        f.cache[FLEET_KEY] = ctx
    return {
        f.device: f
        for f in evaluate(devices, facts, playbooks)
        if f.rule == "isolation.no-cross-zone-path"
    }


def test_isolation_audit_fails_on_cross_zone_permits(inventory: Inventory) -> None:
    found = audit(inventory, {"int-fw": text("huawei_usg"), "ext-fw": text("h3c_secpath")})
    assert {d: f.status for d, f in found.items()} == {"int-fw": Status.FAIL, "ext-fw": Status.FAIL}
    ext = found["ext-fw"]
    # web-out (Trust→Untrust any→any) reaches the Internet, which external need not avoid;
    # oa-shortcut permits the external office into the internal OA subnet
    assert ext.message == (
        "zone external reaches internal by policy: security policy rule oa-shortcut permits "
        "172.20.8.0/24 (zone external) to 10.10.9.0/24 (zone internal) outside the gap"
    )
    assert ext.evidence[0].text == "rule 5 name oa-shortcut"
    assert "destination-ip INT-OA" in [e.text for e in ext.evidence]


def test_without_the_cross_zone_rules_the_firewalls_pass(inventory: Inventory) -> None:
    usg = text("huawei_usg").replace("destination-address address-set EXT-PORTAL", "")
    usg = usg.replace(" rule name temp-ext-portal", " rule name temp-ext-portal\n  disable")
    sec = text("h3c_secpath").replace(
        "  destination-ip INT-OA\n", "  destination-ip-host 202.96.1.1\n"
    )
    found = audit(inventory, {"int-fw": usg, "ext-fw": sec})
    assert {d: f.status for d, f in found.items()} == {"int-fw": Status.PASS, "ext-fw": Status.PASS}
    assert "security-policy rule(s)" in found["int-fw"].message
