"""The inventory model (pydantic v2), in DESIGN.md's vocabulary.

Raw sections (``ZoneSpec``, ``DeviceSpec``, …) mirror the YAML one to one and forbid unknown
keys. :class:`Inventory` holds the validated, cross-referenced result with every device's
values already inherited from its groups and the defaults (see ``loader.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from govnet.secrets import SecretRef


def _ip_text(kind: str) -> Any:
    """YAML turns ``no`` into False and ``10`` into 10; an address must be written as text."""

    def check(value: Any) -> Any:
        if isinstance(value, str | ipaddress.IPv4Address | ipaddress.IPv6Address):
            return value
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            return value
        raise ValueError(f"not a valid IP {kind}, got {value!r}")

    return BeforeValidator(check)


IPAddress = Annotated[ipaddress.IPv4Address | ipaddress.IPv6Address, _ip_text("address")]
IPNetwork = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, _ip_text("prefix")]

ROLES = ("core", "aggregation", "access", "firewall", "gap", "router", "server", "ups", "env",
         "terminal")  # fmt: skip
# "terminal" is the role terminals take as audit targets (antivirus, isolation rules)
Role = Literal[
    "core", "aggregation", "access", "firewall", "gap", "router", "server", "ups", "env", "terminal"
]
SiteLevel = Literal["province", "city", "county", "district", "town", "village"]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_MAC_RE = re.compile(
    r"^(?:[0-9a-f]{2}([:\-]?)(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}|[0-9a-f]{4}([.\-])[0-9a-f]{4}\2[0-9a-f]{4})$"
)


def normalize_mac(value: str) -> str:
    """Any common MAC notation (aa:bb.., aa-bb.., aabb-cc.., aabb.cc..) → ``aa:bb:cc:dd:ee:ff``."""
    text = str(value).strip().lower()
    if not _MAC_RE.match(text):
        raise ValueError(f"bad MAC address {value!r}")
    digits = re.sub(r"[^0-9a-f]", "", text)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _mac(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"bad MAC address {value!r}")
    return normalize_mac(value)


MacAddress = Annotated[str, BeforeValidator(_mac)]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValueError(
            f"bad name {value!r}: use ASCII letters, digits, '-', '_' and '.' (labels carry zh/en)"
        )
    return value


Name = Annotated[str, BeforeValidator(_name)]


def parse_vlan_range(value: Any) -> tuple[int, int]:
    """``100``, ``"100"`` or ``"100-199"`` → (first, last), each 1..4094."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d{1,4})(?:\s*-\s*(\d{1,4}))?", text)
    if not m:
        raise ValueError(f"bad VLAN range {value!r} (expected N or N-M)")
    first, last = int(m[1]), int(m[2] or m[1])
    if not (1 <= first <= 4094 and 1 <= last <= 4094):
        raise ValueError(f"VLAN {value!r} out of range 1-4094")
    if last < first:
        raise ValueError(f"VLAN range {value!r} is backwards")
    return first, last


VlanRange = Annotated[tuple[int, int], BeforeValidator(parse_vlan_range)]


def _vlan(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"bad VLAN {value!r}")
    first, last = parse_vlan_range(value)
    if first != last:
        raise ValueError(f"expected one VLAN, got range {value!r}")
    return first


Vlan = Annotated[int, BeforeValidator(_vlan)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Label(Strict):
    """A human label in Chinese and English; identifiers stay ASCII."""

    zh: str | None = None
    en: str | None = None

    def get(self, lang: str, fallback: str = "") -> str:
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first or second or fallback


def _label(value: Any) -> Any:
    return {"en": value, "zh": value} if isinstance(value, str) else value


LabelField = Annotated[Label, BeforeValidator(_label)]


class Pools(Strict):
    prefixes: list[IPNetwork] = Field(default_factory=list)
    vlans: list[VlanRange] = Field(default_factory=list)

    def contains(self, address: IPAddress) -> bool:
        return any(address in net for net in self.prefixes)


class Canary(Strict):
    """A receiver on a zone that isolated zones must never reach (used by isolation probes)."""

    address: IPAddress
    port: int = Field(default=53, ge=1, le=65535)
    dns_name: str | None = None


class ZoneSpec(Strict):
    label: LabelField = Label()
    isolated_from: list[Name] = Field(default_factory=list)
    pools: Pools = Pools()
    canaries: list[Canary] = Field(default_factory=list)


class SiteSpec(Strict):
    label: LabelField = Label()
    level: SiteLevel
    parent: Name | None = None


class UnitSpec(Strict):
    label: LabelField = Label()
    site: Name
    zones: list[Name] = Field(default_factory=list)
    contact: str | None = None


class CredentialSpec(Strict):
    username: str
    password: SecretRef
    secret: SecretRef | None = None  # enable / super password


class SnmpProfileSpec(Strict):
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


class DeviceValues(Strict):
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


class GroupSpec(DeviceValues):
    label: LabelField = Label()


class DeviceSpec(DeviceValues):
    host: str | None = None  # where govnet connects (IP or DNS name); defaults to address
    address: IPAddress | None = None  # the device's address inside its zone
    mac: MacAddress | None = None
    groups: list[Name] = Field(default_factory=list)
    description: str | None = None


class TerminalSpec(Strict):
    name: Name
    mac: MacAddress
    ip: IPAddress | None = None
    unit: str  # a unit name, or its zh/en label (consoles export Chinese names)
    zone: str  # likewise
    kind: Literal["pc", "laptop", "printer", "phone", "camera", "server", "other"] = "pc"
    owner: str | None = None
    os: str | None = None


class LinkSpec(Strict):
    """A cable between two devices: ``a`` and ``b`` are ``DEVICE:INTERFACE``."""

    a: str
    b: str
    description: str | None = None

    @field_validator("a", "b")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if ":" not in v or not v.split(":", 1)[0] or not v.split(":", 1)[1]:
            raise ValueError(f"bad link endpoint {v!r} (expected DEVICE:INTERFACE)")
        return v


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
            "password": "***" if self.credentials else None,
            "snmp": (
                {"version": self.snmp.version, "port": self.snmp_port, "secret": "***"}
                if self.snmp
                else None
            ),
            "description": self.description,
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


@dataclass
class Inventory:
    zones: dict[str, Zone]
    sites: dict[str, Site]
    units: dict[str, Unit]
    devices: dict[str, Device]
    terminals: dict[str, Terminal]
    links: list[Link]
    sources: list[str] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)  # Diagnostic, kept for reporting

    def site_chain(self, site: str) -> list[str]:
        """``site`` and its ancestors, nearest first (cycles were rejected at load)."""
        chain: list[str] = []
        current: str | None = site
        while current is not None and current not in chain:
            chain.append(current)
            current = self.sites[current].parent if current in self.sites else None
        return chain

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
