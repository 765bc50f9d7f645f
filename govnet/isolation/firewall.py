"""Firewall security policies and zones read from a running configuration.

Two syntaxes, both from the vendors' command references and configuration examples:

Huawei USG6000 (VRP-based; "HUAWEI USG6000 Series Configuration Guide - Security Policy" and
"Command Reference - security-policy")::

    firewall zone trust                      ip address-set INT-NET type object
     set priority 85                          address 0 10.10.0.0 mask 16
     add interface GigabitEthernet1/0/1
    security-policy
     default action deny                     (absent: deny, the USG default)
     default policy logging
     rule name int-to-dmz
      source-zone trust
      destination-zone dmz
      source-address 10.10.0.0 mask 255.255.0.0   | 10.10.0.0 16 | address-set INT-NET | range A B
      destination-address 10.10.9.0 24
      service http
      action permit
      policy logging
      session logging

H3C SecPath (Comware V7 security policies; "H3C SecPath Firewall Security Configuration Guide
- Security policies" and "Security Command Reference")::

    security-zone name Trust                 object-group ip address INT-NET
     import interface GigabitEthernet1/0/1    0 network subnet 10.10.0.0 255.255.0.0
    security-policy ip                        10 network host address 10.10.0.10
     rule 0 name int-to-dmz                   20 network range 10.10.1.1 10.10.1.9
      action pass                            (drop = deny; absent = drop, the default)
      logging enable
      source-zone Trust
      destination-zone DMZ
      source-ip INT-NET                      (object group) | source-ip-subnet A M |
      destination-ip-host 10.10.9.10           source-ip-host A | source-ip-range A B
      service http

Traffic no rule matches is dropped on both (USG ``default action deny``; SecPath drops
packets between zones no rule permits). A missing source/destination zone, address or service
means *any*.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from govnet.core.configtext import ParsedConfig

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Action = Literal["permit", "deny"]
FIREWALL_PLATFORMS = frozenset({"huawei_usg", "h3c_secpath"})


@dataclass(frozen=True, slots=True)
class PolicyLine:
    number: int
    text: str


@dataclass
class Endpoint:
    """One side of a rule: its zones and addresses (empty = any)."""

    zones: list[str] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    lines: list[PolicyLine] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # address sets not defined

    @property
    def any_address(self) -> bool:
        return not self.networks and not self.unresolved

    @property
    def any_zone(self) -> bool:
        return not self.zones or any(z.lower() == "any" for z in self.zones)


@dataclass
class PolicyRule:
    name: str
    header: PolicyLine
    source: Endpoint = field(default_factory=Endpoint)
    destination: Endpoint = field(default_factory=Endpoint)
    services: list[str] = field(default_factory=list)  # empty = any
    action: Action | None = None
    action_line: PolicyLine | None = None
    logging: bool = False  # USG "policy logging", SecPath "logging enable"
    session_logging: bool = False  # USG "session logging" (SecPath: logging enable)
    disabled: bool = False

    @property
    def any_service(self) -> bool:
        return not self.services or any(s.lower() == "any" for s in self.services)

    @property
    def catch_all(self) -> bool:
        """Matches every packet: any zones, addresses and service."""
        return (
            self.source.any_zone
            and self.destination.any_zone
            and self.source.any_address
            and self.destination.any_address
            and self.any_service
        )

    def evidence_lines(self) -> list[PolicyLine]:
        lines = [self.header, *self.source.lines, *self.destination.lines]
        if self.action_line is not None:
            lines.append(self.action_line)
        return lines


@dataclass
class FirewallPolicy:
    platform: str
    zones: dict[str, list[str]] = field(default_factory=dict)  # zone → interface names
    rules: list[PolicyRule] = field(default_factory=list)
    default_action: Action = "deny"
    default_line: PolicyLine | None = None  # the line that sets the default, if any
    default_logging: bool = False
    section: PolicyLine | None = None  # "security-policy" / "security-policy ip"
    address_sets: dict[str, list[Network]] = field(default_factory=dict)

    def zone_of_interface(self, name: str) -> str | None:
        for zone, interfaces in self.zones.items():
            if name in interfaces:
                return zone
        return None


def _net(address: str, mask: str | None = None) -> Network | None:
    try:
        if mask is None:
            return ipaddress.ip_network(address, strict=False)
        if mask.count(".") == 3 and mask.startswith("0."):  # a wildcard (USG accepts both)
            wild = int(ipaddress.IPv4Address(mask))
            mask = str(ipaddress.IPv4Address(0xFFFFFFFF ^ wild))
        return ipaddress.ip_network(f"{address}/{mask}", strict=False)
    except ValueError:
        return None


def _range(first: str, last: str) -> list[Network]:
    try:
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
        return list(ipaddress.summarize_address_range(a, b))
    except (ValueError, TypeError):
        return []


def _usg_address(words: list[str]) -> tuple[list[Network], str | None]:
    """The words after ``source-address``/``destination-address`` or ``address N``."""
    if not words:
        return [], None
    if words[0] == "address-set" and len(words) > 1:
        return [], words[1]
    if words[0] == "range" and len(words) > 2:
        return _range(words[1], words[2]), None
    if words[0] == "any":
        return [], None
    mask = None
    if len(words) > 2 and words[1] == "mask":
        mask = words[2]
    elif len(words) > 1 and words[1] not in ("description", "exclude"):
        mask = words[1]
    elif "/" not in words[0]:
        mask = "32" if ":" not in words[0] else "128"
    net = _net(words[0], mask)
    return ([net] if net else []), None


def _secpath_address(kind: str, words: list[str]) -> tuple[list[Network], str | None]:
    """``source-ip NAME``, ``source-ip-subnet A M``, ``-host A``, ``-range A B``."""
    if kind == "" and words:
        return [], words[0]
    if kind == "-host" and words:
        net = _net(words[0])
        return ([net] if net else []), None
    if kind == "-subnet" and len(words) > 1:
        net = _net(words[0], words[1])
        return ([net] if net else []), None
    if kind == "-range" and len(words) > 1:
        return _range(words[0], words[1]), None
    return [], None


def _object_member(words: list[str]) -> list[Network]:
    """A SecPath object-group member: ``N network subnet A M`` / ``host address A`` / range."""
    if words and words[0].isdigit():
        words = words[1:]
    if len(words) >= 4 and words[:2] == ["network", "subnet"]:
        net = _net(words[2], words[3])
        return [net] if net else []
    if len(words) >= 4 and words[:3] == ["network", "host", "address"]:
        net = _net(words[3])
        return [net] if net else []
    if len(words) >= 4 and words[:2] == ["network", "range"]:
        return _range(words[2], words[3])
    return []


def _children(cfg: ParsedConfig, index: int) -> list[int]:
    lo, hi = cfg.body(index)
    depth = cfg.depths[index] + 1
    return [i for i in range(lo, hi) if cfg.depths[i] == depth]


def _line(cfg: ParsedConfig, i: int) -> PolicyLine:
    return PolicyLine(cfg.numbers[i], cfg.texts[i])


def read_policy(cfg: ParsedConfig, platform: str) -> FirewallPolicy:
    """The zones, address sets and security-policy rules of a firewall configuration."""
    from govnet.collect.tables import canonical_port

    out = FirewallPolicy(platform)
    usg = platform == "huawei_usg"
    pending: list[tuple[Endpoint, str, PolicyLine]] = []
    for top in cfg.top:
        text = cfg.texts[top]
        words = text.split()
        if usg and words[:2] == ["firewall", "zone"] and len(words) > 2:
            name = words[3] if words[2] == "name" and len(words) > 3 else words[2]
            members = out.zones.setdefault(name, [])
            for i in _children(cfg, top):
                w = cfg.texts[i].split()
                if w[:2] == ["add", "interface"] and len(w) > 2:
                    members.append(canonical_port(platform, w[2]))
        elif not usg and words[:2] == ["security-zone", "name"] and len(words) > 2:
            members = out.zones.setdefault(words[2], [])
            for i in _children(cfg, top):
                w = cfg.texts[i].split()
                if w[:2] == ["import", "interface"] and len(w) > 2:
                    members.append(canonical_port(platform, w[2]))
        elif usg and words[:2] == ["ip", "address-set"] and len(words) > 2:
            nets = out.address_sets.setdefault(words[2], [])
            for i in _children(cfg, top):
                w = cfg.texts[i].split()
                if w[:1] == ["address"] and len(w) > 2 and w[1].isdigit():
                    nets.extend(_usg_address(w[2:])[0])
        elif not usg and words[:3] == ["object-group", "ip", "address"] and len(words) > 3:
            nets = out.address_sets.setdefault(words[3], [])
            for i in _children(cfg, top):
                nets.extend(_object_member(cfg.texts[i].split()))
        elif (usg and text == "security-policy") or (not usg and text == "security-policy ip"):
            out.section = _line(cfg, top)
            for i in _children(cfg, top):
                w = cfg.texts[i].split()
                if usg and w[:2] == ["default", "action"] and len(w) > 2:
                    out.default_action = "permit" if w[2] == "permit" else "deny"
                    out.default_line = _line(cfg, i)
                elif usg and w[:3] == ["default", "policy", "logging"]:
                    out.default_logging = True
                elif w[:1] == ["rule"] and "name" in w:
                    name = w[w.index("name") + 1] if w.index("name") + 1 < len(w) else ""
                    rule = PolicyRule(name, _line(cfg, i))
                    for j in _children(cfg, i):
                        _rule_line(cfg, j, rule, usg, pending)
                    if not usg and rule.action is None:
                        # SecPath: "The action for a security policy rule is drop" by default
                        # (H3C SecPath Command Reference V7, Security policy commands, action)
                        rule.action = "deny"
                    out.rules.append(rule)
    for endpoint, set_name, line in pending:
        resolved = out.address_sets.get(set_name)
        if resolved is None:
            endpoint.unresolved.append(set_name)
        else:
            endpoint.networks.extend(resolved)
        endpoint.lines.append(line)
    return out


def _address(
    side: Endpoint,
    nets: list[Network],
    set_name: str | None,
    line: PolicyLine,
    pending: list[tuple[Endpoint, str, PolicyLine]],
) -> None:
    """A rule's address line: its networks, or the address set, resolved once all are read."""
    if set_name is not None:
        pending.append((side, set_name, line))
        return
    side.networks.extend(nets)
    if nets:
        side.lines.append(line)


def _rule_line(
    cfg: ParsedConfig,
    j: int,
    rule: PolicyRule,
    usg: bool,
    pending: list[tuple[Endpoint, str, PolicyLine]],
) -> None:
    line = _line(cfg, j)
    w = cfg.texts[j].split()
    if not w:
        return
    head = w[0]
    if head in ("source-zone", "destination-zone") and len(w) > 1:
        side = rule.source if head == "source-zone" else rule.destination
        side.zones.extend(w[1:])
        side.lines.append(line)
    elif head == "action" and len(w) > 1:
        rule.action = "permit" if w[1] in ("permit", "pass") else "deny"
        rule.action_line = line
    elif head == "service" and len(w) > 1:
        rule.services.extend(w[1:])
    elif head == "disable":
        rule.disabled = True
    elif usg and w[:2] == ["policy", "logging"]:
        rule.logging = True
    elif usg and w[:2] == ["session", "logging"]:
        rule.session_logging = True
    elif not usg and w[:2] == ["logging", "enable"]:
        rule.logging = rule.session_logging = True
    elif usg and head in ("source-address", "destination-address"):
        side = rule.source if head == "source-address" else rule.destination
        nets, set_name = _usg_address(w[1:])
        _address(side, nets, set_name, line, pending)
    elif not usg and (head.startswith("source-ip") or head.startswith("destination-ip")):
        side = rule.source if head.startswith("source-ip") else rule.destination
        kind = head.removeprefix("source-ip").removeprefix("destination-ip")
        nets, set_name = _secpath_address(kind, w[1:])
        _address(side, nets, set_name, line, pending)
