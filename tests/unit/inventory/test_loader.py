"""Loader: every class of error located at file:line:col, inheritance order, CSV terminals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from govnet.errors import InventoryError
from govnet.inventory import load_inventory
from tests.conftest import LAB_INVENTORY, MINIMAL

Writer = Callable[..., Path]


def errors_of(path: Path | list[Path]) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    return [str(d) for d in info.value.diagnostics if d.severity == "error"]


def test_lab_inventory_is_valid() -> None:
    inv = load_inventory(LAB_INVENTORY)
    assert len(inv.devices) == 16  # 13 + the Ruijie switch and two firewalls (issue 16)
    assert len(inv.terminals) == 20
    assert inv.warnings == []
    assert inv.zones["external"].isolated_from == {"internal"}  # symmetric from internal's list


def test_inheritance_device_then_groups_in_order_then_defaults(write_inventory: Writer) -> None:
    text = MINIMAL.replace(
        "internal: {zone: internal, tags: [b], port: 2222}",
        "internal: {zone: internal, tags: [b], port: 2222, role: core}",
    )
    inv = load_inventory(write_inventory(text))
    sw1 = inv.devices["sw1"]
    assert sw1.role == "access"  # first group wins over the second
    assert sw1.port == 2222  # from the second group, the first says nothing
    assert sw1.platform == "huawei"
    assert sw1.credentials is not None and sw1.credentials.username == "admin"  # defaults
    assert sw1.tags == {"a", "b"}
    sw2 = inv.devices["sw2"]
    assert (sw2.port, sw2.role) == (22, "core")  # device's own values; default port


def test_device_value_beats_group(write_inventory: Writer) -> None:
    text = MINIMAL.replace("site: town, unit: office,", "site: town, unit: office, role: core,")
    assert load_inventory(write_inventory(text)).devices["sw1"].role == "core"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "zone: external, platform",
            "zone: intranet, platform",
            "inv.yaml:23:61: devices.sw2.zone: unknown zone 'intranet'",
        ),
        ("parent: city}", "parent: town}", "sites.county.parent: site parents form a cycle"),
        (
            "address: 10.1.1.1",
            "address: 10.1.1.300",
            "devices.sw1.address: not a valid IP address, got '10.1.1.300'",
        ),
        (
            "vlans: [100-199]",
            "vlans: [100-5000]",
            "zones.internal.pools.vlans[0]: VLAN '100-5000' out of range",
        ),
        (
            "prefixes: [10.0.0.0/8]",
            "prefixes: [10.0.0.1/8]",
            "zones.internal.pools.prefixes[0]: not a valid IP prefix",
        ),
        (
            "prefixes: [10.0.0.0/8]",
            "prefixes: [no]",
            "zones.internal.pools.prefixes[0]: not a valid IP prefix, got False",
        ),
        (
            "address: 10.1.1.1",
            "address: 167837953",
            "devices.sw1.address: not a valid IP address, got 167837953",
        ),
        ("ops: {username: admin,", "ops: {user: admin,", "credentials.ops.user: unknown key"),
        (
            "password: env:GOVNET_TEST_PASSWORD",
            "password: hunter2",
            "credentials.ops.password: plain-text secrets are not allowed",
        ),
        (
            "groups: [huawei-access, internal]",
            "groups: [huawei-acces, internal]",
            "devices.sw1.groups[0]: unknown group 'huawei-acces'",
        ),
        (
            "snmp_profile: v2\n",
            "snmp_profile: v9\n",
            "defaults.snmp_profile: unknown SNMP profile 'v9'",
        ),
        (
            "platform: cisco_ios",
            "platform: cisco",
            "devices.sw2.platform: unknown platform 'cisco'",
        ),
        ("role: core}", "role: kore}", "devices.sw2.role: Input should be"),
        (
            "office: {site: town",
            "office: {site: village",
            "units.office.site: unknown site 'village'",
        ),
        (
            "isolated_from: [external]",
            "isolated_from: [externl]",
            "zones.internal.isolated_from[0]: unknown zone 'externl'",
        ),
        (
            'version: "2c", community: env:GOVNET_TEST_COMMUNITY',
            'version: "2c"',
            "snmp_profiles.v2.community: SNMP v2c needs a community",
        ),
        ("devices:\n", "devies:\n", "devies: unknown section 'devies'"),
        ("sw2: {host: 127.0.0.2,", "sw 2: {host: 127.0.0.2,", "devices.sw 2: bad name 'sw 2'"),
    ],
)
def test_each_error_class_is_located(
    write_inventory: Writer, old: str, new: str, expected: str
) -> None:
    assert old in MINIMAL
    errors = errors_of(write_inventory(MINIMAL.replace(old, new)))
    assert any(expected in e for e in errors), errors
    assert all(e.startswith(("inv.yaml:", str(Path.cwd()))) or ".yaml:" in e for e in errors)


def test_all_errors_at_once_with_line_and_column(write_inventory: Writer) -> None:
    text = MINIMAL.replace("zone: external, platform", "zone: intranet, platform").replace(
        "address: 10.1.1.1", "address: nope"
    )
    errors = errors_of(write_inventory(text))
    assert len(errors) == 2
    assert errors[0].split(":")[1:3] == ["22", "26"]  # sw1.address: line 22, column 26
    assert "devices.sw1.address" in errors[0] and "devices.sw2.zone" in errors[1]


def test_missing_required_after_inheritance(write_inventory: Writer) -> None:
    text = MINIMAL.replace("groups: [huawei-access, internal]", "groups: [internal]")
    errors = errors_of(write_inventory(text))
    assert any("devices.sw1.platform: no platform: set it on the device" in e for e in errors)
    assert any("devices.sw1.role: no role" in e for e in errors)


def test_duplicate_key_and_duplicate_name_across_files(
    write_inventory: Writer, tmp_path: Path
) -> None:
    write_inventory(MINIMAL, "a.yaml")
    write_inventory(
        """
        devices:
          sw1: {host: 127.0.0.9, zone: internal, site: town, platform: huawei, role: core}
          sw3: {host: 127.0.0.3, host: 127.0.0.4, zone: internal, site: town, platform: huawei, role: core}
        """,
        "b.yaml",
    )
    errors = errors_of(tmp_path)
    assert any(
        "b.yaml:3:3: devices.sw1: 'sw1' is defined twice (first at" in e and "a.yaml:22" in e
        for e in errors
    ), errors
    assert any("b.yaml:4:26: devices.sw3.host: duplicate key 'host'" in e for e in errors), errors


def test_directory_merges_files(write_inventory: Writer, tmp_path: Path) -> None:
    head, devices = MINIMAL.split("devices:")
    write_inventory(head, "10-base.yaml")
    write_inventory("devices:" + devices, "20-devices.yaml")
    inv = load_inventory(tmp_path)
    assert set(inv.devices) == {"sw1", "sw2"}
    assert len(inv.sources) == 2


def test_yaml_syntax_error_is_located(write_inventory: Writer) -> None:
    errors = errors_of(write_inventory("zones:\n  internal: {label: [\n"))
    assert (
        errors
        and errors[0].startswith(str(Path(errors[0].split(":")[0])))
        and "YAML syntax error" in errors[0]
    )


def test_address_outside_pools_is_a_warning(write_inventory: Writer) -> None:
    inv = load_inventory(
        write_inventory(MINIMAL.replace("address: 10.1.1.1", "address: 192.168.1.1"))
    )
    assert [str(w).split(": ", 1)[1] for w in inv.warnings] == [
        "warning: devices.sw1.address: 192.168.1.1 is outside zone internal's pools (10.0.0.0/8)"
    ]


CSV_HEADER = "名称,MAC地址,IP地址,单位,所属网络,使用人\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_terminals_csv_chinese_headers_and_encodings(
    write_inventory: Writer, tmp_path: Path, encoding: str
) -> None:
    rows = "".join(
        f"pc-{i},00-1A-2B-00-{i // 256:02X}-{i % 256:02X},10.2.{i // 256}.{i % 256},office,internal,张{i}\n"
        for i in range(3000)
    )
    (tmp_path / "t.csv").write_bytes((CSV_HEADER + rows).encode(encoding))
    inv = load_inventory(write_inventory(MINIMAL + "terminals_csv: [t.csv]\n"))
    assert len(inv.terminals) == 3000
    t = inv.terminals["pc-7"]
    assert (t.mac, str(t.ip), t.owner, t.zone) == (
        "00:1a:2b:00:00:07",
        "10.2.0.7",
        "张7",
        "internal",
    )


def test_terminals_csv_errors_name_file_and_row(write_inventory: Writer, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "name,mac,unit,zone,colour\n"
        "pc-1,00:11:22:33:44:55,office,internal,red\n"
        "pc-2,not-a-mac,office,internal,\n"
        "pc-3,00:11:22:33:44:55,office,internal,\n"
        "pc-4,00:11:22:33:44:56,nowhere,internal,\n",
        encoding="utf-8",
    )
    errors = errors_of(write_inventory(MINIMAL + "terminals_csv: [t.csv]\n"))
    csv_errors = [e.split("t.csv:", 1)[1] for e in errors if "t.csv:" in e]
    assert csv_errors == [
        "1:5: header: unknown column 'colour' (known: ip, kind, mac, name, os, owner, unit, zone)",
        "3:2: mac: bad MAC address 'not-a-mac'",
        "4:2: mac: MAC 00:11:22:33:44:55 is already terminal 'pc-1'",
        "5:3: unit: unknown unit 'nowhere' (known: office)",
    ]


def test_zone_and_unit_by_chinese_label(write_inventory: Writer, tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "internal: {isolated_from", "internal: {label: {zh: 政务内网}, isolated_from"
    )
    text = text.replace("office: {site: town", "office: {label: {zh: 办公室}, site: town")
    (tmp_path / "t.csv").write_text(
        "name,mac,unit,zone\npc-1,0011.2233.4455,办公室,政务内网\n", "utf-8"
    )
    inv = load_inventory(write_inventory(text + "terminals_csv: [t.csv]\n"))
    assert (inv.terminals["pc-1"].zone, inv.terminals["pc-1"].unit) == ("internal", "office")


def test_example_city_inventory_is_valid() -> None:
    inv = load_inventory(LAB_INVENTORY.parent / "city")
    assert len(inv.sources) == 4 and len(inv.terminals) == 216
    assert inv.terminals["pc-county-01-gov-000"].zone == "external"  # 政务外网 in the GBK CSV
    assert inv.site_chain("county-02-town-03") == ["county-02-town-03", "county-02", "city"]
