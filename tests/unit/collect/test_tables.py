"""ARP/MAC tables: SSH output parsed with ntc-templates, SNMP walks, one record type."""

from __future__ import annotations

import ipaddress

import pytest

from govnet.collect.tables import (
    DOT1D_BASE_PORT_IF_INDEX,
    DOT1D_TP_FDB_PORT,
    DOT1D_TP_FDB_STATUS,
    DOT1Q_TP_FDB_PORT,
    DOT1Q_TP_FDB_STATUS,
    IF_DESCR,
    IF_NAME,
    IF_PHYS_ADDRESS,
    IP_AD_ENT_IF_INDEX,
    NET_TO_MEDIA_PHYS,
    NET_TO_MEDIA_TYPE,
    NET_TO_PHYSICAL_PHYS,
    SnmpWalks,
    TableEntry,
    canonical_port,
    normalise_mac,
    table_commands,
    tables_from_snmp,
    tables_from_ssh,
    vlan_of,
    vlan_of_interface,
)
from govnet.inventory.model import Device
from tests.conftest import ROOT

OUTPUTS = ROOT / "tests" / "fixtures" / "isolation" / "outputs"


def switch(
    platform: str, name: str = "sw1", zone: str = "internal", address: str | None = None
) -> Device:
    return Device(
        name=name,
        host="127.0.0.1",
        platform=platform,
        role="access",
        zone=zone,
        site="city",
        address=ipaddress.ip_address(address) if address else None,
    )


def raw(name: str) -> str:
    return (OUTPUTS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:1A:2b:10:02:03", "00:1a:2b:10:02:03"),
        ("00-1a-2b-10-02-03", "00:1a:2b:10:02:03"),
        ("001a-2b10-0203", "00:1a:2b:10:02:03"),
        ("001a.2b10.0203", "00:1a:2b:10:02:03"),
        ("001A2B100203", "00:1a:2b:10:02:03"),
        ("0:1a:2b:10:2:3", "00:1a:2b:10:02:03"),
        ("  001a.2b10.0203 ", "00:1a:2b:10:02:03"),
        (b"\x00\x1a\x2b\x10\x02\x03", "00:1a:2b:10:02:03"),
        (b"001a-2b10-0203", "00:1a:2b:10:02:03"),
        ("Incomplete", None),
        ("001a.2b10-0203", None),  # mixed separators
        ("00:1a:2b:10:02", None),
        ("", None),
        (None, None),
        (1234, None),
        (b"\xff\xfe", None),
    ],
)
def test_normalise_mac(text: object, expected: str | None) -> None:
    assert normalise_mac(text) == expected


def test_vlans_from_values_and_interface_names() -> None:
    assert [vlan_of(v) for v in ("100", "100/-/-", "N/A", "", 4095, 7, " 12 ", None)] == [
        100,
        100,
        None,
        None,
        None,
        7,
        12,
        None,
    ]
    names = ("Vlanif100", "Vlan-interface102", "Vlan202", "VLAN 5", "Vl30", "GE0/0/1", None)
    assert [vlan_of_interface(n) for n in names] == [100, 102, 202, 5, 30, None, None]


def test_port_names_per_platform() -> None:
    assert canonical_port("huawei", "GE0/0/3") == "GigabitEthernet0/0/3"
    assert canonical_port("huawei", "XGE0/0/1") == "XGigabitEthernet0/0/1"
    assert canonical_port("hp_comware", "XGE1/0/47") == "Ten-GigabitEthernet1/0/47"
    assert canonical_port("hp_comware", "BAGG1") == "Bridge-Aggregation1"
    assert canonical_port("hp_comware", "Bridge-Aggregation1") == "Bridge-Aggregation1"
    assert canonical_port("hp_comware", "Ten-GigabitEthernet1/0/25") == "Ten-GigabitEthernet1/0/25"
    assert canonical_port("hp_comware", "Vlan102") == "Vlan-interface102"
    assert canonical_port("hp_comware", "Vlan-interface102") == "Vlan-interface102"
    assert canonical_port("cisco_ios", "Gi0/5") == "GigabitEthernet0/5"
    assert canonical_port("ruijie_os", "GigabitEthernet 0/1") == "GigabitEthernet0/1"
    assert canonical_port("unknown", "Eth-Trunk1") == "Eth-Trunk1"


def test_huawei_interface_rows_are_the_switch_itself() -> None:
    sw = switch("huawei")
    cmds = table_commands("huawei")
    outputs = {
        cmds["arp"]: raw("huawei_vrp_display_arp_all.raw"),
        cmds["mac"]: raw("huawei_vrp_display_mac-address.raw"),
    }
    t = tables_from_ssh(sw, outputs)
    assert t.ok and t.via == "ssh"
    assert t.own_macs == {"b0:76:1b:65:6a:40", "b0:76:1b:65:6a:4b", "b0:76:1b:65:6a:46"}
    arp = [e for e in t.entries if e.is_arp]
    port = "XGigabitEthernet0/0/1"
    assert arp == [
        TableEntry("sw1", "internal", "b8:d6:f6:ff:73:9b", "10.10.10.2", None, port, "ssh-arp"),
        TableEntry("sw1", "internal", "b8:d6:f6:ff:73:96", "10.10.20.2", None, port, "ssh-arp"),
    ]
    macs = [(e.mac, e.vlan, e.port) for e in t.entries if not e.is_arp]
    assert macs == [
        ("b8:d6:f6:ff:73:90", 10, "XGigabitEthernet0/0/1"),
        ("b8:d6:f6:ff:73:9b", 10, "XGigabitEthernet0/0/1"),
    ]


def test_cisco_own_rows_by_age_and_cpu_entries() -> None:
    sw = switch("cisco_ios")
    cmds = table_commands("cisco_ios")
    mac_table = raw("cisco_ios_show_mac-address-table.raw") + "\n"
    cpu = (
        "          Mac Address Table\n-------------------------------------------\n\n"
        "Vlan    Mac Address       Type        Ports\n----    -----------       --------    -----\n"
        " All    0100.0ccc.cccc    STATIC      CPU\n"
        " 202    001a.2b20.0202    DYNAMIC     Gi0/2\n"
    )
    t = tables_from_ssh(sw, {cmds["arp"]: raw("cisco_ios_show_ip_arp.raw"), cmds["mac"]: cpu})
    assert t.ok
    assert "00:00:0c:07:ac:00" in t.own_macs and "01:00:0c:cc:cc:cc" in t.own_macs
    assert [(e.ip, e.port) for e in t.entries if e.is_arp] == [("172.16.168.254", "Ethernet0/0")]
    assert [(e.mac, e.vlan, e.port) for e in t.entries if not e.is_arp] == [
        ("00:1a:2b:20:02:02", 202, "GigabitEthernet0/2")
    ]
    older = tables_from_ssh(sw, {cmds["arp"]: "", cmds["mac"]: mac_table})  # older IOS layout
    assert older.ok and len(older.entries) == 9
    assert {e.port for e in older.entries} == {"FastEthernet0/1", "FastEthernet0/5"}


def test_h3c_rows_and_own_addresses_from_the_configuration() -> None:
    sw = switch("hp_comware", address="10.20.1.2")
    cmds = table_commands("hp_comware")
    outputs = {
        cmds["arp"]: raw("hp_comware_display_arp.raw"),
        cmds["mac"]: raw("hp_comware_display_mac-address.raw"),
    }
    t = tables_from_ssh(sw, outputs, own_addresses={"10.20.10.1"})
    # own: the configured address and the device's inventory address
    assert t.own_macs == {"00:1e:c1:dc:fc:01", "2c:23:3a:40:7e:18"}
    arp = [(e.ip, e.vlan, e.port) for e in t.entries if e.is_arp]
    assert arp == [("10.20.1.254", 1, "Ten-GigabitEthernet1/0/47")]
    ports = [e.port for e in t.entries if not e.is_arp]
    assert ports == [
        "Bridge-Aggregation1",
        "GigabitEthernet1/0/20",
        "GigabitEthernet1/0/41",
        "GigabitEthernet1/0/10",
    ]


def test_missing_or_garbled_output_is_an_error_not_an_exception() -> None:
    sw = switch("huawei")
    cmds = table_commands("huawei")
    missing = tables_from_ssh(sw, {cmds["arp"]: raw("huawei_vrp_display_arp_all.raw")})
    assert not missing.ok and "display mac-address" in (missing.error or "")
    header = "IP ADDRESS      MAC ADDRESS     EXPIRE(M) TYPE        INTERFACE   VPN-INSTANCE\n"
    garbled = tables_from_ssh(sw, {cmds["arp"]: header + "%%% garbage %%%\n", cmds["mac"]: ""})
    assert not garbled.ok and "cannot parse" in (garbled.error or "")
    linux = tables_from_ssh(switch("linux"), {})
    assert not linux.ok and "no ARP and MAC table commands" in (linux.error or "")


# ----------------------------------------------------------------------------- SNMP


def mac_arcs(mac: str) -> str:
    return ".".join(str(int(x, 16)) for x in mac.split(":"))


V6_ARCS = ".".join(str(b) for b in ipaddress.ip_address("2001:db8::7").packed)


def lab_walks() -> SnmpWalks:
    """What a switch with 3 ports and a VLAN interface answers."""
    names = {1: "GigabitEthernet0/0/1", 2: "GigabitEthernet0/0/2", 3: "Eth-Trunk1", 4: "Vlanif100"}
    return SnmpWalks(
        if_name={f"{IF_NAME}.{i}": n for i, n in names.items() if i != 3},
        if_descr={f"{IF_DESCR}.{i}": n for i, n in names.items()},
        if_phys={f"{IF_PHYS_ADDRESS}.4": b"\x00\xe0\xfc\x01\x00\x01", f"{IF_PHYS_ADDRESS}.1": b""},
        ip_addresses={f"{IP_AD_ENT_IF_INDEX}.10.10.0.1": 4},
        arp={
            f"{NET_TO_MEDIA_PHYS}.4.10.10.0.1": b"\x00\xe0\xfc\x01\x00\x01",
            f"{NET_TO_MEDIA_PHYS}.4.10.10.0.11": b"\x00\x1a\x2b\x10\x00\x01",
            f"{NET_TO_MEDIA_PHYS}.4.10.10.0.99": b"\x00\x1a\x2b\x10\x00\x99",
        },
        arp_type={f"{NET_TO_MEDIA_TYPE}.4.10.10.0.99": 2},  # invalid: skipped
        arp_phys={f"{NET_TO_PHYSICAL_PHYS}.4.2.16.{V6_ARCS}": b"\x00\x1a\x2b\x10\x00\x07"},
        base_ports={f"{DOT1D_BASE_PORT_IF_INDEX}.{p}": p for p in (1, 2, 3)},
        fdb_q={
            f"{DOT1Q_TP_FDB_PORT}.100.{mac_arcs('00:1a:2b:10:00:01')}": 1,
            f"{DOT1Q_TP_FDB_PORT}.100.{mac_arcs('00:1a:2b:10:00:02')}": 3,
            f"{DOT1Q_TP_FDB_PORT}.100.{mac_arcs('00:e0:fc:01:00:09')}": 0,
            f"{DOT1Q_TP_FDB_PORT}.100.{mac_arcs('00:1a:2b:10:00:03')}": 9,
        },
        fdb_q_status={f"{DOT1Q_TP_FDB_STATUS}.100.{mac_arcs('00:e0:fc:01:00:09')}": 4},
    )


def test_snmp_tables() -> None:
    t = tables_from_snmp(switch("huawei"), lab_walks())
    assert t.ok and t.via == "snmp"
    assert t.own_macs == {"00:e0:fc:01:00:01", "00:e0:fc:01:00:09"}  # ifPhysAddress, fdb self
    assert [(e.mac, e.ip, e.vlan, e.port, e.source) for e in t.entries] == [
        ("00:1a:2b:10:00:01", "10.10.0.11", 100, "Vlanif100", "snmp-arp"),
        ("00:1a:2b:10:00:07", "2001:db8::7", 100, "Vlanif100", "snmp-arp"),
        ("00:1a:2b:10:00:01", None, 100, "GigabitEthernet0/0/1", "snmp-fdb"),
        ("00:1a:2b:10:00:02", None, 100, "Eth-Trunk1", "snmp-fdb"),  # ifDescr when no ifName
        ("00:1a:2b:10:00:03", None, 100, "bridge-port-9", "snmp-fdb"),  # no dot1dBasePort row
    ]


def test_snmp_dot1d_when_there_is_no_q_bridge() -> None:
    walks = lab_walks()
    walks.fdb_q = {}
    walks.fdb = {
        f"{DOT1D_TP_FDB_PORT}.{mac_arcs('00:1a:2b:10:00:02')}": 2,
        f"{DOT1D_TP_FDB_PORT}.1.2.3": 2,
    }  # a short index is ignored
    walks.fdb_status = {f"{DOT1D_TP_FDB_STATUS}.{mac_arcs('00:1a:2b:10:00:02')}": 3}
    t = tables_from_snmp(switch("huawei"), walks)
    assert [(e.mac, e.vlan, e.port) for e in t.entries if not e.is_arp] == [
        ("00:1a:2b:10:00:02", None, "GigabitEthernet0/0/2")
    ]


def test_snmp_collection_from_inside_an_event_loop() -> None:
    import asyncio

    from govnet.collect.tables import _run, collect_snmp

    async def outer() -> int:
        return _run(asyncio.sleep(0, result=7))  # the audit called from async code

    assert asyncio.run(outer()) == 7
    assert collect_snmp([]) == {}
