"""What LLDP/CDP neighbours say about the inventory and the isolation (pure: no I/O).

From the neighbours every device reported (:class:`govnet.collect.neighbors.DeviceNeighbors`)
:func:`analyse` works out:

- **unknown neighbours**: a system name, management address or chassis MAC that is no
  inventory device, each with a candidate device entry (YAML to paste) and the cables it was
  seen on; its address from the LLDP management address, else from the ARP table of a device
  that sees it (its chassis MAC);
- **undeclared links**: a cable between two inventory devices that the inventory's ``links``
  do not list (a candidate entry), and **declared links not seen**: a declared link with at
  least one end read whose neighbours do not show it (an end that was not read, or that cannot
  be asked, proves nothing);
- **cross-zone relations**: two neighbours in zones that must be isolated, neither a gap
  (role ``gap``) — a cable that bypasses the gap. A neighbour the inventory does not know but
  that devices of isolated zones both see is one as well (the unknown box joins them).

A neighbour is matched to a device by system name (case-insensitive; a domain suffix is
ignored), then management address, then chassis MAC. Ports are compared by their full names
(``GE0/0/1`` is ``GigabitEthernet0/0/1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govnet.collect.neighbors import DeviceNeighbors, Neighbor
from govnet.collect.tables import canonical_port
from govnet.inventory.model import Device, Inventory, Link
from govnet.isolation.static import isolated_from

GAP_ROLE = "gap"
Endpoint = tuple[str, str]  # (device, port)


@dataclass(frozen=True)
class SeenLink:
    """A cable seen by LLDP/CDP, between two endpoints (the ``a`` end sorts first)."""

    a: Endpoint
    b: Endpoint
    seen_by: tuple[str, ...]  # devices that reported it
    protocols: tuple[str, ...]

    def yaml(self) -> str:
        return f'- {{a: "{self.a[0]}:{self.a[1]}", b: "{self.b[0]}:{self.b[1]}"}}'

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": f"{self.a[0]}:{self.a[1]}",
            "b": f"{self.b[0]}:{self.b[1]}",
            "seen_by": list(self.seen_by),
            "protocols": list(self.protocols),
        }


@dataclass
class UnknownNeighbor:
    """A neighbour no inventory device matches, with every place it was seen."""

    name: str
    address: str | None
    chassis: str | None
    seen: list[Neighbor] = field(default_factory=list)
    zones: set[str] = field(default_factory=set)

    def candidate(self, inventory: Inventory) -> str:
        """A device entry for the inventory, to check and paste under ``devices:``."""
        first = self.seen[0]
        near = inventory.devices.get(first.device)
        parts = [f"host: {self.address or 'FILL-IN'}"]
        if self.address:
            parts.append(f"address: {self.address}")
        if self.chassis:
            parts.append(f'mac: "{self.chassis}"')
        parts.append("platform: FILL-IN")
        parts.append(f"role: {'access' if near is None else _role_below(near)}")
        if near is not None:
            parts.append(f"zone: {near.zone}")
            parts.append(f"site: {near.site}")
            if near.unit:
                parts.append(f"unit: {near.unit}")
        where = ", ".join(f"{n.device} {n.port}" for n in self.seen)
        parts.append(f'description: "seen by {first.protocol.upper()} on {where}"')
        return f"{self.name}:\n  {{{', '.join(parts)}}}"

    def to_dict(self, inventory: Inventory) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "chassis": self.chassis,
            "zones": sorted(self.zones),
            "seen": [n.to_dict() for n in self.seen],
            "candidate": self.candidate(inventory),
        }


def _role_below(device: Device) -> str:
    return {"core": "aggregation", "aggregation": "access"}.get(device.role, "access")


@dataclass(frozen=True)
class CrossZone:
    """Two ends in zones that must be isolated, joined without a gap."""

    a: Endpoint
    a_zone: str
    b: Endpoint
    b_zone: str
    via: str | None = None  # the unknown neighbour joining them, if any

    def describe(self) -> str:
        through = f" through unknown {self.via}" if self.via else ""
        return (
            f"{self.a[0]} {self.a[1]} ({self.a_zone}) — {self.b[0]} {self.b[1]} "
            f"({self.b_zone}){through}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": f"{self.a[0]}:{self.a[1]}",
            "a_zone": self.a_zone,
            "b": f"{self.b[0]}:{self.b[1]}",
            "b_zone": self.b_zone,
            "via": self.via,
        }


@dataclass
class Discovery:
    """The result model of one discovery: every reporter renders this."""

    read: dict[str, DeviceNeighbors]
    unknown: list[UnknownNeighbor] = field(default_factory=list)
    undeclared: list[SeenLink] = field(default_factory=list)
    not_seen: list[Link] = field(default_factory=list)
    cross_zone: list[CrossZone] = field(default_factory=list)
    seen: list[SeenLink] = field(default_factory=list)

    @property
    def unreadable(self) -> list[str]:
        return sorted(name for name, r in self.read.items() if not r.ok)

    @property
    def has_findings(self) -> bool:
        return bool(self.unknown or self.undeclared or self.not_seen or self.cross_zone)

    def cross_zone_of(self, device: str) -> list[CrossZone]:
        return [c for c in self.cross_zone if device in (c.a[0], c.b[0])]

    def exit_code(self) -> int:
        """README 'Exit codes': 3 when a device could not be read, else 1 on findings."""
        if self.unreadable:
            return 3
        return 1 if self.has_findings else 0

    def to_dict(self, inventory: Inventory) -> dict[str, Any]:
        return {
            "devices_read": sorted(n for n, r in self.read.items() if r.ok),
            "unreadable": {n: self.read[n].error for n in self.unreadable},
            "neighbors": [n.to_dict() for r in self.read.values() for n in r.neighbors],
            "unknown_neighbors": [u.to_dict(inventory) for u in self.unknown],
            "undeclared_links": [link.to_dict() for link in self.undeclared],
            "declared_links_not_seen": [
                {"a": f"{link.a_device}:{link.a_port}", "b": f"{link.b_device}:{link.b_port}"}
                for link in self.not_seen
            ],
            "cross_zone": [c.to_dict() for c in self.cross_zone],
        }


class _Matcher:
    """Neighbour → inventory device by name, then management address, then chassis MAC."""

    def __init__(self, inventory: Inventory) -> None:
        self.by_name = {name.lower(): d for name, d in inventory.devices.items()}
        self.by_address = {str(d.address): d for d in inventory.devices.values() if d.address}
        self.by_mac = {str(d.mac).lower(): d for d in inventory.devices.values() if d.mac}

    def __call__(self, n: Neighbor) -> Device | None:
        name = n.name.strip().lower()
        found = self.by_name.get(name) or self.by_name.get(name.split(".", 1)[0])
        if found is None and n.address:
            found = self.by_address.get(n.address)
        if found is None and n.chassis:
            found = self.by_mac.get(n.chassis)
        return found


def _port(device: Device | None, name: str) -> str:
    return canonical_port(device.platform, name) if device is not None and name else name


def analyse(inventory: Inventory, read: Mapping[str, DeviceNeighbors]) -> Discovery:
    """Compare what the devices' neighbours say with the inventory (see the module doc)."""
    result = Discovery(dict(read))
    match = _Matcher(inventory)
    devices = inventory.devices
    links: dict[tuple[Endpoint, Endpoint], tuple[set[str], set[str]]] = {}
    unknown: dict[str, UnknownNeighbor] = {}
    for report in read.values():
        for n in report.neighbors:
            here = devices.get(n.device)
            if here is None:
                continue
            there = match(n)
            if there is None:
                key = n.chassis or n.address or n.name.lower()
                u = unknown.setdefault(key, UnknownNeighbor(n.name, n.address, n.chassis))
                u.seen.append(n)
                u.zones.add(here.zone)
                continue
            ends = sorted(
                [(here.name, _port(here, n.port)), (there.name, _port(there, n.remote_port))]
            )
            by, protocols = links.setdefault((ends[0], ends[1]), (set(), set()))
            by.add(n.device)
            protocols.add(n.protocol)
    result.seen = [
        SeenLink(a, b, tuple(sorted(by)), tuple(sorted(p))) for (a, b), (by, p) in links.items()
    ]
    result.seen.sort(key=lambda s: (s.a, s.b))
    result.unknown = sorted(unknown.values(), key=lambda u: u.name)
    for u in result.unknown:  # no management address in LLDP: the ARP table may know it
        if u.address is None and u.chassis is not None:
            found = (read[n.device].arp.get(u.chassis) for n in u.seen if n.device in read)
            u.address = next((ip for ip in found if ip), None)

    def link_ends(link: Link) -> tuple[Endpoint, ...]:
        a = (link.a_device, _port(devices.get(link.a_device), link.a_port))
        b = (link.b_device, _port(devices.get(link.b_device), link.b_port))
        return tuple(sorted([a, b]))

    declared = {link_ends(k) for k in inventory.links}
    result.undeclared = [s for s in result.seen if (s.a, s.b) not in declared]
    seen_pairs = {(s.a, s.b) for s in result.seen}
    for link in inventory.links:
        if link_ends(link) in seen_pairs:
            continue
        asked = [read[d] for d in (link.a_device, link.b_device) if d in read]
        if any(r.ok for r in asked):
            result.not_seen.append(link)

    for s in result.seen:
        da, db = devices[s.a[0]], devices[s.b[0]]
        if GAP_ROLE in (da.role, db.role):
            continue
        if db.zone in isolated_from(inventory, da.zone):
            result.cross_zone.append(CrossZone(s.a, da.zone, s.b, db.zone))
    for u in result.unknown:
        for i, first in enumerate(u.seen):
            for second in u.seen[i + 1 :]:
                za, zb = devices[first.device].zone, devices[second.device].zone
                if zb in isolated_from(inventory, za):
                    result.cross_zone.append(
                        CrossZone(
                            (first.device, first.port), za, (second.device, second.port), zb, u.name
                        )
                    )
    return result
