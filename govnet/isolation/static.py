"""Static isolation analysis: configurations and declared links that join isolated zones.

A device of zone Z must not reach a zone Y in ``Z.isolated_from`` except through a device of
role ``gap``. From its running configuration (Huawei VRP, H3C Comware and Cisco IOS syntax;
Ruijie reads as Cisco) and the inventory, a device *reaches* Y through:

address  an interface address (``ip address``, ``ipv6 address``; ``sub``/``secondary`` too)
         inside Y's ``pools.prefixes``, or an interface subnet overlapping them;
route    a static route (``ip route-static``, ``ip route``, ``ipv6 route-static``,
         ``ipv6 route``, Cisco ``ip default-gateway``) whose destination overlaps Y's prefixes or
         whose next hop is in them. A default route (``0.0.0.0/0``) is judged by its next hop
         only. A next hop that is a gap device's address is the sanctioned crossing (legal);
         routes to ``NULL0`` are blackholes (ignored);
vlan     a VLAN of Y's ``pools.vlans`` declared (``vlan batch``, ``vlan N``, ``vlan N to M``),
         given an interface (``Vlanif``, ``Vlan-interface``, ``Vlan``) or carried by a port
         (``port default|access vlan``, ``switchport access vlan``, ``port trunk allow-pass|
         permit vlan``, ``switchport trunk allowed vlan [add]``, hybrid and native/pvid VLANs).
         ``all`` on a trunk is not counted: a trunk carries only VLANs that exist on the switch,
         and those are declared. VLANs in the device's own zone pool too are ignored;
link     a cable of ``inventory.links`` on a path between devices of isolated zones that does
         not pass a gap: links are a graph without the gap devices; in each connected part that
         holds two isolated zones, every link whose ends are in different zones is reported on
         both ends, with the shortest path between the two zones;
policy   a firewall (Huawei USG, H3C SecPath) security-policy rule that permits traffic from a
         prefix of one zone to a prefix of a zone it must be isolated from
         (:func:`policy_leaks`, policies read by :mod:`govnet.isolation.firewall`). A side
         without addresses stands for the networks of its security zones' interfaces (all
         interfaces for ``any``); a side that is exactly a gap device's address is the
         sanctioned crossing. The rule's lines are the evidence.

Zones without prefixes (the Internet) stand for public addresses (``is_global``) outside every
declared pool; private addresses outside all pools belong to no zone and are not judged.
``undo``/``no`` lines and shut-down interfaces: ``undo`` lines are not configuration, a
shut-down interface still counts (a leftover the next ``undo shutdown`` revives) and says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from govnet.collect.interfaces import Address, DeviceConfig, Line, Network
from govnet.collect.tables import canonical_port
from govnet.i18n import _
from govnet.inventory.model import Device, Inventory, Link
from govnet.isolation.firewall import Endpoint, FirewallPolicy

LeakKind = Literal["address", "route", "vlan", "link", "policy"]
KINDS: tuple[LeakKind, ...] = ("address", "route", "vlan", "link", "policy")


# ----------------------------------------------------------------------------- zones


class ZoneMap:
    """Which zones an address, a network or a VLAN belongs to (from the zones' pools)."""

    def __init__(self, inventory: Inventory) -> None:
        prefixes = [(net, z.name) for z in inventory.zones.values() for net in z.pools.prefixes]
        # most specific first: a carve-out of one zone inside another's block wins
        self.prefixes: list[tuple[Network, str]] = sorted(
            prefixes, key=lambda p: (-p[0].prefixlen, str(p[0]))
        )
        self.vlans = [
            (lo, hi, z.name) for z in inventory.zones.values() for lo, hi in z.pools.vlans
        ]
        self.public = frozenset(z.name for z in inventory.zones.values() if not z.pools.prefixes)

    def of_address(self, address: Address) -> set[str]:
        for net, zone in self.prefixes:
            if net.version == address.version and address in net:
                return {zone}
        return set(self.public) if address.is_global else set()

    def of_network(self, network: Network) -> set[str]:
        """Zones whose prefixes overlap ``network`` (a route's destination, a subnet)."""
        found = {
            zone
            for net, zone in self.prefixes
            if net.version == network.version and net.overlaps(network)
        }
        if not found and network.is_global:
            return set(self.public)
        return found

    def of_vlan(self, vlan: int) -> set[str]:
        return {zone for lo, hi, zone in self.vlans if lo <= vlan <= hi}


def isolated_from(inventory: Inventory, zone: str) -> frozenset[str]:
    """The zones ``zone`` must not touch (symmetric: declared on either side)."""
    own = inventory.zones.get(zone)
    out = set(own.isolated_from) if own else set()
    out |= {z.name for z in inventory.zones.values() if zone in z.isolated_from}
    return frozenset(out & set(inventory.zones))


# ----------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Leak:
    """One way a device reaches a zone it must be isolated from."""

    kind: LeakKind
    zone: str  # the forbidden zone reached
    message: str
    lines: tuple[Line, ...] = ()  # configuration lines (numbered); empty for links
    notes: tuple[str, ...] = ()  # one per line (or the link text when no line)


def _gap_addresses(inventory: Inventory) -> set[Address]:
    return {d.address for d in inventory.devices.values() if d.role == "gap" and d.address}


def config_leaks(
    device: Device,
    config: DeviceConfig,
    inventory: Inventory,
    zones: ZoneMap | None = None,
    kinds: Iterable[LeakKind] = KINDS,
) -> list[Leak]:
    """Addresses, routes and VLANs of ``config`` that reach a zone ``device`` must not touch."""
    zones = zones or ZoneMap(inventory)
    forbidden = isolated_from(inventory, device.zone)
    wanted = set(kinds)
    leaks: list[Leak] = []
    if not forbidden:
        return leaks
    own_zone = device.zone
    if "address" in wanted:
        for iface in config.interfaces.values():
            down = _(" (interface shut down)") if iface.shutdown else ""
            for address, line in iface.addresses:
                reached = zones.of_address(address.ip)
                if address.network.prefixlen > 0:
                    reached |= zones.of_network(address.network)
                for zone in sorted(reached & forbidden):
                    leaks.append(
                        Leak(
                            "address",
                            zone,
                            _(
                                "{iface} has {address}, an address of zone {zone}{down}",
                                iface=iface.name,
                                address=address.with_prefixlen,
                                zone=zone,
                                down=down,
                            ),
                            (iface.header, line),
                            (
                                "",
                                _(
                                    "{network} is in zone {zone}'s pool{down}",
                                    network=address.network,
                                    zone=zone,
                                    down=down,
                                ),
                            ),
                        )
                    )
    if "route" in wanted:
        gaps = _gap_addresses(inventory)
        for route in config.routes:
            via_gap = route.next_hop is not None and route.next_hop in gaps
            if via_gap:
                continue  # through a declared gap: the sanctioned crossing
            by_destination = (
                zones.of_network(route.destination) if route.destination.prefixlen > 0 else set()
            )
            by_next_hop = zones.of_address(route.next_hop) if route.next_hop else set()
            for zone in sorted((by_destination | by_next_hop) & forbidden):
                what = []
                if zone in by_destination:
                    what.append(
                        _(
                            "destination {destination} is in zone {zone}",
                            destination=route.destination,
                            zone=zone,
                        )
                    )
                if zone in by_next_hop:
                    what.append(
                        _(
                            "next hop {next_hop} is in zone {zone}",
                            next_hop=route.next_hop,
                            zone=zone,
                        )
                    )
                kind = _("default route") if route.destination.prefixlen == 0 else _("static route")
                leaks.append(
                    Leak(
                        "route",
                        zone,
                        _(
                            "{kind} to {destination}: {what}",
                            kind=kind,
                            destination=route.destination,
                            what=_(", ").join(what),
                        ),
                        (route.line,),
                        (_("{what} (not a gap device)", what=_("; ").join(what)),),
                    )
                )
    if "vlan" in wanted:
        found: dict[tuple[int, str], list[tuple[Line, str]]] = {}
        declared = _("declared")
        sources: list[tuple[int, Line, str]] = [(v, line, declared) for v, line in config.vlans]
        for iface in config.interfaces.values():
            sources += [(v, line, _("on {iface}", iface=iface.name)) for v, line in iface.vlans]
        for vlan, line, where in sources:
            reached = zones.of_vlan(vlan)
            if own_zone in reached:
                continue
            for zone in reached & forbidden:
                found.setdefault((vlan, zone), []).append((line, where))
        for (vlan, zone), hits in sorted(found.items()):
            unique = list(dict.fromkeys(hits))
            leaks.append(
                Leak(
                    "vlan",
                    zone,
                    _("VLAN {vlan} belongs to zone {zone}", vlan=vlan, zone=zone),
                    tuple(line for line, _where in unique),
                    tuple(
                        _(
                            "VLAN {vlan} ({where}) is in zone {zone}'s VLAN pool",
                            vlan=vlan,
                            where=where,
                            zone=zone,
                        )
                        for _line, where in unique
                    ),
                )
            )
    return leaks


# ----------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Crossing:
    """A declared link whose ends are in different zones, inside a gap-free part of the link
    graph that joins two isolated zones."""

    link: Link
    zones: tuple[str, str]  # (a end's zone, b end's zone)
    joined: tuple[str, str]  # the isolated pair this part of the network joins
    path: tuple[str, ...]  # DEVICE:PORT hops of a shortest path between the two zones

    def ends(self) -> tuple[str, str]:
        return (
            f"{self.link.a_device}:{self.link.a_port}",
            f"{self.link.b_device}:{self.link.b_port}",
        )

    def port_on(self, device: str) -> str | None:
        if self.link.a_device == device:
            return self.link.a_port
        if self.link.b_device == device:
            return self.link.b_port
        return None


def link_crossings(inventory: Inventory) -> dict[str, list[Crossing]]:
    """Device name → the crossings it is an end of (see the module docstring)."""
    devices = inventory.devices
    gaps = {name for name, d in devices.items() if d.role == "gap"}
    adjacency: dict[str, list[tuple[str, Link]]] = {}
    for link in inventory.links:
        a, b = link.a_device, link.b_device
        if a in gaps or b in gaps or a not in devices or b not in devices or a == b:
            continue
        adjacency.setdefault(a, []).append((b, link))
        adjacency.setdefault(b, []).append((a, link))
    seen: set[str] = set()
    out: dict[str, list[Crossing]] = {}
    for start in sorted(adjacency):
        if start in seen:
            continue
        part = _component(start, adjacency)
        seen |= part
        present = {devices[d].zone for d in part}
        pairs = sorted(
            (a, b) for a in present for b in isolated_from(inventory, a) & present if a < b
        )
        if not pairs:
            continue
        paths = {pair: _shortest_path(part, pair, adjacency, inventory) for pair in pairs}
        for name in sorted(part):
            for other, link in adjacency[name]:
                if link.a_device != name:
                    continue  # each link once, from its a end
                za, zb = devices[link.a_device].zone, devices[link.b_device].zone
                if za == zb:
                    continue
                pair = _pair_for(za, zb, pairs)
                crossing = Crossing(link, (za, zb), pair, paths[pair])
                out.setdefault(link.a_device, []).append(crossing)
                out.setdefault(other, []).append(crossing)
    return out


def _pair_for(za: str, zb: str, pairs: Sequence[tuple[str, str]]) -> tuple[str, str]:
    key = tuple(sorted((za, zb)))
    if key in pairs:
        return key  # type: ignore[return-value]
    for pair in pairs:  # a link into a third zone that sits between the two
        if za in pair or zb in pair:
            return pair
    return pairs[0]


def _component(start: str, adjacency: dict[str, list[tuple[str, Link]]]) -> set[str]:
    part = {start}
    queue = deque([start])
    while queue:
        for other, _link in adjacency.get(queue.popleft(), ()):
            if other not in part:
                part.add(other)
                queue.append(other)
    return part


def _shortest_path(
    part: set[str],
    pair: tuple[str, str],
    adjacency: dict[str, list[tuple[str, Link]]],
    inventory: Inventory,
) -> tuple[str, ...]:
    """DEVICE:PORT hops from the nearest device of ``pair[0]`` to one of ``pair[1]``."""
    zone_a, zone_b = pair
    starts = sorted(d for d in part if inventory.devices[d].zone == zone_a)
    back: dict[str, tuple[str, Link] | None] = dict.fromkeys(starts)
    queue = deque(starts)
    end: str | None = None
    while queue and end is None:
        here = queue.popleft()
        for other, link in sorted(adjacency.get(here, ()), key=lambda x: x[0]):
            if other in back:
                continue
            back[other] = (here, link)
            if inventory.devices[other].zone == zone_b:
                end = other
                break
            queue.append(other)
    if end is None:
        return ()
    hops: list[str] = []
    node = end
    while (step := back[node]) is not None:
        prev, link = step
        near, far = (
            (link.a_port, link.b_port) if link.a_device == prev else (link.b_port, link.a_port)
        )
        hops[:0] = [f"{prev}:{near}", f"{node}:{far}"]
        node = prev
    return tuple(hops)


def link_leaks(
    device: Device, crossings: Sequence[Crossing], config: DeviceConfig | None
) -> list[Leak]:
    """The crossings at ``device`` as leaks (with the local interface's line when known)."""
    leaks = []
    platform = device.platform
    for c in crossings:
        port = c.port_on(device.name) or ""
        a, b = c.ends()
        other_zone = c.zones[1] if c.link.a_device == device.name else c.zones[0]
        if device.zone in c.joined:
            reached = c.joined[1] if device.zone == c.joined[0] else c.joined[0]
        else:  # a device of a third zone between the two
            reached = other_zone
        path = " — ".join(c.path)
        note = _(
            "link {a} — {b} joins zone {one} and {other} without a gap",
            a=a,
            b=b,
            one=c.zones[0],
            other=c.zones[1],
        )
        if path:
            note += _("; path {path}", path=path)
        iface = config.interfaces.get(canonical_port(platform, port)) if config else None
        lines = (iface.header,) if iface else ()
        leaks.append(
            Leak(
                "link",
                reached,
                _(
                    "link {a} — {b} joins {one} and {other} without a gap",
                    a=a,
                    b=b,
                    one=c.joined[0],
                    other=c.joined[1],
                ),
                lines,
                (note,),
            )
        )
    return leaks


# ----------------------------------------------------------------------------- firewall policies


def _zone_networks(policy: FirewallPolicy, config: DeviceConfig) -> dict[str, list[Network]]:
    """Security zone (lower-cased) → the networks of its interfaces' addresses."""
    out: dict[str, list[Network]] = {}
    for zone, members in policy.zones.items():
        nets = out.setdefault(zone.lower(), [])
        for name in members:
            iface = config.interfaces.get(name)
            if iface is not None:
                nets.extend(a.network for a, _ in iface.addresses)
    return out


def _side(
    side: Endpoint, by_zone: dict[str, list[Network]], everywhere: list[Network]
) -> list[Network]:
    if side.networks:
        return side.networks
    if side.unresolved:
        return []  # an address set the configuration does not define: not judged
    if side.any_zone:
        return everywhere
    return [net for zone in side.zones for net in by_zone.get(zone.lower(), [])]


def policy_leaks(
    policy: FirewallPolicy, config: DeviceConfig, inventory: Inventory, zones: ZoneMap | None = None
) -> list[Leak]:
    """Permit rules of ``policy`` from one zone's prefixes to a zone it must be isolated from."""
    zones = zones or ZoneMap(inventory)
    gaps = _gap_addresses(inventory)
    by_zone = _zone_networks(policy, config)
    everywhere = [a.network for i in config.interfaces.values() for a, _ in i.addresses]

    def is_gap(net: Network) -> bool:
        return net.num_addresses == 1 and net.network_address in gaps

    leaks: list[Leak] = []
    for rule in policy.rules:
        if rule.disabled or rule.action != "permit":
            continue
        sources = _side(rule.source, by_zone, everywhere)
        destinations = _side(rule.destination, by_zone, everywhere)
        found: list[tuple[str, str, Network, Network]] = []
        for src in sources:
            if is_gap(src):
                continue
            src_zones = zones.of_network(src)
            for dst in destinations:
                if is_gap(dst):
                    continue
                dst_zones = zones.of_network(dst)
                for a in sorted(src_zones):
                    for b in sorted(dst_zones & isolated_from(inventory, a)):
                        found.append((a, b, src, dst))
        if not found:
            continue
        a, b, src, dst = found[0]
        more = f" (+{len(found) - 1} more prefix pairs)" if len(found) > 1 else ""
        message = (
            f"security policy rule {rule.name} permits {src} (zone {a}) to {dst} (zone {b}) "
            f"outside the gap{more}"
        )
        lines = tuple(Line(x.number, x.text) for x in rule.evidence_lines())
        notes = (message,) + ("",) * (len(lines) - 1)
        leaks.append(Leak("policy", b, message, lines, notes))
    return leaks
