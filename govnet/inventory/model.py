"""The inventory model (pydantic v2): zones, sites, units, devices, links, terminals, services…

Raw sections (``ZoneSpec``, ``DeviceSpec``, …) mirror the YAML one to one and forbid unknown
keys. :class:`Inventory` holds the validated, cross-referenced result with every device's
values already inherited from its groups and the defaults (see ``loader.py``).
"""

from __future__ import annotations

import gc
import ipaddress
import re
from array import array
from collections.abc import (
    Callable,
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from socket import AF_INET, inet_pton
from typing import Annotated, Any, Literal, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from govnet import i18n
from govnet.durations import Duration
from govnet.secrets import SecretRef
from govnet.validation import StrictStripped


def _ip_text(kind: str) -> Any:
    """YAML turns ``no`` into False and ``10`` into 10; an address must be written as text."""

    parse = ipaddress.ip_address if kind == "address" else ipaddress.ip_network
    v4 = ipaddress.IPv4Address

    def check(value: Any) -> Any:
        if isinstance(value, str):
            # parsed here, IPv4 first: pydantic's union tried IPv6 on every IPv4 address too.
            # inet_pton takes exactly what IPv4Address takes (four decimal octets, no leading
            # zero) at a sixth of the cost; anything else goes the general way and its message
            try:
                if kind == "address":
                    try:
                        return v4(int.from_bytes(inet_pton(AF_INET, value)))
                    except (OSError, UnicodeError):
                        pass
                return parse(value)
            except ValueError:
                raise ValueError(
                    i18n._("not a valid IP {kind}, got {value!r}", kind=kind, value=value)
                ) from None
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return value
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            return value
        raise ValueError(i18n._("not a valid IP {kind}, got {value!r}", kind=kind, value=value))

    return BeforeValidator(check)


IPAddress = Annotated[ipaddress.IPv4Address | ipaddress.IPv6Address, _ip_text("address")]
IPNetwork = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, _ip_text("prefix")]

ROLES = (
    "core",
    "aggregation",
    "access",
    "firewall",
    "gap",
    "router",
    "server",
    "ups",
    "env",
    "terminal",
)
# "terminal" is the role terminals take as audit targets (antivirus, isolation rules)
Role = Literal[
    "core", "aggregation", "access", "firewall", "gap", "router", "server", "ups", "env", "terminal"
]
HostKeyPolicy = Literal["strict", "tofu", "accept-new"]  # see govnet/transport/hostkeys.py
SiteLevel = Literal["province", "city", "county", "district", "town", "village"]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_MAC_RE = re.compile(
    r"^(?:[0-9a-f]{2}([:\-]?)(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}|[0-9a-f]{4}([.\-])[0-9a-f]{4}\2[0-9a-f]{4})$"
)


def normalize_mac(value: str) -> str:
    """Any common MAC notation (aa:bb.., aa-bb.., aabb-cc.., aabb.cc..) → ``aa:bb:cc:dd:ee:ff``."""
    text = str(value).strip().lower()
    if not _MAC_RE.match(text):
        raise ValueError(i18n._("bad MAC address {value!r}", value=value))
    digits = re.sub(r"[^0-9a-f]", "", text)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _mac(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(i18n._("bad MAC address {value!r}", value=value))
    return normalize_mac(value)


MacAddress = Annotated[str, BeforeValidator(_mac)]

_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")


def check_host(value: Any) -> str:
    """Where govnet connects: an IP address or an RFC 1123 host name, nothing else.

    A leading ``-`` would reach ssh/ping as an option (``-oProxyCommand=…``); an all-numeric
    dotted name that is no IPv4 address (``999.12.1.300``) is a typo, never a host name.
    """
    if not isinstance(value, str):
        raise ValueError(i18n._("not a host name or IP address, got {value!r}", value=value))
    text = value.strip()
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    if (
        not name
        or len(name) > 253
        or _DOTTED_NUMBERS.match(name)
        or not all(_HOST_LABEL.match(label) for label in name.split("."))
    ):
        raise ValueError(
            i18n._(
                "not a host name or IP address, got {value!r} (use an IPv4/IPv6 address or an "
                "RFC 1123 name: letters, digits, '-' inside labels, dots between them)",
                value=value,
            )
        )
    return text


HostName = Annotated[str, BeforeValidator(check_host)]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValueError(
            i18n._(
                "bad name {value!r}: use ASCII letters, digits, '-', '_' and '.' (labels carry "
                "zh/en)",
                value=value,
            )
        )
    return value


Name = Annotated[str, BeforeValidator(_name)]


def parse_vlan_range(value: Any) -> tuple[int, int]:
    """``100``, ``"100"`` or ``"100-199"`` → (first, last), each 1..4094."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d{1,4})(?:\s*-\s*(\d{1,4}))?", text)
    if not m:
        raise ValueError(i18n._("bad VLAN range {value!r} (expected N or N-M)", value=value))
    first, last = int(m[1]), int(m[2] or m[1])
    if not (1 <= first <= 4094 and 1 <= last <= 4094):
        raise ValueError(i18n._("VLAN {value!r} out of range 1-4094", value=value))
    if last < first:
        raise ValueError(i18n._("VLAN range {value!r} is backwards", value=value))
    return first, last


VlanRange = Annotated[tuple[int, int], BeforeValidator(parse_vlan_range)]


def _vlan(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(i18n._("bad VLAN {value!r}", value=value))
    first, last = parse_vlan_range(value)
    if first != last:
        raise ValueError(i18n._("expected one VLAN, got range {value!r}", value=value))
    return first


Vlan = Annotated[int, BeforeValidator(_vlan)]


def _ssh_config_value(value: Any) -> Any:
    """``ssh_config: true`` (``~/.ssh/config``), ``false`` (none) or a path."""
    if isinstance(value, str) and not value.strip():
        raise ValueError(i18n._("ssh_config needs true, false or a path"))
    return value


SshConfigValue = Annotated[bool | str, BeforeValidator(_ssh_config_value)]


class _Spec(StrictStripped):
    """The inventory's models build their validators when first used, not on import: a
    command served from the inventory cache validates nothing (~0.07 s of its start-up)."""

    model_config = ConfigDict(defer_build=True)


class Label(_Spec):
    """A human label in Chinese and English; identifiers stay ASCII."""

    zh: str | None = None
    en: str | None = None

    def get(self, lang: str, fallback: str = "") -> str:
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first or second or fallback


def _label(value: Any) -> Any:
    return {"en": value, "zh": value} if isinstance(value, str) else value


LabelField = Annotated[Label, BeforeValidator(_label)]


class Pools(_Spec):
    prefixes: list[IPNetwork] = Field(default_factory=list)
    vlans: list[VlanRange] = Field(default_factory=list)

    def contains(self, address: IPAddress) -> bool:
        return any(address in net for net in self.prefixes)


class Canary(_Spec):
    """A receiver on a zone that isolated zones must never reach (used by isolation probes)."""

    address: IPAddress
    port: int = Field(default=53, ge=1, le=65535)
    dns_name: str | None = None


class ZoneSpec(_Spec):
    label: LabelField = Label()
    isolated_from: list[Name] = Field(default_factory=list)
    pools: Pools = Pools()
    canaries: list[Canary] = Field(default_factory=list)
    jump: JumpChain | None = None  # bastions (``bastions:``) its devices are reached through
    ssh_config: SshConfigValue | None = None  # OpenSSH client config for its devices


class SiteSpec(_Spec):
    label: LabelField = Label()
    level: SiteLevel
    parent: Name | None = None
    jump: JumpChain | None = None


class UnitSpec(_Spec):
    label: LabelField = Label()
    site: Name
    zones: list[Name] = Field(default_factory=list)
    contact: str | None = None


def _key_path(value: Any) -> Any:
    """``key_file: file:PATH`` or a bare path (a key file is not a secret, its passphrase is)."""
    if isinstance(value, str):
        value = value.strip().removeprefix("file:")
        if not value:
            raise ValueError(i18n._("key_file needs a path: file:PATH"))
    return value


class CredentialSpec(_Spec):
    """How to log in: a password, a private key (``key_file`` with an optional passphrase
    reference), the SSH agent, or a key and a password together. ``username`` may be left
    to the ``User`` of an ``ssh_config`` Host block (the loader checks every device has one)."""

    username: str | None = None
    password: SecretRef | None = None
    secret: SecretRef | None = None  # enable / super password
    key_file: Annotated[str, BeforeValidator(_key_path)] | None = None
    passphrase: SecretRef | None = None  # of key_file
    agent: bool = False

    def way_in(self) -> bool:
        return self.password is not None or self.key_file is not None or self.agent

    @model_validator(mode="after")
    def _some_way_in(self) -> CredentialSpec:
        # ``{}``: everything from ssh_config (User, IdentityFile); checked per device then
        everything_from_ssh_config = self.username is None and self.secret is None
        if not self.way_in() and not everything_from_ssh_config:
            raise ValueError(i18n._("credentials need password, key_file or agent: true"))
        if self.passphrase is not None and self.key_file is None:
            raise ValueError(i18n._("passphrase goes with key_file"))
        return self


class BastionSpec(_Spec):
    """A jump host (运维堡垒机) that SSH sessions to devices are forwarded through."""

    host: HostName
    port: int = Field(default=22, ge=1, le=65535)
    credentials: Name
    host_key_policy: HostKeyPolicy = "tofu"
    max_channels: int = Field(default=8, ge=1, le=256)  # concurrent device sessions through it
    timeout: float = Field(default=15.0, gt=0, le=600)


def _jump_list(value: Any) -> Any:
    """``jump: b1`` or ``jump: [b1, b2]`` (a chain, first hop first); ``jump: []`` = direct."""
    return [value] if isinstance(value, str) else value


JumpChain = Annotated[list[Name], BeforeValidator(_jump_list)]
Transport = Literal["ssh", "telnet"]


class SnmpProfileSpec(_Spec):
    version: Literal["2c", "3"]
    community: SecretRef | None = None
    user: str | None = None
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] | None = None
    auth_key: SecretRef | None = None
    priv_protocol: Literal["des", "aes", "aes128", "aes192", "aes256"] | None = None
    priv_key: SecretRef | None = None
    port: int = Field(default=161, ge=1, le=65535)
    timeout: float = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=10)

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for combinations a single field cannot judge."""
        out: list[tuple[str, str]] = []
        if self.version == "2c" and self.community is None:
            out.append(("community", "SNMP v2c needs a community reference"))
        if self.version == "3":
            if not self.user:
                out.append(("user", "SNMP v3 needs a user"))
            if (self.auth_protocol is None) != (self.auth_key is None):
                out.append(("auth_key", "auth_protocol and auth_key go together"))
            if (self.priv_protocol is None) != (self.priv_key is None):
                out.append(("priv_key", "priv_protocol and priv_key go together"))
            if self.priv_protocol and not self.auth_protocol:
                out.append(("priv_protocol", "privacy needs authentication (authPriv)"))
        return out


class DeviceValues(_Spec):
    """The values a device can inherit: set on the device, a group, or ``defaults``."""

    platform: str | None = None
    role: Role | None = None
    zone: Name | None = None
    site: Name | None = None
    unit: Name | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    credentials: Name | None = None
    snmp_profile: Name | None = None
    snmp_port: int | None = Field(default=None, ge=1, le=65535)
    tags: list[Name] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0, le=600)
    # SSH host key trust (govnet/transport/hostkeys.py); default tofu
    host_key_policy: HostKeyPolicy | None = None
    jump: JumpChain | None = None  # bastion names, first hop first; [] = direct
    transport: Transport | None = None  # telnet only with allow_insecure: true
    allow_insecure: bool | None = None
    ssh_config: SshConfigValue | None = None  # true: ~/.ssh/config; a path; false: none


class GroupSpec(DeviceValues):
    label: LabelField = Label()


class DeviceSpec(DeviceValues):
    host: HostName | None = None  # where govnet connects (IP or DNS name); defaults to address
    address: IPAddress | None = None  # the device's address inside its zone
    mac: MacAddress | None = None
    groups: list[Name] = Field(default_factory=list)
    description: str | None = None


class TerminalSpec(_Spec):
    name: Name
    mac: MacAddress
    ip: IPAddress | None = None
    unit: str  # a unit name, or its zh/en label (consoles export Chinese names)
    zone: str  # likewise
    kind: Literal["pc", "laptop", "printer", "phone", "camera", "server", "other"] = "pc"
    owner: str | None = None
    os: str | None = None


class LinkSpec(_Spec):
    """A cable between two devices: ``a`` and ``b`` are ``DEVICE:INTERFACE``."""

    a: str
    b: str
    description: str | None = None

    @field_validator("a", "b")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if ":" not in v or not v.split(":", 1)[0] or not v.split(":", 1)[1]:
            raise ValueError(i18n._("bad link endpoint {v!r} (expected DEVICE:INTERFACE)", v=v))
        return v


# ---------------------------------------------------------------------------------------
# Services and maintenance windows: what the machine room serves, and when it may
# be down on purpose. Probes are run by ``govnet.availability``; windows are used by the
# availability report.

Seconds = Duration  # one duration grammar everywhere (govnet.durations)


class HttpProbeSpec(_Spec):
    kind: Literal["http"]
    url: str
    expect_status: list[int] = Field(default_factory=lambda: [200])
    expect_text: str | None = None
    timeout: Seconds = Field(default=10.0, gt=0, le=120)
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(i18n._("url {v!r} must start with http:// or https://", v=v))
        netloc = v.split("://", 1)[1].split("/", 1)[0]
        if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:  # never echo the value
            raise ValueError(
                i18n._("url holds a password (user:password@…): secrets must be references")
            )
        return v

    @field_validator("expect_status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> Any:
        return [v] if isinstance(v, int) else v


class TcpProbeSpec(_Spec):
    kind: Literal["tcp"]
    host: HostName
    port: int = Field(ge=1, le=65535)
    timeout: Seconds = Field(default=5.0, gt=0, le=120)


class DnsProbeSpec(_Spec):
    kind: Literal["dns"]
    server: IPAddress
    name: str
    type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR"] = "A"
    expect: list[str] = Field(default_factory=list)  # empty: any answer will do
    port: int = Field(default=53, ge=1, le=65535)
    timeout: Seconds = Field(default=5.0, gt=0, le=120)

    @field_validator("expect", mode="before")
    @classmethod
    def _expect(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class IcmpProbeSpec(_Spec):
    kind: Literal["icmp"]
    address: IPAddress
    timeout: Seconds = Field(default=2.0, gt=0, le=60)


ProbeSpec = Annotated[
    HttpProbeSpec | TcpProbeSpec | DnsProbeSpec | IcmpProbeSpec, Field(discriminator="kind")
]


class ServiceAlertSpec(_Spec):
    """Thresholds of a service's alerts (service-slow, service-cert-expiring)."""

    slow_ms: float | None = Field(default=3000.0, gt=0)
    slow_for: Seconds = 300.0
    cert_days: float | None = Field(default=30.0, ge=0)


class ServiceSpec(_Spec):
    label: LabelField = Label()
    zone: Name
    unit: Name
    host: Name | None = None  # the device that serves it (suppression, per-device reports)
    interval: Seconds = Field(default=60.0, ge=1, le=86400)
    probes: list[ProbeSpec] = Field(min_length=1)
    alerts: ServiceAlertSpec = ServiceAlertSpec()
    tags: list[Name] = Field(default_factory=list)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WeeklySpec(_Spec):
    days: list[Weekday] = Field(min_length=1)
    at: str  # HH:MM local time
    duration: Seconds = Field(gt=0, le=7 * 86400)

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("at")
    @classmethod
    def _at(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(v))
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            raise ValueError(i18n._("bad time of day {v!r} (expected HH:MM)", v=v))
        return v


class MaintenanceSpec(_Spec):
    """A planned window: absolute (start/end) or weekly, on services/devices/units/sites."""

    name: str | None = None
    reason: str | None = None
    services: list[Name] = Field(default_factory=list)
    devices: list[Name] = Field(default_factory=list)
    units: list[Name] = Field(default_factory=list)
    sites: list[Name] = Field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    weekly: WeeklySpec | None = None
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(i18n._("unknown time zone {v!r} (e.g. Asia/Shanghai)", v=v)) from None
        return v

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceSpec:
        if not (self.services or self.devices or self.units or self.sites):
            raise ValueError(i18n._("a window needs services, devices, units or sites"))
        if self.weekly is None:
            if self.start is None or self.end is None:
                raise ValueError(i18n._("a window needs start and end, or weekly"))
            if self.end <= self.start:
                raise ValueError(i18n._("end must be after start"))
        elif self.start is not None or self.end is not None:
            raise ValueError(i18n._("use start/end or weekly, not both"))
        return self


# ---------------------------------------------------------------------------------------
# Resolved model: what the rest of govnet uses.


@dataclass(frozen=True)
class Zone:
    name: str
    label: Label
    isolated_from: frozenset[str]
    pools: Pools
    canaries: tuple[Canary, ...] = ()

    def must_not_touch(self, other: str) -> bool:
        return other in self.isolated_from


@dataclass(frozen=True)
class Site:
    name: str
    label: Label
    level: str
    parent: str | None


@dataclass(frozen=True)
class Unit:
    name: str
    label: Label
    site: str
    zones: tuple[str, ...]
    contact: str | None = None


def credential_secrets(who: str, creds: CredentialSpec | None) -> list[tuple[str, SecretRef]]:
    if creds is None:
        return []
    refs = [
        ("password", creds.password),
        ("secret", creds.secret),
        ("key passphrase", creds.passphrase),
    ]
    return [(f"{who} {what}", ref) for what, ref in refs if ref is not None]


@dataclass(frozen=True)
class JumpHost:
    """One resolved bastion hop (``bastions:`` entry with its credentials)."""

    name: str
    host: str
    port: int
    credentials: CredentialSpec
    host_key_policy: HostKeyPolicy = "tofu"
    max_channels: int = 8
    timeout: float = 15.0


@dataclass(frozen=True)
class Device:
    """A device with every inherited value resolved."""

    name: str
    host: str
    platform: str
    role: str
    zone: str
    site: str
    unit: str | None = None
    address: IPAddress | None = None
    mac: str | None = None
    port: int = 22
    credentials: CredentialSpec | None = None
    snmp: SnmpProfileSpec | None = None
    snmp_port: int = 161
    tags: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    timeout: float = 15.0
    description: str | None = None
    host_key_policy: HostKeyPolicy = "tofu"
    jump: tuple[JumpHost, ...] = ()  # bastions, first hop first
    transport: Transport = "ssh"
    ssh_config: str | None = None  # the OpenSSH client config file applied (inventory/sshconfig.py)

    def ssh_secrets(self) -> list[tuple[str, SecretRef]]:
        """The secret references an SSH session to this device resolves, with their labels
        (its bastions' too)."""
        out = credential_secrets(self.name, self.credentials)
        for hop in self.jump:
            out += credential_secrets(f"bastion {hop.name}", hop.credentials)
        return out

    def snmp_secrets(self) -> list[tuple[str, SecretRef]]:
        """The secret references an SNMP request to this device resolves, with their labels."""
        p = self.snmp
        if p is None:
            return []
        refs = [
            ("SNMP community", p.community),
            ("SNMP auth key", p.auth_key),
            ("SNMP priv key", p.priv_key),
        ]
        return [(f"{self.name} {what}", ref) for what, ref in refs if ref is not None]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; secrets appear only as ``***``."""
        return {
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "address": str(self.address) if self.address else None,
            "mac": self.mac,
            "platform": self.platform,
            "role": self.role,
            "zone": self.zone,
            "site": self.site,
            "unit": self.unit,
            "groups": list(self.groups),
            "tags": sorted(self.tags),
            "username": self.credentials.username if self.credentials else None,
            "password": "***" if self.credentials and self.credentials.password else None,
            "key_file": self.credentials.key_file if self.credentials else None,
            "jump": [hop.name for hop in self.jump],
            "transport": self.transport,
            "ssh_config": self.ssh_config,
            "snmp": (
                {"version": self.snmp.version, "port": self.snmp_port, "secret": "***"}
                if self.snmp
                else None
            ),
            "description": self.description,
            "host_key_policy": self.host_key_policy,
        }


@dataclass(frozen=True)
class Terminal:
    name: str
    mac: str
    unit: str
    zone: str
    ip: IPAddress | None = None
    kind: str = "pc"
    owner: str | None = None
    os: str | None = None
    source: str = ""  # file:line it came from

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mac": self.mac,
            "ip": str(self.ip) if self.ip else None,
            "unit": self.unit,
            "zone": self.zone,
            "kind": self.kind,
            "owner": self.owner,
            "os": self.os,
        }


@dataclass(frozen=True)
class Link:
    a_device: str
    a_port: str
    b_device: str
    b_port: str
    description: str | None = None


@dataclass(frozen=True)
class Probe:
    """One probe of a service (a resolved ``*ProbeSpec``); ``name`` is unique in the service."""

    name: str  # e.g. "http", "tcp", "dns-2"
    spec: HttpProbeSpec | TcpProbeSpec | DnsProbeSpec | IcmpProbeSpec

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def timeout(self) -> float:
        return float(self.spec.timeout)


@dataclass(frozen=True)
class Service:
    name: str
    label: Label
    zone: str
    unit: str
    site: str  # the unit's site
    host: str | None
    interval: float
    probes: tuple[Probe, ...]
    alerts: ServiceAlertSpec = field(default_factory=ServiceAlertSpec)
    tags: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label.model_dump(),
            "zone": self.zone,
            "unit": self.unit,
            "site": self.site,
            "host": self.host,
            "interval": self.interval,
            "probes": [{"name": p.name, **p.spec.model_dump(mode="json")} for p in self.probes],
        }


@dataclass(frozen=True)
class MaintenanceWindow:
    name: str
    spec: MaintenanceSpec
    source: str = ""  # file:line

    def covers(self, kind: str, name: str, unit: str | None, site: str | None) -> bool:
        """Does this window apply to a ``device`` or ``service`` of that unit and site?"""
        own = self.spec.services if kind == "service" else self.spec.devices
        return (
            name in own
            or (unit is not None and unit in self.spec.units)
            or (site is not None and site in self.spec.sites)
        )

    def intervals(self, start: float, end: float) -> list[tuple[float, float]]:
        """The window's [from, to) spans (UNIX seconds) that overlap [start, end)."""
        spec = self.spec
        tz = ZoneInfo(spec.timezone)
        if spec.weekly is None:
            assert spec.start is not None and spec.end is not None
            a, b = _aware(spec.start, tz).timestamp(), _aware(spec.end, tz).timestamp()
            return [(max(a, start), min(b, end))] if a < end and b > start else []
        weekly = spec.weekly
        hour, minute = (int(x) for x in weekly.at.split(":"))
        days = {WEEKDAYS.index(d) for d in weekly.days}
        out: list[tuple[float, float]] = []
        day = datetime.fromtimestamp(start - weekly.duration, tz).date()
        last = datetime.fromtimestamp(end, tz).date()
        while day <= last:
            if day.weekday() in days:
                a = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).timestamp()
                b = a + weekly.duration
                if a < end and b > start:
                    out.append((max(a, start), min(b, end)))
            day += timedelta(days=1)
        return out


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


class LazyTerminals(Mapping[str, Terminal]):
    """Terminals read on first use: commands that never look at them never pay.

    ``load`` may raise :class:`~govnet.errors.InventoryError` (a bad terminals CSV) on first use.
    """

    def __init__(self, load: Callable[[], Mapping[str, Terminal]]) -> None:
        self._load: Callable[[], Mapping[str, Terminal]] | None = load
        self._data: Mapping[str, Terminal] | None = None

    def _get(self) -> Mapping[str, Terminal]:
        if self._data is None:
            assert self._load is not None
            self._data = self._load()
            self._load = None
        return self._data

    def __getitem__(self, name: str) -> Terminal:
        return self._get()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, name: object) -> bool:
        return name in self._get()

    def keys(self) -> KeysView[str]:
        return self._get().keys()

    def values(self) -> ValuesView[Terminal]:
        return self._get().values()

    def items(self) -> ItemsView[str, Terminal]:
        return self._get().items()

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self._get()),)


class _Sources(Sequence[str]):
    """A cached terminals column of ``file:line`` texts, each made when asked for."""

    def __init__(self, files: list[str], index: array[int], lines: array[int]) -> None:
        if len(index) != len(lines) or (len(index) and max(index) >= len(files)):
            raise ValueError(i18n._("bad terminal sources"))
        self._files, self._index, self._lines = files, index, lines

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return f"{self._files[self._index[i]]}:{self._lines[i]}"


_V4 = ipaddress.IPv4Address


class _PackedValues(ValuesView[Terminal]):
    """The terminals in order, by position (not a name lookup each)."""

    _mapping: PackedTerminals

    def __iter__(self) -> Iterator[Terminal]:
        return map(self._mapping._at, self._mapping._all())


class _PackedItems(ItemsView[str, Terminal]):
    _mapping: PackedTerminals

    def __iter__(self) -> Iterator[tuple[str, Terminal]]:
        packed = self._mapping
        return zip(packed, map(packed._at, packed._all()), strict=True)


class _Coded(Sequence[Any]):
    """A cached terminals column of a few values repeated (unit, zone, kind): their codes."""

    def __init__(self, values: list[Any], codes: array[int]) -> None:
        self._values, self._codes = values, codes

    def __len__(self) -> int:
        return len(self._codes)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._values[c] for c in self._codes[i]]
        return self._values[self._codes[i]]

    def __iter__(self) -> Iterator[Any]:
        return map(self._values.__getitem__, self._codes)


class _Split(Sequence[Any]):
    """A cached terminals column kept as one text, split into its values when first used
    (``len`` needs no split): 300,000 strings cost ~0.04 s each column to make."""

    def __init__(self, text: str, count: int, blank_is_none: bool) -> None:
        self._text: str | None = text
        self._count = count
        self._blank_is_none = blank_is_none
        self._values: list[Any] | None = None

    def _list(self) -> list[Any]:
        if self._values is None:
            assert self._text is not None
            values: list[Any] = self._text.split("\n") if self._count else []
            if len(values) != self._count:
                raise ValueError(i18n._("bad packed terminals"))
            if self._blank_is_none:
                values = [v or None for v in values]
            self._values, self._text = values, None
        return self._values

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        return self._list()[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._list())


class PackedTerminals(Mapping[str, Terminal]):
    """Terminals kept as columns (from the inventory cache); each object made when first used.

    A warm start with 300,000 terminals unpickles a few lists instead of 300,000 objects.
    """

    FIELDS = ("name", "mac", "unit", "zone", "ip", "kind", "owner", "os", "source")

    def __init__(self, columns: tuple[list[Any], ...]) -> None:
        if len(columns) != len(self.FIELDS) or len({len(c) for c in columns}) > 1:
            raise ValueError(i18n._("bad packed terminals"))
        self._columns = columns
        self._index: dict[str, int] | None = None
        self._made: dict[int, Terminal] = {}

    @classmethod
    def pack(cls, terminals: Mapping[str, Terminal]) -> tuple[list[Any], ...]:
        """Columns of plain values (an IPv4 address as its int) for :mod:`pickle`."""
        ts = list(terminals.values())
        ips = [None if t.ip is None else int(t.ip) if t.ip.version == 4 else str(t.ip) for t in ts]
        cols = [[getattr(t, f) for t in ts] for f in cls.FIELDS]
        cols[cls.FIELDS.index("ip")] = ips
        return tuple(cols)

    CATEGORIES = (2, 3, 5)  # unit, zone, kind: a few values repeated 300,000 times
    SOURCE = 8  # "file:line": kept as the files and two arrays, made per terminal when used
    TEXTS = (0, 1, 6, 7)  # name, mac, owner, os: one text each (split on load), None as ""
    IP = 4

    @classmethod
    def encode(cls, columns: tuple[list[Any], ...]) -> tuple[Any, ...]:
        """Columns with each repeated-value column as (values, indices): no object twice;
        the sources as (files, file indices, line numbers); text columns as one string (a
        string apiece unpickles ~5x slower than one split), IPv4 addresses as one array."""
        out: list[Any] = list(columns)
        for c in cls.CATEGORIES:
            values = list(dict.fromkeys(columns[c]))  # in order of first use
            codes = {v: i for i, v in enumerate(values)}
            out[c] = (array("I", map(codes.__getitem__, columns[c])).tobytes(), values)
        for c in cls.TEXTS:
            values = columns[c]
            text = "\n".join([v or "" for v in values])
            if text.count("\n") == max(len(values) - 1, 0) and "" not in values:
                out[c] = ("text", text, len(values))
        ips = columns[cls.IP]
        missing = [i for i, ip in enumerate(ips) if ip is None]
        if all(type(ip) is int for ip in ips if ip is not None):
            v4 = array("I", [0 if ip is None else ip for ip in ips])
            out[cls.IP] = ("v4", v4.tobytes(), array("I", missing).tobytes())
        out[cls.SOURCE] = cls._encode_sources(list(columns[cls.SOURCE]))
        return tuple(out)

    @staticmethod
    def _encode_sources(sources: list[str]) -> tuple[list[str], bytes, bytes]:
        """``file:line`` texts as (files, file indices, line numbers); one file at once."""
        prefix = sources[0].rpartition(":")[0] + ":" if sources else ""
        if len(prefix) > 1 and all(map(str.startswith, sources, repeat(prefix))):
            text = "\n".join(sources)
            if text.count(prefix) == len(sources):  # each once: the rest is its line number
                try:
                    lines = array("I", map(int, text.replace(prefix, "").split("\n")))
                except (ValueError, OverflowError):
                    pass
                else:
                    index = array("I", bytes(4 * len(sources)))
                    return [prefix[:-1]], index.tobytes(), lines.tobytes()
        files: dict[str, int] = {}
        index, lines = array("I"), array("I")
        for source in sources:
            file, _, line = source.rpartition(":")
            index.append(files.setdefault(file, len(files)))
            lines.append(int(line))
        return list(files), index.tobytes(), lines.tobytes()

    @classmethod
    def decode(cls, encoded: tuple[Any, ...]) -> PackedTerminals:
        """The inverse of :meth:`encode`; ValueError on anything malformed."""
        try:
            out = list(encoded)
            for c in cls.CATEGORIES:
                raw, values = encoded[c]
                codes = array("I", raw)
                if codes and max(codes) >= len(values):
                    raise ValueError(i18n._("bad packed terminals"))
                out[c] = _Coded(values, codes)
            for c in cls.TEXTS:
                if type(encoded[c]) is tuple:
                    kind, text, count = encoded[c]
                    if kind != "text" or not isinstance(text, str) or not isinstance(count, int):
                        raise ValueError(kind)
                    out[c] = _Split(text, count, blank_is_none=c >= 2)
            if type(encoded[cls.IP]) is tuple:
                kind, raw, missing = encoded[cls.IP]
                if kind != "v4":
                    raise ValueError(kind)
                ips: list[int | None] = array("I", raw).tolist()
                for i in array("I", missing):
                    ips[i] = None
                out[cls.IP] = ips
            files, index, lines = encoded[cls.SOURCE]
            out[cls.SOURCE] = _Sources(files, array("I", index), array("I", lines))
        except (TypeError, IndexError, ValueError) as exc:
            raise ValueError(i18n._("bad packed terminals")) from exc
        return cls(tuple(out))

    def _at(self, i: int) -> Terminal:
        made = self._made.get(i)
        if made is None:
            row = [c[i] for c in self._columns]
            ip = row[4]
            if ip is not None:
                row[4] = _V4(ip) if type(ip) is int else ipaddress.IPv6Address(ip)
            # (the dataclass's own __init__: its instances share their dicts' keys, ~20 MB
            # less for 300,000 than filling each __dict__, for ~0.1 s more)
            made = self._made[i] = Terminal(*row)
        return made

    def _all(self) -> range:
        """Every position, with the columns made plain lists first (a walk over every terminal
        indexes each column 300,000 times: a list does it in C)."""
        if not all(type(c) is list for c in self._columns):
            self._columns = tuple(c if type(c) is list else list(c) for c in self._columns)
        if len(self._made) < len(self):  # all made at once, the cyclic GC paused: objects
            was = gc.isenabled()  # that all stay alive only cost it (~40 % for 300,000)
            gc.disable()
            try:
                for i in range(len(self)):
                    self._at(i)
            finally:
                if was:
                    gc.enable()
        return range(len(self))

    def values(self) -> ValuesView[Terminal]:
        return _PackedValues(self)

    def items(self) -> ItemsView[str, Terminal]:
        return _PackedItems(self)

    def _positions(self) -> dict[str, int]:
        if self._index is None:
            self._index = {name: i for i, name in enumerate(self._columns[0])}
        return self._index

    def __getitem__(self, name: str) -> Terminal:
        return self._at(self._positions()[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns[0])

    def __len__(self) -> int:
        return len(self._columns[0])

    def __contains__(self, name: object) -> bool:
        return name in self._positions()

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self.items()),)


@dataclass
class Inventory:
    zones: dict[str, Zone]
    sites: dict[str, Site]
    units: dict[str, Unit]
    devices: dict[str, Device]
    terminals: Mapping[str, Terminal]  # a LazyTerminals when loaded for a command
    links: list[Link]
    sources: list[str] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)  # Diagnostic, kept for reporting
    services: dict[str, Service] = field(default_factory=dict)
    maintenance: list[MaintenanceWindow] = field(default_factory=list)

    def site_chain(self, site: str) -> list[str]:
        """``site`` and its ancestors, nearest first (cycles were rejected at load)."""
        chain: list[str] = []
        current: str | None = site
        while current is not None and current not in chain:
            chain.append(current)
            current = self.sites[current].parent if current in self.sites else None
        return chain

    def maintenance_now(self, kind: str, name: str, at: float) -> MaintenanceWindow | None:
        """The maintenance window covering device or service ``name`` at ``at`` (its own, its
        unit's or a site's up its chain), if any: alerts in it are muted."""
        target: Device | Service | None = (
            self.services.get(name) if kind == "service" else self.devices.get(name)
        )
        if target is None:
            return None
        chain: list[str | None] = list(self.site_chain(target.site)) if target.site else [None]
        for window in self.maintenance:
            if any(window.covers(kind, name, target.unit, s) for s in chain) and window.intervals(
                at, at + 1e-3
            ):
                return window
        return None

    def children(self, site: str | None) -> list[Site]:
        return sorted((s for s in self.sites.values() if s.parent == site), key=lambda s: s.name)

    def terminal_by_mac(self) -> dict[str, Terminal]:
        return {t.mac: t for t in self.terminals.values()}

    def iter_devices(self) -> Iterator[Device]:
        return iter(self.devices.values())

    def zone_of_address(self, address: IPAddress) -> str | None:
        for zone in self.zones.values():
            if zone.pools.contains(address):
                return zone.name
        return None
