"""L2 correlation: duplicates across zones, uplinks, gaps, unknown MACs; the isolation-l2 kind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govnet.checks.audit import _prepare, applicable
from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.fleet import FLEET_KEY, FleetContext
from govnet.checks.model import Finding
from govnet.checks.playbook import load_playbooks
from govnet.collect.neighbors import neighbor_commands
from govnet.collect.tables import DeviceTables, TableEntry, table_commands
from govnet.core.vocabulary import Status
from govnet.inventory import Inventory, load_inventory
from govnet.inventory.terminals import TERMINAL, terminal_target
from govnet.isolation.correlate import L2Options, correlate
from govnet.lab.data import load_device_data
from govnet.lab.vendors import get_vendor, render_neighbors, render_table
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "isolation"
PLAYBOOK = ROOT / "playbooks" / "isolation.yaml"
ZONE = {
    "int-core": "internal",
    "int-acc": "internal",
    "ext-core": "external",
    "ext-acc": "external",
    "dmz-sw": "dmz",
}

PC_INT_1, PC_INT_2, PC_INT_3 = "00:1a:2b:10:00:01", "00:1a:2b:10:00:02", "00:1a:2b:10:00:03"
PC_EXT_1 = "00:1a:2b:20:00:01"
GAP_MAC, SERVER = "00:e0:fc:0a:00:fe", "00:16:3e:10:00:10"
STRANGER = "02:00:00:00:00:01"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(FIXTURES / "inventory.yaml")


def mac(device: str, address: str, port: str, vlan: int | None = None) -> TableEntry:
    return TableEntry(device, ZONE[device], address, None, vlan, port, "ssh-mac")


def arp(device: str, address: str, ip: str, port: str = "Vlanif100") -> TableEntry:
    return TableEntry(device, ZONE[device], address, ip, None, port, "ssh-arp")


def tables(
    *entries: TableEntry,
    own: dict[str, set[str]] | None = None,
    broken: tuple[str, ...] = (),
    uplinks: dict[str, set[str]] | None = None,
) -> dict[str, DeviceTables]:
    out = {name: DeviceTables(name, zone, "ssh") for name, zone in ZONE.items()}
    for e in entries:
        out[e.device].entries.append(e)
    for name, macs in (own or {}).items():
        out[name].own_macs |= macs
    for name, ports in (uplinks or {}).items():
        out[name].uplinks |= ports
    for name in broken:
        out[name].error = "timeout"
    return out


def baseline() -> list[TableEntry]:
    """A clean network: every host at its access port and on the uplinks above it."""
    return [
        mac("int-acc", PC_INT_1, "GigabitEthernet1/0/1", 102),
        mac("int-core", PC_INT_1, "GigabitEthernet0/0/2", 100),
        arp("int-core", PC_INT_1, "10.10.2.11"),
        mac("int-core", SERVER, "GigabitEthernet0/0/10", 100),
        mac("int-core", GAP_MAC, "GigabitEthernet0/0/24", 100),
        arp("int-core", GAP_MAC, "10.10.0.254"),
        mac("ext-acc", PC_EXT_1, "GigabitEthernet0/2", 202),
        mac("ext-core", PC_EXT_1, "GigabitEthernet1/0/2", 200),
        mac("ext-core", "00:e0:fc:0b:00:fe", "GigabitEthernet1/0/24", 200),  # the gap's other side
        arp("ext-core", "00:e0:fc:0b:00:fe", "172.20.0.254", "Vlan-interface200"),
    ]


def test_a_clean_network_has_no_findings(inventory: Inventory) -> None:
    result = correlate(inventory, tables(*baseline()))
    assert result.dual_homed == [] and result.unknown == []
    assert result.entries == 10 and result.macs == 5
    assert result.uplinks["int-core"] == {"GigabitEthernet0/0/2"}  # the gap port is no uplink
    assert result.zones_by_owner["pc-int-1"] == frozenset({"internal"})


def test_dual_homed_names_both_access_ports_not_the_uplinks(inventory: Inventory) -> None:
    result = correlate(
        inventory,
        tables(
            *baseline(),
            mac("int-acc", PC_INT_3, "GigabitEthernet1/0/3", 102),
            mac("int-core", PC_INT_3, "GigabitEthernet0/0/2", 100),
            arp("int-core", PC_INT_3, "10.10.2.13"),
            mac("ext-acc", PC_INT_3, "GigabitEthernet0/5", 202),
            mac("ext-core", PC_INT_3, "GigabitEthernet1/0/2", 200),
            arp("ext-acc", PC_INT_3, "172.20.2.99", "Vlan202"),
        ),
    )
    (record,) = result.dual_homed
    assert record.mac == PC_INT_3 and record.owner is not None and record.owner.name == "pc-int-3"
    assert record.zones == ("external", "internal") and record.pairs == (("external", "internal"),)
    assert {z: [(e.device, e.port) for e in es] for z, es in record.where.items()} == {
        "external": [("ext-acc", "GigabitEthernet0/5")],
        "internal": [("int-acc", "GigabitEthernet1/0/3")],
    }
    assert record.ips == {"external": ("172.20.2.99",), "internal": ("10.10.2.13",)}
    assert set(result.dual_by_device) == {"int-acc", "ext-acc"}  # not the cores
    assert result.dual_by_mac[PC_INT_3] is record
    assert result.unknown == []


def test_a_terminal_carried_to_the_other_network(inventory: Inventory) -> None:
    result = correlate(
        inventory, tables(*baseline(), mac("ext-acc", PC_INT_2, "GigabitEthernet0/7"))
    )
    (record,) = result.dual_homed
    assert record.zones == ("external",) and record.owner and record.owner.zone == "internal"
    assert list(record.where) == ["external"]
    assert result.zones_by_owner["pc-int-2"] == frozenset({"external"})


def test_a_stranger_on_both_networks_is_dual_homed_and_unknown(inventory: Inventory) -> None:
    result = correlate(
        inventory,
        tables(
            *baseline(),
            mac("int-acc", STRANGER, "GigabitEthernet1/0/9"),
            mac("ext-acc", STRANGER, "GigabitEthernet0/9"),
        ),
    )
    assert [d.mac for d in result.dual_homed] == [STRANGER]
    assert sorted((u.zone, u.where[0].device, u.where[0].port) for u in result.unknown) == [
        ("external", "ext-acc", "GigabitEthernet0/9"),
        ("internal", "int-acc", "GigabitEthernet1/0/9"),
    ]


def test_unknown_located_at_the_access_port_below_the_uplinks(inventory: Inventory) -> None:
    result = correlate(
        inventory,
        tables(
            *baseline(),
            mac("int-acc", STRANGER, "GigabitEthernet1/0/9"),
            mac("int-core", STRANGER, "GigabitEthernet0/0/2"),
        ),
    )
    (unknown,) = result.unknown
    assert [(e.device, e.port) for e in unknown.where] == [("int-acc", "GigabitEthernet1/0/9")]
    assert set(result.unknown_by_device) == {"int-acc"}


def test_behind_a_switch_that_did_not_answer_it_is_located_at_the_uplink(
    inventory: Inventory,
) -> None:
    result = correlate(
        inventory,
        tables(*baseline(), mac("ext-core", STRANGER, "GigabitEthernet1/0/2"), broken=("ext-acc",)),
    )
    (unknown,) = result.unknown
    assert [(e.device, e.port) for e in unknown.where] == [("ext-core", "GigabitEthernet1/0/2")]


def test_only_uplink_sightings_on_both_switches(inventory: Inventory) -> None:
    result = correlate(
        inventory,
        tables(
            *baseline(),
            mac("int-core", STRANGER, "GigabitEthernet0/0/2"),
            mac("int-acc", STRANGER, "GigabitEthernet1/0/24"),
        ),
    )
    (unknown,) = result.unknown  # each cable leads to a switch that saw it: both are named
    assert {e.device for e in unknown.where} == {"int-core", "int-acc"}


def test_a_port_with_many_macs_is_an_uplink(inventory: Inventory) -> None:
    crowd = [mac("int-core", f"00:1a:2b:10:00:0{i}", "GigabitEthernet0/0/5") for i in (1, 2, 3)]
    entries = [
        *baseline(),
        *crowd,
        mac("int-core", STRANGER, "GigabitEthernet0/0/5"),
        mac("int-acc", STRANGER, "GigabitEthernet1/0/9"),
    ]
    few = correlate(inventory, tables(*entries), L2Options(uplink_macs=50))
    assert {(e.device, e.port) for e in few.unknown[0].where} == {
        ("int-core", "GigabitEthernet0/0/5"),
        ("int-acc", "GigabitEthernet1/0/9"),
    }
    many = correlate(inventory, tables(*entries), L2Options(uplink_macs=4))
    assert {(e.device, e.port) for e in many.unknown[0].where} == {
        ("int-acc", "GigabitEthernet1/0/9")
    }
    assert "GigabitEthernet0/0/5" in many.uplinks["int-core"]


def test_trunk_ports_from_the_configuration_are_uplinks(inventory: Inventory) -> None:
    entries = [
        *baseline(),
        mac("int-core", STRANGER, "GigabitEthernet0/0/7"),
        mac("int-acc", STRANGER, "GigabitEthernet1/0/9"),
    ]
    result = correlate(inventory, tables(*entries, uplinks={"int-core": {"GigabitEthernet0/0/7"}}))
    assert [e.device for e in result.unknown[0].where] == ["int-acc"]


def test_gaps_are_exempt(inventory: Inventory) -> None:
    result = correlate(
        inventory,
        tables(
            *baseline(),
            mac("ext-core", GAP_MAC, "GigabitEthernet1/0/24"),  # the gap's MAC on both sides
            mac("ext-core", "00:e0:fc:0b:00:ff", "GigabitEthernet1/0/24"),  # another gap interface
        ),
    )
    assert result.dual_homed == [] and result.unknown == []


def test_a_known_host_behind_the_gap_port_still_counts(inventory: Inventory) -> None:
    result = correlate(
        inventory, tables(*baseline(), mac("int-core", PC_EXT_1, "GigabitEthernet0/0/24"))
    )
    assert [d.mac for d in result.dual_homed] == [PC_EXT_1]  # the gap is bridging: report it


def test_switch_own_macs_devices_and_device_addresses_are_known(inventory: Inventory) -> None:
    own, printer = "00:e0:fc:01:00:01", "00:11:22:33:44:55"
    result = correlate(
        inventory,
        tables(
            *baseline(),
            arp("int-core", own, "10.10.0.1"),
            mac("int-acc", own, "GigabitEthernet1/0/24"),
            arp("int-core", printer, "10.10.0.30"),  # printer-gw has an address but no mac
            mac("int-acc", printer, "GigabitEthernet1/0/12"),
            own={"int-core": {own}},
        ),
    )
    assert result.unknown == []


def test_virtual_router_multicast_and_ignored_macs(inventory: Inventory) -> None:
    vrrp, hsrp, multicast = "00:00:5e:00:01:01", "00:00:0c:07:ac:01", "01:00:5e:00:00:01"
    entries = [*baseline()]
    for m in (vrrp, hsrp, multicast, "00:00:00:00:00:00", "aa:bb:cc:00:00:01"):
        entries += [
            mac("int-acc", m, "GigabitEthernet1/0/9"),
            mac("ext-acc", m, "GigabitEthernet0/9"),
        ]
    result = correlate(inventory, tables(*entries), L2Options(ignore_macs=("aa:bb:cc",)))
    assert result.dual_homed == [] and result.unknown == []


def test_zones_isolated_from_nothing_are_not_watched(inventory: Inventory) -> None:
    result = correlate(
        inventory, tables(*baseline(), mac("dmz-sw", STRANGER, "GigabitEthernet1/0/1"))
    )
    assert result.unknown == [] and result.dual_homed == []


def test_arp_only_sightings_locate_at_the_gateway(inventory: Inventory) -> None:
    result = correlate(inventory, tables(*baseline(), arp("int-core", STRANGER, "10.10.9.9")))
    (unknown,) = result.unknown
    assert [(e.device, e.port, e.ip) for e in unknown.where] == [
        ("int-core", "Vlanif100", "10.10.9.9")
    ]
    assert unknown.ips == ("10.10.9.9",)


def test_unreadable_tables_are_left_out(inventory: Inventory) -> None:
    entries = [*baseline(), mac("ext-acc", STRANGER, "GigabitEthernet0/9")]
    result = correlate(inventory, tables(*entries, broken=("ext-acc",)))
    assert result.unknown == [] and result.to_dict()["errors"] == {"ext-acc": "timeout"}


# ----------------------------------------------------------------------------- the kind, offline


def lab_audit(source: str = "live") -> dict[tuple[str, str], Finding]:
    """The isolation playbook on the lab's switches, their SSH output rendered from lab-data
    by the lab's own vendor tables (no network), as the audit would collect it."""
    inv = load_inventory(ROOT / "inventory" / "lab.yaml")
    playbooks = load_playbooks([PLAYBOOK])
    candidates = [*inv.devices.values(), *(terminal_target(inv, t) for t in inv.terminals.values())]
    targets = applicable(candidates, playbooks)
    facts: dict[str, DeviceFacts] = {}
    for d in targets:
        if d.platform == TERMINAL:
            facts[d.name] = DeviceFacts(d.name)
            continue
        data = load_device_data(ROOT / "inventory" / "lab-data", d.name)
        if data.behaviour.silent:
            facts[d.name] = DeviceFacts(d.name, error="no SSH banner", error_kind="timeout")
            continue
        vendor = get_vendor(d.platform)
        outputs = {
            cmd: render_table(vendor, what, data.tables)
            for what, cmd in table_commands(d.platform).items()
        }
        # the LLDP/CDP neighbours too, for isolation.no-cross-zone-neighbor
        outputs |= {
            cmd: render_neighbors(vendor, data.tables, protocol)
            for protocol, cmd in neighbor_commands(d.platform).items()
        }
        facts[d.name] = DeviceFacts(d.name, config=data.running_config, outputs=outputs)
    ctx = FleetContext(inv, targets, facts, None, datetime.now(UTC), source)
    for f in facts.values():
        f.cache[FLEET_KEY] = ctx
    _prepare(ctx, playbooks)
    findings = evaluate(targets, facts, playbooks)
    return {(f.device, f.rule): f for f in findings if f.control.startswith("isolation.")}


def test_kind_finds_the_lab_dual_homed_pc_and_nothing_else() -> None:
    found = lab_audit()
    failed = {key for key, f in found.items() if f.status is Status.FAIL}
    assert failed == {
        ("int-acc-west", "isolation.no-dual-homed-host"),
        ("ext-acc-west", "isolation.no-dual-homed-host"),
        ("pc-west-03", "isolation.no-dual-homed-terminal"),
        # the static check's seeded firewall policy (int-fw-1 rule temp-ext-portal)
        ("int-fw-1", "isolation.no-cross-zone-path"),
    }
    assert {d for (d, _), f in found.items() if f.status is Status.ERROR} == {"ext-acc-town"}
    west = found[("ext-acc-west", "isolation.no-dual-homed-host")]
    assert "00:1a:2b:10:02:03 (pc-west-03)" in west.message
    assert "int-acc-west GigabitEthernet1/0/3" in west.message
    (evidence,) = west.evidence
    assert evidence.text == (
        "00:1a:2b:10:02:03 in external at ext-acc-west GigabitEthernet0/5 vlan 202 ip 172.20.102.99"
    )
    assert "terminal pc-west-03 of zone internal" in evidence.note
    unknown = found[("int-core-1", "isolation.no-unknown-device")]
    assert unknown.status is Status.PASS and "every MAC is a known" in unknown.message


def test_kind_skips_offline_audits() -> None:
    found = lab_audit("dir")
    l2 = {f.status for (_, rule), f in found.items() if rule != "isolation.no-cross-zone-path"}
    assert l2 <= {Status.SKIP, Status.ERROR}
    assert found[("int-core-1", "isolation.no-dual-homed-host")].message.startswith(
        "not applicable"
    )


def test_kind_params_are_validated() -> None:
    from pydantic import ValidationError

    from govnet.checks.kinds.isolation_l2 import L2Params

    assert L2Params(detect="dual-homed", ignore_macs=["00-1A-2B"]).ignore_macs == ["00:1a:2b"]
    with pytest.raises(ValidationError):
        L2Params(detect="dual-homed", ignore_macs=["zz:00"])
    with pytest.raises(ValidationError):
        L2Params(detect="everything")  # type: ignore[arg-type]


def test_kind_errors_name_the_cause() -> None:
    from govnet.checks.kinds.isolation_l2 import IsolationL2Kind, L2Params

    inv = load_inventory(FIXTURES / "inventory.yaml")
    kind = IsolationL2Kind()
    device = inv.devices["int-acc"]
    broken = DeviceFacts("int-acc", config="", outputs=None)  # type: ignore[arg-type]
    ctx = FleetContext(inv, [device], {"int-acc": broken}, None, datetime.now(UTC), "live")
    broken.cache[FLEET_KEY] = ctx
    params = L2Params(detect="dual-homed")
    rule = next(
        r for r in load_playbooks([PLAYBOOK])[0].rules if r.id == "isolation.no-dual-homed-host"
    )
    kind.prepare(ctx, [rule])  # a collector bug is recorded, not raised
    result = kind.evaluate(device, broken, params)
    assert result.status is Status.ERROR
    assert result.message.startswith(
        "cannot collect or correlate the ARP/MAC tables: AttributeError"
    )
    ctx.data.clear()
    kind.prepare(ctx, [])
    assert "not collected" in kind.evaluate(device, broken, params).message
    wrong = L2Params(detect="unknown-device", zones=["intranet"])
    ctx.data["isolation-l2"][("ssh", wrong.options())] = correlate(inv, {})
    assert "intranet are not in the inventory" in kind.evaluate(device, broken, wrong).message
