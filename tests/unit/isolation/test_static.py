"""Static isolation analysis on Huawei, H3C and Cisco configurations and on inventory links."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govnet.checks.audit import applicable
from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.fleet import FLEET_KEY, FleetContext
from govnet.checks.playbook import load_playbooks
from govnet.collect.interfaces import parse_vlan_list, read_config
from govnet.core.configtext import parse_config
from govnet.core.vocabulary import Status
from govnet.inventory import Inventory, load_inventory
from govnet.inventory.model import Link
from govnet.isolation.static import ZoneMap, config_leaks, link_crossings, link_leaks
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "isolation"
PLAYBOOK = ROOT / "playbooks" / "isolation.yaml"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(FIXTURES / "inventory.yaml")


def fixture(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


def leaks_of(inventory: Inventory, device: str, platform: str, name: str) -> list:  # type: ignore[type-arg]
    cfg = read_config(parse_config(fixture(platform, name)), platform)
    return config_leaks(inventory.devices[device], cfg, inventory)


# ----------------------------------------------------------------------------- config parsing


def test_vlan_lists_in_every_vendor_syntax() -> None:
    assert parse_vlan_list("100 to 103 205") == [100, 101, 102, 103, 205]
    assert parse_vlan_list("200-202,300") == [200, 201, 202, 300]
    assert parse_vlan_list("150,151-152") == [150, 151, 152]
    assert parse_vlan_list("all") == []
    assert parse_vlan_list("0 4095 5-3") == []  # out of range or backwards


def test_read_config_huawei() -> None:
    cfg = read_config(parse_config(fixture("huawei", "core-legal.cfg")), "huawei")
    assert set(cfg.interfaces) >= {"Vlanif100", "GigabitEthernet0/0/2", "GigabitEthernet0/0/24"}
    assert cfg.addresses() == {"10.10.0.1"}
    assert cfg.trunks() == {"GigabitEthernet0/0/2"}
    assert sorted({v for v, _ in cfg.vlans}) == [100, 101, 102, 103]
    routes = [(str(r.destination), str(r.next_hop) if r.next_hop else None) for r in cfg.routes]
    # the NULL0 route is a blackhole, dropped
    assert routes == [("172.20.0.0/16", "10.10.0.254"), ("10.99.0.0/16", "10.10.0.2")]
    trunk = cfg.interfaces["GigabitEthernet0/0/2"]
    # 'undo port trunk allow-pass vlan 1' is no configuration
    assert sorted({v for v, _ in trunk.vlans}) == [100, 101, 102, 103]


def test_read_config_cisco_routes_and_gateway() -> None:
    cfg = read_config(parse_config(fixture("cisco_ios", "access-legal.cfg")), "cisco_ios")
    assert cfg.addresses() == {"172.20.102.1", "172.20.2.1"}
    assert [(str(r.destination), str(r.next_hop)) for r in cfg.routes] == [
        ("0.0.0.0/0", "172.20.2.254"),
        ("0.0.0.0/0", "172.20.2.254"),
    ]
    leaky = read_config(parse_config(fixture("cisco_ios", "access-leaky.cfg")), "cisco_ios")
    route = leaky.routes[0]
    assert (str(route.destination), route.interface, str(route.next_hop)) == (
        "10.10.0.0/16",
        "Vlan202",
        "172.20.2.254",
    )


def test_read_config_odd_lines_do_not_raise() -> None:
    text = textwrap.dedent("""\
        interface Vlanif9
         ip address dhcp-alloc
         ip address unnumbered interface LoopBack0
         ip address 300.1.1.1 255.255.255.0
         ipv6 address 2001:db8::1/64
        #
        ip route-static default-preference 60
        ip route-static vpn-instance red 10.1.0.0 16 10.2.0.1
        ip route 10.0.0.0
        ipv6 route 2001:db8:1::/48 2001:db8::ff
        vlan batch
        """)
    cfg = read_config(parse_config(text), "huawei")
    assert cfg.addresses() == {"2001:db8::1"}
    assert [str(r.destination) for r in cfg.routes] == ["10.1.0.0/16", "2001:db8:1::/48"]


# ----------------------------------------------------------------------------- config leaks


def test_legal_configs_reach_nothing(inventory: Inventory) -> None:
    assert leaks_of(inventory, "int-core", "huawei", "core-legal.cfg") == []
    assert leaks_of(inventory, "int-acc", "hp_comware", "access-legal.cfg") == []
    assert leaks_of(inventory, "ext-acc", "cisco_ios", "access-legal.cfg") == []


def test_huawei_leaking_route_stray_vlan_and_address(inventory: Inventory) -> None:
    leaks = leaks_of(inventory, "int-core", "huawei", "core-leaky.cfg")
    by_kind = {(leak.kind, leak.zone): leak for leak in leaks}
    assert set(by_kind) == {("address", "external"), ("route", "external"), ("vlan", "external")}
    address = by_kind[("address", "external")]
    assert [(line.number, line.text) for line in address.lines] == [
        (11, "interface Vlanif205"),
        (13, "ip address 172.20.5.1 255.255.255.0"),
    ]
    assert "shut down" in address.message
    routes = [leak for leak in leaks if leak.kind == "route"]
    assert [(r.lines[0].number, r.lines[0].text) for r in routes] == [
        (25, "ip route-static 172.20.0.0 255.255.0.0 10.10.0.9"),
        (26, "ip route-static 0.0.0.0 0.0.0.0 172.20.0.254 preference 70"),
    ]
    assert "destination 172.20.0.0/16 is in zone external" in routes[0].message
    assert routes[1].message.startswith("default route to 0.0.0.0/0: next hop 172.20.0.254")
    vlan = by_kind[("vlan", "external")]
    assert vlan.message == "VLAN 205 belongs to zone external"
    assert [line.number for line in vlan.lines] == [5, 11, 19]  # declared, Vlanif, trunk


def test_h3c_default_route_to_the_internet_and_stray_vlan(inventory: Inventory) -> None:
    leaks = leaks_of(inventory, "int-acc", "hp_comware", "access-leaky.cfg")
    summary = sorted((leak.kind, leak.zone, leak.lines[-1].number) for leak in leaks)
    assert summary == [
        ("address", "external", 14),
        ("route", "internet", 24),  # 202.96.128.86 is public: the Internet zone
        ("vlan", "external", 22),
    ]


def test_cisco_external_switch_reaching_internal(inventory: Inventory) -> None:
    leaks = leaks_of(inventory, "ext-acc", "cisco_ios", "access-leaky.cfg")
    assert sorted((leak.kind, leak.zone) for leak in leaks) == [
        ("address", "internal"),
        ("route", "internal"),
        ("vlan", "internal"),
        ("vlan", "internal"),
        ("vlan", "internal"),
    ]
    vlan150 = next(leak for leak in leaks if leak.message == "VLAN 150 belongs to zone internal")
    assert [line.number for line in vlan150.lines] == [8, 17, 20]


def test_gap_next_hop_is_legal_and_other_routes_are_judged(inventory: Inventory) -> None:
    text = "ip route-static 172.20.0.0 16 10.10.0.254\nip route-static 172.20.0.0 16 10.10.0.253\n"
    cfg = read_config(parse_config(text), "huawei")
    leaks = config_leaks(inventory.devices["int-core"], cfg, inventory)
    assert [leak.lines[0].number for leak in leaks] == [2]


def test_zone_map(inventory: Inventory) -> None:
    import ipaddress

    zones = ZoneMap(inventory)
    assert zones.of_address(ipaddress.ip_address("10.10.3.4")) == {"internal"}
    assert zones.of_address(ipaddress.ip_address("8.8.8.8")) == {"internet"}
    assert zones.of_address(ipaddress.ip_address("10.99.0.1")) == set()  # private, no pool
    assert zones.of_network(ipaddress.ip_network("10.0.0.0/8")) == {"internal"}
    assert zones.of_network(ipaddress.ip_network("0.0.0.0/0")) == {"internal", "external", "dmz"}
    assert zones.of_vlan(250) == {"external"} and zones.of_vlan(4000) == set()


def test_a_zone_isolated_from_nothing_has_no_leaks(inventory: Inventory) -> None:
    dmz = dataclasses.replace(inventory.devices["int-acc"], zone="dmz")
    cfg = read_config(parse_config(fixture("hp_comware", "access-leaky.cfg")), "hp_comware")
    assert config_leaks(dmz, cfg, inventory) == []


# ----------------------------------------------------------------------------- links


def test_links_through_the_gap_are_legal(inventory: Inventory) -> None:
    assert link_crossings(inventory) == {}


def with_links(inventory: Inventory, *links: Link) -> Inventory:
    return dataclasses.replace(inventory, links=[*inventory.links, *links])


def test_a_cable_between_isolated_zones(inventory: Inventory) -> None:
    inv = with_links(
        inventory, Link("int-acc", "GigabitEthernet1/0/23", "ext-acc", "GigabitEthernet0/23")
    )
    crossings = link_crossings(inv)
    assert set(crossings) == {"int-acc", "ext-acc"}
    (c,) = crossings["int-acc"]
    assert c.joined == ("external", "internal")
    assert c.path == ("ext-acc:GigabitEthernet0/23", "int-acc:GigabitEthernet1/0/23")
    cfg = read_config(
        parse_config("interface GigabitEthernet1/0/23\n port access vlan 102\n"), "hp_comware"
    )
    (leak,) = link_leaks(inv.devices["int-acc"], crossings["int-acc"], cfg)
    assert leak.kind == "link" and leak.zone == "external"
    assert [(line.number, line.text) for line in leak.lines] == [
        (1, "interface GigabitEthernet1/0/23")
    ]
    assert "without a gap" in leak.message


def test_a_path_through_a_third_zone(inventory: Inventory) -> None:
    dmz = dataclasses.replace(inventory.devices["int-acc"], name="dmz-sw", zone="dmz")
    inv = dataclasses.replace(inventory, devices={**inventory.devices, "dmz-sw": dmz})
    inv = with_links(
        inv,
        Link("int-acc", "GigabitEthernet1/0/22", "dmz-sw", "GigabitEthernet1/0/1"),
        Link("dmz-sw", "GigabitEthernet1/0/2", "ext-acc", "GigabitEthernet0/22"),
    )
    crossings = link_crossings(inv)
    assert set(crossings) == {"int-acc", "dmz-sw", "ext-acc"}
    assert len(crossings["dmz-sw"]) == 2
    path = crossings["int-acc"][0].path
    assert path[0].startswith("ext-acc:") and path[-1].startswith("int-acc:")  # external → internal
    assert len(path) == 4


def test_a_gap_cabled_on_the_wrong_side_is_still_a_gap(inventory: Inventory) -> None:
    inv = with_links(inventory, Link("gap-1", "mgmt", "int-acc", "GigabitEthernet1/0/20"))
    assert link_crossings(inv) == {}


# ----------------------------------------------------------------------------- the check kind


def audit(inventory: Inventory, configs: dict[str, str], source: str = "dir") -> dict[str, object]:
    playbooks = load_playbooks([PLAYBOOK])
    devices = applicable([inventory.devices[n] for n in configs], playbooks)
    facts = {n: DeviceFacts(n, config=text) for n, text in configs.items()}
    ctx = FleetContext(inventory, devices, facts, None, datetime.now(UTC), source)
    for f in facts.values():
        f.cache[FLEET_KEY] = ctx
    findings = evaluate(devices, facts, playbooks)
    # by rule: isolation.no-cross-zone-neighbor (LLDP) shares the control
    return {f.device: f for f in findings if f.rule == "isolation.no-cross-zone-path"}


def test_kind_reports_lines_and_zones(inventory: Inventory) -> None:
    found = audit(
        inventory,
        {
            "int-core": fixture("huawei", "core-leaky.cfg"),
            "int-acc": fixture("hp_comware", "access-legal.cfg"),
            "ext-acc": fixture("cisco_ios", "access-leaky.cfg"),
        },
    )
    assert {d: f.status for d, f in found.items()} == {  # type: ignore[attr-defined]
        "int-core": Status.FAIL,
        "int-acc": Status.PASS,
        "ext-acc": Status.FAIL,
    }
    core = found["int-core"]
    assert core.message.startswith("zone internal reaches external by address/route/vlan")  # type: ignore[attr-defined]
    lines = {(e.line, e.text) for e in core.evidence}  # type: ignore[attr-defined]
    assert (25, "ip route-static 172.20.0.0 255.255.0.0 10.10.0.9") in lines
    assert (5, "vlan batch 100 to 103 205") in lines


def test_kind_needs_a_configuration_and_the_inventory(inventory: Inventory) -> None:
    playbooks = load_playbooks([PLAYBOOK])
    device = inventory.devices["int-core"]
    facts = {"int-core": DeviceFacts("int-core", config=None)}
    (finding,) = [
        f for f in evaluate([device], facts, playbooks) if f.rule == "isolation.no-cross-zone-path"
    ]
    assert finding.status is Status.ERROR and "inventory" in finding.message
    found = audit(inventory, {"int-core": ""})
    assert found["int-core"].status is Status.PASS  # type: ignore[attr-defined]


def test_lab_configs_pass_but_the_seeded_firewall(tmp_path: Path) -> None:
    lab = load_inventory(ROOT / "inventory" / "lab.yaml")
    data = ROOT / "inventory" / "lab-data"
    configs = {
        d.name: (data / d.name / "running.cfg").read_text(encoding="utf-8")
        for d in lab.devices.values()
        if (data / d.name / "running.cfg").is_file()
    }
    found = audit(lab, configs)
    failed = {d for d, f in found.items() if f.status is not Status.PASS}  # type: ignore[attr-defined]
    assert failed == {"int-fw-1"}  # the seeded firewall rule; every switch passes
    assert "rule temp-ext-portal" in found["int-fw-1"].message  # type: ignore[attr-defined]
    assert link_crossings(lab) == {}
