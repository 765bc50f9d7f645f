"""Discovery's comparison of LLDP/CDP neighbours with the inventory (pure), and the parsing of
the neighbour tables the lab's devices print."""

from __future__ import annotations

from pathlib import Path

import pytest

from govnet.collect.neighbors import (
    DeviceNeighbors,
    Neighbor,
    neighbor_commands,
    neighbors_from_ssh,
)
from govnet.collect.tables import canonical_port
from govnet.inventory import Inventory, load_inventory
from govnet.isolation.discovery import analyse
from govnet.lab.data import load_device_data
from govnet.lab.vendors import get_vendor, render_neighbors
from tests.conftest import ROOT

DATA = ROOT / "inventory" / "lab-data"
# both ends of every declared switch-to-switch link of the lab, as LLDP reports them
DECLARED = [
    ("int-core-1", "GigabitEthernet0/0/24", "gap-1", "int0"),
    ("ext-core-1", "GigabitEthernet1/0/24", "gap-1", "ext0"),
    ("int-core-1", "GigabitEthernet0/0/1", "int-agg-east", "GE0/0/24"),
    ("int-core-1", "GigabitEthernet0/0/2", "int-acc-west", "GigabitEthernet1/0/24"),
    ("int-agg-east", "GigabitEthernet0/0/1", "int-acc-town", "GigabitEthernet0/0/24"),
    ("ext-core-1", "GigabitEthernet1/0/1", "ext-agg-east", "Gi0/24"),
    ("ext-core-1", "GigabitEthernet1/0/2", "ext-acc-west", "Gi0/24"),
    ("ext-agg-east", "GigabitEthernet0/1", "ext-acc-town", "GigabitEthernet1/0/24"),
    # the Ruijie access switch and the two zone-edge firewalls (RGOS names carry a space)
    ("int-agg-east", "GigabitEthernet0/0/23", "int-acc-east", "GigabitEthernet 0/24"),
    ("int-core-1", "GigabitEthernet0/0/23", "int-fw-1", "GigabitEthernet0/0/0"),
    ("ext-core-1", "GigabitEthernet1/0/23", "ext-fw-1", "GigabitEthernet1/0/0"),
]


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(ROOT / "inventory" / "lab.yaml")


def reports(
    *neighbors: Neighbor, errors: dict[str, str] | None = None
) -> dict[str, DeviceNeighbors]:
    out: dict[str, DeviceNeighbors] = {}
    for n in neighbors:
        out.setdefault(n.device, DeviceNeighbors(n.device)).neighbors.append(n)
    for name, why in (errors or {}).items():
        out[name] = DeviceNeighbors(name, error=why)
    return out


def declared() -> list[Neighbor]:
    return [Neighbor(a, port, b, remote) for a, port, b, remote in DECLARED]


def test_the_declared_cabling_is_clean(inventory: Inventory) -> None:
    result = analyse(inventory, reports(*declared()))
    assert not result.has_findings and result.exit_code() == 0
    assert len(result.seen) == len(DECLARED) == len(inventory.links)


def test_an_undeclared_cable_between_isolated_zones_fails_both_ends(inventory: Inventory) -> None:
    cable = Neighbor("int-acc-west", "GE1/0/20", "ext-acc-west", "Gi0/20")
    result = analyse(inventory, reports(*declared(), cable))
    [link] = result.undeclared
    assert (link.a, link.b) == (
        ("ext-acc-west", "GigabitEthernet0/20"),
        ("int-acc-west", "GigabitEthernet1/0/20"),
    )
    assert link.yaml() == (
        '- {a: "ext-acc-west:GigabitEthernet0/20", b: "int-acc-west:GigabitEthernet1/0/20"}'
    )
    [cross] = result.cross_zone
    assert (cross.a_zone, cross.b_zone, cross.via) == ("external", "internal", None)
    assert result.cross_zone_of("int-acc-west") == result.cross_zone_of("ext-acc-west") == [cross]
    assert result.cross_zone_of("int-core-1") == []
    assert result.exit_code() == 1


def test_a_gap_between_the_zones_is_no_crossing(inventory: Inventory) -> None:
    # an extra gap port cabled to an external switch: undeclared, but not a crossing
    result = analyse(
        inventory, reports(*declared(), Neighbor("ext-acc-west", "Gi0/9", "gap-1", "x"))
    )
    assert len(result.undeclared) == 1 and result.cross_zone == []


def test_an_unknown_box_seen_from_both_zones_joins_them(inventory: Inventory) -> None:
    hub = dict(name="hub", remote_port="1", chassis="58:69:6c:00:00:01")
    result = analyse(
        inventory,
        reports(
            *declared(),
            Neighbor("int-acc-town", "GigabitEthernet0/0/5", **hub),  # type: ignore[arg-type]
            Neighbor("ext-acc-west", "GigabitEthernet0/7", **hub),  # type: ignore[arg-type]
        ),
    )
    [unknown] = result.unknown
    assert unknown.zones == {"internal", "external"} and len(unknown.seen) == 2
    [cross] = result.cross_zone
    assert cross.via == "hub" and {cross.a[0], cross.b[0]} == {"int-acc-town", "ext-acc-west"}
    candidate = unknown.candidate(inventory)
    assert candidate.startswith("hub:\n  {host: FILL-IN")
    assert 'mac: "58:69:6c:00:00:01"' in candidate and "zone: internal" in candidate


def test_neighbours_match_by_name_domain_address_or_chassis(inventory: Inventory) -> None:
    result = analyse(
        inventory,
        reports(
            Neighbor("int-core-1", "GigabitEthernet0/0/1", "INT-AGG-EAST.lab.gov", "GE0/0/24"),
            Neighbor("int-core-1", "GigabitEthernet0/0/2", "sw", "GE1/0/24", address="10.10.2.1"),
            Neighbor(
                "int-core-1", "GigabitEthernet0/0/24", "x", "int0", chassis="00:e0:fc:0a:00:fe"
            ),
            Neighbor(
                "int-core-1", "GigabitEthernet0/0/23", "USG", "GE0/0/0", address="10.10.0.253"
            ),
        ),
    )
    assert result.unknown == [] and result.undeclared == []
    # the declared links from int-core-1 are seen; the others have no end that was read
    assert result.not_seen == []


def test_a_declared_link_not_seen_is_reported_only_when_an_end_was_read(
    inventory: Inventory,
) -> None:
    without = [n for n in declared() if n.port != "GigabitEthernet0/0/2"]
    result = analyse(inventory, reports(*without))
    assert [(k.a_device, k.b_device) for k in result.not_seen] == [("int-core-1", "int-acc-west")]
    # int-core-1 could not be read and int-acc-west was not asked: nothing can be said
    result = analyse(
        inventory,
        reports(
            *[n for n in without if n.device != "int-core-1"], errors={"int-core-1": "timeout"}
        ),
    )
    pairs = {(k.a_device, k.b_device) for k in result.not_seen}
    assert ("int-core-1", "int-acc-west") not in pairs and ("int-core-1", "gap-1") not in pairs
    # int-agg-east was read and does not report its cable to int-core-1
    assert ("int-core-1", "int-agg-east") in pairs
    assert result.unreadable == ["int-core-1"] and result.exit_code() == 3


@pytest.mark.parametrize(
    "device", ["int-core-1", "int-acc-west", "ext-agg-east", "int-acc-town", "int-acc-east"]
)
def test_the_lab_tables_parse_with_ntc_templates(inventory: Inventory, device: str) -> None:
    d = inventory.devices[device]
    data = load_device_data(DATA, device, frozenset({"cross-zone-cable"}))
    vendor = get_vendor(d.platform)
    outputs = {
        cmd: render_neighbors(vendor, data.tables, protocol)
        for protocol, cmd in neighbor_commands(d.platform).items()
    }
    # a leftover echo of the command line, as netmiko sometimes leaves it, is no error
    first = next(iter(outputs))
    outputs[first] = f"<{device}>{first}\n{outputs[first]}"
    got = neighbors_from_ssh(d, outputs)
    assert got.ok, got.error
    want = {(canonical_port(d.platform, n.local), n.name, n.port) for n in data.tables.lldp}
    assert {(n.port, n.name, n.remote_port) for n in got.neighbors} == want


def test_scenario_entries_are_served_only_with_their_scenario() -> None:
    plain = load_device_data(DATA, "int-acc-west")
    seeded = load_device_data(DATA, "int-acc-west", frozenset({"cross-zone-cable"}))
    assert len(seeded.tables.lldp) == len(plain.tables.lldp) + 1
    assert {n.name for n in seeded.tables.lldp} - {n.name for n in plain.tables.lldp} == {
        "ext-acc-west"
    }


def test_an_unparsable_table_is_an_error_not_a_crash(inventory: Inventory, tmp_path: Path) -> None:
    d = inventory.devices["int-acc-west"]
    got = neighbors_from_ssh(d, {"display lldp neighbor-information list": "garbage\nmore"})
    assert not got.ok and "cannot parse" in (got.error or "")
    got = neighbors_from_ssh(d, {})
    assert got.error == "the output of 'display lldp neighbor-information list' was not collected"


def test_an_unknown_neighbour_without_address_takes_it_from_the_arp_table(
    inventory: Inventory,
) -> None:
    bare = Neighbor(
        "int-acc-town", "GigabitEthernet0/0/5", "annex", "1", chassis="58:69:6c:00:00:02"
    )
    read = reports(bare)
    read["int-acc-town"].arp = {"58:69:6c:00:00:02": "10.10.3.77"}
    [unknown] = analyse(inventory, read).unknown
    assert unknown.address == "10.10.3.77"
    assert unknown.candidate(inventory).startswith(
        "annex:\n  {host: 10.10.3.77, address: 10.10.3.77"
    )
    [unknown] = analyse(inventory, reports(bare)).unknown
    assert unknown.address is None


def test_the_lab_arp_output_parses_for_discovery(inventory: Inventory) -> None:
    from govnet.collect.neighbors import arp_from_ssh
    from govnet.collect.tables import table_commands
    from govnet.lab.vendors import render_table

    d = inventory.devices["int-acc-west"]
    data = load_device_data(DATA, d.name)
    command = table_commands(d.platform)["arp"]
    arp = arp_from_ssh(d, {command: render_table(get_vendor(d.platform), "arp", data.tables)})
    assert arp["00:1a:2b:10:02:03"] == "10.10.102.13"
    assert arp_from_ssh(d, {command: "garbage"}) == {}


def test_platforms_without_an_lldp_template_are_known() -> None:
    from govnet.collect.neighbors import lldp_parsable

    parsable = ("huawei", "hp_comware", "cisco_ios", "ruijie_os")  # Ruijie: govnet's template
    assert [p for p in parsable if not lldp_parsable(p)] == []
    assert not lldp_parsable("linux") and not lldp_parsable("huawei_usg")
