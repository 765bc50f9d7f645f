"""LLDP and CDP neighbours of a switch, over SSH, as one normalised record.

Every neighbour a device reports becomes a :class:`Neighbor` ``(device, port, name, remote
port, chassis, address, protocol)``: ``port`` the local interface's full name (as in
configurations and the inventory's links), ``name`` the neighbour's system name as it sent it,
``remote_port`` its port id as sent, ``chassis`` a MAC (``aa:bb:…``) when the chassis id is
one, ``address`` the management address when the output shows it.

The commands are the platform table's ``lldp`` and ``cdp`` rows (Huawei ``display lldp
neighbor``, H3C ``display lldp neighbor-information list``, Cisco ``show lldp neighbors`` and
``show cdp neighbors``, Ruijie ``show lldp neighbors detail``), parsed with ntc-templates (or
govnet's own templates where it has none, govnet/data/textfsm); field names differ per
template and are read through one alias list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from govnet.collect.fetch import Collected, CollectOptions, collect
from govnet.collect.fleet import DeviceResult
from govnet.collect.tables import (
    canonical_port,
    entries_from_rows,
    normalise_mac,
    over_snmp,
    parse_rows,
    snmp_tables,
    table_commands,
)
from govnet.errors import GovnetError, ProtocolError, TransportError
from govnet.inventory.model import Device
from govnet.platforms import get_platform, platforms
from govnet.transport import snmp

Protocol = Literal["lldp", "cdp"]

_LOCAL_FIELDS = ("local_interface", "local_port")
_NAME_FIELDS = ("neighbor_name", "neighbor", "system_name", "destination_host")
# Huawei: Port ID (the interface name) before Port description
_PORT_FIELDS = ("neighbor_port_id", "neighbor_interface", "port_id", "remote_port")
_CHASSIS_FIELDS = ("chassis_id",)
_ADDRESS_FIELDS = ("mgmt_address", "management_ip", "mgmt_ip")


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One neighbour one device sees on one of its ports."""

    device: str
    port: str
    name: str
    remote_port: str
    chassis: str | None = None
    address: str | None = None
    protocol: Protocol = "lldp"

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "port": self.port,
            "name": self.name,
            "remote_port": self.remote_port,
            "chassis": self.chassis,
            "address": self.address,
            "protocol": self.protocol,
        }


@dataclass
class DeviceNeighbors:
    """What one device's neighbour tables gave, or why they could not be read."""

    device: str
    via: Literal["ssh", "snmp"] = "ssh"
    neighbors: list[Neighbor] = field(default_factory=list)
    error: str | None = None
    # the device's ARP table (MAC → IP), read beside the neighbours: an address for a
    # neighbour whose LLDP carries none; empty when the table was not or could not be read
    arp: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def neighbor_commands(platform: str) -> dict[Protocol, str]:
    """``{"lldp": command, "cdp": command}`` for a platform (only those it has)."""
    if platform not in platforms():
        return {}
    p = get_platform(platform)
    out: dict[Protocol, str] = {}
    protocols: tuple[Protocol, ...] = ("lldp", "cdp")
    for what in protocols:
        cmd = p.command(what)
        if cmd:
            out[what] = cmd
    return out


@cache
def lldp_parsable(platform: str) -> bool:
    """Whether a TextFSM template reads the platform's LLDP command: ntc-templates', or
    govnet's own (govnet/data/textfsm: Ruijie's ``show lldp neighbors detail``)."""
    from govnet.collect import ntc

    command = neighbor_commands(platform).get("lldp")
    templates = get_platform(platform).templates if platform in platforms() else None
    if not command or not templates:
        return False
    return ntc.has_template(templates, command)


def _first(row: Mapping[str, Any], names: Sequence[str]) -> str | None:
    for name in names:
        value = row.get(name)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        if value not in (None, ""):
            text = str(value).strip()
            if text:
                return text
    return None


def neighbors_from_rows(
    device: Device, protocol: Protocol, rows: Sequence[Mapping[str, Any]]
) -> list[Neighbor]:
    """Template rows → neighbours; rows without a local port or a name are dropped."""
    out: list[Neighbor] = []
    for row in rows:
        local = _first(row, _LOCAL_FIELDS)
        name = _first(row, _NAME_FIELDS)
        if local is None or name is None:
            continue
        remote = _first(row, _PORT_FIELDS) or ""
        chassis = _first(row, _CHASSIS_FIELDS)
        out.append(
            Neighbor(
                device=device.name,
                port=canonical_port(device.platform, local),
                name=name,
                remote_port=remote,
                chassis=normalise_mac(chassis) if chassis else None,
                address=_first(row, _ADDRESS_FIELDS),
                protocol=protocol,
            )
        )
    return out


def _without_echo(output: str, command: str) -> str:
    """The output without a leading echo of the command (a prompt fragment and the command,
    which a long command line can leave behind), which the templates reject."""
    head, _sep, rest = output.lstrip("\r\n").partition("\n")
    return rest if head.rstrip().endswith(command) else output


def neighbors_from_ssh(device: Device, outputs: Mapping[str, str]) -> DeviceNeighbors:
    """A device's neighbours from the outputs of its platform's ``lldp`` (and ``cdp``)
    commands. A missing or unparsable output makes the result an error."""
    result = DeviceNeighbors(device.name, "ssh")
    commands = neighbor_commands(device.platform)
    if "lldp" not in commands:
        result.error = f"platform {device.platform} has no LLDP neighbour command"
        return result
    for protocol, command in commands.items():
        output = outputs.get(command)
        if output is None:
            result.error = f"the output of {command!r} was not collected"
            return result
        output = _without_echo(output, command)
        try:
            rows = parse_rows(device.name, device.platform, command, output) if output else []
        except ProtocolError as exc:
            result.error = exc.message
            return result
        result.neighbors.extend(neighbors_from_rows(device, protocol, rows))
    return result


def collect_neighbors(
    devices: Sequence[Device],
    options: CollectOptions | None = None,
    on_done: Callable[[DeviceResult[Collected]], None] | None = None,
) -> dict[str, DeviceNeighbors]:
    """Every device's neighbours over SSH (one session each, no running config); a device
    that could not be reached or read is a result with its error."""
    wanted = [d for d in devices if "lldp" in neighbor_commands(d.platform)]

    def commands(d: Device) -> list[str]:
        arp = table_commands(d.platform).get("arp")
        return [*neighbor_commands(d.platform).values(), *([arp] if arp else [])]

    fleet = collect(
        wanted,
        commands,
        options,
        on_done=on_done,
        with_config=False,
    )
    out: dict[str, DeviceNeighbors] = {}
    for d in wanted:
        r = fleet.results.get(d.name)
        if r is None or r.result is None:
            why = str(r.error) if r is not None and r.error is not None else "not collected"
            out[d.name] = DeviceNeighbors(d.name, error=why)
        else:
            out[d.name] = neighbors_from_ssh(d, r.result.outputs)
            out[d.name].arp = arp_from_ssh(d, r.result.outputs)
    return out


def arp_from_ssh(device: Device, outputs: Mapping[str, str]) -> dict[str, str]:
    """MAC → IP from the platform's ``arp`` command output; empty when it is missing or does
    not parse (the ARP table only adds addresses, its absence is no error)."""
    command = table_commands(device.platform).get("arp")
    output = outputs.get(command) if command else None
    if not command or not output:
        return {}
    try:
        rows = parse_rows(device.name, device.platform, command, output)
    except ProtocolError:
        return {}
    entries, _own = entries_from_rows(device, "arp", rows)
    return {e.mac: e.ip for e in entries if e.ip}


# ----------------------------------------------------------------------------- SNMP (LLDP-MIB)

LLDP_LOC_PORT_ID = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_REM_CHASSIS_SUBTYPE = "1.0.8802.1.1.2.1.4.1.1.4"
LLDP_REM_CHASSIS_ID = "1.0.8802.1.1.2.1.4.1.1.5"
LLDP_REM_PORT_ID = "1.0.8802.1.1.2.1.4.1.1.7"
LLDP_REM_SYS_NAME = "1.0.8802.1.1.2.1.4.1.1.9"
LLDP_REM_MAN_ADDR_IF_SUBTYPE = "1.0.8802.1.1.2.1.4.2.1.3"
_CHASSIS_MAC = 4  # LldpChassisIdSubtype macAddress(4)
_WALKS = (
    LLDP_LOC_PORT_ID,
    LLDP_REM_CHASSIS_SUBTYPE,
    LLDP_REM_CHASSIS_ID,
    LLDP_REM_PORT_ID,
    LLDP_REM_SYS_NAME,
    LLDP_REM_MAN_ADDR_IF_SUBTYPE,
)


def _index(oid: str, root: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in oid[len(root) + 1 :].split(".") if arc)


def _text(value: snmp.SnmpValue | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        decoded = snmp.decode_octets(value)
        return decoded if isinstance(decoded, str) else decoded.hex()
    return str(value).strip() or None


def neighbors_from_walks(
    device: Device, walks: Mapping[str, Mapping[str, snmp.SnmpValue]]
) -> list[Neighbor]:
    """lldpRemTable rows (indexed timeMark.localPortNum.remIndex) → neighbours, the local
    port named by lldpLocPortId and the management address from lldpRemManAddrTable."""
    local = {_index(o, LLDP_LOC_PORT_ID): _text(v) for o, v in walks[LLDP_LOC_PORT_ID].items()}
    columns = {
        root: {_index(o, root): v for o, v in walks[root].items()}
        for root in (LLDP_REM_CHASSIS_SUBTYPE, LLDP_REM_CHASSIS_ID, LLDP_REM_PORT_ID)
    }
    addresses: dict[tuple[int, ...], str] = {}
    for o in walks[LLDP_REM_MAN_ADDR_IF_SUBTYPE]:
        arcs = _index(o, LLDP_REM_MAN_ADDR_IF_SUBTYPE)
        if len(arcs) == 9 and arcs[3] == 1 and arcs[4] == 4:  # ipV4(1), 4 octets
            addresses.setdefault(arcs[:3], ".".join(map(str, arcs[5:])))
    out: list[Neighbor] = []
    for o, value in walks[LLDP_REM_SYS_NAME].items():
        index = _index(o, LLDP_REM_SYS_NAME)
        name = _text(value)
        if len(index) != 3 or not name:
            continue
        port_name = local.get((index[1],))
        if not port_name:
            continue
        chassis_value = columns[LLDP_REM_CHASSIS_ID].get(index)
        chassis = None
        if columns[LLDP_REM_CHASSIS_SUBTYPE].get(index) == _CHASSIS_MAC:
            chassis = snmp.mac_address(chassis_value) if chassis_value is not None else None
        out.append(
            Neighbor(
                device=device.name,
                port=canonical_port(device.platform, port_name),
                name=name,
                remote_port=_text(columns[LLDP_REM_PORT_ID].get(index)) or "",
                chassis=chassis,
                address=addresses.get(index),
                protocol="lldp",
            )
        )
    return out


async def snmp_neighbors(device: Device, backend: snmp.SnmpBackend) -> DeviceNeighbors:
    """One device's LLDP neighbours over SNMP; a transport failure is recorded, never raised."""
    target = snmp.SnmpTarget.for_device(device)
    try:
        walks = {root: await backend.bulkwalk(target, root) for root in _WALKS}
    except TransportError as exc:
        return DeviceNeighbors(device.name, "snmp", error=f"SNMP: {exc.message}")
    except GovnetError as exc:  # an unresolvable community or key reference
        return DeviceNeighbors(device.name, "snmp", error=f"SNMP: {exc}")
    result = DeviceNeighbors(device.name, "snmp", neighbors_from_walks(device, walks))
    tables = await snmp_tables(device, backend)  # ipNetToMedia: addresses for bare neighbours
    result.arp = {e.mac: e.ip for e in tables.entries if e.is_arp and e.ip}
    return result


def collect_neighbors_snmp(
    devices: Sequence[Device],
    concurrency: int = 32,
    new_backend: snmp.BackendFactory = snmp.snmp_backend,
) -> dict[str, DeviceNeighbors]:
    """Every device's LLDP neighbours over SNMP, at most ``concurrency`` devices at a time,
    through one backend made by ``new_backend`` (closed at the end)."""
    return {r.device: r for r in over_snmp(devices, snmp_neighbors, concurrency, new_backend)}
