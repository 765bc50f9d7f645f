"""govnet's own TextFSM templates (govnet/data/textfsm) for Ruijie RGOS, which ntc-templates
does not cover: the samples under tests/fixtures/outputs (sources in its README.md), the lab's
Ruijie switch, and the look-up order (ntc-templates first, govnet's own second)."""

from __future__ import annotations

import pytest

from govnet.collect import ntc
from govnet.collect.neighbors import neighbors_from_ssh
from govnet.collect.tables import entries_from_rows, parse_rows
from govnet.inventory import load_inventory
from govnet.lab.data import LabTables, load_device_data
from govnet.lab.vendors import get_vendor, render_neighbors, render_table
from tests.conftest import ROOT
from tests.unit.checks.support import make_device

OUTPUTS = ROOT / "tests" / "fixtures" / "outputs"


def sample(command: str) -> str:
    return (OUTPUTS / f"ruijie_os_{command.replace(' ', '_')}.raw").read_text(encoding="utf-8")


def test_show_arp_reads_entries_and_skips_incomplete_ones() -> None:
    rows = ntc.parse("ruijie_os", "show arp", sample("show arp"))
    assert [(r["ip_address"], r["mac_address"], r["age"], r["interface"]) for r in rows] == [
        ("10.208.1.13", "649d.99d0.8f2d", "--", "VLAN 1"),  # verbatim from the source
        ("10.208.1.21", "0013.2049.2a1e", "3", "VLAN 1"),
        ("10.208.9.5", "00d0.f822.33b1", "12", "GigabitEthernet 0/24"),
    ]
    sw = make_device("ruijie_os", name="sw1")
    entries, own = entries_from_rows(sw, "arp", rows)
    assert own == {"64:9d:99:d0:8f:2d"}  # age "--": the switch's own address
    assert [(e.mac, e.ip, e.port, e.vlan) for e in entries] == [
        ("00:13:20:49:2a:1e", "10.208.1.21", "VLAN1", 1),
        ("00:d0:f8:22:33:b1", "10.208.9.5", "GigabitEthernet0/24", None),
    ]


def test_show_mac_address_table_reads_ports_with_a_space() -> None:
    rows = ntc.parse("ruijie_os", "show mac-address-table", sample("show mac-address-table"))
    assert [
        (r["vlan_id"], r["destination_address"], r["type"], r["destination_port"]) for r in rows
    ] == [
        ("1", "0000.5e00.0103", "DYNAMIC", "GigabitEthernet 0/1"),  # verbatim from the source
        ("10", "0013.2049.2a1e", "DYNAMIC", "GigabitEthernet 0/2"),
        ("10", "00d0.f822.33b1", "STATIC", "AggregatePort 1"),
    ]
    assert [r["live_time"] for r in rows] == ["2026-9-24 16:52:31", "0d 00:02:17", ""]
    sw = make_device("ruijie_os", name="sw1")
    entries, _own = entries_from_rows(sw, "mac", rows)
    assert [(e.mac, e.port, e.vlan) for e in entries] == [
        ("00:00:5e:00:01:03", "GigabitEthernet0/1", 1),
        ("00:13:20:49:2a:1e", "GigabitEthernet0/2", 10),
        ("00:d0:f8:22:33:b1", "AggregatePort1", 10),
    ]


def test_show_lldp_neighbors_detail_reads_every_neighbour() -> None:
    sw = make_device("ruijie_os", name="sw1")
    got = neighbors_from_ssh(
        sw, {"show lldp neighbors detail": sample("show lldp neighbors detail")}
    )
    assert got.ok, got.error
    assert [(n.port, n.name, n.remote_port, n.chassis, n.address) for n in got.neighbors] == [
        ("GigabitEthernet0/1", "BOS-SW001", "Port 42", "74:83:c2:73:a0:c5", "192.0.2.31"),
        ("GigabitEthernet0/24", "core-sw", "GigabitEthernet0/0/3", "00:e0:fc:00:01:01", None),
        # the second neighbour on the port has no system name: dropped, as for every vendor
    ]
    rows = ntc.parse(
        "ruijie_os", "show lldp neighbors detail", sample("show lldp neighbors detail")
    )
    assert len(rows) == 3 and rows[2]["chassis_id"] == "0013.2049.2a1e"
    assert rows[1]["system_description"] == "Huawei Versatile Routing Platform Software"


@pytest.mark.parametrize(
    "command", ["show arp", "show mac-address-table", "show lldp neighbors detail"]
)
def test_output_of_another_command_is_an_error(command: str) -> None:
    if command == "show lldp neighbors detail":
        # the LLDP template skips the lines it does not read: no neighbour, no error
        assert ntc.parse("ruijie_os", command, "% Invalid input detected at '^' marker.") == []
        return
    with pytest.raises(ntc.TemplateParseError):
        ntc.parse("ruijie_os", command, "% Invalid input detected at '^' marker.")


def test_lookup_order_ntc_templates_first_govnet_second() -> None:
    assert ntc.template_dirs()[0] == ntc.template_dir()
    assert ntc.template_dirs()[1].endswith("data/textfsm")
    # ntc-templates' own templates still serve their platforms
    assert ntc.template_for("cisco_ios", "show ip arp") == "cisco_ios_show_ip_arp.textfsm"
    # govnet's serve Ruijie, found by the same prefix rules as ntc-templates' index
    assert ntc.template_for("ruijie_os", "show arp") == "ruijie_os_show_arp.textfsm"
    assert ntc.has_template("ruijie_os", "sh lldp nei detail")
    assert not ntc.has_template("ruijie_os", "show lldp neighbors")  # the summary: no template
    assert not ntc.has_template("ruijie_os", "show version")


def test_the_lab_ruijie_answers_in_the_layout_the_templates_read() -> None:
    """The lab's Ruijie switch prints its tables in the same layout, so collection and
    discovery over SSH read it like a real one."""
    inventory = load_inventory(ROOT / "inventory" / "lab.yaml")
    d = inventory.devices["int-acc-east"]
    data = load_device_data(ROOT / "inventory" / "lab-data", d.name)
    vendor = get_vendor("ruijie_os")
    extra = LabTables.model_validate(
        {
            "arp": [{"ip": "10.10.4.20", "mac": "00:1a:2b:10:04:20", "interface": "VLAN 104"}],
            "mac": [
                {"mac": "00:1a:2b:10:04:20", "vlan": 104, "interface": "GigabitEthernet 0/1"},
                {
                    "mac": "00:1a:2b:10:04:21",
                    "vlan": 104,
                    "interface": "GigabitEthernet 0/2",
                    "type": "static",
                },
            ],
        }
    )
    tables = data.tables.model_copy(update={"arp": extra.arp, "mac": extra.mac})
    arp = parse_rows(d.name, d.platform, "show arp", render_table(vendor, "arp", tables))
    assert [(r["ip_address"], r["interface"]) for r in arp] == [("10.10.4.20", "VLAN 104")]
    mac = parse_rows(
        d.name, d.platform, "show mac-address-table", render_table(vendor, "mac", tables)
    )
    assert [(r["destination_port"], r["type"]) for r in mac] == [
        ("GigabitEthernet 0/1", "DYNAMIC"),
        ("GigabitEthernet 0/2", "STATIC"),
    ]
    lldp = render_neighbors(vendor, data.tables)
    got = neighbors_from_ssh(d, {"show lldp neighbors detail": lldp})
    assert got.ok, got.error
    assert [(n.port, n.name, n.remote_port, n.address) for n in got.neighbors] == [
        ("GigabitEthernet0/24", "int-agg-east", "GigabitEthernet0/0/23", "10.10.1.1")
    ]
    brief = render_neighbors(vendor, data.tables, "lldp-brief")
    assert "int-agg-east" in brief and "Gi0/24" in brief
