"""How each simulated platform behaves, as data.

One :class:`Vendor` row per platform: prompts, the exec-command grammar (keywords the device
accepts, abbreviated as real CLIs allow), its error texts, how configuration mode works
(:class:`ConfigDialect`: enter/exit words, the negation word, which lines open a section and
what the prompt shows there) and how the ARP/MAC/interface tables are printed (:class:`Table`
rows as ``str.format`` templates). The shell (``govnet.lab.shell``) interprets these rows; it
never branches on a platform name.

Table layouts follow real device output closely enough that ntc-templates parses them back
(see ``tests/unit/lab/test_vendors.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from govnet.lab.configtree import ConfigSyntax, EditRules
from govnet.lab.data import LabArp, LabInterface, LabMac, LabNeighbor, LabTables


@dataclass(frozen=True)
class Command:
    """One exec command: keywords (``{arg}`` = any word, ``{...}`` = rest of line)."""

    words: str
    action: str  # handler in the shell: say, running, startup, version, arp, mac, …
    text: str = ""  # reply for "say"; strftime format for "clock"; done message for "save"
    question: str = ""  # "save": ask this first and wait for an answer line
    anywhere: bool = False  # also valid inside configuration views (Huawei display/save)
    privileged: bool = True  # needs privileged mode where the vendor has a user mode


@dataclass(frozen=True)
class SectionRule:
    """A configuration line that opens a section, and the prompt label inside it."""

    pattern: str  # regex, full match against the (canonical) line
    label: str  # ``re.Match.expand`` template, e.g. r"ui-vty\1-\2"
    within: str | None = None  # regex of the parent section line; None = top level

    def match(self, line: str, parent: str | None) -> str | None:
        if (self.within is None) != (parent is None):
            return None
        if self.within is not None and not re.fullmatch(self.within, parent or ""):
            return None
        m = re.fullmatch(self.pattern, line)
        return m.expand(self.label) if m else None


@dataclass(frozen=True)
class ErrorTexts:
    """Vendor error replies; ``{caret}`` is a ``^`` under the bad word, ``{word}``/``{line}``."""

    unrecognized: str
    incomplete: str
    ambiguous: str


@dataclass(frozen=True)
class ConfigDialect:
    """Configuration mode: how to enter, leave, negate, nest and print."""

    syntax: ConfigSyntax
    rules: EditRules
    hostname_keyword: str  # "sysname" / "hostname"
    enter_banner: str  # printed on entering configuration mode
    up_word: str  # leave one level: "quit" / "exit"
    end_word: str  # leave configuration mode: "return" / "end"
    prompt: str  # "[{host}]"
    section_prompt: str  # "[{host}-{label}]"
    nested_labels: bool  # Huawei joins labels of nested sections (ospf-1-area-0.0.0.0)
    sections: tuple[SectionRule, ...]
    keywords: frozenset[str]  # first words accepted in configuration mode
    interface_types: tuple[str, ...]  # canonical interface type names
    exec_prefix: str | None = None  # "do" runs an exec command from configuration mode
    # Global-only lines (word prefixes) typed inside a section: Cisco-like CLIs apply them at
    # the top level and leave the section; Huawei/H3C refuse them (global_fallback False).
    global_only: tuple[str, ...] = ()
    global_fallback: bool = False
    ifname_space: bool = False  # Ruijie writes "GigabitEthernet 0/1"
    # entries typed with their sequence number inside a section ("10 permit …" in an RGOS ACL,
    # "0 network subnet …" in a SecPath object group)
    numbered_entries: bool = False

    def section_label(self, line: str, parent: str | None) -> str | None:
        for rule in self.sections:
            label = rule.match(line, parent)
            if label is not None:
                return label
        return None

    def is_global_only(self, line: str) -> bool:
        return any(line == p or line.startswith(p + " ") for p in self.global_only)

    def is_top_section(self, line: str) -> bool:
        return self.section_label(line, None) is not None

    def canonical_interface(self, name: str) -> str | None:
        """``g0/0/1``, ``GigabitEthernet 0/0/1`` → ``GigabitEthernet0/0/1``; None if unknown."""
        m = re.fullmatch(r"([A-Za-z][A-Za-z\-]*?)\s*(\d[\d/:.]*)", name.strip())
        if not m:
            return None
        kind, number = m[1].lower(), m[2]
        exact = [t for t in self.interface_types if t.lower() == kind]
        found = exact or [t for t in self.interface_types if t.lower().startswith(kind)]
        if len(found) != 1:
            return None
        return f"{found[0]} {number}" if self.ifname_space else f"{found[0]}{number}"


@dataclass(frozen=True)
class Table:
    """One block of a table command's output (``str.format`` templates).

    Row fields — ARP: ip, mac, interface, vlan, vlan_na, type. MAC: mac, vlan, vlan_bd,
    interface, type, aging. Interfaces: interface, state, proto, ip, ip_cidr, method,
    description, util, errors, speed, speed_auto, duplex_auto. Header/footer: count.
    """

    row: str
    header: str = ""
    footer: str = ""
    row_vlan: str = ""  # extra line after a row whose entry has a VLAN (Huawei ARP)
    when: str = "all"  # interfaces: "l3" (has an IP), "l2" (has none), "all"
    skip_empty: bool = False
    short_names: bool = False  # use the vendor's abbreviated interface names
    words: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Vendor:
    platform: str
    exec_prompt: str  # "<{host}>", "{host}#", "{user}@{host}:~$ "
    banner: str  # printed after login, before the first prompt
    commands: tuple[Command, ...]
    errors: ErrorTexts
    mac_style: str  # "dash4" (aabb-ccdd-eeff), "dot4" (aabb.ccdd.eeff), "colon" (aa:bb:…)
    tables: Mapping[str, tuple[Table, ...]]
    version: str  # default version text: {hostname} {weeks} {days} {hours} {minutes}
    running_header: str = ""  # before the running-config body: {size}
    startup_header: str = ""
    user_prompt: str | None = None  # unprivileged prompt (Cisco "{host}>")
    root_prompt: str | None = None  # prompt when logged in as root (linux)
    short_names: tuple[tuple[str, str], ...] = ()  # (full type, abbreviation)
    abbreviations: bool = True  # keywords may be shortened to a unique prefix
    config: ConfigDialect | None = None
    # How neighbour tables are printed: "vrp" (display lldp neighbor), "comware" (display
    # lldp neighbor-information list), "ios" (show lldp/cdp neighbors), "rgos" (show lldp
    # neighbors detail; "show lldp neighbors" gets the summary); "" prints nothing.
    lldp_style: str = ""

    def mac(self, mac: str) -> str:
        digits = mac.replace(":", "").lower()
        return _MAC_STYLES[self.mac_style](digits)

    def short_name(self, name: str) -> str:
        for full, short in self.short_names:
            if name.startswith(full) and name[len(full) : len(full) + 1].isdigit():
                return short + name[len(full) :]
        return name


_MAC_STYLES: dict[str, Callable[[str], str]] = {
    "dash4": lambda d: f"{d[0:4]}-{d[4:8]}-{d[8:12]}",
    "dot4": lambda d: f"{d[0:4]}.{d[4:8]}.{d[8:12]}",
    "colon": lambda d: ":".join(d[i : i + 2] for i in range(0, 12, 2)),
}


# ------------------------------------------------------------------------- rendering tables
def _speed(mbits: int) -> str:
    return f"{mbits // 1000}G" if mbits >= 1000 else f"{mbits}M"


def _arp_fields(vendor: Vendor, table: Table, e: LabArp) -> dict[str, object]:
    return {
        "ip": str(e.ip),
        "mac": vendor.mac(e.mac),
        "interface": vendor.short_name(e.interface) if table.short_names else e.interface,
        "vlan": "" if e.vlan is None else e.vlan,
        "vlan_na": "N/A" if e.vlan is None else e.vlan,
        "type": table.words.get("dynamic", "dynamic"),
    }


def _mac_fields(vendor: Vendor, table: Table, e: LabMac) -> dict[str, object]:
    return {
        "mac": vendor.mac(e.mac),
        "vlan": e.vlan,
        "vlan_bd": f"{e.vlan}/-/-",
        "interface": vendor.short_name(e.interface) if table.short_names else e.interface,
        "type": table.words.get(e.type, e.type),
        "aging": table.words.get(f"{e.type}_aging", ""),
    }


def _interface_fields(vendor: Vendor, table: Table, e: LabInterface) -> dict[str, object]:
    w = table.words
    up = e.admin == "up" and e.oper == "up"
    state = w.get("admin_down", "down") if e.admin == "down" else w.get(e.oper, e.oper)
    return {
        "interface": vendor.short_name(e.name) if table.short_names else e.name,
        "state": state,
        "proto": w.get("up" if up else "down", "up" if up else "down"),
        "ip": e.ip.split("/")[0] if e.ip else w.get("no_ip", "unassigned"),
        "ip_cidr": e.ip or w.get("no_ip", "unassigned"),
        "method": w.get("ip_method", "NVRAM") if e.ip else w.get("no_ip_method", "unset"),
        "description": e.description,
        "util": "0%",
        "errors": 0,
        "speed": _speed(e.speed),
        "speed_auto": f"{_speed(e.speed)}(a)" if up else "auto",
        "duplex_auto": "F(a)" if up else "A",
    }


def _rows(vendor: Vendor, what: str, table: Table, tables: LabTables) -> list[dict[str, object]]:
    if what == "arp":
        return [_arp_fields(vendor, table, e) for e in tables.arp]
    if what == "mac":
        return [_mac_fields(vendor, table, e) for e in tables.mac]
    wanted = {"all": (True, False), "l3": (True,), "l2": (False,)}[table.when]
    return [_interface_fields(vendor, table, e) for e in tables.interfaces if bool(e.ip) in wanted]


def render_table(vendor: Vendor, what: str, tables: LabTables) -> str:
    """The vendor's output for table ``what`` ("arp", "mac", "interfaces")."""
    out: list[str] = []
    for table in vendor.tables.get(what, ()):
        rows: list[str] = []
        entries = _rows(vendor, what, table, tables)
        for fields in entries:
            rows.append(table.row.format(**fields).rstrip())
            if table.row_vlan and fields.get("vlan") not in ("", None):
                rows.append(table.row_vlan.format(**fields).rstrip())
        if table.skip_empty and not rows:
            continue
        if table.header:
            out.extend(table.header.format(count=len(entries)).split("\n"))
        out.extend(rows)
        if table.footer:
            out.extend(table.footer.format(count=len(entries)).split("\n"))
    return "\n".join(out)


# ------------------------------------------------------------------------- neighbour tables
def _lldp_vrp(vendor: Vendor, neighbors: list[LabNeighbor]) -> str:
    """Huawei ``display lldp neighbor``: one block per local port with neighbours."""
    out: list[str] = []
    by_port: dict[str, list[LabNeighbor]] = {}
    for n in neighbors:
        by_port.setdefault(n.local, []).append(n)
    for port, group in by_port.items():
        out.append(f"{port} has {len(group)} neighbor(s):")
        out.append("")
        for i, n in enumerate(group, start=1):
            out += [
                f"Neighbor index :{i}",
                "Chassis type   :MAC address",
                f"Chassis ID     :{vendor.mac(n.chassis)}",
                "Port ID type   :Interface name",
                f"Port ID        :{n.port}",
                f"Port description  :{n.port}",
                f"System name    :{n.name}",
                f"System description :{n.description or n.name}",
                "System capabilities supported :bridge router",
                "System capabilities enabled   :bridge router",
            ]
            if n.address is not None:
                out += ["Management address type  :ipv4", f"Management address : {n.address}"]
            out += ["Expired time   :104s", ""]
    return "\n".join(out)


def _lldp_comware(vendor: Vendor, neighbors: list[LabNeighbor]) -> str:
    """H3C ``display lldp neighbor-information list``."""
    out = [f"{'System Name':<20} {'Local Interface':<15} {'Chassis ID':<15} Port ID"]
    for n in neighbors:
        local = vendor.short_name(n.local)
        out.append(f"{n.name:<20} {local:<15} {vendor.mac(n.chassis):<15} {n.port}")
    return "\n".join(out)


def _lldp_ios(vendor: Vendor, neighbors: list[LabNeighbor]) -> str:
    """Cisco ``show lldp neighbors`` (names cut at 20 characters, as IOS does)."""
    out = [
        "Capability codes:",
        "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
        "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
        "",
        f"{'Device ID':<20}{'Local Intf':<15}{'Hold-time':<11}{'Capability':<16}Port ID",
    ]
    for n in neighbors:
        local = vendor.short_name(n.local)
        out.append(f"{n.name[:20]:<20}{local:<15}{120:<11}{'B,R':<16}{n.port}")
    out += ["", f"Total entries displayed: {len(neighbors)}"]
    return "\n".join(out)


def _cdp_ios(vendor: Vendor, neighbors: list[LabNeighbor]) -> str:
    """Cisco ``show cdp neighbors`` (the neighbours marked ``cdp: true``)."""
    out = [
        "Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge",
        "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone,",
        "                  D - Remote, C - CVTA, M - Two-port Mac Relay",
        "",
        "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID",
    ]
    for n in neighbors:
        if not n.cdp:
            continue
        local = vendor.short_name(n.local).replace("Gi", "Gig ", 1)
        out.append(n.name)
        out.append(f"                 {local:<17} {160:<10} {'R S I':<11} {'WS-C2960':<9} {n.port}")
    return "\n".join(out)


_RGOS_RULE = "-" * 60
_RGOS_ABBREV = {"GigabitEthernet": "Gi", "TenGigabitEthernet": "Te", "AggregatePort": "Ag"}
_RGOS_SHORT = re.compile(r"^(TenGigabitEthernet|GigabitEthernet|AggregatePort)")


def _lldp_rgos(vendor: Vendor, neighbors: list[LabNeighbor]) -> str:
    """Ruijie ``show lldp neighbors detail``: a dashed block per local port, then ``key :
    value`` lines per neighbour (the layout govnet/data/textfsm/README.md cites)."""
    out: list[str] = []
    by_port: dict[str, list[LabNeighbor]] = {}
    for n in neighbors:
        by_port.setdefault(n.local, []).append(n)

    def kv(key: str, value: object) -> str:
        return f"  {key:<34}: {value}".rstrip()

    for port, group in by_port.items():
        out += [_RGOS_RULE, f"Lldp neighbor-information of port [{port}]", _RGOS_RULE]
        for i, n in enumerate(group, start=1):
            out += [
                kv("Neighbor index", i),
                kv("Device type", "LLDP Device"),
                kv("Update time", "0day 1hours 12minutes 5seconds"),
                kv("Aging time", "104seconds"),
                kv("Chassis ID type", "MAC address"),
                kv("Chassis ID", vendor.mac(n.chassis)),
                kv("System name", n.name),
                kv("System description", n.description or n.name),
                kv("System capabilities supported", "Bridge, Router"),
                kv("System capabilities enabled", "Bridge, Router"),
            ]
            if n.address is not None:
                out += [
                    kv("Management address subtype", "ipv4"),
                    kv("Management address", n.address),
                ]
            out += [
                kv("Port ID type", "Interface name"),
                kv("Port ID", n.port),
                kv("Port description", n.port),
                kv("Maximum frame Size", 1500),
                "",
            ]
    return "\n".join(out)


def _lldp_rgos_brief(vendor: Vendor, neighbors: list[LabNeighbor]) -> str:
    """Ruijie ``show lldp neighbors`` (the summary: names, short local ports, port ids)."""
    out = [
        "Capability codes:",
        "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
        "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
        f"{'System Name':<28}{'Local Intf':<20}{'Port ID':<28}{'Capability':<13}Aging-time",
    ]
    for n in neighbors:
        local = _RGOS_SHORT.sub(lambda m: _RGOS_ABBREV[m[1]], n.local).replace(" ", "")
        out.append(f"{n.name[:27]:<28}{local:<20}{n.port[:27]:<28}{'B, R':<13}1minutes 44seconds")
    out += ["", f"Total entries displayed: {len(neighbors)}"]
    return "\n".join(out)


_LLDP_STYLES: dict[str, Callable[[Vendor, list[LabNeighbor]], str]] = {
    "vrp": _lldp_vrp,
    "comware": _lldp_comware,
    "ios": _lldp_ios,
    "rgos": _lldp_rgos,
}


def render_neighbors(vendor: Vendor, tables: LabTables, protocol: str = "lldp") -> str:
    """The vendor's LLDP (or CDP) neighbour table; nothing for a vendor without a style.
    ``protocol`` "lldp-brief" is Ruijie's summary (``show lldp neighbors``)."""
    if protocol == "cdp":
        return _cdp_ios(vendor, tables.lldp) if vendor.lldp_style == "ios" else ""
    if protocol == "lldp-brief" and vendor.lldp_style == "rgos":
        return _lldp_rgos_brief(vendor, list(tables.lldp))
    render = _LLDP_STYLES.get(vendor.lldp_style)
    return render(vendor, list(tables.lldp)) if render is not None else ""


# ------------------------------------------------------------------------- platform rows
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HUAWEI_KEYWORDS = _words(
    """
    aaa accounting-scheme acl anti-attack apply area arp authentication-mode
    authentication-scheme authorization-scheme bfd bgp capwap clock cluster command-privilege
    cpu-defend description dhcp diffserv dns domain dot1x drop eth-trunk firewall ftp header
    http hwtacacs-server icmp if-match igmp-snooping import-route info-center interface ip
    ipv6 isis l2protocol-tunnel lacp lldp local-aaa-user local-user loopback-detect mac-address
    mac-authen mode mpls nat ndp netconf network ntdp ntp-service ospf password peer poe port
    port-group port-isolate port-security protocol qos radius-server rip route-policy rsa rule
    set sflow shutdown snmp-agent ssh ssl stelnet stp storm-control super sysname telnet
    time-range traffic-behavior traffic-classifier traffic-filter traffic-policy trunkport user
    user-interface
    user-privilege vlan voice-vlan vrrp idle-timeout history-command screen-length
    """
)

_H3C_KEYWORDS = _words(
    """
    aaa acl arp authentication-mode authorization-attribute bgp clock description dhcp dns
    domain dot1x ftp header hwtacacs idle-timeout info-center interface ip ipv6 irf
    lacp line link-aggregation lldp local-user mac-address network ntp-service ospf packet-filter
    password password-control password-recovery port port-isolate protocol public-key qos radius
    rip role rule scheduler service-type shutdown snmp-agent ssh stp sysname
    system-working-mode telnet time-range user-group user-interface user-role vlan
    web-interface-mode rsa sftp scp netconf loopback-detect broadcast-suppression name version
    user-name-format lock
    """
)

_CISCO_KEYWORDS = _words(
    """
    aaa access-class access-list alias archive banner boot boot-end-marker boot-start-marker
    cdp channel-group class class-map clock control-plane crypto description dot1x duplex
    enable errdisable exec-timeout hostname interface ip ipv6 key license line lldp logging
    login mac memory mls network ntp password passive-interface police policy-map
    port-channel privilege redistribute router security service shutdown snmp-server
    spanning-tree speed storm-control switchport transport username version vlan vtp
    standby permit deny remark system name
    """
)

_VRP_GLOBAL = (
    "sysname",
    "vlan batch",
    "telnet server",
    "stelnet server",
    "ssh server",
    "snmp-agent",
    "info-center",
    "ntp-service",
    "clock",
    "http",
    "ip route-static",
    "header",
)
_IOS_GLOBAL = (
    "hostname",
    "username",
    "enable secret",
    "enable password",
    "service",
    "snmp-server",
    "logging",
    "ntp",
    "aaa",
    "banner",
    "boot",
    "clock",
    "crypto",
    "access-list",
    "ip ssh",
    "ip http",
    "ip route",
    "ip domain-name",
    "ip default-gateway",
    "spanning-tree mode",
    "login block-for",
    "security",
    "vtp",
)

_IOS_SHOWN = (  # on by default; "no …" is printed
    "ip http server",
    "ip http secure-server",
    "service pad",
    "service password-encryption",
    "aaa new-model",
    "ip domain-lookup",
    "ip source-route",
    "cdp run",
    "ip bootp server",
    "service config",
)

_HUAWEI_INTERFACES = (
    "GigabitEthernet",
    "XGigabitEthernet",
    "40GE",
    "100GE",
    "Ethernet",
    "Eth-Trunk",
    "Vlanif",
    "LoopBack",
    "MEth",
    "NULL",
    "Tunnel",
)
_H3C_INTERFACES = (
    "GigabitEthernet",
    "Ten-GigabitEthernet",
    "FortyGigE",
    "Bridge-Aggregation",
    "Route-Aggregation",
    "Vlan-interface",
    "LoopBack",
    "M-GigabitEthernet",
    "NULL",
    "Tunnel",
)
_CISCO_INTERFACES = (
    "GigabitEthernet",
    "FastEthernet",
    "TenGigabitEthernet",
    "Ethernet",
    "Port-channel",
    "Vlan",
    "Loopback",
    "Tunnel",
    "Null",
)
_RUIJIE_INTERFACES = (
    "GigabitEthernet",
    "FastEthernet",
    "TenGigabitEthernet",
    "AggregatePort",
    "VLAN",
    "Loopback",
    "Mgmt",
    "Tunnel",
    "Null",
)

_HUAWEI_ERRORS = ErrorTexts(
    unrecognized="{caret}\nError: Unrecognized command found at '^' position.",
    incomplete="{caret}\nError: Incomplete command found at '^' position.",
    ambiguous="{caret}\nError: Ambiguous command found at '^' position.",
)
_H3C_ERRORS = ErrorTexts(
    unrecognized="{caret}\n % Unrecognized command found at '^' position.",
    incomplete="{caret}\n % Incomplete command found at '^' position.",
    ambiguous="{caret}\n % Ambiguous command found at '^' position.",
)
_CISCO_ERRORS = ErrorTexts(
    unrecognized="{caret}\n% Invalid input detected at '^' marker.\n",
    incomplete="% Incomplete command.\n",
    ambiguous='% Ambiguous command:  "{line}"',
)


# Top-level print order of ``display current-configuration`` / ``show running-config``: a
# line typed anywhere is printed in its feature's place. Taken from the vendors' sample
# configurations: Huawei "S5720 V200R011C10 Configuration Guide - Typical Configuration
# Examples" (configuration files at the end of each example), H3C "S5130S-EI Fundamentals
# Configuration Guide (R6327)" and Cisco "Catalyst 2960-X IOS 15.2(7)E Configuration Guide"
# (show running-config samples); lines no pattern matches stay beside their feature.
_VRP_ORDER = (
    r"^sysname ",
    r"^vlan batch ",
    r"^stp ",
    r"^lldp ",
    r"^clock ",
    r"^telnet ",
    r"^http ",
    r"^info-center ",
    r"^drop-profile ",
    r"^vlan \d+$",
    r"^acl ",
    r"^aaa$",
    r"^interface ",
    r"^snmp-agent",
    r"^(stelnet|ssh) ",
    r"^ntp-service ",
    r"^user-interface ",
)
_COMWARE_ORDER = (
    r"^version ",
    r"^sysname ",
    r"^clock ",
    r"^telnet ",
    r"^irf ",
    r"^lldp ",
    r"^password-control ",
    r"^password-recovery ",
    r"^vlan ",
    r"^stp ",
    r"^interface ",
    r"^scheduler ",
    r"^line ",
    r"^info-center ",
    r"^snmp-agent",
    r"^ssh ",
    r"^ntp-service ",
    r"^acl ",
    r"^radius ",
    r"^domain ",
    r"^role ",
    r"^user-group ",
    r"^local-user ",
    r"^ip https? ",
)
_IOS_ORDER = (
    r"^version ",
    r"^service ",
    r"^hostname ",
    r"^boot-",
    r"^logging (buffered|console) ",
    r"^enable ",
    r"^username ",
    r"^aaa ",
    r"^clock ",
    r"^system ",
    r"^ip domain",
    r"^ip ssh ",
    r"^login ",
    r"^security ",
    r"^spanning-tree ",
    r"^vlan ",
    r"^interface ",
    r"^ip http ",
    r"^ip access-list ",
    r"^logging ",
    r"^snmp-server ",
    r"^line ",
    r"^ntp ",
)


def _any(words: str, action: str, text: str = "") -> Command:
    """A Huawei/H3C ``display`` command: valid in every view, configuration ones included."""
    return Command(words, action, text=text, anywhere=True)


HUAWEI = Vendor(
    platform="huawei",
    lldp_style="vrp",
    exec_prompt="<{host}>",
    banner=(
        "\nInfo: The max number of VTY users is 10, and the number\n"
        "      of current VTY users on line is 1.\n"
        "      The current login time is {now:%Y-%m-%d %H:%M:%S}+08:00."
    ),
    commands=(
        _any("display current-configuration", "running"),
        _any("display saved-configuration", "startup"),
        _any("display version", "version"),
        _any("display arp", "arp"),
        _any("display arp all", "arp"),
        _any("display mac-address", "mac"),
        _any("display interface brief", "interfaces"),
        _any("display lldp neighbor", "lldp"),
        _any("display lldp neighbor brief", "lldp"),
        _any(
            "display ntp-service status",
            "say",
            " clock status: unsynchronized\n clock stratum: 16\n reference clock ID: none\n"
            " nominal frequency: 64.0000 Hz\n actual frequency: 64.0000 Hz",
        ),
        _any(
            "display clock",
            "clock",
            "%Y-%m-%d %H:%M:%S+08:00\n%A\nTime Zone(DefaultZoneName) : UTC+08:00",
        ),
        Command(
            "screen-length 0 temporary",
            "say",
            text="Info: The configuration takes effect on the current user terminal interface"
            " only.",
        ),
        Command("screen-width {n}", "say"),
        Command("undo terminal monitor", "say", text="Info: Current terminal monitor is off."),
        Command("undo terminal debugging", "say", text="Info: Current terminal debugging is off."),
        Command("undo terminal logging", "say", text="Info: Current terminal logging is off."),
        Command("undo terminal trapping", "say", text="Info: Current terminal trapping is off."),
        Command("terminal monitor", "say", text="Info: Current terminal monitor is on."),
        Command("system-view", "configure"),
        Command(
            "save",
            "save",
            question=(
                "The current configuration will be written to the device.\n"
                "Are you sure to continue?[Y/N]:"
            ),
            text="Now saving the current configuration to the slot 0.\n"
            "Save the configuration successfully.",
            anywhere=True,
        ),
        Command("quit", "logout"),
    ),
    errors=_HUAWEI_ERRORS,
    mac_style="dash4",
    short_names=(("XGigabitEthernet", "XGE"), ("GigabitEthernet", "GE"), ("Ethernet", "Eth")),
    tables={
        "arp": (
            Table(
                header=(
                    "IP ADDRESS      MAC ADDRESS     EXPIRE(M) TYPE        INTERFACE   "
                    "VPN-INSTANCE\n"
                    "                                    VLAN/CEVLAN(SIP/DIP)\n"
                    "------------------------------------------------------------------------------"
                ),
                row="{ip:<15} {mac:<15} 20        {type:<11} {interface}",
                row_vlan="                                            {vlan}/-",
                footer=(
                    "------------------------------------------------------------------------------\n"
                    "Total:{count}         Dynamic:{count}       Static:0     Interface:0"
                ),
                short_names=True,
                words={"dynamic": "D-0"},
            ),
        ),
        "mac": (
            Table(
                header=(
                    "-------------------------------------------------------------------------------\n"
                    "MAC Address    VLAN/VSI/BD                       Learned-From        Type\n"
                    "-------------------------------------------------------------------------------"
                ),
                row="{mac:<14} {vlan_bd:<33} {interface:<19} {type}",
                footer=(
                    "\n-------------------------------------------------------------------------------\n"
                    "Total items displayed = {count}"
                ),
                short_names=True,
            ),
        ),
        "interfaces": (
            Table(
                header=(
                    "PHY: Physical\n*down: administratively down\n^down: standby\n"
                    "(l): loopback\n(s): spoofing\n(b): BFD down\n(e): ETHOAM down\n"
                    "(dl): DLDP down\n(d): Dampening Suppressed\n"
                    "InUti/OutUti: input utility/output utility\n"
                    "Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors"
                ),
                row=(
                    "{interface:<27} {state:<5} {proto:<9} {util:>5} {util:>6} {errors:>10}"
                    " {errors:>10}"
                ),
                words={"admin_down": "*down"},
            ),
        ),
    },
    version=(
        "Huawei Versatile Routing Platform Software\n"
        "VRP (R) software, Version 5.170 (S5720 V200R011C10SPC500)\n"
        "Copyright (C) 2000-2018 HUAWEI TECH Co., Ltd.\n"
        "HUAWEI S5720-28X-SI-AC Routing Switch uptime is {weeks} week, {days} day, {hours} hour,"
        " {minutes} minute\n"
        "\n"
        "ES5D2T28S003 0(Master) : uptime is {weeks} week, {days} day, {hours} hour,"
        " {minutes} minute\n"
        "DDR             Memory Size : 512   M bytes\n"
        "FLASH Total     Memory Size : 512   M bytes\n"
        "FLASH Available Memory Size : 212   M bytes\n"
        "Pcb           Version   : VER.B\n"
        "BootROM       Version   : 020a.0001\n"
        "BootLoad      Version   : 020a.0001\n"
        "Software      Version   : VRP (R) Software, Version 5.170 (V200R011C10SPC500)"
    ),
    config=ConfigDialect(
        syntax=ConfigSyntax(comment="#", footer="return", leaf_indent=1),
        rules=EditRules(
            negation="undo",
            single_valued=(
                "sysname",
                "idle-timeout",
                "description",
                "authentication-mode",
                "protocol inbound",
                "port link-type",
                "port default vlan",
                "screen-length",
                "snmp-agent sys-info version",
                "ip address",
                "local-aaa-user wrong-password",
                "password expire",
                "password history record number",
            ),
            no_trace=("shutdown",),
            # the lockout at its default values is not printed (S5720 V200R011 Command
            # Reference, "local-aaa-user wrong-password": default retry-interval 5,
            # retry-time 3, block-time 5); "undo local-aaa-user wrong-password" is
            unprinted_defaults=(
                "local-aaa-user wrong-password retry-interval 5 retry-time 3 block-time 5",
                "info-center enable",  # on by default; only its negation is printed
            ),
            # user interfaces and the aaa view always exist: VRP refuses to delete them
            refused=(
                r"^undo user-interface ",
                r"^undo aaa$",
                r"^undo local-aaa-user wrong-password \S",
            ),
            order=_VRP_ORDER,
            keyed=(r"^(rule \d+) ", r"^acl (?:ipv6 |mac )?\S+ (inbound|outbound)$"),
            shown=(
                "telnet server enable",
                "http server enable",
                "http secure-server enable",
                "info-center enable",
                "local-aaa-user wrong-password",
                "lldp enable",
                "stp enable",
            ),
        ),
        hostname_keyword="sysname",
        enter_banner="Enter system view, return user view with Ctrl+Z.",
        up_word="quit",
        end_word="return",
        prompt="[{host}]",
        section_prompt="[{host}-{label}]",
        nested_labels=True,
        sections=(
            SectionRule(r"interface (\S+)", r"\1"),
            SectionRule(r"user-interface (vty) (\d+) (\d+)", r"ui-\1\2-\3"),
            SectionRule(r"user-interface (?:con|console) (\d+)", r"ui-console\1"),
            SectionRule(r"aaa", "aaa"),
            SectionRule(r"acl (?:number )?(2\d{3})(?: (?!inbound|outbound).*)?", r"acl-basic-\1"),
            SectionRule(r"acl (?:number )?(3\d{3})(?: (?!inbound|outbound).*)?", r"acl-adv-\1"),
            SectionRule(r"acl (?:number )?(4\d{3})(?: (?!inbound|outbound).*)?", r"acl-L2-\1"),
            SectionRule(r"vlan (\d+)", r"vlan\1"),
            SectionRule(r"ospf (\d+)(?: .*)?", r"ospf-\1"),
            SectionRule(r"area (\S+)", r"area-\1", within=r"ospf \d+(?: .*)?"),
            SectionRule(r"bgp (\d+)", "bgp"),
            SectionRule(r"rip (\d+)", r"rip-\1"),
            SectionRule(r"ip pool (\S+)", r"ip-pool-\1"),
            SectionRule(r"port-group (\S+)", r"port-group-\1"),
            SectionRule(r"traffic classifier (\S+)(?: .*)?", r"classifier-\1"),
            SectionRule(r"traffic behavior (\S+)", r"behavior-\1"),
            SectionRule(r"traffic policy (\S+)", r"trafficpolicy-\1"),
            SectionRule(r"route-policy (\S+) .*", r"route-policy"),
            SectionRule(r"ip vpn-instance (\S+)", r"vpn-instance-\1"),
            SectionRule(r"authentication-scheme (\S+)", r"aaa-authen-\1", within="aaa"),
            SectionRule(r"authorization-scheme (\S+)", r"aaa-author-\1", within="aaa"),
            SectionRule(r"accounting-scheme (\S+)", r"aaa-accounting-\1", within="aaa"),
            SectionRule(r"domain (\S+)", r"aaa-domain-\1", within="aaa"),
            SectionRule(
                r"local-aaa-user password policy (admin)istrator", r"aaa-lupp-\1", within="aaa"
            ),
        ),
        keywords=_HUAWEI_KEYWORDS,
        interface_types=_HUAWEI_INTERFACES,
        global_only=_VRP_GLOBAL,
    ),
)

H3C = Vendor(
    platform="hp_comware",
    lldp_style="comware",
    exec_prompt="<{host}>",
    banner=(
        "\n******************************************************************************\n"
        "* Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.*\n"
        "* Without the owner's prior written consent,                                 *\n"
        "* no decompiling or reverse-engineering shall be allowed.                    *\n"
        "******************************************************************************\n"
    ),
    commands=(
        _any("display current-configuration", "running"),
        _any("display saved-configuration", "startup"),
        _any("display version", "version"),
        _any("display arp", "arp"),
        _any("display mac-address", "mac"),
        _any("display interface brief", "interfaces"),
        _any("display lldp neighbor-information list", "lldp"),
        _any(
            "display ntp-service status",
            "say",
            " Clock status: unsynchronized\n Clock stratum: 16\n Reference clock ID: none",
        ),
        _any("display clock", "clock", "%H:%M:%S.000 UTC %a %m/%d/%Y"),
        Command("screen-length disable", "say"),
        Command(
            "undo terminal monitor", "say", text="The current terminal is disabled to display logs."
        ),
        Command("terminal monitor", "say", text="The current terminal is enabled to display logs."),
        Command("system-view", "configure"),
        Command(
            "save force",
            "save",
            text="Validating file. Please wait...\n"
            "Saved the current configuration to mainboard device successfully.",
            anywhere=True,
        ),
        Command(
            "save",
            "save",
            question="The current configuration will be written to the device. Are you sure?"
            " [Y/N]:",
            text="Validating file. Please wait...\n"
            "Saved the current configuration to mainboard device successfully.",
            anywhere=True,
        ),
        Command("quit", "logout"),
    ),
    errors=_H3C_ERRORS,
    mac_style="dash4",
    short_names=(
        ("Ten-GigabitEthernet", "XGE"),
        ("M-GigabitEthernet", "M-GE"),
        ("GigabitEthernet", "GE"),
        ("FortyGigE", "FGE"),
        ("Bridge-Aggregation", "BAGG"),
        ("Route-Aggregation", "RAGG"),
        ("Vlan-interface", "Vlan"),
        ("LoopBack", "Loop"),
    ),
    tables={
        "arp": (
            Table(
                header=(
                    "  Type: S-Static   D-Dynamic   O-Openflow   R-Rule   M-Multiport  I-Invalid\n"
                    "IP address      MAC address    VLAN     Interface                Aging Type"
                ),
                row="{ip:<15} {mac:<14} {vlan_na:<8} {interface:<24} 20    {type}",
                short_names=True,
                words={"dynamic": "D"},
            ),
        ),
        "mac": (
            Table(
                header=(
                    "MAC Address      VLAN ID    State            Port/Nickname            Aging"
                ),
                row="{mac:<16} {vlan:<10} {type:<16} {interface:<24} {aging}",
                short_names=True,
                words={
                    "dynamic": "Learned",
                    "static": "Static",
                    "dynamic_aging": "Y",
                    "static_aging": "N",
                },
            ),
        ),
        "interfaces": (
            Table(
                header=(
                    "Brief information on interfaces in route mode:\n"
                    "Link: ADM - administratively down; Stby - standby\n"
                    "Protocol: (s) - spoofing\n"
                    "Interface            Link Protocol Primary IP      Description"
                ),
                row="{interface:<20} {state:<4} {proto:<8} {ip:<15} {description}",
                footer="",
                when="l3",
                skip_empty=True,
                short_names=True,
                words={"up": "UP", "down": "DOWN", "admin_down": "ADM", "no_ip": "--"},
            ),
            Table(
                header=(
                    "\nBrief information on interfaces in bridge mode:\n"
                    "Link: ADM - administratively down; Stby - standby\n"
                    "Speed: (a) - auto\n"
                    "Duplex: (a)/A - auto; H - half; F - full\n"
                    "Type: A - access; T - trunk; H - hybrid\n"
                    "Interface            Link Speed   Duplex Type PVID Description"
                ),
                row="{interface:<20} {state:<4} {speed_auto:<7} {duplex_auto:<6} A    1    "
                "{description}",
                when="l2",
                skip_empty=True,
                short_names=True,
                words={"up": "UP", "down": "DOWN", "admin_down": "ADM"},
            ),
        ),
    },
    version=(
        "H3C Comware Software, Version 7.1.070, Release 6327\n"
        "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.\n"
        "H3C S5130S-28S-EI uptime is {weeks} weeks, {days} days, {hours} hours,"
        " {minutes} minutes\n"
        "Last reboot reason : Cold reboot\n"
        "\n"
        "Boot image: flash:/s5130s_ei-cmw710-boot-r6327.bin\n"
        "Boot image version: 7.1.070, Release 6327\n"
        "  Compiled Mar 25 2021 11:00:00\n"
        "System image: flash:/s5130s_ei-cmw710-system-r6327.bin\n"
        "System image version: 7.1.070, Release 6327\n"
        "  Compiled Mar 25 2021 11:00:00"
    ),
    config=ConfigDialect(
        syntax=ConfigSyntax(comment="#", footer="return", leaf_indent=1),
        rules=EditRules(
            negation="undo",
            single_valued=(
                "sysname",
                "idle-timeout",
                "description",
                "authentication-mode",
                "protocol inbound",
                "port link-type",
                "port access vlan",
                "user-role",
                "ip address",
                "clock protocol",
                "password-control length",
                "password-control aging",
                "password-control composition",
                "password-control login-attempt",
            ),
            no_trace=("shutdown",),
            shown=("ip http enable", "ip https enable", "info-center enable", "irf link-delay"),
            unprinted_defaults=("ip http enable", "info-center enable"),
            # lines and line classes always exist (Comware V7 Fundamentals Command Reference,
            # "line vty": no undo form)
            refused=(r"^undo line ", r"^undo user-interface "),
            order=_COMWARE_ORDER,
            keyed=(r"^(rule \d+) ", r"^acl (?:ipv6 |mac )?\S+ (inbound|outbound)$"),
        ),
        hostname_keyword="sysname",
        enter_banner="System View: return to User View with Ctrl+Z.",
        up_word="quit",
        end_word="return",
        prompt="[{host}]",
        section_prompt="[{host}-{label}]",
        nested_labels=True,
        sections=(
            SectionRule(r"interface (\S+)", r"\1"),
            SectionRule(r"line (vty|aux) (\d+) (\d+)", r"line-\1\2-\3"),
            SectionRule(r"line (vty|aux|con) (\d+)", r"line-\1\2"),
            SectionRule(r"line class (\S+)", r"line-class-\1"),
            SectionRule(r"user-interface (vty|aux) (\d+) (\d+)", r"ui-\1\2-\3"),
            SectionRule(r"local-user (\S+) class (\S+)", r"luser-\2-\1"),
            SectionRule(r"local-user (\S+)", r"luser-\1"),
            SectionRule(r"acl (?:number |basic )(2\d{3})(?: .*)?", r"acl-ipv4-basic-\1"),
            SectionRule(r"acl (?:number |advanced )(3\d{3})(?: .*)?", r"acl-ipv4-adv-\1"),
            SectionRule(r"vlan (\d+)", r"vlan\1"),
            SectionRule(r"domain (\S+)", r"isp-\1"),
            SectionRule(r"role name (\S+)", r"role-\1"),
            SectionRule(r"user-group (\S+)", r"ugroup-\1"),
            SectionRule(r"ospf (\d+)(?: .*)?", r"ospf-\1"),
            SectionRule(r"area (\S+)", r"area-\1", within=r"ospf \d+(?: .*)?"),
            SectionRule(r"radius scheme (\S+)", r"radius-\1"),
            SectionRule(r"hwtacacs scheme (\S+)", r"hwtacacs-\1"),
        ),
        keywords=_H3C_KEYWORDS,
        interface_types=_H3C_INTERFACES,
        global_only=_VRP_GLOBAL,
    ),
)

_CISCO_SECTIONS = (
    SectionRule(r"interface (\S+)", "if"),
    SectionRule(r"line (?:vty|con|aux|console) \d+(?: \d+)?", "line"),
    SectionRule(r"router \S+(?: .*)?", "router"),
    SectionRule(r"ip access-list standard \S+", "std-nacl"),
    SectionRule(r"ip access-list extended \S+", "ext-nacl"),
    SectionRule(r"vlan \d+", "vlan"),
    SectionRule(r"policy-map \S+", "pmap"),
    SectionRule(r"class (\S+)", "pmap-c", within=r"policy-map \S+"),
    SectionRule(r"class-map(?: match-(?:any|all))? \S+", "cmap"),
    SectionRule(r"control-plane", "cp"),
    SectionRule(r"archive", "archive"),
    SectionRule(r"key chain \S+", "keychain"),
    SectionRule(r"ip dhcp pool \S+", "dhcp-config"),
)

CISCO = Vendor(
    platform="cisco_ios",
    lldp_style="ios",
    exec_prompt="{host}#",
    user_prompt="{host}>",
    banner="",
    commands=(
        Command("show running-config", "running"),
        Command("show startup-config", "startup"),
        Command("show version", "version", privileged=False),
        Command("show ip arp", "arp", privileged=False),
        Command("show arp", "arp", privileged=False),
        Command("show mac address-table", "mac", privileged=False),
        Command("show ip interface brief", "interfaces", privileged=False),
        Command("show lldp neighbors", "lldp", privileged=False),
        Command("show cdp neighbors", "cdp", privileged=False),
        Command("show ntp status", "say", text="%NTP is not enabled.", privileged=False),
        Command("show clock", "clock", text="*%H:%M:%S.000 UTC %a %b %d %Y", privileged=False),
        Command("terminal length {n}", "say", privileged=False),
        Command("terminal width {n}", "say", privileged=False),
        Command("terminal no monitor", "say", privileged=False),
        Command("terminal monitor", "say", privileged=False),
        Command("configure terminal", "configure"),
        Command("write", "save", text="Building configuration...\n[OK]"),
        Command("write memory", "save", text="Building configuration...\n[OK]"),
        Command(
            "copy running-config startup-config",
            "save",
            question="Destination filename [startup-config]? ",
            text="Building configuration...\n[OK]",
        ),
        Command("enable", "enable", privileged=False),
        Command("disable", "disable"),
        Command("exit", "logout", privileged=False),
        Command("logout", "logout", privileged=False),
    ),
    errors=_CISCO_ERRORS,
    mac_style="dot4",
    short_names=(
        ("TenGigabitEthernet", "Te"),
        ("GigabitEthernet", "Gi"),
        ("FastEthernet", "Fa"),
        ("Port-channel", "Po"),
        ("Ethernet", "Et"),
    ),
    tables={
        "arp": (
            Table(
                header=("Protocol  Address          Age (min)  Hardware Addr   Type   Interface"),
                row="Internet  {ip:<16}        5   {mac:<15} ARPA   {interface}",
            ),
        ),
        "mac": (
            Table(
                header=(
                    "          Mac Address Table\n"
                    "-------------------------------------------\n"
                    "\n"
                    "Vlan    Mac Address       Type        Ports\n"
                    "----    -----------       --------    -----"
                ),
                row="{vlan:>4}    {mac:<17} {type:<11} {interface}",
                footer="Total Mac Addresses for this criterion: {count}",
                short_names=True,
                words={"dynamic": "DYNAMIC", "static": "STATIC"},
            ),
        ),
        "interfaces": (
            Table(
                header=(
                    "Interface              IP-Address      OK? Method Status                "
                    "Protocol"
                ),
                row="{interface:<22} {ip:<15} YES {method:<6} {state:<21} {proto}",
                words={"admin_down": "administratively down"},
            ),
        ),
    },
    version=(
        "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE"
        " SOFTWARE (fc2)\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        "Copyright (c) 1986-2021 by Cisco Systems, Inc.\n"
        "Compiled Tue 23-Mar-21 02:12 by prod_rel_team\n"
        "\n"
        "ROM: Bootstrap program is C2960X boot loader\n"
        "BOOTLDR: C2960X Boot Loader (C2960X-HBOOT-M) Version 15.2(7r)E, RELEASE SOFTWARE (fc1)\n"
        "\n"
        "{hostname} uptime is {weeks} weeks, {days} days, {hours} hours, {minutes} minutes\n"
        "System returned to ROM by power-on\n"
        'System image file is "flash:c2960x-universalk9-mz.152-7.E4.bin"\n'
        "Last reload reason: power-on\n"
        "\n"
        "cisco WS-C2960X-48TS-L (APM86XXX) processor (revision B0) with 524288K bytes of memory.\n"
        "Processor board ID FOC1951X1AB\n"
        "Last reset from power-on\n"
        "1 Virtual Ethernet interface\n"
        "52 Gigabit Ethernet interfaces\n"
        "The password-recovery mechanism is enabled.\n"
        "\n"
        "512K bytes of flash-simulated non-volatile configuration memory.\n"
        "Base ethernet MAC Address       : 70:10:5C:00:00:01\n"
        "Model number                    : WS-C2960X-48TS-L\n"
        "System serial number            : FOC1951X1AB\n"
        "\n"
        "Configuration register is 0xF"
    ),
    running_header="Building configuration...\n\nCurrent configuration : {size} bytes",
    startup_header="Using {size} out of 524288 bytes",
    config=ConfigDialect(
        syntax=ConfigSyntax(comment="!", footer="end", leaf_indent=0),
        rules=EditRules(
            negation="no",
            single_valued=(
                "hostname",
                "exec-timeout",
                "description",
                "transport input",
                "ip address",
                "switchport mode",
                "switchport access vlan",
                "access-class",
                "ip ssh version",
                "enable secret",
                "enable password",
                "service timestamps log",
                "service timestamps debug",
                "login block-for",
                "ip ssh authentication-retries",
                "security passwords min-length",
            ),
            no_trace=("shutdown",),
            shown=_IOS_SHOWN,
            unprinted_defaults=("logging on",),  # on by default: only "no logging on" shows
            # the console and the first five VTYs cannot be deleted ("% Not all lines may be
            # deleted": IOS 15.2 Terminal Services Command Reference, "line")
            refused=(r"^no line (con|aux) ", r"^no line vty 0 "),
            order=_IOS_ORDER,
        ),
        hostname_keyword="hostname",
        enter_banner="Enter configuration commands, one per line.  End with CNTL/Z.",
        up_word="exit",
        end_word="end",
        prompt="{host}(config)#",
        section_prompt="{host}(config-{label})#",
        nested_labels=False,
        sections=_CISCO_SECTIONS,
        keywords=_CISCO_KEYWORDS,
        interface_types=_CISCO_INTERFACES,
        exec_prefix="do",
        global_only=_IOS_GLOBAL,
        global_fallback=True,
    ),
)

RUIJIE = Vendor(
    platform="ruijie_os",
    exec_prompt="{host}#",
    user_prompt="{host}>",
    banner="",
    commands=(
        Command("show running-config", "running"),
        Command("show startup-config", "startup"),
        Command("show version", "version", privileged=False),
        Command("show arp", "arp", privileged=False),
        Command("show mac-address-table", "mac", privileged=False),
        Command("show ip interface brief", "interfaces", privileged=False),
        Command("show lldp neighbors detail", "lldp", privileged=False),
        Command("show lldp neighbors", "lldp-brief", privileged=False),
        Command(
            "show ntp status", "say", text="Clock is unsynchronized, stratum 16", privileged=False
        ),
        Command("show clock", "clock", text="%H:%M:%S UTC %a, %b %d, %Y", privileged=False),
        Command("terminal length {n}", "say", privileged=False),
        Command("terminal width {n}", "say", privileged=False),
        Command("configure terminal", "configure"),
        Command("write", "save", text="Building configuration...\n[OK]"),
        Command("write memory", "save", text="Building configuration...\n[OK]"),
        Command("enable", "enable", privileged=False),
        Command("disable", "disable"),
        Command("exit", "logout", privileged=False),
    ),
    errors=_CISCO_ERRORS,
    mac_style="dot4",
    lldp_style="rgos",
    tables={
        # layouts: govnet/data/textfsm/README.md (the templates that read them)
        "arp": (
            Table(
                header="Protocol  Address          Age(min)  Hardware        Type   Interface",
                row="Internet  {ip:<16} 1         {mac:<15} arpa   {interface}",
                footer="Total number of ARP entries: {count}",
            ),
        ),
        "mac": (
            Table(
                header=(
                    "Vlan        MAC Address          Type     Interface"
                    "                      Live Time\n"
                    "----------  -------------------- -------- ------------------------------"
                    " -------------------"
                ),
                row="{vlan:>10}  {mac:<20} {type:<8} {interface:<30} {aging}",
                words={"dynamic": "DYNAMIC", "static": "STATIC", "dynamic_aging": "0d 00:02:17"},
            ),
        ),
        "interfaces": (
            Table(
                header=(
                    "Interface                        IP-Address(Pri)      IP-Address(Sec)      "
                    "Status                 Protocol"
                ),
                row="{interface:<32} {ip_cidr:<20} no address           {state:<22} {proto}",
                when="l3",
                words={"admin_down": "administratively down", "no_ip": "no address"},
            ),
        ),
    },
    version=(
        "System description      : Ruijie Full Gigabit Security & Intelligence Access Switch"
        "(S2910-24GT4XS-E) By Ruijie Networks\n"
        "System uptime           : {days}:{hours:02d}:{minutes:02d}:00\n"
        "System hardware version : 1.00\n"
        "System software version : S29_RGOS 11.0(5)B9P59\n"
        "System BOOT version     : 1.3.8\n"
        "System CTRL version     : 1.3.8\n"
        "System serial number    : G1NW10000000A"
    ),
    running_header="Building configuration...\nCurrent configuration: {size} bytes",
    config=ConfigDialect(
        syntax=ConfigSyntax(comment="!", footer="end", leaf_indent=0),
        rules=EditRules(
            negation="no",
            single_valued=(
                "hostname",
                "exec-timeout",
                "description",
                "transport input",
                "ip address",
                "switchport mode",
                "switchport access vlan",
                "access-class",
                "enable secret",
                "password policy min-size",
                "password policy life-cycle",
                "password policy no-repeat-times",
                "aaa local authentication attempts",
                "aaa local authentication lockout-time",
                "ip ssh version",
                "login authentication",
            ),
            no_trace=("shutdown",),
            # on by default, so RGOS prints their negation (real running configs show
            # "no enable service telnet-server", "no enable service snmp-agent", "no logging on")
            shown=("enable service telnet-server", "enable service snmp-agent"),
            unprinted_defaults=("logging on",),
        ),
        hostname_keyword="hostname",
        enter_banner="Enter configuration commands, one per line.  End with CNTL/Z.",
        up_word="exit",
        end_word="end",
        prompt="{host}(config)#",
        section_prompt="{host}(config-{label})#",
        nested_labels=False,
        sections=(
            SectionRule(r"interface (.+)", r"if-\1"),
            *_CISCO_SECTIONS[1:],
        ),
        keywords=_CISCO_KEYWORDS | _words("web-auth nfpp"),
        interface_types=_RUIJIE_INTERFACES,
        exec_prefix="do",
        global_only=_IOS_GLOBAL,
        global_fallback=True,
        ifname_space=True,
        numbered_entries=True,
    ),
)

LINUX = Vendor(
    platform="linux",
    exec_prompt="{user}@{host}:~$ ",
    root_prompt="{user}@{host}:~# ",
    banner=(
        "Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-105-generic x86_64)\n\n"
        " * Documentation:  https://help.ubuntu.com\n\n"
        "Last login: {now:%a %b %d %H:%M:%S %Y} from 127.0.0.1"
    ),
    commands=(
        Command("uname", "say", text="Linux"),
        Command("uname -a", "version"),
        Command("uname -r", "say", text="5.15.0-105-generic"),
        Command("hostname", "hostname"),
        Command("whoami", "whoami"),
        Command("cat {...}", "cat"),
        Command("echo", "say"),
        Command("echo {...}", "echo"),
        Command("true", "say"),
        Command("ip neigh", "arp"),
        Command("ip neigh show", "arp"),
        Command("ip -brief address", "interfaces"),
        Command("ip -br a", "interfaces"),
        Command("sudo -s", "sudo", question="[sudo] password for {user}: "),
        Command("exit", "logout"),
        Command("logout", "logout"),
    ),
    errors=ErrorTexts(
        unrecognized="bash: {word}: command not found",
        incomplete="bash: {word}: command not found",
        ambiguous="bash: {word}: command not found",
    ),
    mac_style="colon",
    abbreviations=False,
    tables={
        "arp": (Table(row="{ip} dev {interface} lladdr {mac} REACHABLE"),),
        "mac": (),
        "interfaces": (
            Table(
                row="{interface:<16} {state:<14} {ip_cidr}",
                words={"up": "UP", "down": "DOWN", "admin_down": "DOWN", "no_ip": ""},
            ),
        ),
    },
    version=(
        "Linux {hostname} 5.15.0-105-generic #115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024"
        " x86_64 x86_64 x86_64 GNU/Linux"
    ),
)

# ------------------------------------------------------------------------- firewalls
# Huawei USG6000 runs VRP and H3C SecPath runs Comware V7: the same CLI as the switches, with
# security zones, address sets and security policies as sections ("HUAWEI USG6000 Series
# V500R005 Configuration Guide - Security Policy"; "H3C SecPath Firewall Security Configuration
# Guide - Security zones / Security policies"). Display commands and prompts are the switches';
# the policy is read from the running configuration.
_USG_KEYWORDS = _HUAWEI_KEYWORDS | _words(
    "security-policy firewall web-manager service-manage manager-user lock-authentication "
    "source-zone destination-zone source-address destination-address service action "
    "policy session default set add level service-type"
)
_SECPATH_KEYWORDS = _H3C_KEYWORDS | _words(
    "security-policy security-zone object-group import action logging counting source-zone "
    "destination-zone source-ip destination-ip source-ip-subnet destination-ip-subnet "
    "source-ip-host destination-ip-host service"
)
assert HUAWEI.config is not None and H3C.config is not None

USG = replace(
    HUAWEI,
    platform="huawei_usg",
    version=(
        "Huawei Versatile Routing Platform Software\n"
        "VRP (R) software, Version 5.160 (USG6300 V500R005C20SPC300)\n"
        "Copyright (C) 2014-2020 Huawei Technologies Co., Ltd.\n"
        "USG6300 uptime is {weeks} week, {days} day, {hours} hour, {minutes} minute\n"
        "Patch Version: V500R005SPH017"
    ),
    config=replace(
        HUAWEI.config,
        sections=(
            *HUAWEI.config.sections,
            SectionRule(r"firewall zone (?:name )?(\S+)(?: .*)?", r"zone-\1"),
            SectionRule(r"ip address-set (\S+) type (?:object|group)", r"object-address-set-\1"),
            SectionRule(r"security-policy", "policy-security"),
            SectionRule(r"rule name (\S+)", r"rule-\1", within="security-policy"),
            SectionRule(r"manager-user (\S+)", r"aaa-manager-user-\1", within="aaa"),
        ),
        keywords=_USG_KEYWORDS,
    ),
)

SECPATH = replace(
    H3C,
    platform="h3c_secpath",
    version=(
        "H3C Comware Software, Version 7.1.064, Release 9333P30\n"
        "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.\n"
        "H3C SecPath F1000-AK1130 uptime is {weeks} weeks, {days} days, {hours} hours,"
        " {minutes} minutes\n"
        "Last reboot reason : Cold reboot\n"
        "\n"
        "Boot image: sfc:/F1000-CMW710-BOOT-R9333P30.bin\n"
        "Boot image version: 7.1.064, Release 9333P30\n"
        "System image: sfc:/F1000-CMW710-SYSTEM-R9333P30.bin\n"
        "System image version: 7.1.064, Release 9333P30"
    ),
    config=replace(
        H3C.config,
        sections=(
            *H3C.config.sections,
            SectionRule(r"security-zone name (\S+)", r"security-zone-\1"),
            SectionRule(r"object-group ip address (\S+)", r"obj-grp-ip-\1"),
            SectionRule(r"security-policy ip", "security-policy-ip"),
            SectionRule(
                r"rule (\d+)(?: name \S+)?", r"security-policy-ip-\1", within="security-policy ip"
            ),
        ),
        keywords=_SECPATH_KEYWORDS,
        numbered_entries=True,
    ),
)

VENDORS: Mapping[str, Vendor] = {
    v.platform: v for v in (HUAWEI, H3C, CISCO, RUIJIE, LINUX, USG, SECPATH)
}


@cache
def get_vendor(platform: str) -> Vendor:
    try:
        return VENDORS[platform]
    except KeyError:
        known = ", ".join(sorted(VENDORS))
        raise KeyError(
            f"the SSH lab cannot simulate platform {platform!r} (known: {known})"
        ) from None
