"""What a running configuration says about interfaces, static routes and VLANs.

:func:`read_config` reads Huawei VRP, H3C Comware and Cisco IOS syntax (Ruijie reads as Cisco)
from a :class:`~govnet.core.configtext.ParsedConfig`: each interface's addresses, VLANs, trunk
mode and shutdown, the static routes (``ip route-static``, ``ip route``, the IPv6 forms, Cisco
``ip default-gateway``; routes to ``NULL0`` are blackholes and left out) and the VLANs declared
at top level. Every fact keeps its configuration line. Isolation analysis and provisioning
(idle access ports) both read configurations through it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass, field

from govnet.collect.tables import canonical_port, vlan_of_interface
from govnet.core.configtext import ParsedConfig

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Line:
    """A configuration line: its 1-based number and text."""

    number: int
    text: str


@dataclass
class Interface:
    name: str  # canonical
    header: Line
    addresses: list[tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, Line]] = field(
        default_factory=list
    )
    vlans: list[tuple[int, Line]] = field(default_factory=list)
    trunk: bool = False
    shutdown: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    destination: Network
    next_hop: Address | None
    interface: str | None
    line: Line


@dataclass
class DeviceConfig:
    """What isolation needs from one configuration."""

    interfaces: dict[str, Interface] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    vlans: list[tuple[int, Line]] = field(default_factory=list)  # declared at top level

    def addresses(self) -> set[str]:
        """Every interface address (for telling a switch's own ARP rows)."""
        return {str(a.ip) for i in self.interfaces.values() for a, _ in i.addresses}

    def trunks(self) -> set[str]:
        return {name for name, i in self.interfaces.items() if i.trunk}


_IFACE = re.compile(r"^interface\s+(.+?)\s*$", re.IGNORECASE)
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_IPV4_ADDR = re.compile(
    rf"^ip address\s+({_IPV4})(?:\s*/\s*(\d{{1,2}})|\s+({_IPV4}|\d{{1,2}}))(?:\s|$)"
)
_IPV6_ADDR = re.compile(r"^ipv6 address\s+([0-9a-fA-F:]+/\d{1,3})(?:\s|$)")
_VLAN_DECL = re.compile(r"^vlan\s+(?:batch\s+)?(\d[\d\s,\-to]*)$")
_ACCESS_VLAN = re.compile(
    r"^(?:port default vlan|port access vlan|switchport access vlan|port trunk pvid vlan|"
    r"port hybrid pvid vlan|switchport trunk native vlan)\s+(\d{1,4})$"
)
_TRUNK_VLANS = re.compile(
    r"^(?:port trunk allow-pass vlan|port trunk permit vlan|port hybrid (?:un)?tagged vlan|"
    r"switchport trunk allowed vlan(?:\s+(?:add|only))?)\s+(.+)$"
)
_TRUNK_MODE = re.compile(
    r"^(?:port link-type (?:trunk|hybrid)|switchport mode (?:trunk|dot1q-tunnel)|"
    r"switchport trunk allowed vlan|port trunk (?:allow-pass|permit) vlan)\b"
)
_ROUTE = re.compile(r"^(ipv6|ip) (route-static|route)\s+(.+)$")
_DEFAULT_GW = re.compile(r"^ip default-gateway\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$")
_VLAN_TOKEN = re.compile(r"(\d{1,4})\s*(?:(?:-|\bto\b)\s*(\d{1,4}))?")
_ROUTE_STOP = frozenset(
    {
        "preference",
        "description",
        "name",
        "tag",
        "track",
        "permanent",
        "distance",
        "bfd",
        "multicast",
        "tunnel-id",
        "no-install",
        "inherit-cost",
        "recursive-lookup",
        "label",
        "public",
        "dhcp",
        "global",
        "vpn-instance",
    }
)


def parse_vlan_list(text: str) -> list[int]:
    """``100 to 103 200``, ``200-205,300`` → the VLAN ids (``all``/``none`` → [])."""
    out: list[int] = []
    for m in _VLAN_TOKEN.finditer(text):
        first, last = int(m[1]), int(m[2] or m[1])
        if 1 <= first <= last <= 4094:
            out.extend(range(first, last + 1))
    return out


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(dest: str, mask: str | None) -> Network | None:
    try:
        if mask is None:
            return ipaddress.ip_network(dest, strict=False)
        return ipaddress.ip_network(f"{dest}/{mask}", strict=False)
    except ValueError:
        return None


def _route(words: list[str], ipv6: bool, line: Line) -> Route | None:
    """The words after ``ip route-static`` / ``ip route`` (and the IPv6 forms)."""
    i = 0
    while i < len(words) and words[i] in ("vpn-instance", "vrf"):
        i += 2
    if i >= len(words):
        return None
    if "/" in words[i]:
        destination = _network(words[i], None)
        i += 1
    elif i + 1 < len(words):
        destination = _network(words[i], words[i + 1])
        i += 2
    else:
        return None
    if destination is None or (destination.version == 6) != ipv6:
        return None
    next_hop: Address | None = None
    interface: str | None = None
    while i < len(words):
        word = words[i]
        if word.lower() in _ROUTE_STOP:
            break
        address = _ip(word)
        if address is not None:
            next_hop = address
            break
        if word.isdigit():  # administrative distance (IOS)
            break
        if interface is None:
            interface = word
        i += 1
    if interface is not None and interface.lower().startswith("null"):
        return None  # a blackhole
    return Route(destination, next_hop, interface, line)


def read_config(cfg: ParsedConfig, platform: str) -> DeviceConfig:
    """Interfaces (addresses, VLANs, trunk mode), static routes and declared VLANs."""
    out = DeviceConfig()
    texts, numbers, parents = cfg.texts, cfg.numbers, cfg.parents
    current: Interface | None = None
    current_index = -1
    for i, text in enumerate(texts):
        line = Line(numbers[i], text)
        if parents[i] < 0:
            current = None
            m = _IFACE.match(text)
            if m:
                name = canonical_port(platform, m[1])
                current = out.interfaces.setdefault(name, Interface(name, line))
                current_index = i
                vlan = vlan_of_interface(name)
                if vlan is not None:
                    current.vlans.append((vlan, line))
                continue
            if text.startswith("vlan"):
                m = _VLAN_DECL.match(text)
                if m:
                    out.vlans.extend((v, line) for v in parse_vlan_list(m[1]))
                continue
            if text.startswith(("ip ", "ipv6 ")):
                m = _ROUTE.match(text)
                if m:
                    route = _route(m[3].split(), m[1] == "ipv6", line)
                    if route is not None:
                        out.routes.append(route)
                    continue
                m = _DEFAULT_GW.match(text)
                if m:
                    hop = _ip(m[1])
                    out.routes.append(Route(ipaddress.ip_network("0.0.0.0/0"), hop, None, line))
            continue
        if current is None or cfg.top_of[i] != current_index:
            continue
        if text == "shutdown":
            current.shutdown = True
        elif text.startswith("ip address"):
            m = _IPV4_ADDR.match(text)
            if m:
                mask = m[2] or m[3]
                with contextlib.suppress(ValueError):
                    current.addresses.append((ipaddress.ip_interface(f"{m[1]}/{mask}"), line))
        elif text.startswith("ipv6 address"):
            m = _IPV6_ADDR.match(text)
            if m:
                with contextlib.suppress(ValueError):
                    current.addresses.append((ipaddress.ip_interface(m[1]), line))
        else:
            if _TRUNK_MODE.match(text):
                current.trunk = True
            m = _ACCESS_VLAN.match(text)
            if m:
                if 1 <= int(m[1]) <= 4094:
                    current.vlans.append((int(m[1]), line))
                continue
            m = _TRUNK_VLANS.match(text)
            if m and not m[1].strip().startswith(("remove", "except", "none", "all")):
                current.vlans.extend((v, line) for v in parse_vlan_list(m[1]))
    return out
