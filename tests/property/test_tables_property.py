"""The MAC/table normaliser and the isolation config reader, for any input.

- every notation of any 6 octets normalises to the one canonical form; anything else to None,
  never an exception, and the canonical form is a fixed point;
- template rows of any shape become entries or are dropped, never raise;
- SNMP walks built from random FDB/ARP rows come back as exactly those rows;
- the static config reader never raises on config-shaped or arbitrary text.
"""

from __future__ import annotations

import ipaddress
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.collect.interfaces import read_config
from govnet.collect.tables import (
    DOT1D_BASE_PORT_IF_INDEX,
    DOT1Q_TP_FDB_PORT,
    IF_NAME,
    NET_TO_MEDIA_PHYS,
    SnmpWalks,
    entries_from_rows,
    normalise_mac,
    tables_from_snmp,
    vlan_of,
    vlan_of_interface,
)
from govnet.core.configtext import parse_config
from govnet.inventory.model import Device

# shared CI machines are slow at times: no per-example deadline, no "too slow" health check
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
CANONICAL = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
octets = st.binary(min_size=6, max_size=6)


def notations(raw: bytes) -> list[str]:
    h = raw.hex()
    pairs = [h[i : i + 2] for i in range(0, 12, 2)]
    quads = [h[i : i + 4] for i in range(0, 12, 4)]
    return [
        ":".join(pairs),
        "-".join(pairs),
        ".".join(quads),
        "-".join(quads),
        h,
        ":".join(p.lstrip("0") or "0" for p in pairs),  # BSD's one-digit groups
    ]


@RELAXED
@given(
    octets, st.integers(min_value=0, max_value=5), st.booleans(), st.sampled_from(["", " ", "\t"])
)
def test_every_notation_normalises_to_the_same_mac(
    raw: bytes, style: int, upper: bool, pad: str
) -> None:
    expected = ":".join(f"{b:02x}" for b in raw)
    text = notations(raw)[style]
    text = text.upper() if upper else text
    assert normalise_mac(pad + text + pad) == expected
    assert normalise_mac(raw) == expected
    assert normalise_mac(expected) == expected


@RELAXED
@given(st.one_of(st.text(max_size=40), st.binary(max_size=20), st.integers(), st.none()))
def test_anything_else_is_none_or_canonical(value: object) -> None:
    result = normalise_mac(value)
    assert result is None or CANONICAL.match(result)
    if result is not None:
        assert normalise_mac(result) == result


@RELAXED
@given(st.one_of(st.text(max_size=12), st.integers(), st.none(), st.floats()))
def test_vlans_are_in_range_or_none(value: object) -> None:
    for vlan in (vlan_of(value), vlan_of_interface(value if isinstance(value, str) else None)):
        assert vlan is None or 1 <= vlan <= 4094


FIELDS = [
    "mac_address",
    "destination_address",
    "ip_address",
    "interface",
    "destination_port",
    "vlan_id",
    "type",
    "age",
    "state",
    "junk",
]
values = st.one_of(
    st.text(max_size=20),
    octets.map(lambda b: notations(b)[2]),
    st.lists(st.text(max_size=10), max_size=3),
    st.none(),
)
rows = st.lists(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8), max_size=10)
SWITCH = Device(
    name="sw", host="127.0.0.1", platform="huawei", role="access", zone="internal", site="city"
)


@RELAXED
@given(
    rows, st.sampled_from(["arp", "mac"]), st.sampled_from(["huawei", "hp_comware", "cisco_ios"])
)
def test_rows_of_any_shape_never_raise(
    data: list[dict[str, object]], what: str, platform: str
) -> None:
    device = Device(
        name="sw", host="127.0.0.1", platform=platform, role="access", zone="internal", site="city"
    )
    entries, own = entries_from_rows(device, what, data)  # type: ignore[arg-type]
    for e in entries:
        assert CANONICAL.match(e.mac) and e.device == "sw" and e.zone == "internal"
        assert e.is_arp == (what == "arp")
        assert e.vlan is None or 1 <= e.vlan <= 4094
    assert all(CANONICAL.match(m) for m in own)


fdb_rows = st.lists(
    st.tuples(
        octets, st.integers(min_value=1, max_value=4094), st.integers(min_value=1, max_value=8)
    ),
    max_size=30,
    unique_by=lambda r: (r[0], r[1]),
)
arp_rows = st.lists(
    st.tuples(
        octets, st.integers(min_value=1, max_value=2**32 - 1), st.integers(min_value=1, max_value=8)
    ),
    max_size=20,
    unique_by=lambda r: (r[1], r[2]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fdb_rows, arp_rows)
def test_snmp_walks_round_trip(
    fdb: list[tuple[bytes, int, int]], arps: list[tuple[bytes, int, int]]
) -> None:
    names = {i: f"GigabitEthernet0/0/{i}" for i in range(1, 9)}
    walks = SnmpWalks(
        if_name={f"{IF_NAME}.{i}": n for i, n in names.items()},
        base_ports={f"{DOT1D_BASE_PORT_IF_INDEX}.{i + 100}": i for i in names},
        fdb_q={
            f"{DOT1Q_TP_FDB_PORT}.{vlan}.{'.'.join(map(str, raw))}": port + 100
            for raw, vlan, port in fdb
        },
        arp={
            f"{NET_TO_MEDIA_PHYS}.{idx}.{ipaddress.IPv4Address(ip)}": raw for raw, ip, idx in arps
        },
    )
    got = tables_from_snmp(SWITCH, walks)
    fdb_back = {(e.mac, e.vlan, e.port) for e in got.entries if not e.is_arp}
    assert fdb_back == {
        (":".join(f"{b:02x}" for b in raw), vlan, names[port]) for raw, vlan, port in fdb
    }
    arp_back = {(e.mac, e.ip, e.port) for e in got.entries if e.is_arp}
    assert arp_back == {
        (":".join(f"{b:02x}" for b in raw), str(ipaddress.IPv4Address(ip)), names[idx])
        for raw, ip, idx in arps
    }


CONFIG_WORDS = [
    "interface Vlanif100",
    "interface GigabitEthernet0/0/1",
    "interface Vlan 5",
    " ip address 10.1.1.1 255.255.255.0",
    " ip address 10.1.1.1 24 sub",
    " ip address 1.2.3.4/33",
    " ipv6 address 2001:db8::1/64",
    " port trunk allow-pass vlan 100 to 103 200",
    " switchport trunk allowed vlan add 1-4094",
    " port default vlan 4095",
    " port link-type trunk",
    " shutdown",
    "vlan batch 1 to 4094",
    "vlan 200,201-205",
    "ip route-static 0.0.0.0 0 10.0.0.1",
    "ip route 10.0.0.0 255.0.0.0 Null0",
    "ip route-static vpn-instance x",
    "ipv6 route ::/0 fe80::1",
    "ip default-gateway 1.1.1.1",
    "#",
    "!",
]


@RELAXED
@given(st.lists(st.sampled_from(CONFIG_WORDS) | st.text(max_size=30), max_size=40))
def test_the_config_reader_never_raises(lines: list[str]) -> None:
    config = read_config(parse_config("\n".join(lines)), "huawei")
    assert all(1 <= v <= 4094 for v, _ in config.vlans)
    for iface in config.interfaces.values():
        assert all(1 <= v <= 4094 for v, _ in iface.vlans)
