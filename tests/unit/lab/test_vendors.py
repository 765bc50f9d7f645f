"""Vendor rows: tables print in each vendor's real format, so ntc-templates reads them back."""

from __future__ import annotations

from typing import Any

import pytest
from ntc_templates.parse import parse_output

from govnet.inventory.model import normalize_mac
from govnet.lab.data import LabTables
from govnet.lab.vendors import CISCO, H3C, HUAWEI, LINUX, RUIJIE, VENDORS, Vendor, render_table
from govnet.platforms import get_platform, platforms


def _tables(gi1: str, gi2: str, ten: str, svi: str) -> LabTables:
    return LabTables.model_validate(
        {
            "interfaces": [
                {"name": gi1, "description": "to PC 1"},
                {"name": gi2, "admin": "down", "oper": "down"},
                {"name": ten, "oper": "down"},
                {"name": svi, "ip": "10.1.10.1/24"},
            ],
            "arp": [
                {"ip": "10.1.10.20", "mac": "00:11:22:33:44:55", "interface": svi, "vlan": 10},
                {"ip": "10.1.10.21", "mac": "0011-2233-4466", "interface": gi1},
            ],
            "mac": [
                {"mac": "0011.2233.4455", "vlan": 10, "interface": gi1},
                {"mac": "00:11:22:33:44:77", "vlan": 20, "interface": ten, "type": "static"},
            ],
        }
    )


# platform → (vendor, lab tables, expected ARP, MAC and interface rows as the device names them)
CASES: dict[str, tuple[Vendor, LabTables, dict[str, list[tuple[str, ...]]]]] = {
    "huawei": (
        HUAWEI,
        _tables(
            "GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "XGigabitEthernet0/0/1", "Vlanif10"
        ),
        {
            "arp": [
                ("10.1.10.20", "00:11:22:33:44:55", "Vlanif10"),
                ("10.1.10.21", "00:11:22:33:44:66", "GE0/0/1"),
            ],
            "mac": [
                ("00:11:22:33:44:55", "10", "GE0/0/1", "dynamic"),
                ("00:11:22:33:44:77", "20", "XGE0/0/1", "static"),
            ],
            "interfaces": [
                ("GigabitEthernet0/0/1", "up", "up"),
                ("GigabitEthernet0/0/2", "*down", "down"),
                ("XGigabitEthernet0/0/1", "down", "down"),
                ("Vlanif10", "up", "up"),
            ],
        },
    ),
    "hp_comware": (
        H3C,
        _tables(
            "GigabitEthernet1/0/1",
            "GigabitEthernet1/0/2",
            "Ten-GigabitEthernet1/0/25",
            "Vlan-interface10",
        ),
        {
            "arp": [
                ("10.1.10.20", "00:11:22:33:44:55", "Vlan10"),
                ("10.1.10.21", "00:11:22:33:44:66", "GE1/0/1"),
            ],
            "mac": [
                ("00:11:22:33:44:55", "10", "GE1/0/1", "Learned"),
                ("00:11:22:33:44:77", "20", "XGE1/0/25", "Static"),
            ],
            "interfaces": [
                ("Vlan10", "UP", "10.1.10.1"),
                ("GE1/0/1", "UP", ""),
                ("GE1/0/2", "ADM", ""),
                ("XGE1/0/25", "DOWN", ""),
            ],
        },
    ),
    "cisco_ios": (
        CISCO,
        _tables(
            "GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "TenGigabitEthernet1/1/1", "Vlan10"
        ),
        {
            "arp": [
                ("10.1.10.20", "00:11:22:33:44:55", "Vlan10"),
                ("10.1.10.21", "00:11:22:33:44:66", "GigabitEthernet1/0/1"),
            ],
            "mac": [
                ("00:11:22:33:44:55", "10", "Gi1/0/1", "DYNAMIC"),
                ("00:11:22:33:44:77", "20", "Te1/1/1", "STATIC"),
            ],
            "interfaces": [
                ("GigabitEthernet1/0/1", "up", "unassigned"),
                ("GigabitEthernet1/0/2", "administratively down", "unassigned"),
                ("TenGigabitEthernet1/1/1", "down", "unassigned"),
                ("Vlan10", "up", "10.1.10.1"),
            ],
        },
    ),
}


def _rows(what: str, parsed: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Reduce ntc-templates records to comparable tuples (MACs normalised)."""
    rows: list[tuple[str, ...]] = []
    for r in parsed:
        if what == "arp":
            rows.append((r["ip_address"], normalize_mac(r["mac_address"]), r["interface"]))
        elif what == "mac":
            mac = normalize_mac(r.get("destination_address") or r["mac_address"])
            port = r.get("destination_port") or r["interface"]
            port = port[0] if isinstance(port, list) else port
            rows.append((mac, r["vlan_id"], port, r.get("type") or r["state"]))
        elif "phy" in r:  # huawei
            rows.append((r["interface"], r["phy"], r["protocol"]))
        elif "link" in r:  # comware
            rows.append((r["interface"], r["link"], r["main_ip"]))
        else:  # cisco
            rows.append((r["interface"], r["status"], r["ip_address"]))
    return rows


@pytest.mark.parametrize("what", ["arp", "mac", "interfaces"])
@pytest.mark.parametrize("platform", sorted(CASES))
def test_ntc_templates_parse_tables_back_to_the_same_entries(platform: str, what: str) -> None:
    vendor, tables, expected = CASES[platform]
    command = get_platform(platform).command(what)
    templates = get_platform(platform).templates
    assert command and templates
    text = render_table(vendor, what, tables)
    parsed = parse_output(platform=templates, command=command, data=text)
    assert _rows(what, parsed) == expected[what]


@pytest.mark.parametrize(
    ("vendor", "text"),
    [(HUAWEI, "0011-2233-4455"), (H3C, "0011-2233-4455"), (CISCO, "0011.2233.4455")],
)
def test_mac_notation_per_vendor(vendor: Vendor, text: str) -> None:
    tables = LabTables.model_validate(
        {"arp": [{"ip": "10.0.0.1", "mac": "00:11:22:33:44:55", "interface": "Vlan1"}]}
    )
    assert text in render_table(vendor, "arp", tables)


def test_huawei_arp_prints_the_vlan_on_a_continuation_line() -> None:
    tables = LabTables.model_validate(
        {
            "arp": [
                {"ip": "10.0.0.1", "mac": "00:11:22:33:44:55", "interface": "Vlanif10", "vlan": 10}
            ]
        }
    )
    lines = render_table(HUAWEI, "arp", tables).splitlines()
    row = next(i for i, ln in enumerate(lines) if ln.startswith("10.0.0.1"))
    assert lines[row + 1].strip() == "10/-"
    assert lines[-1].startswith("Total:1")


@pytest.mark.parametrize(
    ("templates", "command", "vendor", "key", "value"),
    [
        ("huawei_vrp", "display version", HUAWEI, "vrp_version", "5.170"),
        ("cisco_ios", "show version", CISCO, "hostname", "SW9"),
    ],
)
def test_default_version_text_parses(
    templates: str, command: str, vendor: Vendor, key: str, value: str
) -> None:
    text = vendor.version.format(hostname="SW9", weeks=1, days=2, hours=3, minutes=4)
    parsed = parse_output(platform=templates, command=command, data=text)
    assert parsed and parsed[0][key] == value


@pytest.mark.parametrize(
    ("vendor", "typed", "canonical"),
    [
        (HUAWEI, "g0/0/1", "GigabitEthernet0/0/1"),
        (HUAWEI, "Vlanif 10", "Vlanif10"),
        (HUAWEI, "xg0/0/1", "XGigabitEthernet0/0/1"),
        (H3C, "vlan-interface 100", "Vlan-interface100"),
        (CISCO, "gi1/0/1", "GigabitEthernet1/0/1"),
        (CISCO, "Gi 1/0/1.100", "GigabitEthernet1/0/1.100"),
        (RUIJIE, "gi0/1", "GigabitEthernet 0/1"),
        (CISCO, "bogus0/1", None),
        (CISCO, "t1/1/1", None),  # TenGigabitEthernet or Tunnel: ambiguous
    ],
)
def test_interface_names_are_canonicalised_like_the_cli(
    vendor: Vendor, typed: str, canonical: str | None
) -> None:
    assert vendor.config is not None
    assert vendor.config.canonical_interface(typed) == canonical


@pytest.mark.parametrize(
    ("vendor", "line", "parent", "label"),
    [
        (HUAWEI, "user-interface vty 0 4", None, "ui-vty0-4"),
        (HUAWEI, "acl number 2001", None, "acl-basic-2001"),
        (HUAWEI, "area 0.0.0.0", "ospf 1", "area-0.0.0.0"),
        (HUAWEI, "area 0.0.0.0", None, None),
        (HUAWEI, "sysname HW1", None, None),
        (H3C, "line vty 0 63", None, "line-vty0-63"),
        (H3C, "local-user admin class manage", None, "luser-manage-admin"),
        (CISCO, "line vty 0 4", None, "line"),
        (CISCO, "ip access-list extended MGMT", None, "ext-nacl"),
    ],
)
def test_section_prompt_labels(
    vendor: Vendor, line: str, parent: str | None, label: str | None
) -> None:
    assert vendor.config is not None
    assert vendor.config.section_label(line, parent) == label


def test_every_ssh_platform_of_the_platform_table_has_a_vendor_row() -> None:
    # firewalls share a netmiko driver with their switch family (huawei_usg → huawei)
    assert {name for name, p in platforms().items() if p.netmiko} == set(VENDORS)
    for name, vendor in VENDORS.items():
        platform = get_platform(name)
        if vendor.config is not None:
            assert vendor.config.syntax.comment == platform.comment
    assert LINUX.config is None
