"""L2/L3 correlation: switches' ARP and MAC tables against the zones and the inventory.

Input: every switch's :class:`~govnet.collect.tables.DeviceTables` (SSH or SNMP) and the
inventory. Output (:class:`L2Result`), computed once per audit:

dual-homed (一机两用)
    a MAC seen in two zones that must be isolated from each other, or seen in a zone isolated
    from the zone its inventory record (terminal or device) puts it in — a PC wired into both
    networks, or carried from one to the other. Named with the switch and port in each zone.
unknown device
    a MAC that is neither an inventory terminal, nor a device's ``mac``, nor a switch's own MAC
    (interfaces, bridge, its own ARP rows), nor the MAC an ARP table gives for a device's
    address, seen in a zone that is isolated from another (every such zone counts, not only
    ``internal``: a stray device on the external network matters as much; a rule may narrow
    the zones). Named with the switch and port.

Exempt everywhere: the gaps' MACs — a gap device's ``mac``, the MAC its address resolves to,
and any MAC no inventory record claims that is learned on a port cabled to a gap (the gap's
other-side interfaces) — multicast and all-zero MACs, and virtual-router MACs (VRRP, HSRP:
the same virtual MAC exists in each zone) plus any ``ignore_macs`` prefixes.

Uplinks. A switch learns every MAC below it on its uplink: int-core-1 sees pc-west-03 on the
port towards int-acc-west. Such sightings place the MAC in the switch's zone (they count for
dual-homing: a zone is one L2/L3 domain) but never *locate* it when a better sighting exists:
a port is an uplink when it is an end of an ``inventory.links`` cable, a trunk (or hybrid) port
in the switch's configuration, or has ``uplink_macs`` MACs or more. Per zone, a MAC is located
at its access-port sightings; with none, at the uplink sightings whose cable does not lead to
a switch that also saw it (the switch nearest the host we could read, e.g. the uplink towards
a switch that did not answer); with no MAC-table sighting at all, at the ARP rows (the gateway
interface, with the IP). Findings are reported on the switches where a MAC is located — not on
every switch along its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from govnet.collect.tables import DeviceTables, TableEntry, canonical_port
from govnet.inventory.model import Inventory
from govnet.isolation.static import isolated_from

VIRTUAL_ROUTER_MACS = (
    "00:00:5e:00:01:",  # VRRP (IPv4), RFC 5798
    "00:00:5e:00:02:",  # VRRP (IPv6)
    "00:00:0c:07:ac:",  # HSRP version 1
    "00:00:0c:9f:f",  # HSRP version 2
)
OwnerKind = Literal["terminal", "device", "gap", "switch"]


@dataclass(frozen=True)
class L2Options:
    uplink_macs: int = 16  # a port with this many MACs or more is an uplink
    ignore_macs: tuple[str, ...] = ()  # MAC prefixes never reported ("00:11:22", "00:11:22:33")


@dataclass(frozen=True, slots=True)
class Owner:
    """Who the inventory (or a switch) says a MAC belongs to."""

    name: str
    kind: OwnerKind
    zone: str | None


@dataclass(frozen=True)
class DualHomed:
    """One MAC in zones that must be isolated from each other."""

    mac: str
    owner: Owner | None
    zones: tuple[str, ...]  # zones it was seen in
    pairs: tuple[tuple[str, str], ...]  # isolated pairs among those zones and its own zone
    where: Mapping[str, tuple[TableEntry, ...]]  # zone → where it is located there
    ips: Mapping[str, tuple[str, ...]]  # zone → its IPs there (ARP)

    def devices(self) -> set[str]:
        return {e.device for entries in self.where.values() for e in entries}


@dataclass(frozen=True)
class UnknownDevice:
    """A MAC nobody declared, in one zone."""

    mac: str
    zone: str
    where: tuple[TableEntry, ...]
    ips: tuple[str, ...]


@dataclass
class L2Result:
    tables: dict[str, DeviceTables]
    dual_homed: list[DualHomed] = field(default_factory=list)
    unknown: list[UnknownDevice] = field(default_factory=list)
    entries: int = 0
    macs: int = 0
    uplinks: dict[str, set[str]] = field(default_factory=dict)  # device → its uplink ports
    dual_by_device: dict[str, list[DualHomed]] = field(default_factory=dict)
    dual_by_mac: dict[str, DualHomed] = field(default_factory=dict)
    unknown_by_device: dict[str, list[UnknownDevice]] = field(default_factory=dict)
    zones_by_owner: dict[str, frozenset[str]] = field(default_factory=dict)  # terminal → zones

    def to_dict(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "macs": self.macs,
            "dual_homed": [
                {
                    "mac": d.mac,
                    "owner": d.owner.name if d.owner else None,
                    "zones": list(d.zones),
                    "where": {z: [e.to_dict() for e in es] for z, es in d.where.items()},
                }
                for d in self.dual_homed
            ],
            "unknown": [
                {"mac": u.mac, "zone": u.zone, "where": [e.to_dict() for e in u.where]}
                for u in self.unknown
            ],
            "errors": {n: t.error for n, t in sorted(self.tables.items()) if t.error},
        }


_ARP = frozenset({"ssh-arp", "snmp-arp"})
_NONE: frozenset[str | None] = frozenset()


def _locate(
    entries: Sequence[TableEntry],
    uplinks: Mapping[str, set[str | None]],
    link_to: Mapping[tuple[str, str], str],
) -> tuple[TableEntry, ...]:
    """Where a MAC is, within one zone (see the module docstring)."""
    physical = [e for e in entries if e.port and e.source not in _ARP]
    if not physical:
        return tuple(entries)
    edges = [e for e in physical if e.port not in uplinks.get(e.device, _NONE)]
    if edges:
        return tuple(edges)
    seen_on = {e.device for e in physical}
    nearest = [e for e in physical if link_to.get((e.device, e.port or "")) not in seen_on]
    return tuple(nearest or physical)


def _isolated_pairs(inventory: Inventory) -> set[frozenset[str]]:
    return {
        frozenset((zone, other))
        for zone in inventory.zones
        for other in isolated_from(inventory, zone)
    }


def correlate(
    inventory: Inventory,
    tables: Mapping[str, DeviceTables] | Iterable[DeviceTables],
    options: L2Options | None = None,
) -> L2Result:
    """Correlate every table at once (one pass to group by MAC, one over the MACs)."""
    opts = options or L2Options()
    by_name = dict(tables) if isinstance(tables, Mapping) else {t.device: t for t in tables}
    result = L2Result(by_name)
    devices = inventory.devices

    # cables: (device, port) → the device at the other end
    link_to: dict[tuple[str, str], str] = {}
    for link in inventory.links:
        for here, port, there in (
            (link.a_device, link.a_port, link.b_device),
            (link.b_device, link.b_port, link.a_device),
        ):
            platform = devices[here].platform if here in devices else ""
            link_to[(here, canonical_port(platform, port))] = there
    gaps = {name for name, d in devices.items() if d.role == "gap"}
    gap_ports = {key for key, there in link_to.items() if there in gaps}

    # who the inventory says each MAC is
    owners: dict[str, Owner] = {}
    gap_macs: set[str] = set()
    for d in devices.values():
        if d.mac:
            if d.role == "gap":
                gap_macs.add(d.mac)
            owners.setdefault(d.mac, Owner(d.name, "device", d.zone))
    for terminal in inventory.terminals.values():
        owners[terminal.mac] = Owner(terminal.name, "terminal", terminal.zone)
    for t in by_name.values():
        for mac in t.own_macs:
            owners.setdefault(mac, Owner(t.device, "switch", t.zone))
    unnamed = {
        str(d.address): d for d in devices.values() if d.address is not None and d.mac is None
    }

    # one pass over every entry: group by MAC, count MACs per port, attribute gap MACs
    cabled: dict[str, set[str | None]] = {}
    for here, port in link_to:
        cabled.setdefault(here, set()).add(port)
    gap_cabled: dict[str, set[str | None]] = {}
    for here, port in gap_ports:
        gap_cabled.setdefault(here, set()).add(port)
    by_mac: dict[str, list[TableEntry]] = {}
    uplinks: dict[str, set[str | None]] = {}
    count = 0
    for t in by_name.values():
        if t.error is not None:
            continue
        count += len(t.entries)
        to_gap = gap_cabled.get(t.device, _NONE)
        per_port: dict[str | None, int] = {}
        for e in t.entries:
            m = e.mac
            group = by_mac.get(m)
            if group is None:
                by_mac[m] = [e]
            else:
                group.append(e)
            if e.source in _ARP:
                named = unnamed.get(e.ip or "")
                if named is not None and named.zone == e.zone:
                    if named.role == "gap":
                        gap_macs.add(m)
                    owners.setdefault(m, Owner(named.name, "device", named.zone))
            else:
                learned_on = e.port
                per_port[learned_on] = per_port.get(learned_on, 0) + 1
                if learned_on in to_gap and m not in owners:
                    gap_macs.add(m)
        ports = set(t.uplinks) | (cabled.get(t.device, _NONE) - to_gap)
        ports.update(p for p, n in per_port.items() if n >= opts.uplink_macs)
        uplinks[t.device] = ports
        if ports - {None}:
            result.uplinks[t.device] = {p for p in ports if p}
    result.entries = count
    result.macs = len(by_mac)

    isolated = _isolated_pairs(inventory)
    watched = {zone for pair in isolated for zone in pair}  # zones checked for unknown MACs
    ignored = VIRTUAL_ROUTER_MACS + tuple(p.lower() for p in opts.ignore_macs)
    for mac, seen in by_mac.items():
        if mac in gap_macs or mac.startswith(ignored) or int(mac[0:2], 16) & 1:
            continue
        if mac == "00:00:00:00:00:00":
            continue
        owner = owners.get(mac)
        zones = {seen[0].zone} if len(seen) == 1 else {e.zone for e in seen}
        every = zones | {owner.zone} if owner is not None and owner.zone else zones
        if owner is not None and owner.kind == "terminal":
            result.zones_by_owner[owner.name] = frozenset(zones)
        if owner is not None and len(every) == 1:
            continue  # the common case: a known host in its own zone
        pairs = sorted(
            tuple(sorted((a, b))) for a in every for b in every if a < b and {a, b} in isolated
        )
        if not pairs and owner is not None:
            continue
        if len(zones) == 1:
            in_zone = {seen[0].zone: seen}
        else:
            in_zone = {}
            for e in seen:
                in_zone.setdefault(e.zone, []).append(e)
            in_zone = dict(sorted(in_zone.items()))
        where = {z: _locate(es, uplinks, link_to) for z, es in in_zone.items()}
        ips = {z: tuple(sorted({e.ip for e in es if e.ip})) for z, es in in_zone.items()}
        if pairs:
            record = DualHomed(mac, owner, tuple(sorted(zones)), tuple(pairs), where, ips)  # type: ignore[arg-type]
            result.dual_homed.append(record)
            result.dual_by_mac[mac] = record
            for device in sorted(record.devices()):
                result.dual_by_device.setdefault(device, []).append(record)
        if owner is None:
            for zone, located in where.items():
                if zone not in watched:
                    continue
                unknown = UnknownDevice(mac, zone, located, ips[zone])
                result.unknown.append(unknown)
                for device in {e.device for e in located}:
                    result.unknown_by_device.setdefault(device, []).append(unknown)
    return result
