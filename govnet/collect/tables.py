"""ARP and MAC tables from switches, over SSH or SNMP, as one normalised record.

Every row of every table becomes a :class:`TableEntry` ``(device, zone, mac, ip, vlan, port,
source)``: ``mac`` as ``aa:bb:cc:dd:ee:ff``, ``port`` as the interface's full name
(``GE0/0/3`` and ``Gi0/3`` are written ``GigabitEthernet0/0/3`` and ``GigabitEthernet0/3``, as
in configurations, IF-MIB ifName and the inventory's links), ``vlan`` an int where known, and
``source`` one of ``ssh-arp``, ``ssh-mac``, ``snmp-arp``, ``snmp-fdb``. ARP rows carry the
Layer-3 interface (``Vlanif100``) as their port.

SSH
    The platform table's ``arp`` and ``mac`` commands (``display arp all``, ``show mac
    address-table``, …), parsed with ntc-templates (``parse_output(platform=<templates>,
    command=…, data=…)``); field names differ per template and are read through one alias
    list. Vendor short interface names come from ``govnet/data/tables.yaml`` on top of
    netutils' table.
SNMP
    ipNetToMediaTable (and ipNetToPhysicalTable, IPv4 and IPv6), dot1qTpFdbTable — or
    dot1dTpFdbTable where the switch has no Q-BRIDGE table — with dot1dTpFdbPort →
    dot1dBasePortIfIndex → ifName (ifDescr when ifName is missing). Q-BRIDGE's FDB id is taken
    as the VLAN (true for the usual one-FDB-per-VLAN switches).

A switch's own MACs (:attr:`DeviceTables.own_macs`) are not sightings: ARP rows for its own
addresses (its configured interface addresses, IP-MIB ipAdEntAddr, or rows the vendor marks as
local), IF-MIB ifPhysAddress, the bridge address and FDB entries of status ``self``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal, TypeVar

import yaml

from govnet import i18n
from govnet.errors import GovnetError, ProtocolError, TransportError
from govnet.inventory.model import Device
from govnet.platforms import get_platform, platforms
from govnet.secrets import check_all
from govnet.transport import snmp

Source = Literal["ssh-arp", "ssh-mac", "snmp-arp", "snmp-fdb"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TableEntry:
    """One row of a switch's ARP or MAC table."""

    device: str
    zone: str
    mac: str
    ip: str | None = None
    vlan: int | None = None
    port: str | None = None
    source: Source = "ssh-mac"

    @property
    def is_arp(self) -> bool:
        return self.source.endswith("arp")

    def describe(self) -> str:
        """``int-acc-west GigabitEthernet1/0/3 vlan 102 ip 10.10.102.13``."""
        parts = [self.device, self.port or "?"]
        if self.vlan is not None:
            parts.append(f"vlan {self.vlan}")
        if self.ip:
            parts.append(f"ip {self.ip}")
        if self.is_arp:
            parts.append("(ARP)")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "zone": self.zone,
            "mac": self.mac,
            "ip": self.ip,
            "vlan": self.vlan,
            "port": self.port,
            "source": self.source,
        }


@dataclass
class DeviceTables:
    """What one switch's tables gave, or why they could not be read."""

    device: str
    zone: str
    via: Literal["ssh", "snmp"]
    entries: list[TableEntry] = field(default_factory=list)
    own_macs: set[str] = field(default_factory=set)
    uplinks: set[str] = field(default_factory=set)  # trunk ports (from its configuration)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ----------------------------------------------------------------------------- values

_MAC_SEP = re.compile(r"^([0-9a-f]{1,2})([:\-])" + r"([0-9a-f]{1,2})\2" * 4 + r"([0-9a-f]{1,2})$")
_MAC_DOT4 = re.compile(r"^([0-9a-f]{4})([.\-])([0-9a-f]{4})\2([0-9a-f]{4})$")
_MAC_BARE = re.compile(r"^[0-9a-f]{12}$")


@lru_cache(maxsize=1 << 17)
def _mac_text(text: str) -> str | None:
    t = text.strip().lower()
    if _MAC_BARE.match(t):
        digits = t
    elif m := _MAC_DOT4.match(t):
        digits = m[1] + m[3] + m[4]
    elif m := _MAC_SEP.match(t):
        digits = "".join(g.zfill(2) for g in (m[1], m[3], m[4], m[5], m[6], m[7]))
    else:
        return None
    return ":".join((digits[0:2], digits[2:4], digits[4:6], digits[6:8], digits[8:10], digits[10:]))


def normalise_mac(value: object) -> str | None:
    """Any usual MAC notation → ``aa:bb:cc:dd:ee:ff``; None for anything else.

    Accepts ``aa:bb:cc:dd:ee:ff`` and ``aa-bb-…`` (one-digit groups too, as BSD prints them),
    ``aabb-ccdd-eeff`` (Huawei, H3C), ``aabb.ccdd.eeff`` (Cisco), twelve bare hex digits, and
    6 raw octets (SNMP PhysAddress). Never raises.
    """
    if isinstance(value, bytes | bytearray):
        if len(value) == 6:
            return ":".join(f"{b:02x}" for b in value)
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str) or len(value) > 40:
        return None
    return _mac_text(value)


def reportable_mac(mac: str) -> bool:
    """A unicast, non-zero MAC: the only kind that names a host."""
    return mac != "00:00:00:00:00:00" and not int(mac[0:2], 16) & 1


_VLAN_IN_NAME = re.compile(r"^(?:vlan-?interface|vlanif|vlan|vl)\s*(\d{1,4})$", re.IGNORECASE)
_LEADING_INT = re.compile(r"^\s*(\d{1,4})\b")


def vlan_of(value: object) -> int | None:
    """``100``, ``"100"``, ``"100/-/-"`` (Huawei VLAN/VSI/BD) → 100; ``N/A``, ``""`` → None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= 4094 else None
    if not isinstance(value, str):
        return None
    m = _LEADING_INT.match(value)
    if m is None:
        return None
    vlan = int(m[1])
    return vlan if 1 <= vlan <= 4094 else None


def vlan_of_interface(name: str | None) -> int | None:
    """The VLAN of a VLAN interface name (``Vlanif100``, ``Vlan-interface100``, ``Vlan100``)."""
    if not name:
        return None
    m = _VLAN_IN_NAME.match(name.strip())
    if m is None:
        return None
    vlan = int(m[1])
    return vlan if 1 <= vlan <= 4094 else None


# ----------------------------------------------------------------------------- interface names


@dataclass(frozen=True)
class _PlatformTables:
    interfaces: dict[str, str]
    own_arp: tuple[tuple[str, re.Pattern[str]], ...]


@cache
def _table_data() -> dict[str, _PlatformTables]:
    text = resources.files("govnet").joinpath("data/tables.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["platforms"]
    return {
        name: _PlatformTables(
            dict(row.get("interfaces") or {}),
            tuple((k, re.compile(v)) for k, v in (row.get("own_arp") or {}).items()),
        )
        for name, row in raw.items()
    }


def _platform_tables(platform: str) -> _PlatformTables:
    return _table_data().get(platform) or _PlatformTables({}, ())


@lru_cache(maxsize=1 << 14)
def canonical_port(platform: str, name: str) -> str:
    """A port as its full name on ``platform`` (``GE0/0/1`` → ``GigabitEthernet0/0/1``)."""
    from netutils.interface import canonical_interface_name

    text = " ".join(name.split())
    if not text:
        return text
    return str(
        canonical_interface_name(text, addl_name_map=_platform_tables(platform).interfaces)
    ).replace(" ", "")


# ----------------------------------------------------------------------------- SSH

_MAC_FIELDS = ("mac_address", "destination_address", "mac")
_IP_FIELDS = ("ip_address", "address", "ip")
_PORT_FIELDS = ("destination_port", "interface", "port", "ports")
_VLAN_FIELDS = ("vlan_id", "vlan")
_SKIP_PORTS = frozenset({"cpu", "router", "switch", "sup-eth1", "drop", "self"})


def _first(row: Mapping[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        value = row.get(name)
        if value not in (None, "", []):
            return value
    return None


def _ports(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)]


def table_commands(platform: str) -> dict[str, str]:
    """``{"arp": command, "mac": command}`` for a platform (only those it has)."""
    if platform not in platforms():
        return {}
    p = get_platform(platform)
    return {what: cmd for what in ("arp", "mac") if (cmd := p.command(what))}


def parse_rows(device: str, platform: str, command: str, output: str) -> list[dict[str, Any]]:
    """ntc-templates rows of one table command; ProtocolError when there is no template or
    the output does not fit it."""
    from govnet.collect import ntc

    templates = get_platform(platform).templates
    if not templates:
        raise ProtocolError(
            device, i18n._("platform {platform} has no TextFSM templates", platform=platform)
        )
    try:
        return ntc.parse(templates, command, output)
    except ntc.TemplateParseError as exc:
        raise ProtocolError(
            device,
            i18n._("cannot parse the output of {command!r}: {exc}", command=command, exc=exc),
        ) from exc


def _is_own_arp(platform: str, row: Mapping[str, Any]) -> bool:
    for name, pattern in _platform_tables(platform).own_arp:
        value = row.get(name)
        if isinstance(value, str) and pattern.search(value.strip()):
            return True
    return False


def entries_from_rows(
    device: Device,
    what: Literal["arp", "mac"],
    rows: Iterable[Mapping[str, Any]],
    own_addresses: Iterable[str] = (),
    via: Literal["ssh", "snmp"] = "ssh",
) -> tuple[list[TableEntry], set[str]]:
    """Rows of one table (template field names) → entries and the switch's own MACs."""
    own_ips = set(own_addresses)
    entries: list[TableEntry] = []
    own: set[str] = set()
    platform = device.platform
    for row in rows:
        mac = normalise_mac(_first(row, _MAC_FIELDS))
        if mac is None:
            continue  # incomplete ARP entries, headers the template let through
        vlan = vlan_of(_first(row, _VLAN_FIELDS))
        if what == "arp":
            ip = _first(row, _IP_FIELDS)
            ip_text = str(ip).strip() if ip is not None else None
            port = _first(row, ("interface", "port"))
            port_name = canonical_port(platform, str(port)) if port else None
            if (ip_text and ip_text in own_ips) or _is_own_arp(platform, row):
                own.add(mac)
                continue
            if vlan is None:
                vlan = vlan_of_interface(port_name)
            source: Source = "ssh-arp" if via == "ssh" else "snmp-arp"
            entries.append(
                TableEntry(device.name, device.zone, mac, ip_text, vlan, port_name, source)
            )
            continue
        ports = _ports(_first(row, _PORT_FIELDS))
        if any(p.strip().lower() in _SKIP_PORTS for p in ports):
            own.add(mac)  # the switch's own (CPU) entries
            continue
        source = "ssh-mac" if via == "ssh" else "snmp-fdb"
        names: list[str | None] = [canonical_port(platform, p) for p in ports] or [None]
        entries.extend(
            TableEntry(device.name, device.zone, mac, None, vlan, n, source) for n in names
        )
    return entries, own


def tables_from_ssh(
    device: Device, outputs: Mapping[str, str], own_addresses: Iterable[str] = ()
) -> DeviceTables:
    """A switch's tables from the outputs of its platform's ``arp`` and ``mac`` commands.

    ``own_addresses``: the switch's own interface addresses (from its configuration), whose
    ARP rows are its own MACs. A missing or unparsable output makes the result an error.
    """
    result = DeviceTables(device.name, device.zone, "ssh")
    commands = table_commands(device.platform)
    if set(commands) != {"arp", "mac"}:
        result.error = f"platform {device.platform} has no ARP and MAC table commands"
        return result
    addresses = set(own_addresses)
    if device.address is not None:
        addresses.add(str(device.address))
    for what in ("arp", "mac"):
        command = commands[what]
        output = outputs.get(command)
        if output is None:
            result.error = f"the output of {command!r} was not collected"
            return result
        try:
            rows = parse_rows(device.name, device.platform, command, output)
        except ProtocolError as exc:
            result.error = exc.message
            return result
        entries, own = entries_from_rows(device, what, rows, addresses)
        result.entries.extend(entries)
        result.own_macs |= own
    return result


# ----------------------------------------------------------------------------- SNMP

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IP_AD_ENT_IF_INDEX = "1.3.6.1.2.1.4.20.1.2"
NET_TO_MEDIA_PHYS = "1.3.6.1.2.1.4.22.1.2"
NET_TO_MEDIA_TYPE = "1.3.6.1.2.1.4.22.1.4"
NET_TO_PHYSICAL_PHYS = "1.3.6.1.2.1.4.35.1.4"
NET_TO_PHYSICAL_TYPE = "1.3.6.1.2.1.4.35.1.6"
DOT1D_BASE_BRIDGE_ADDRESS = "1.3.6.1.2.1.17.1.1"
DOT1D_BASE_PORT_IF_INDEX = "1.3.6.1.2.1.17.1.4.1.2"
DOT1D_TP_FDB_PORT = "1.3.6.1.2.1.17.4.3.1.2"
DOT1D_TP_FDB_STATUS = "1.3.6.1.2.1.17.4.3.1.3"
DOT1Q_TP_FDB_PORT = "1.3.6.1.2.1.17.7.1.2.2.1.2"
DOT1Q_TP_FDB_STATUS = "1.3.6.1.2.1.17.7.1.2.2.1.3"

_ARP_INVALID = 2  # ipNetToMediaType / ipNetToPhysicalType invalid(2)
_FDB_INVALID, _FDB_SELF = 2, 4  # dot1dTpFdbStatus / dot1qTpFdbStatus


def _suffix(oid: str, root: str) -> list[int]:
    return [int(arc) for arc in oid[len(root) + 1 :].split(".") if arc]


def _by_index(walked: Mapping[str, snmp.SnmpValue], root: str) -> dict[tuple[int, ...], Any]:
    return {tuple(_suffix(oid, root)): value for oid, value in walked.items()}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class SnmpWalks:
    """The raw walks :func:`tables_from_snmp` reads (``{oid: value}`` each)."""

    if_name: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    if_descr: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    if_phys: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    ip_addresses: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    arp: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    arp_type: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    arp_phys: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    arp_phys_type: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    bridge_address: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    base_ports: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    fdb_q: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    fdb_q_status: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    fdb: dict[str, snmp.SnmpValue] = field(default_factory=dict)
    fdb_status: dict[str, snmp.SnmpValue] = field(default_factory=dict)


_WALKS: tuple[tuple[str, str], ...] = (
    ("if_descr", IF_DESCR),
    ("if_phys", IF_PHYS_ADDRESS),
    ("ip_addresses", IP_AD_ENT_IF_INDEX),
    ("arp", NET_TO_MEDIA_PHYS),
    ("arp_type", NET_TO_MEDIA_TYPE),
    ("arp_phys", NET_TO_PHYSICAL_PHYS),
    ("arp_phys_type", NET_TO_PHYSICAL_TYPE),
    ("bridge_address", DOT1D_BASE_BRIDGE_ADDRESS),
    ("base_ports", DOT1D_BASE_PORT_IF_INDEX),
    ("fdb_q", DOT1Q_TP_FDB_PORT),
    ("fdb_q_status", DOT1Q_TP_FDB_STATUS),
)
_DOT1D_WALKS: tuple[tuple[str, str], ...] = (
    ("fdb", DOT1D_TP_FDB_PORT),
    ("fdb_status", DOT1D_TP_FDB_STATUS),
)


def _ip_from_inet(arcs: Sequence[int]) -> tuple[int, str] | None:
    """``ifIndex.addrType.len.octets…`` (ipNetToPhysicalTable index) → (ifIndex, address)."""
    if len(arcs) < 3:
        return None
    if_index, kind, length, *octets = arcs
    if length != len(octets) or any(not 0 <= o <= 255 for o in octets):
        return None
    try:
        if kind == 1 and length == 4:
            return if_index, str(ipaddress.IPv4Address(bytes(octets)))
        if kind == 2 and length == 16:
            return if_index, str(ipaddress.IPv6Address(bytes(octets)))
    except ValueError:
        return None
    return None


def tables_from_snmp(device: Device, walks: SnmpWalks) -> DeviceTables:
    """A switch's tables from its SNMP walks (pure: no I/O)."""
    result = DeviceTables(device.name, device.zone, "snmp")
    names: dict[int, str] = {}
    for index, value in _by_index(walks.if_descr, IF_DESCR).items():
        if len(index) == 1 and isinstance(value, str) and value.strip():
            names[index[0]] = value.strip()
    for index, value in _by_index(walks.if_name, IF_NAME).items():
        if len(index) == 1 and isinstance(value, str) and value.strip():
            names[index[0]] = value.strip()
    platform = device.platform
    ports = {i: canonical_port(platform, n) for i, n in names.items()}
    own = result.own_macs
    for value in [*walks.if_phys.values(), *walks.bridge_address.values()]:
        mac = snmp.mac_address(value)
        if mac is not None and reportable_mac(mac):
            own.add(mac)
    own_ips = {
        ".".join(map(str, index)) for index in _by_index(walks.ip_addresses, IP_AD_ENT_IF_INDEX)
    }
    if device.address is not None:
        own_ips.add(str(device.address))
    entries = result.entries
    name, zone = device.name, device.zone

    def arp(mac: str | None, if_index: int, ip: str) -> None:
        if mac is None:
            return
        if ip in own_ips:
            own.add(mac)
            return
        port = ports.get(if_index)
        entries.append(TableEntry(name, zone, mac, ip, vlan_of_interface(port), port, "snmp-arp"))

    seen_arp: set[tuple[int, str]] = set()
    types = _by_index(walks.arp_type, NET_TO_MEDIA_TYPE)
    for index, value in _by_index(walks.arp, NET_TO_MEDIA_PHYS).items():
        if len(index) != 5 or types.get(index) == _ARP_INVALID:
            continue
        ip = ".".join(map(str, index[1:]))
        seen_arp.add((index[0], ip))
        arp(snmp.mac_address(value), index[0], ip)
    phys_types = _by_index(walks.arp_phys_type, NET_TO_PHYSICAL_TYPE)
    for index, value in _by_index(walks.arp_phys, NET_TO_PHYSICAL_PHYS).items():
        parsed = _ip_from_inet(index)
        if parsed is None or phys_types.get(index) == _ARP_INVALID or parsed in seen_arp:
            continue
        arp(snmp.mac_address(value), *parsed)

    if_of_port: dict[int, int] = {}
    for index, value in _by_index(walks.base_ports, DOT1D_BASE_PORT_IF_INDEX).items():
        if len(index) == 1 and (if_index := _int(value)) is not None:
            if_of_port[index[0]] = if_index

    def fdb(mac_arcs: Sequence[int], bridge_port: Any, status: Any, vlan: int | None) -> None:
        if len(mac_arcs) != 6 or any(not 0 <= o <= 255 for o in mac_arcs):
            return
        mac = ":".join(f"{o:02x}" for o in mac_arcs)
        if status == _FDB_SELF:
            own.add(mac)
            return
        if status == _FDB_INVALID:
            return
        port_number = _int(bridge_port)
        if_index = if_of_port.get(port_number) if port_number else None
        port = ports.get(if_index) if if_index is not None else None
        if port is None and port_number:
            port = f"bridge-port-{port_number}"
        entries.append(TableEntry(name, zone, mac, None, vlan, port, "snmp-fdb"))

    if walks.fdb_q:
        statuses = _by_index(walks.fdb_q_status, DOT1Q_TP_FDB_STATUS)
        for index, value in _by_index(walks.fdb_q, DOT1Q_TP_FDB_PORT).items():
            if len(index) == 7:
                fdb(index[1:], value, statuses.get(index), vlan_of(index[0]))
    else:
        statuses = _by_index(walks.fdb_status, DOT1D_TP_FDB_STATUS)
        for index, value in _by_index(walks.fdb, DOT1D_TP_FDB_PORT).items():
            fdb(index, value, statuses.get(index), None)
    return result


async def walk_tables(device: Device, backend: snmp.SnmpBackend) -> SnmpWalks:
    """Walk what :func:`tables_from_snmp` needs; the first failure ends the device."""
    target = snmp.SnmpTarget.for_device(device)
    walks = SnmpWalks(if_name=await backend.bulkwalk(target, IF_NAME))  # reachable at all?
    results = await asyncio.gather(*(backend.bulkwalk(target, oid) for _, oid in _WALKS))
    for (attr, _), values in zip(_WALKS, results, strict=True):
        setattr(walks, attr, values)
    if not walks.fdb_q:
        results = await asyncio.gather(*(backend.bulkwalk(target, oid) for _, oid in _DOT1D_WALKS))
        for (attr, _), values in zip(_DOT1D_WALKS, results, strict=True):
            setattr(walks, attr, values)
    return walks


async def snmp_tables(device: Device, backend: snmp.SnmpBackend) -> DeviceTables:
    """One switch's tables over SNMP; a transport failure is recorded, never raised."""
    try:
        walks = await walk_tables(device, backend)
    except TransportError as exc:
        return DeviceTables(device.name, device.zone, "snmp", error=f"SNMP: {exc.message}")
    except GovnetError as exc:  # an unresolvable community or key reference
        return DeviceTables(device.name, device.zone, "snmp", error=f"SNMP: {exc}")
    return tables_from_snmp(device, walks)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, also when the caller already runs an event loop (then in a thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, name="govnet-snmp-tables")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def over_snmp(
    devices: Sequence[Device],
    one: Callable[[Device, snmp.SnmpBackend], Awaitable[T]],
    concurrency: int = 32,
    new_backend: snmp.BackendFactory = snmp.snmp_backend,
) -> list[T]:
    """``one(device, backend)`` for every device, at most ``concurrency`` devices at a time,
    through one backend made by ``new_backend`` (closed at the end). Every device's SNMP
    secrets are checked first: a missing one exits 2 before any request."""

    async def main() -> list[T]:
        limit = asyncio.Semaphore(concurrency)
        backend = new_backend()

        async def each(device: Device) -> T:
            async with limit:
                return await one(device, backend)

        try:
            return list(await asyncio.gather(*(each(d) for d in devices)))
        finally:
            await backend.close()

    if not devices:
        return []
    check_all(r for d in devices for r in d.snmp_secrets())  # exit 2 before any request
    return _run(main())


def collect_snmp(
    devices: Sequence[Device],
    concurrency: int = 32,
    new_backend: snmp.BackendFactory = snmp.snmp_backend,
) -> dict[str, DeviceTables]:
    """Every device's tables over SNMP, at most ``concurrency`` devices at a time, through
    one backend made by ``new_backend`` (closed at the end)."""
    return {t.device: t for t in over_snmp(devices, snmp_tables, concurrency, new_backend)}
