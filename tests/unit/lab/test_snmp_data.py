"""The lab agents' MIBs: OID order, counters, table indexes, behaviour keys, wire answers."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import pytest

from govnet.errors import LabError
from govnet.lab import snmpwire as w
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables
from govnet.lab.snmpagent import (
    IF_ENTRY,
    IFX_ENTRY,
    Agent,
    AgentSpec,
    Mib,
    Value,
    bridge_ports,
    build_mib,
    if_type,
    interface_rows,
    oid,
    parse_snmp_behaviour,
    system_identity,
)

TABLES = {
    "interfaces": [
        {"name": "GigabitEthernet0/0/1", "description": "pc-01", "speed": 1000},
        {"name": "GigabitEthernet0/0/2", "oper": "down"},
        {"name": "GigabitEthernet0/0/24", "description": "uplink", "speed": 10000},
        {"name": "Vlanif100", "ip": "10.10.100.1/24", "mac": "70:7b:e8:00:00:01"},
    ],
    "arp": [
        {"ip": "10.10.100.1", "mac": "70:7b:e8:00:00:01", "interface": "Vlanif100"},
        {"ip": "10.10.100.11", "mac": "00:1a:2b:00:01:01", "interface": "Vlanif100"},
        {"ip": "10.10.200.5", "mac": "00:1a:2b:00:02:05", "interface": "Vlanif200"},
    ],
    "mac": [
        {"mac": "00:1a:2b:00:01:01", "vlan": 100, "interface": "GigabitEthernet0/0/1"},
        {"mac": "00:1a:2b:00:01:01", "vlan": 101, "interface": "GigabitEthernet0/0/2"},
        {"mac": "00:1a:2b:00:09:09", "vlan": 100, "interface": "Eth-Trunk1", "type": "static"},
    ],
}


def device(
    name: str = "sw1", snmp: Mapping[str, object] | None = None, **tables: object
) -> LabDeviceData:
    return LabDeviceData(
        name=name,
        running_config=None,
        tables=LabTables.model_validate(tables or TABLES),
        behaviour=LabBehaviour(snmp=dict(snmp or {})),
    )


def switch_mib(**snmp: object) -> Mib:
    return build_mib("sw1", "access", "huawei", device(snmp=dict(snmp)))


def at(mib: Mib, text: str, elapsed: float = 0.0) -> int | bytes | tuple[int, ...]:
    value = mib.value(oid(text), elapsed)
    assert value is not None, f"{text} missing"
    return value.value


def number(mib: Mib, text: str, elapsed: float = 0.0) -> int:
    value = at(mib, text, elapsed)
    assert isinstance(value, int), f"{text} = {value!r}, not a number"
    return value


# --- order and lookup ----------------------------------------------------------------------


def test_oids_are_in_numeric_lexicographic_order() -> None:
    mib = switch_mib()
    assert mib.oids == sorted(mib.oids)
    assert len(set(mib.oids)) == len(mib.oids)
    # numeric, not textual: ifDescr.2 before ifDescr.10 would need 10 rows; compare columns
    assert mib.oids.index((*IF_ENTRY, 2, 4)) < mib.oids.index((*IF_ENTRY, 10, 1))
    assert mib.oids.index((*IF_ENTRY, 22 - 2, 1)) < mib.oids.index((*IFX_ENTRY, 1, 1))


def test_next_index_and_end_of_mib() -> None:
    mib = switch_mib()
    first = mib.next_index(())
    assert mib.oids[first] == oid("1.3.6.1.2.1.1.1.0")
    i = mib.next_index(oid("1.3.6.1.2.1.1.1"))
    assert mib.oids[i] == oid("1.3.6.1.2.1.1.1.0")
    assert mib.oids[mib.next_index(oid("1.3.6.1.2.1.1.1.0"))] == oid("1.3.6.1.2.1.1.2.0")
    assert mib.next_index(mib.oids[-1]) == len(mib)
    assert mib.next_index(oid("2")) == len(mib)


def test_missing_object_or_instance() -> None:
    mib = switch_mib()
    assert mib.missing_tag(oid("1.3.6.1.2.1.1.1.1")) == w.NO_SUCH_INSTANCE
    assert mib.missing_tag(oid("1.3.6.1.2.1.2.2.1.2.99")) == w.NO_SUCH_INSTANCE
    assert mib.missing_tag(oid("1.3.6.1.2.1.1.99.0")) == w.NO_SUCH_OBJECT
    assert mib.missing_tag(oid("1.3.6.1.2.1.1")) == w.NO_SUCH_OBJECT


# --- system --------------------------------------------------------------------------------


def test_system_group_per_platform_and_role() -> None:
    mib = switch_mib()
    descr, object_id = system_identity("huawei", "access", "sw1")
    assert at(mib, "1.3.6.1.2.1.1.1.0") == descr.encode()
    assert at(mib, "1.3.6.1.2.1.1.2.0") == oid(object_id)
    assert b"S5735" in descr.encode()
    assert at(mib, "1.3.6.1.2.1.1.5.0") == b"sw1"
    assert system_identity("linux", "server", "srv-1")[0].startswith("Linux srv-1 ")
    assert system_identity("snmp", "ups", "ups-1")[0].startswith("Santak")
    assert "unknown-os" in system_identity("unknown-os", "core", "x")[0]


def test_behaviour_overrides_system_values() -> None:
    mib = switch_mib(sys_descr="Custom box", sys_object_id=".1.3.6.1.4.1.99.1", uptime=100)
    assert at(mib, "1.3.6.1.2.1.1.1.0") == b"Custom box"
    assert at(mib, "1.3.6.1.2.1.1.2.0") == (1, 3, 6, 1, 4, 1, 99, 1)
    assert at(mib, "1.3.6.1.2.1.1.3.0", 0) == 100_00
    assert at(mib, "1.3.6.1.2.1.1.3.0", 2.5) == 102_50
    assert at(mib, "1.3.6.1.6.3.10.2.1.3.0", 2.5) == 102


def test_sysuptime_wraps_at_2_to_32_ticks() -> None:
    mib = switch_mib(uptime=42_949_672)  # 497.1 days
    assert at(mib, "1.3.6.1.2.1.1.3.0", 0) == 4_294_967_200
    assert at(mib, "1.3.6.1.2.1.1.3.0", 1) == (4_294_967_300) % 2**32


# --- interfaces and counters ----------------------------------------------------------------


def test_if_index_is_position_then_unlisted_interfaces() -> None:
    rows = interface_rows(LabTables.model_validate(TABLES))
    assert [r.name for r in rows] == [
        "GigabitEthernet0/0/1",
        "GigabitEthernet0/0/2",
        "GigabitEthernet0/0/24",
        "Vlanif100",
        "Vlanif200",  # named by ARP only
        "Eth-Trunk1",  # named by the MAC table only
    ]
    mib = switch_mib()
    assert at(mib, "1.3.6.1.2.1.2.1.0") == 6
    assert at(mib, "1.3.6.1.2.1.31.1.1.1.1.5") == b"Vlanif200"
    assert at(mib, "1.3.6.1.2.1.2.2.1.3.4") == 136  # l3ipvlan
    assert at(mib, "1.3.6.1.2.1.2.2.1.3.6") == 161  # ieee8023adLag
    assert at(mib, "1.3.6.1.2.1.31.1.1.1.18.1") == b"pc-01"
    assert at(mib, "1.3.6.1.2.1.31.1.1.1.15.3") == 10000
    assert at(mib, "1.3.6.1.2.1.2.2.1.5.3") == 2**32 - 1  # ifSpeed saturates
    assert at(mib, "1.3.6.1.2.1.2.2.1.8.2") == 2
    assert at(mib, "1.3.6.1.2.1.2.2.1.6.4") == bytes.fromhex("707be8000001")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("GigabitEthernet0/0/1", 6),
        ("Vlan-interface102", 136),
        ("LoopBack0", 24),
        ("NULL0", 1),
        ("Bridge-Aggregation1", 161),
        ("Port-channel1", 161),
        ("lo", 24),
        ("local0", 6),
    ],
)
def test_if_type_from_name(name: str, kind: int) -> None:
    assert if_type(name) == kind


def test_counters_grow_and_32_bit_ones_wrap() -> None:
    mib = switch_mib(utilisation=0.5)
    hc = "1.3.6.1.2.1.31.1.1.1.6.3"  # ifHCInOctets, 10G uplink
    low = "1.3.6.1.2.1.2.2.1.10.3"  # ifInOctets
    samples = [(number(mib, hc, t), number(mib, low, t)) for t in range(0, 60, 1)]
    for big, small in samples:
        assert small == big % 2**32
        assert big >= 2**32  # up 37 days at 5 Gbit/s: far past the 32-bit range
    bigs = [b for b, _ in samples]
    assert bigs == sorted(bigs) and bigs[0] < bigs[-1]
    smalls = [s for _, s in samples]
    assert any(b < a for a, b in pairwise(smalls)), "no 32-bit wrap seen"
    assert number(mib, "1.3.6.1.2.1.31.1.1.1.10.3", 10) > number(
        mib, "1.3.6.1.2.1.31.1.1.1.10.3", 0
    )


def test_down_interface_does_not_count() -> None:
    mib = switch_mib()
    assert at(mib, "1.3.6.1.2.1.31.1.1.1.6.2", 0) == at(mib, "1.3.6.1.2.1.31.1.1.1.6.2", 3600)


def test_same_lab_data_same_counters() -> None:
    assert at(switch_mib(), "1.3.6.1.2.1.31.1.1.1.6.1", 5) == at(
        switch_mib(), "1.3.6.1.2.1.31.1.1.1.6.1", 5
    )


# --- ARP and FDB tables -------------------------------------------------------------------


def test_ip_net_to_media_index_is_ifindex_and_address() -> None:
    mib = switch_mib()
    entry = "1.3.6.1.2.1.4.22.1"
    assert at(mib, f"{entry}.1.4.10.10.100.11") == 4
    assert at(mib, f"{entry}.2.4.10.10.100.11") == bytes.fromhex("001a2b000101")
    assert at(mib, f"{entry}.3.4.10.10.100.11") == bytes([10, 10, 100, 11])
    assert at(mib, f"{entry}.4.4.10.10.100.11") == 3  # dynamic
    assert at(mib, f"{entry}.4.4.10.10.100.1") == 4  # the switch's own address: static
    assert at(mib, f"{entry}.1.5.10.10.200.5") == 5  # on the interface added for ARP
    assert at(mib, "1.3.6.1.2.1.4.20.1.2.10.10.100.1") == 4  # ipAdEntIfIndex


def test_bridge_ports_map_to_if_index() -> None:
    tables = LabTables.model_validate(TABLES)
    assert bridge_ports(tables) == [(1, 1), (2, 2), (3, 3), (4, 6)]
    mib = switch_mib()
    for port, if_index in bridge_ports(tables):
        assert at(mib, f"1.3.6.1.2.1.17.1.4.1.2.{port}") == if_index
    assert at(mib, "1.3.6.1.2.1.17.1.2.0") == 4


def test_fdb_indexes_by_mac_and_by_vlan_and_mac() -> None:
    mib = switch_mib()
    mac = "0.26.43.0.1.1"
    assert at(mib, f"1.3.6.1.2.1.17.4.3.1.1.{mac}") == bytes.fromhex("001a2b000101")
    assert at(mib, f"1.3.6.1.2.1.17.4.3.1.2.{mac}") == 1  # first entry wins in dot1dTpFdb
    assert at(mib, f"1.3.6.1.2.1.17.4.3.1.3.{mac}") == 3  # learned
    assert at(mib, f"1.3.6.1.2.1.17.7.1.2.2.1.2.100.{mac}") == 1
    assert at(mib, f"1.3.6.1.2.1.17.7.1.2.2.1.2.101.{mac}") == 2
    assert at(mib, "1.3.6.1.2.1.17.4.3.1.2.0.26.43.0.9.9") == 4  # Eth-Trunk1's bridge port
    assert at(mib, "1.3.6.1.2.1.17.4.3.1.3.0.26.43.0.9.9") == 5  # static: mgmt


def test_walk_returns_one_table_in_order() -> None:
    mib = switch_mib()
    rows = list(mib.walk(oid("1.3.6.1.2.1.17.7.1.2.2.1.2")))
    assert [name[-7:] for name, _ in rows] == [
        (100, 0, 26, 43, 0, 1, 1),
        (100, 0, 26, 43, 0, 9, 9),
        (101, 0, 26, 43, 0, 1, 1),
    ]


# --- servers, UPS, sensors ----------------------------------------------------------------


def test_server_software_lists() -> None:
    snmp = {"installed": ["360天擎 6.6.0", "WPS Office"], "running": ["360EntMain.exe"]}
    mib = build_mib("srv", "server", "linux", device("srv", snmp, interfaces=[]))
    names = [v.value for _, v in mib.walk(oid("1.3.6.1.2.1.25.6.3.1.2"))]
    assert names == ["360天擎 6.6.0".encode(), b"WPS Office"]
    running = [v.value for _, v in mib.walk(oid("1.3.6.1.2.1.25.4.2.1.2"))]
    assert running == [b"360EntMain.exe"]
    loads = [v.value for _, v in mib.walk(oid("1.3.6.1.2.1.25.3.3.1.2"))]
    assert loads == [12, 7, 18, 9]
    descrs = [v.value for _, v in mib.walk(oid("1.3.6.1.2.1.25.2.3.1.3"))]
    assert b"/" in descrs and b"Physical memory" in descrs
    assert mib.value(oid("1.3.6.1.2.1.2.2.1.1.1")) is None  # no interfaces listed: no ifTable


def test_server_names_in_gbk() -> None:
    snmp = {"installed": ["奇安信天擎"], "running": ["QAXEntClient.exe"], "encoding": "gbk"}
    mib = build_mib("pc", "server", "linux", device("pc", snmp, interfaces=[]))
    assert at(mib, "1.3.6.1.2.1.25.6.3.1.2.1") == "奇安信天擎".encode("gbk")


def test_ups_on_battery() -> None:
    snmp = {
        "battery_status": 3,
        "output_source": 5,
        "seconds_on_battery": 120,
        "minutes_remaining": 8,
        "charge": 41,
        "input_voltage": [0, 0, 0],
        "output_load": [35, 40, 38],
        "alarms": 2,
    }
    mib = build_mib("ups-1", "ups", "snmp", device("ups-1", snmp, interfaces=[]))
    assert at(mib, "1.3.6.1.2.1.33.1.2.1.0") == 3
    assert at(mib, "1.3.6.1.2.1.33.1.2.2.0", 0) == 120
    assert at(mib, "1.3.6.1.2.1.33.1.2.2.0", 30) == 150  # grows while on battery
    assert at(mib, "1.3.6.1.2.1.33.1.2.3.0") == 8
    assert at(mib, "1.3.6.1.2.1.33.1.3.2.0") == 3
    assert at(mib, "1.3.6.1.2.1.33.1.4.1.0") == 5
    assert [v.value for _, v in mib.walk(oid("1.3.6.1.2.1.33.1.4.4.1.5"))] == [35, 40, 38]
    assert at(mib, "1.3.6.1.2.1.33.1.6.1.0") == 2


def test_env_sensors_scaled_by_precision() -> None:
    snmp = {
        "sensors": [
            {"name": "Inlet temperature", "type": "celsius", "value": 23.5, "precision": 1},
            {"name": "Humidity", "type": "percentRH", "value": 45},
            {"name": "Water leak", "type": "truthvalue", "value": 1},
        ]
    }
    mib = build_mib("env-1", "env", "snmp", device("env-1", snmp, interfaces=[]))
    assert at(mib, "1.3.6.1.2.1.47.1.1.1.1.7.2") == b"Inlet temperature"
    assert at(mib, "1.3.6.1.2.1.99.1.1.1.1.2") == 8
    assert at(mib, "1.3.6.1.2.1.99.1.1.1.3.2") == 1
    assert at(mib, "1.3.6.1.2.1.99.1.1.1.4.2") == 235
    assert at(mib, "1.3.6.1.2.1.99.1.1.1.1.3") == 9
    assert at(mib, "1.3.6.1.2.1.99.1.1.1.4.4") == 1
    assert at(mib, "1.3.6.1.2.1.99.1.1.1.5.4") == 1


# --- behaviour.snmp validation --------------------------------------------------------------


def test_unknown_key_names_device_key_and_known_keys() -> None:
    with pytest.raises(LabError) as info:
        parse_snmp_behaviour("ups-1", "ups", {"battery_stauts": 2})
    text = str(info.value)
    assert text.startswith("ups-1: lab.yaml snmp.battery_stauts: unknown key (known: ")
    assert text.endswith("did you mean 'battery_status'?")


@pytest.mark.parametrize(
    ("role", "raw", "where"),
    [
        ("env", {"sensors": [{"name": "x", "type": "kelvin", "value": 1}]}, "snmp.sensors.0.type"),
        (
            "env",
            {"sensors": [{"name": "leak", "type": "truthvalue", "value": 0}]},
            "snmp.sensors.0",
        ),
        ("server", {"cpu": [120]}, "snmp.cpu"),
        ("server", {"storage": [{"descr": "/", "size": 1, "used": 2}]}, "snmp.storage.0"),
        ("ups", {"charge": "full"}, "snmp.charge"),
        ("access", {"utilisation": 2}, "snmp.utilisation"),
        ("access", {"sys_object_id": "not.an.oid"}, "snmp.sys_object_id"),
    ],
)
def test_bad_values_are_lab_errors(role: str, raw: dict[str, object], where: str) -> None:
    with pytest.raises(LabError, match=rf"^dev: lab\.yaml {where}\b"):
        parse_snmp_behaviour("dev", role, raw)


def test_unknown_role() -> None:
    with pytest.raises(LabError, match="no SNMP agent for role 'printer'"):
        parse_snmp_behaviour("p1", "printer", {})


def test_agent_needs_credentials() -> None:
    spec = AgentSpec("sw1", "access", "huawei", 0, device())
    with pytest.raises(LabError, match="needs a community or a v3 user"):
        Agent(spec)


def test_agent_rejects_unknown_v3_protocol() -> None:
    spec = AgentSpec(
        "sw1", "access", "huawei", 0, device(), v3_user="u", auth_protocol="sha3", auth_key="k" * 8
    )
    with pytest.raises(LabError, match="sw1: SNMP v3 user 'u': unknown auth protocol 'sha3'"):
        Agent(spec)


# --- answers on the wire -------------------------------------------------------------------


def request(tag: int, oids: list[str], a: int = 0, b: int = 0) -> w.Pdu:
    names = [oid(o) for o in oids]
    return w.Pdu(tag, 7, a, b, names, [w.encode_oid_tlv(n) for n in names])


def decode_response(pdu: bytes) -> tuple[int, int, list[tuple[tuple[int, ...], int, bytes]]]:
    """(error-status, error-index, [(oid, tag, value octets)]) of a Response-PDU."""
    tag, start, stop = w.read_tlv(pdu, 0)
    assert tag == w.RESPONSE
    s, e = w.expect(pdu, start, w.INTEGER, stop)
    assert w.decode_int(pdu, s, e) == 7
    s, e = w.expect(pdu, e, w.INTEGER, stop)
    status = w.decode_int(pdu, s, e)
    s, e = w.expect(pdu, e, w.INTEGER, stop)
    index = w.decode_int(pdu, s, e)
    vs, ve = w.expect(pdu, e, w.SEQUENCE, stop)
    out = []
    while vs < ve:
        bs, be = w.expect(pdu, vs, w.SEQUENCE, ve)
        os_, oe = w.expect(pdu, bs, w.OBJECT_ID, be)
        vtag, v0, v1 = w.read_tlv(pdu, oe, be)
        out.append((w.decode_oid(pdu, os_, oe), vtag, pdu[v0:v1]))
        vs = be
    return status, index, out


def switch_agent() -> Agent:
    return Agent(AgentSpec("sw1", "access", "huawei", 0, device(), community="public"))


def test_get_answers_values_and_exceptions() -> None:
    agent = switch_agent()
    reply = agent.respond(
        request(w.GET, ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.5.1", "1.3.9"]), 60000
    )
    assert reply is not None
    status, _, vbs = decode_response(reply)
    assert status == 0
    assert vbs == [
        (oid("1.3.6.1.2.1.1.5.0"), w.OCTET_STRING, b"sw1"),
        (oid("1.3.6.1.2.1.1.5.1"), w.NO_SUCH_INSTANCE, b""),
        (oid("1.3.9"), w.NO_SUCH_OBJECT, b""),
    ]


def test_getbulk_repeats_and_ends_with_end_of_mib_view() -> None:
    agent = switch_agent()
    last = agent.mib.oids[-2]
    text = ".".join(map(str, last))
    reply = agent.respond(request(w.GETBULK, ["1.3.6.1.2.1.1.1", text], a=1, b=3), 60000)
    assert reply is not None
    _, _, vbs = decode_response(reply)
    assert vbs[0][0] == oid("1.3.6.1.2.1.1.1.0")  # the non-repeater, once
    assert vbs[1][0] == agent.mib.oids[-1]
    assert vbs[2] == (agent.mib.oids[-1], w.END_OF_MIB_VIEW, b"")
    assert len(vbs) == 3  # stops once every repeater is at the end


def test_getbulk_truncates_to_the_size_budget() -> None:
    agent = switch_agent()
    reply = agent.respond(request(w.GETBULK, ["1.3.6.1.2.1.2"], b=200), 600)
    assert reply is not None
    _, _, vbs = decode_response(reply)
    assert 0 < len(vbs) < 200
    names = [name for name, _, _ in vbs]
    assert names == sorted(names) and names[0] == oid("1.3.6.1.2.1.2.1.0")


def v2c_request(pdu: w.Pdu, request_id: int) -> bytes:
    body = b"".join(w.tlv(w.SEQUENCE, raw + b"\x05\x00") for raw in pdu.raw_oids)
    return w.encode_v2c(
        b"public",
        w.tlv(
            pdu.tag,
            w.tlv(w.INTEGER, w.encode_signed(request_id))
            + w.tlv(w.INTEGER, w.encode_signed(pdu.a))
            + w.tlv(w.INTEGER, w.encode_signed(pdu.b))
            + w.tlv(w.SEQUENCE, body),
        ),
    )


def test_a_repeated_request_is_answered_from_its_plan_with_fresh_values() -> None:
    now = [100.0]
    agent = Agent(
        AgentSpec("sw1", "access", "huawei", 0, device(), community="public"), lambda: now[0]
    )
    fresh = Agent(
        AgentSpec("sw1", "access", "huawei", 0, device(), community="public"), lambda: now[0]
    )
    walk = request(w.GETBULK, ["1.3.6.1.2.1.1.3", "1.3.6.1.2.1.31.1.1.1.6"], a=1, b=3)
    first = agent.handle(v2c_request(walk, 11))
    assert first is not None and len(agent._plans) == 1
    now[0] += 30  # counters and uptime move; the plan's answer moves with them
    second = agent.handle(v2c_request(walk, 12))
    assert second is not None and second != first
    assert second == fresh.handle(v2c_request(walk, 12))  # what a first answer would be
    vbs = decode_response(_pdu_of(second))[2]
    assert [t for _, t, _ in vbs] == [w.TIMETICKS, w.COUNTER64, w.COUNTER64, w.COUNTER64]


def _pdu_of(message: bytes) -> bytes:
    """The PDU of a v2c message, with request-id 7 as decode_response expects."""
    start, stop = w.expect(message, 0, w.SEQUENCE)
    _, e = w.expect(message, start, w.INTEGER, stop)
    _, e = w.expect(message, e, w.OCTET_STRING, stop)
    tag, ps, pe = w.read_tlv(message, e, stop)
    _, re_ = w.expect(message, ps, w.INTEGER, pe)
    return w.tlv(tag, w.tlv(w.INTEGER, w.encode_signed(7)) + message[re_:pe])


def test_a_reply_cut_by_the_budget_or_refused_is_not_remembered() -> None:
    agent = switch_agent()
    assert agent.respond(request(w.GETBULK, ["1.3.6.1.2.1.2"], b=200), 600, b"cut") is not None
    assert agent.respond(request(w.GETBULK, ["1.3.6.1.2.1.2"], b=2), 600, b"fits") is not None
    assert set(agent._plans) == {b"fits"}
    agent._plans.clear()
    refused = request(w.SET, ["1.3.6.1.2.1.1.5.0"])
    assert agent.handle(v2c_request(refused, 2)) is not None
    assert agent._plans == {}


def test_set_is_refused() -> None:
    reply = switch_agent().respond(request(w.SET, ["1.3.6.1.2.1.1.5.0"]), 60000)
    assert reply is not None
    assert decode_response(reply)[:2] == (w.NO_ACCESS, 1)


def test_wrong_community_is_dropped() -> None:
    agent = switch_agent()
    pdu = w.tlv(w.GET, b"\x02\x01\x07\x02\x01\x00\x02\x01\x00" + w.tlv(w.SEQUENCE, b""))
    assert agent.handle(w.encode_v2c(b"private", pdu)) is None
    answer = agent.handle(w.encode_v2c(b"public", pdu))
    assert answer is not None and w.message_version(answer) == 1


def test_v3_discovery_reports_unknown_engine_id() -> None:
    spec = AgentSpec(
        "sw1",
        "access",
        "huawei",
        0,
        device(),
        v3_user="ops",
        auth_protocol="sha",
        auth_key="authpass1",
        priv_protocol="aes",
        priv_key="privpass1",
    )
    agent = Agent(spec)
    usm = w.tlv(
        w.SEQUENCE,
        w.tlv(w.OCTET_STRING, b"")
        + b"\x02\x01\x00\x02\x01\x00"
        + w.tlv(w.OCTET_STRING, b"")
        + w.tlv(w.OCTET_STRING, b"")
        + w.tlv(w.OCTET_STRING, b""),
    )
    header = w.tlv(w.SEQUENCE, b"\x02\x02\x30\x39\x02\x03\x00\xff\xe3\x04\x01\x04\x02\x01\x03")
    scoped = w.tlv(
        w.SEQUENCE,
        w.tlv(w.OCTET_STRING, b"")
        + w.tlv(w.OCTET_STRING, b"")
        + w.tlv(w.GET, b"\x02\x01\x07\x02\x01\x00\x02\x01\x00" + w.tlv(w.SEQUENCE, b"")),
    )
    message = w.tlv(w.SEQUENCE, b"\x02\x01\x03" + header + w.tlv(w.OCTET_STRING, usm) + scoped)
    answer = agent.handle(message)
    assert answer is not None
    assert agent.engine_id in answer
    assert w.encode_oid_tlv((*w.USM_STATS, w.UNKNOWN_ENGINE_IDS, 0)) in answer


# --- BER ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 127, 128, 255, 256, -1, -128, -129, 2**31 - 1, -(2**31)])
def test_integer_round_trip_minimal(n: int) -> None:
    content = w.encode_signed(n)
    assert w.decode_int(content, 0, len(content)) == n
    if len(content) > 1:  # minimal: the first 9 bits are not all equal
        assert not (content[0] == 0 and content[1] < 0x80)
        assert not (content[0] == 0xFF and content[1] >= 0x80)


@pytest.mark.parametrize(
    "name", [(1, 3, 6, 1, 2, 1, 1, 1, 0), (1, 3, 6, 1, 4, 1, 2011, 2**32 - 1), (2, 999, 3)]
)
def test_oid_round_trip(name: tuple[int, ...]) -> None:
    content = w.encode_oid(name)
    assert w.decode_oid(content, 0, len(content)) == name


def test_unsigned_values_keep_the_sign_bit_clear() -> None:
    assert w.encode_value(w.COUNTER64, 2**64 - 1) == b"\x46\x09\x00" + b"\xff" * 8
    assert w.encode_value(w.GAUGE32, 0) == b"\x42\x01\x00"


def test_lengths_over_127_use_long_form() -> None:
    data = w.tlv(w.OCTET_STRING, b"x" * 300)
    assert data[:4] == b"\x04\x82\x01\x2c"
    assert w.read_tlv(data, 0) == (w.OCTET_STRING, 4, 304)
    with pytest.raises(w.BerError):
        w.read_tlv(data[:100], 0)


def test_value_types_are_what_the_mib_says() -> None:
    mib = switch_mib()
    kinds = {
        "1.3.6.1.2.1.1.3.0": w.TIMETICKS,
        "1.3.6.1.2.1.2.2.1.10.1": w.COUNTER32,
        "1.3.6.1.2.1.31.1.1.1.6.1": w.COUNTER64,
        "1.3.6.1.2.1.31.1.1.1.15.1": w.GAUGE32,
        "1.3.6.1.2.1.4.22.1.3.4.10.10.100.11": w.IP_ADDRESS,
        "1.3.6.1.2.1.1.2.0": w.OBJECT_ID,
    }
    for text, tag in kinds.items():
        value = mib.value(oid(text), 1.0)
        assert isinstance(value, Value) and value.tag == tag, text


# --- the shipped lab ------------------------------------------------------------------------


def test_every_shipped_lab_device_builds_its_mib() -> None:
    from govnet.inventory import load_inventory
    from govnet.lab.data import load_device_data
    from tests.conftest import LAB_INVENTORY

    inventory = load_inventory(LAB_INVENTORY)
    served = [d for d in inventory.devices.values() if d.snmp is not None]
    assert len(served) >= 10
    for d in served:
        data = load_device_data(LAB_INVENTORY.parent / "lab-data", d.name)
        mib = build_mib(d.name, d.role, d.platform, data)
        assert mib.value(oid("1.3.6.1.2.1.1.5.0")) == Value(w.OCTET_STRING, d.name.encode())
    ups = build_mib(
        "ups-1", "ups", "snmp", load_device_data(LAB_INVENTORY.parent / "lab-data", "ups-1")
    )
    assert at(ups, "1.3.6.1.2.1.33.1.4.1.0") == 5  # seeded: on battery
