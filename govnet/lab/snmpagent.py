"""The lab's SNMP agents: one asyncio process, one UDP port per device, data from lab files.

Each agent serves a read-only MIB built from the device's :class:`LabDeviceData` and role, so
SNMP tells the same story as the SSH simulator:

all roles        system group (sysDescr/sysObjectID per platform and role, sysUpTime growing
                 from start, sysContact, sysName, sysLocation, sysServices), snmpEngine objects
                 (1.3.6.1.6.3.10.2.1), IF-MIB ifTable + ifXTable when ``tables.interfaces`` (or
                 ARP/MAC entries) name interfaces
network roles    (core, aggregation, access, firewall, gap, router) ipAddrTable (interfaces with
                 ``ip``), ipNetToMediaTable from ``tables.arp``, BRIDGE-MIB dot1dBase* and
                 dot1dTpFdbTable, Q-BRIDGE dot1qTpFdbPort/Status from ``tables.mac``
server           HOST-RESOURCES-MIB: hrSystem, hrStorageTable, hrDeviceTable + hrProcessorLoad,
                 hrSWRunTable, hrSWInstalledTable
ups              RFC 1628 UPS-MIB ident, battery, input, output and alarm objects
env              ENTITY-MIB entPhysicalTable (chassis = 1, sensors from 2) and
                 ENTITY-SENSOR-MIB entPhySensorTable

Interfaces: ifIndex is the 1-based position in ``tables.interfaces`` (as
:meth:`LabTables.if_index`). An ARP or MAC entry naming an interface that is not listed adds it
after the listed ones (up/up, 1000 Mbit/s), so every ifIndex in ipNetToMediaTable and
dot1dBasePortIfIndex resolves in ifTable as on a real device; see :func:`interface_rows`.
Bridge ports are numbered 1.. over Ethernet and LAG interfaces (and any interface with MAC
entries) in ifIndex order, so a collector must map dot1dTpFdbPort → dot1dBasePortIfIndex →
ifIndex as it must on real switches. A MAC learned in two VLANs appears once in
dot1dTpFdbTable (first entry wins) and once per VLAN in dot1qTpFdbTable. ARP entries for the
device's own interface addresses are static (4), the others dynamic (3); IPv6 ARP entries are
not served (ipNetToMediaTable is IPv4 only).

Counters grow with time from a per-device uptime: octets = rate × (uptime + seconds since the
lab started), rate = speed × ``utilisation`` × a stable per-interface factor (0.5-1.5); ifHC*
are Counter64, ifIn/OutOctets the same value modulo 2^32 (so they wrap like real ones). Down
interfaces do not count.

``behaviour.snmp`` keys (lab.yaml) per role; unknown keys are errors naming the device.

every role       ``sys_descr``, ``sys_object_id`` (dotted), ``sys_contact``, ``sys_location``
                 (defaults per platform/role), ``uptime`` (seconds the device has been up when
                 the lab starts, default 3196800 = 37 days)
network roles    ``utilisation``: share of each up interface's speed in use (0-1, default 0.02);
                 ``health``: ``{cpu, memory, temperature, fans, psus}`` served from the
                 platform's vendor MIB (huawei HUAWEI-ENTITY-EXTENT-MIB, hp_comware
                 HH3C-ENTITY-EXT-MIB, cisco_ios CISCO-PROCESS/MEMORY-POOL/ENVMON-MIB, ruijie_os
                 RUIJIE-PROCESS/MEMORY/SYSTEM-MIB) with ENTITY-MIB names; ``cpu``/``memory`` in
                 %, ``temperature`` in °C, ``fans``/``psus`` a list of ``ok``/``failed`` (defaults
                 12, 38, 41, two of each ok)
server           ``installed`` and ``running``: lists of names (hrSWInstalledName, hrSWRunName);
                 ``cpu``: load % per core; ``storage``: list of ``{descr, size, used, units,
                 type}`` with ``size``/``used`` counted in ``units``-byte blocks (as the MIB
                 does; ``units`` default 4096, ``type`` ram|virtual|disk, default disk);
                 ``encoding``: utf-8 (default) or gbk, how software names go on the wire
                 (Chinese Windows agents send the ANSI code page)
ups              ``manufacturer``, ``model``, ``battery_status`` (2 normal, 3 low, 4 depleted),
                 ``output_source`` (3 normal, 4 bypass, 5 battery), ``seconds_on_battery``
                 (grows with time while output_source is 5), ``minutes_remaining``, ``charge``
                 (%), ``battery_temperature`` (°C), ``input_voltage`` (V per input line),
                 ``input_frequency`` (Hz), ``output_voltage`` (V per output line, default 220),
                 ``output_load`` (% per output line), ``alarms`` (upsAlarmsPresent)
env              ``sensors``: list of ``{name, type, value, precision, scale, status, units}``
                 with ``type`` one of ENTITY-SENSOR-MIB's names (celsius, percentRH,
                 truthvalue, voltsAC, …), ``value`` in real units (23.5 with precision 1 is
                 served as 235), ``status`` ok|unavailable|nonoperational; a truthvalue sensor
                 is 1 (true, e.g. water detected) or 2 (false)

``behaviour.silent`` binds the port and drops every datagram, so clients time out.
``behaviour.faults.snmp`` drops a share of requests (``loss`` %), answers late (``delay`` s) or
flaps (silent for ``down`` s of every ``period``): see :mod:`govnet.lab.faults`.

Protocols: SNMPv2c (community) and SNMPv3 USM noAuthNoPriv/authNoPriv/authPriv with
md5, sha, sha224-512 and des, aes/aes128, aes192, aes256 (Blumenthal key extension); GET,
GETNEXT and GETBULK in lexicographic order with endOfMibView; SET is refused (noAccess). A wrong
community is dropped silently (clients time out, as with real devices); USM failures answer
with the standard reports (wrongDigest, unknownUserName, …) so clients can say why. The wire
format lives in :mod:`govnet.lab.snmpwire` (hand-written BER: see there for why not pysnmp).
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import ipaddress
import logging
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, NamedTuple, cast

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from govnet import i18n
from govnet.errors import LabError
from govnet.lab import snmpwire as w
from govnet.lab.data import LabDeviceData, LabInterface, LabTables
from govnet.lab.faults import SnmpFaultGate
from govnet.validation import Strict, first_problem

log = logging.getLogger(__name__)

OID = tuple[int, ...]
NETWORK_ROLES = frozenset({"core", "aggregation", "access", "firewall", "gap", "router"})
L3_ROLES = frozenset({"core", "aggregation", "firewall", "gap", "router"})


def oid(text: str) -> OID:
    """``"1.3.6.1"`` or ``".1.3.6.1"`` → ``(1, 3, 6, 1)``."""
    return tuple(int(part) for part in text.strip().lstrip(".").split("."))


# ---------------------------------------------------------------------------------------
# The agents' interface to the launcher


@dataclass
class AgentSpec:
    name: str
    role: str
    platform: str
    port: int
    data: LabDeviceData
    community: str | None = None  # v2c
    v3_user: str | None = None
    auth_protocol: str | None = None  # inventory names: md5 sha sha224 sha256 ...
    auth_key: str | None = None
    priv_protocol: str | None = None  # des aes aes128 aes192 aes256
    priv_key: str | None = None
    host: str = "127.0.0.1"


# ---------------------------------------------------------------------------------------
# behaviour.snmp, per role


class _Model(Strict):
    model_config = ConfigDict(strict=True)


class CommonSnmp(_Model):
    sys_descr: str | None = None
    sys_object_id: str | None = None
    sys_contact: str | None = None
    sys_location: str | None = None
    uptime: int = Field(default=3_196_800, ge=0, le=42_949_672)  # sysUpTime wraps at 497 days

    @field_validator("sys_object_id")
    @classmethod
    def _dotted(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                oid(v)
            except ValueError:
                raise ValueError(i18n._("bad OID {v!r} (expected dotted numbers)", v=v)) from None
        return v


PartState = Literal["ok", "failed"]


def _two_ok() -> list[PartState]:
    return ["ok", "ok"]


class HealthSpec(_Model):
    """What the device's vendor health tables say (served per platform: :func:`_health`)."""

    cpu: int = Field(default=12, ge=0, le=100)
    memory: int = Field(default=38, ge=0, le=100)
    temperature: int = Field(default=41, ge=1, le=150)
    fans: list[PartState] = Field(default_factory=_two_ok, max_length=8)
    psus: list[PartState] = Field(default_factory=_two_ok, max_length=4)


class NetworkSnmp(CommonSnmp):
    utilisation: float = Field(default=0.02, ge=0, le=1)
    health: HealthSpec = Field(default_factory=HealthSpec)


class StorageSpec(_Model):
    descr: str
    size: int = Field(ge=0)
    used: int = Field(ge=0)
    units: int = Field(default=4096, ge=1)
    type: Literal["ram", "virtual", "disk"] = "disk"

    @model_validator(mode="after")
    def _fits(self) -> StorageSpec:
        if self.used > self.size:
            raise ValueError(
                i18n._(
                    "storage {descr!r}: used ({used}) exceeds size ({size})",
                    descr=self.descr,
                    used=self.used,
                    size=self.size,
                )
            )
        return self


_DEFAULT_STORAGE = (
    StorageSpec(descr="Physical memory", size=16_330_104, used=9_861_232, units=1024, type="ram"),
    StorageSpec(descr="Swap space", size=8_388_604, used=131_072, units=1024, type="virtual"),
    StorageSpec(descr="/", size=26_214_400, used=9_830_400),
    StorageSpec(descr="/data", size=131_072_000, used=61_603_840),
)


class ServerSnmp(CommonSnmp):
    installed: list[str] = Field(
        default_factory=lambda: [
            "kernel-4.19.90-52.22.v2207.ky10.x86_64",
            "openssh-server-8.2p1-9.p03.ky10.x86_64",
            "net-snmp-5.9.1-5.ky10.x86_64",
            "clamav-1.0.7-1.ky10.x86_64",
            "nginx-1.21.5-4.ky10.x86_64",
        ]
    )
    running: list[str] = Field(
        default_factory=lambda: ["systemd", "sshd", "snmpd", "clamd", "freshclam", "nginx"]
    )
    cpu: list[int] = Field(default_factory=lambda: [12, 7, 18, 9])
    storage: list[StorageSpec] = Field(default_factory=lambda: list(_DEFAULT_STORAGE))
    encoding: Literal["utf-8", "gbk"] = "utf-8"

    @field_validator("cpu")
    @classmethod
    def _percent(cls, v: list[int]) -> list[int]:
        if not v or any(not 0 <= x <= 100 for x in v):
            raise ValueError(i18n._("cpu: one load percentage (0-100) per core, at least one"))
        return v


class UpsSnmp(CommonSnmp):
    manufacturer: str = "Santak"
    model: str = "Castle C10KS"
    battery_status: int = Field(default=2, ge=1, le=4)
    output_source: int = Field(default=3, ge=1, le=7)
    seconds_on_battery: int = Field(default=0, ge=0)
    minutes_remaining: int = Field(default=45, ge=0)
    charge: int = Field(default=100, ge=0, le=100)
    battery_temperature: int = 25
    input_voltage: list[int] = Field(default_factory=lambda: [220], min_length=1)
    input_frequency: float = Field(default=50.0, ge=0)
    output_voltage: list[int] | None = None
    output_load: list[int] = Field(default_factory=lambda: [35], min_length=1)
    alarms: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _lines(self) -> UpsSnmp:
        if self.output_voltage is not None and len(self.output_voltage) != len(self.output_load):
            raise ValueError(
                i18n._("output_voltage and output_load need one value per output line each")
            )
        return self


SENSOR_TYPES = {
    "other": 1,
    "unknown": 2,
    "voltsAC": 3,
    "voltsDC": 4,
    "amperes": 5,
    "watts": 6,
    "hertz": 7,
    "celsius": 8,
    "percentRH": 9,
    "rpm": 10,
    "cmm": 11,
    "truthvalue": 12,
    "specialEnum": 13,
    "dBm": 14,
}
SENSOR_SCALES = {
    "yocto": 1,
    "zepto": 2,
    "atto": 3,
    "femto": 4,
    "pico": 5,
    "nano": 6,
    "micro": 7,
    "milli": 8,
    "units": 9,
    "kilo": 10,
    "mega": 11,
    "giga": 12,
    "tera": 13,
    "exa": 14,
    "peta": 15,
    "zetta": 16,
    "yotta": 17,
}
SENSOR_STATUS = {"ok": 1, "unavailable": 2, "nonoperational": 3}
_SENSOR_UNITS = {
    "celsius": "Celsius",
    "percentRH": "%RH",
    "voltsAC": "V",
    "voltsDC": "V",
    "amperes": "A",
    "watts": "W",
    "hertz": "Hz",
    "rpm": "RPM",
}

SensorType = Literal[
    "other",
    "unknown",
    "voltsAC",
    "voltsDC",
    "amperes",
    "watts",
    "hertz",
    "celsius",
    "percentRH",
    "rpm",
    "cmm",
    "truthvalue",
    "specialEnum",
    "dBm",
]
SensorScale = Literal[
    "yocto",
    "zepto",
    "atto",
    "femto",
    "pico",
    "nano",
    "micro",
    "milli",
    "units",
    "kilo",
    "mega",
    "giga",
    "tera",
    "exa",
    "peta",
    "zetta",
    "yotta",
]


class SensorSpec(_Model):
    name: str
    type: SensorType
    value: float
    precision: int = Field(default=0, ge=-8, le=9)
    scale: SensorScale = "units"
    status: Literal["ok", "unavailable", "nonoperational"] = "ok"
    units: str | None = None

    @model_validator(mode="after")
    def _truth(self) -> SensorSpec:
        if self.type == "truthvalue" and self.value not in (1, 2):
            raise ValueError(
                i18n._("sensor {name!r}: a truthvalue is 1 (true) or 2 (false)", name=self.name)
            )
        return self

    @property
    def raw_value(self) -> int:
        """entPhySensorValue: the value scaled by 10^precision, as an integer."""
        return round(self.value * 10.0**self.precision)


class EnvSnmp(CommonSnmp):
    sensors: list[SensorSpec] = Field(
        default_factory=lambda: [
            SensorSpec(name="Inlet temperature", type="celsius", value=23.5, precision=1),
            SensorSpec(name="Humidity", type="percentRH", value=45),
            SensorSpec(name="Water leak", type="truthvalue", value=2),
        ]
    )


_ROLE_MODELS: dict[str, type[CommonSnmp]] = {
    **dict.fromkeys(NETWORK_ROLES, NetworkSnmp),
    "server": ServerSnmp,
    "ups": UpsSnmp,
    "env": EnvSnmp,
}


def parse_snmp_behaviour(device: str, role: str, raw: dict[str, Any]) -> CommonSnmp:
    """Validate ``behaviour.snmp`` for ``role``; errors name the device and the key."""
    model = _ROLE_MODELS.get(role)
    if model is None:
        raise LabError(
            i18n._(
                "{device}: no SNMP agent for role {role!r} (known: {role_models})",
                device=device,
                role=role,
                role_models=sorted(_ROLE_MODELS),
            )
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        where, message = first_problem(exc, model)
        where = f"snmp.{where}" if where else "snmp"
        raise LabError(
            i18n._(
                "{device}: lab.yaml {where}: {message}", device=device, where=where, message=message
            )
        ) from exc


# ---------------------------------------------------------------------------------------
# Platform data: what a device of this platform/role says about itself

# (platform, role or None for any) → (sysDescr template, sysObjectID); {name} is the device
_SYSTEMS: dict[tuple[str | None, str | None], tuple[str, str]] = {
    ("huawei", "core"): (
        "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.191 "
        "(CE12804 V200R019C10SPC800)\r\nCopyright (C) 2012-2020 Huawei Technologies Co., Ltd."
        "\r\nHUAWEI CE12804",
        "1.3.6.1.4.1.2011.2.239.12",
    ),
    ("huawei", "aggregation"): (
        "S6730-H48X6C\r\nHuawei Versatile Routing Platform Software\r\nVRP (R) software, "
        "Version 5.170 (S6730 V200R019C10SPC500)\r\nCopyright (C) 2000-2020 HUAWEI TECH Co., Ltd.",
        "1.3.6.1.4.1.2011.2.23.586",
    ),
    ("huawei", "firewall"): (
        "Huawei USG6555E\r\nHuawei Versatile Security Platform Software\r\nSoftware Version: "
        "USG6000E V600R007C20SPC300\r\nCopyright (C) 2014-2021 Huawei Technologies Co., Ltd.",
        "1.3.6.1.4.1.2011.2.338.22",
    ),
    ("huawei", None): (
        "S5735-L48T4X-A1\r\nHuawei Versatile Routing Platform Software\r\nVRP (R) software, "
        "Version 5.170 (S5735 V200R019C10SPC500)\r\nCopyright (C) 2000-2020 HUAWEI TECH Co., Ltd.",
        "1.3.6.1.4.1.2011.2.23.625",
    ),
    ("hp_comware", "core"): (
        "H3C Comware Platform Software, Software Version 7.1.070, Release 7625P06\r\n"
        "H3C S10506X\r\nCopyright (c) 2004-2022 New H3C Technologies Co., Ltd. "
        "All rights reserved.",
        "1.3.6.1.4.1.25506.1.2201",
    ),
    ("hp_comware", None): (
        "H3C Comware Platform Software, Software Version 7.1.070, Release 6635P07\r\n"
        "H3C S5130S-52S-EI\r\nCopyright (c) 2004-2022 New H3C Technologies Co., Ltd. "
        "All rights reserved.",
        "1.3.6.1.4.1.25506.1.1781",
    ),
    ("cisco_ios", "router"): (
        "Cisco IOS Software [Gibraltar], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
        "Version 16.12.10a, RELEASE SOFTWARE (fc1)\r\nTechnical Support: "
        "http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2023 by Cisco Systems, Inc.",
        "1.3.6.1.4.1.9.1.1861",
    ),
    ("cisco_ios", "aggregation"): (
        "Cisco IOS Software [Fuji], Catalyst L3 Switch Software (CAT3K_CAA-UNIVERSALK9-M), "
        "Version 16.9.8, RELEASE SOFTWARE (fc2)\r\nTechnical Support: "
        "http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2021 by Cisco Systems, Inc.",
        "1.3.6.1.4.1.9.1.2066",
    ),
    ("cisco_ios", None): (
        "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, "
        "RELEASE SOFTWARE (fc3)\r\nTechnical Support: http://www.cisco.com/techsupport\r\n"
        "Copyright (c) 1986-2023 by Cisco Systems, Inc.\r\nCompiled Thu 06-Apr-23 04:12 by mcpre",
        "1.3.6.1.4.1.9.1.1208",
    ),
    ("ruijie_os", "core"): (
        "Ruijie 10G Routing Switch(S6120-20XS4VS2QXS) By Ruijie Networks",
        "1.3.6.1.4.1.4881.1.1.10.1.358",
    ),
    ("ruijie_os", None): (
        "Ruijie Full Gigabit Security & Intelligence Access Switch(S2910-24GT4XS-E) "
        "By Ruijie Networks",
        "1.3.6.1.4.1.4881.1.1.10.1.330",
    ),
    ("huawei_usg", None): (
        "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 5.160 "
        "(USG6300 V500R005C20SPC300)\r\nCopyright (C) 2014-2020 Huawei Technologies Co., Ltd.",
        "1.3.6.1.4.1.2011.2.239.41",
    ),
    ("h3c_secpath", None): (
        "H3C Comware Platform Software, Software Version 7.1.064, Release 9333P30\r\n"
        "H3C SecPath F1000-AK1130\r\nCopyright (c) 2004-2021 New H3C Technologies Co., Ltd.",
        "1.3.6.1.4.1.25506.1.2125",
    ),
    ("linux", None): (
        "Linux {name} 4.19.90-52.22.v2207.ky10.x86_64 #1 SMP Tue Mar 14 12:19:10 CST 2023 x86_64",
        "1.3.6.1.4.1.8072.3.2.10",
    ),
    (None, "gap"): (
        "TopRules Security Isolation and Information Exchange System, Version 3.3.2013",
        "1.3.6.1.4.1.14331.1.6",
    ),
    (None, "ups"): (
        "Santak Castle C10KS, Network Management Card SNMP Agent, firmware 2.43",
        "1.3.6.1.4.1.935.10.1",
    ),
    (None, "env"): (
        "Machine room environment monitor EMS-300, firmware V2.1.6",
        "1.3.6.1.4.1.3854.1.2.2.1",
    ),
    (None, "server"): (
        "Linux {name} 4.19.90-52.22.v2207.ky10.x86_64 #1 SMP Tue Mar 14 12:19:10 CST 2023 x86_64",
        "1.3.6.1.4.1.8072.3.2.10",
    ),
}
_SYSTEM_FALLBACK = ("{platform} {role} (govnet lab agent)", "1.3.6.1.4.1.8072.3.2.10")


def system_identity(platform: str, role: str, name: str) -> tuple[str, str]:
    """(sysDescr, sysObjectID) for a device: most specific row of the platform table wins."""
    for key in ((platform, role), (platform, None), (None, role)):
        if key in _SYSTEMS:
            descr, object_id = _SYSTEMS[key]
            break
    else:
        descr, object_id = _SYSTEM_FALLBACK
    return descr.format(name=name, platform=platform, role=role), object_id


# IANAifType by interface-name prefix (lower case, first match wins); default ethernetCsmacd
_IF_TYPES: tuple[tuple[str, int], ...] = (
    ("vlanif", 136),
    ("vlan-interface", 136),
    ("vlan", 136),
    ("inloopback", 24),
    ("loopback", 24),
    ("lo", 24),
    ("null", 1),
    ("eth-trunk", 161),
    ("bridge-aggregation", 161),
    ("route-aggregation", 161),
    ("port-channel", 161),
    ("aggregateport", 161),
    ("tunnel", 131),
)
ETHERNET = 6
LAG = 161


def if_type(name: str) -> int:
    low = name.lower()
    for prefix, kind in _IF_TYPES:
        if low.startswith(prefix) and (prefix != "lo" or low in ("lo", "lo0")):
            return kind
    return ETHERNET


def interface_rows(tables: LabTables) -> list[LabInterface]:
    """The device's ifTable rows: listed interfaces (ifIndex = position), then the interfaces
    named only by ARP or MAC entries, in order of first mention."""
    rows = list(tables.interfaces)
    known = {row.name for row in rows}
    for name in [a.interface for a in tables.arp] + [m.interface for m in tables.mac]:
        if name not in known:
            rows.append(LabInterface(name=name))
            known.add(name)
    return rows


# ---------------------------------------------------------------------------------------
# The MIB: a sorted OID list, static values and values computed from the agent's age


class Value(NamedTuple):
    tag: int
    value: int | bytes | OID


Dynamic = Callable[[float], Value]  # seconds since the agent started → value
Cell = Value | Dynamic


class _Layout:
    """The OID side of a MIB (sorted names, positions, objects, encoded names), shared by
    every agent serving the same set of OIDs: a bench's 10,000 switches of a few shapes keep
    one copy of it, not one each."""

    __slots__ = ("objects", "oid_tlv", "oids", "pos")

    def __init__(self, oids: list[OID], objects: frozenset[OID]) -> None:
        self.oids = oids
        self.pos = {o: i for i, o in enumerate(oids)}
        self.objects = objects
        self.oid_tlv: list[bytes | None] = [None] * len(oids)


_LAYOUTS: dict[tuple[tuple[OID, ...], frozenset[OID]], _Layout] = {}
_MAX_LAYOUTS = 1024


def _layout(oids: list[OID], objects: frozenset[OID]) -> _Layout:
    key = (tuple(oids), objects)
    found = _LAYOUTS.get(key)
    if found is None:
        found = _Layout(oids, objects)
        if len(_LAYOUTS) < _MAX_LAYOUTS:
            _LAYOUTS[key] = found
    return found


class Mib:
    """An agent's read-only MIB: lexicographic OID order, bisect for GETNEXT."""

    def __init__(self, cells: dict[OID, Cell], objects: set[OID]) -> None:
        oids = sorted(cells)
        self._cells = [cells[o] for o in oids]
        layout = self._layout = _layout(oids, frozenset(objects))
        self.oids: list[OID] = layout.oids
        self._pos = layout.pos
        self._objects = layout.objects
        self._oid_tlv = layout.oid_tlv
        self._varbind: list[bytes | None] = [None] * len(oids)

    def __len__(self) -> int:
        return len(self.oids)

    def __contains__(self, item: object) -> bool:
        return item in self._pos

    def value(self, name: OID, elapsed: float = 0.0) -> Value | None:
        i = self._pos.get(name)
        if i is None:
            return None
        cell = self._cells[i]
        return cell if isinstance(cell, Value) else cell(elapsed)

    def next_index(self, name: OID) -> int:
        """Position of the first OID after ``name`` (``len(self)`` at the end of the MIB)."""
        return bisect.bisect_right(self.oids, name)

    def walk(self, prefix: OID = (), elapsed: float = 0.0) -> Iterator[tuple[OID, Value]]:
        n = len(prefix)
        for i in range(bisect.bisect_left(self.oids, prefix), len(self.oids)):
            name = self.oids[i]
            if name[:n] != prefix:
                break
            cell = self._cells[i]
            yield name, cell if isinstance(cell, Value) else cell(elapsed)

    def missing_tag(self, name: OID) -> int:
        """noSuchInstance if ``name`` lies under a known object, else noSuchObject."""
        for k in range(len(name) - 1, 0, -1):
            if name[:k] in self._objects:
                return w.NO_SUCH_INSTANCE
        return w.NO_SUCH_OBJECT

    # wire helpers ---------------------------------------------------------------------

    def varbind_at(self, i: int, elapsed: float) -> bytes:
        cached = self._varbind[i]
        if cached is not None:
            return cached
        oid_tlv = self._oid_tlv[i]
        if oid_tlv is None:
            oid_tlv = self._oid_tlv[i] = w.encode_oid_tlv(self.oids[i])
        cell = self._cells[i]
        if isinstance(cell, Value):
            vb = self._varbind[i] = w.varbind(oid_tlv, w.encode_value(cell.tag, cell.value))
            return vb
        value = cell(elapsed)
        return w.varbind(oid_tlv, w.encode_value(value.tag, value.value))

    def index_of(self, name: OID) -> int | None:
        return self._pos.get(name)

    def is_static(self, i: int) -> bool:
        """Whether the cell at position ``i`` has a fixed value (its varbind never changes)."""
        return isinstance(self._cells[i], Value)


_VALUES: dict[Value, Value] = {}
_MAX_VALUES = 200_000


def _shared(cell: Cell) -> Cell:
    """One object for equal static values (ifMtu 1500, ifType 6, a port name) across
    agents; moving cells stay their own."""
    if not isinstance(cell, Value):
        return cell
    found = _VALUES.get(cell)
    if found is None:
        if len(_VALUES) < _MAX_VALUES:
            _VALUES[cell] = cell
        return cell
    return found


class MibBuilder:
    """Collects scalars and table rows; the first row for an index wins (like a real FDB)."""

    def __init__(self) -> None:
        self.cells: dict[OID, Cell] = {}
        self.objects: set[OID] = set()

    def scalar(self, name: OID, cell: Cell) -> None:
        self.objects.add(name)
        self.cells[(*name, 0)] = _shared(cell)

    def row(self, entry: OID, index: OID, columns: dict[int, Cell]) -> None:
        cells, objects = self.cells, self.objects
        for column, cell in columns.items():
            obj = (*entry, column)
            objects.add(obj)
            key = obj + index
            if key not in cells:
                cells[key] = _shared(cell)

    def build(self) -> Mib:
        return Mib(self.cells, self.objects)


def integer(v: int) -> Value:
    return Value(w.INTEGER, v)


def octets(v: str | bytes, encoding: str = "utf-8") -> Value:
    return Value(w.OCTET_STRING, v.encode(encoding) if isinstance(v, str) else v)


def object_id(v: str | OID) -> Value:
    return Value(w.OBJECT_ID, oid(v) if isinstance(v, str) else v)


def gauge(v: int) -> Value:
    return Value(w.GAUGE32, max(0, min(v, 0xFFFFFFFF)))


def counter32(v: int) -> Value:
    return Value(w.COUNTER32, v & 0xFFFFFFFF)


def ticks(v: int) -> Value:
    return Value(w.TIMETICKS, v & 0xFFFFFFFF)


def ip_address(v: str | ipaddress.IPv4Address) -> Value:
    return Value(w.IP_ADDRESS, ipaddress.IPv4Address(v).packed)


class Growing:
    """A counter at ``rate`` per second that has been counting for ``base`` seconds (a
    :data:`Dynamic` cell; a class, not a closure: a switch has a thousand of them)."""

    __slots__ = ("base", "mask", "rate", "tag")

    def __init__(self, rate: float, base: float, tag: int, mask: int) -> None:
        self.rate, self.base, self.tag, self.mask = rate, base, tag, mask

    def __call__(self, elapsed: float) -> Value:
        return Value(self.tag, int(self.rate * (self.base + elapsed)) & self.mask)


def growing(rate: float, base: float, tag: int = w.COUNTER64) -> Cell:
    """A counter at ``rate`` per second that has been counting for ``base`` seconds."""
    mask = 0xFFFFFFFFFFFFFFFF if tag == w.COUNTER64 else 0xFFFFFFFF
    if rate == 0:
        return Value(tag, int(base) & mask)
    return Growing(rate, base, tag, mask)


def uptime_ticks(uptime: float) -> Dynamic:
    def value(elapsed: float) -> Value:
        return Value(w.TIMETICKS, int((uptime + elapsed) * 100) & 0xFFFFFFFF)

    return value


def _mac_bytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _stable(*parts: str) -> float:
    """A stable number in [0, 1) from names (so the lab tells the same story every run)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _base_mac(name: str) -> int:
    first, *rest = hashlib.sha256(name.encode()).digest()[:6]
    return int.from_bytes(bytes([first & 0xFC, *rest]), "big")


# ---------------------------------------------------------------------------------------
# MIB parts

SYSTEM = oid("1.3.6.1.2.1.1")
SNMP_ENGINE = oid("1.3.6.1.6.3.10.2.1")
IF_NUMBER = oid("1.3.6.1.2.1.2.1")
IF_ENTRY = oid("1.3.6.1.2.1.2.2.1")
IFX_ENTRY = oid("1.3.6.1.2.1.31.1.1.1")
IP_FORWARDING = oid("1.3.6.1.2.1.4.1")
IP_ADDR_ENTRY = oid("1.3.6.1.2.1.4.20.1")
IP_NET_TO_MEDIA_ENTRY = oid("1.3.6.1.2.1.4.22.1")
DOT1D_BASE = oid("1.3.6.1.2.1.17.1")
DOT1D_BASE_PORT_ENTRY = oid("1.3.6.1.2.1.17.1.4.1")
DOT1D_TP_FDB_ENTRY = oid("1.3.6.1.2.1.17.4.3.1")
DOT1Q_TP_FDB_ENTRY = oid("1.3.6.1.2.1.17.7.1.2.2.1")
HR = oid("1.3.6.1.2.1.25")
UPS = oid("1.3.6.1.2.1.33.1")
ENT_PHYSICAL_ENTRY = oid("1.3.6.1.2.1.47.1.1.1.1")
ENT_PHY_SENSOR_ENTRY = oid("1.3.6.1.2.1.99.1.1.1")
LLDP_LOC_PORT_ENTRY = oid("1.0.8802.1.1.2.1.3.7.1")
LLDP_REM_ENTRY = oid("1.0.8802.1.1.2.1.4.1.1")
LLDP_REM_MAN_ADDR_ENTRY = oid("1.0.8802.1.1.2.1.4.2.1")

_SERVICES = {"access": 2, **dict.fromkeys(L3_ROLES, 6)}


@dataclass(frozen=True)
class _Device:
    name: str
    role: str
    platform: str
    data: LabDeviceData
    settings: CommonSnmp
    engine_id: bytes


def _system(b: MibBuilder, d: _Device) -> None:
    s = d.settings
    descr, object_id_text = system_identity(d.platform, d.role, d.name)
    b.scalar((*SYSTEM, 1), octets(s.sys_descr or descr))
    b.scalar((*SYSTEM, 2), object_id(s.sys_object_id or object_id_text))
    b.scalar((*SYSTEM, 3), uptime_ticks(s.uptime))
    b.scalar((*SYSTEM, 4), octets(s.sys_contact or "Network operations <noc@lab.govnet>"))
    b.scalar((*SYSTEM, 5), octets(d.name))
    b.scalar((*SYSTEM, 6), octets(s.sys_location or "govnet lab, machine room"))
    b.scalar((*SYSTEM, 7), integer(_SERVICES.get(d.role, 72)))
    b.scalar((*SNMP_ENGINE, 1), octets(d.engine_id))
    b.scalar((*SNMP_ENGINE, 2), integer(1))
    uptime = s.uptime

    def engine_time(elapsed: float) -> Value:
        return integer(int(uptime + elapsed))

    b.scalar((*SNMP_ENGINE, 3), engine_time)
    b.scalar((*SNMP_ENGINE, 4), integer(w.MAX_MESSAGE))


def _interfaces(b: MibBuilder, d: _Device, rows: list[LabInterface]) -> None:
    utilisation = d.settings.utilisation if isinstance(d.settings, NetworkSnmp) else 0.01
    uptime = float(d.settings.uptime)
    base_mac = _base_mac(d.name)
    b.scalar(IF_NUMBER, integer(len(rows)))
    for index, row in enumerate(rows, start=1):
        kind = if_type(row.name)
        up = row.admin == "up" and row.oper == "up"
        factor = 0.5 + _stable(d.name, row.name)
        in_rate = row.speed * 1_000_000 / 8 * utilisation * factor if up else 0.0
        out_rate = in_rate * (0.4 + _stable(row.name, d.name) * 0.5)
        base = uptime if up else uptime / 2
        if kind in (24, 1):
            mac = b""
        elif row.mac:
            mac = _mac_bytes(row.mac)
        else:
            mac = ((base_mac + index) & 0xFFFFFFFFFFFF).to_bytes(6, "big")
        idx = (index,)
        b.row(
            IF_ENTRY,
            idx,
            {
                1: integer(index),
                2: octets(row.name),
                3: integer(kind),
                4: integer(1500),
                5: gauge(row.speed * 1_000_000),
                6: octets(mac),
                7: integer(1 if row.admin == "up" else 2),
                8: integer(1 if row.oper == "up" else 2),
                9: ticks(0),
                10: growing(in_rate, base, w.COUNTER32),
                11: growing(in_rate / 800, base, w.COUNTER32),
                13: counter32(0),
                14: counter32(0),
                15: counter32(0),
                16: growing(out_rate, base, w.COUNTER32),
                17: growing(out_rate / 800, base, w.COUNTER32),
                19: counter32(0),
                20: counter32(0),
            },
        )
        b.row(
            IFX_ENTRY,
            idx,
            {
                1: octets(row.name),
                2: growing(in_rate / 80_000, base, w.COUNTER32),
                3: growing(in_rate / 200_000, base, w.COUNTER32),
                4: growing(out_rate / 80_000, base, w.COUNTER32),
                5: growing(out_rate / 200_000, base, w.COUNTER32),
                6: growing(in_rate, base),
                7: growing(in_rate / 800, base),
                8: growing(in_rate / 80_000, base),
                9: growing(in_rate / 200_000, base),
                10: growing(out_rate, base),
                11: growing(out_rate / 800, base),
                12: growing(out_rate / 80_000, base),
                13: growing(out_rate / 200_000, base),
                14: integer(1 if kind == ETHERNET else 2),
                15: gauge(row.speed),
                16: integer(2),
                17: integer(1 if kind == ETHERNET else 2),
                18: octets(row.description),
                19: ticks(0),
            },
        )


def _ip(b: MibBuilder, d: _Device, rows: list[LabInterface]) -> None:
    b.scalar(IP_FORWARDING, integer(1 if d.role in L3_ROLES else 2))
    index_of = {row.name: i for i, row in enumerate(rows, start=1)}
    for i, row in enumerate(rows, start=1):
        if not row.ip:
            continue
        iface = ipaddress.ip_interface(row.ip)
        if not isinstance(iface, ipaddress.IPv4Interface):
            continue
        b.row(
            IP_ADDR_ENTRY,
            tuple(iface.ip.packed),
            {
                1: ip_address(iface.ip),
                2: integer(i),
                3: ip_address(iface.netmask),
                4: integer(1),
                5: integer(18024),
            },
        )
    own = {ipaddress.ip_interface(row.ip).ip for row in rows if row.ip}
    for arp in d.data.tables.arp:
        if not isinstance(arp.ip, ipaddress.IPv4Address):
            continue
        if_index = index_of[arp.interface]
        kind = 4 if arp.ip in own else 3  # the device's own addresses are static
        b.row(
            IP_NET_TO_MEDIA_ENTRY,
            (if_index, *arp.ip.packed),
            {
                1: integer(if_index),
                2: octets(_mac_bytes(arp.mac)),
                3: ip_address(arp.ip),
                4: integer(kind),
            },
        )


def bridge_ports(tables: LabTables) -> list[tuple[int, int]]:
    """(dot1dBasePort, ifIndex) pairs: Ethernet/LAG interfaces and any interface with MAC
    entries, numbered from 1 in ifIndex order."""
    rows = interface_rows(tables)
    with_macs = {m.interface for m in tables.mac}
    eligible = [
        i
        for i, row in enumerate(rows, start=1)
        if if_type(row.name) in (ETHERNET, LAG) or row.name in with_macs
    ]
    return list(enumerate(eligible, start=1))


def _bridge(b: MibBuilder, d: _Device, rows: list[LabInterface]) -> None:
    ports = bridge_ports(d.data.tables)
    port_of_if = {if_index: port for port, if_index in ports}
    index_of = {row.name: i for i, row in enumerate(rows, start=1)}
    b.scalar((*DOT1D_BASE, 1), octets(_base_mac(d.name).to_bytes(6, "big")))
    b.scalar((*DOT1D_BASE, 2), integer(len(ports)))
    b.scalar((*DOT1D_BASE, 3), integer(2))  # transparent-only
    for port, if_index in ports:
        b.row(DOT1D_BASE_PORT_ENTRY, (port,), {1: integer(port), 2: integer(if_index)})
    for entry in d.data.tables.mac:
        mac = _mac_bytes(entry.mac)
        port = port_of_if[index_of[entry.interface]]
        status = integer(5 if entry.type == "static" else 3)  # mgmt / learned
        b.row(DOT1D_TP_FDB_ENTRY, tuple(mac), {1: octets(mac), 2: integer(port), 3: status})
        b.row(DOT1Q_TP_FDB_ENTRY, (entry.vlan, *mac), {2: integer(port), 3: status})


_STORAGE_TYPES = {
    "ram": oid("1.3.6.1.2.1.25.2.1.2"),
    "virtual": oid("1.3.6.1.2.1.25.2.1.3"),
    "disk": oid("1.3.6.1.2.1.25.2.1.4"),
}
_INSTALL_DATE = struct.pack(">HBBBBBB", 2024, 3, 18, 10, 0, 0, 0)


def _host_resources(b: MibBuilder, d: _Device) -> None:
    s = d.settings
    assert isinstance(s, ServerSnmp)
    b.scalar((*HR, 1, 1), uptime_ticks(s.uptime))
    b.scalar((*HR, 1, 5), gauge(2))
    b.scalar((*HR, 1, 6), gauge(len(s.running) + 180))
    ram = [x for x in s.storage if x.type == "ram"]
    b.scalar((*HR, 2, 2), integer(sum(x.size * x.units for x in ram) // 1024))
    for i, st in enumerate(s.storage, start=1):
        b.row(
            (*HR, 2, 3, 1),
            (i,),
            {
                1: integer(i),
                2: object_id(_STORAGE_TYPES[st.type]),
                3: octets(st.descr),
                4: integer(st.units),
                5: integer(st.size),
                6: integer(st.used),
                7: counter32(0),
            },
        )
    for n, load in enumerate(s.cpu):
        index = (196608 + n,)  # net-snmp numbers processors from hrDeviceProcessor's base
        b.row(
            (*HR, 3, 2, 1),
            index,
            {
                1: integer(index[0]),
                2: object_id("1.3.6.1.2.1.25.3.1.3"),
                3: octets(f"CPU {n}: Hygon C86 7285 32-core Processor"),
                4: object_id("0.0"),
                5: integer(2),
                6: counter32(0),
            },
        )
        b.row((*HR, 3, 3, 1), index, {1: object_id("0.0"), 2: integer(load)})
    enc = s.encoding
    for n, name in enumerate(s.running):
        pid = 600 + 17 * n
        b.row(
            (*HR, 4, 2, 1),
            (pid,),
            {
                1: integer(pid),
                2: octets(name[:64], enc),
                3: object_id("0.0"),
                4: octets(name[:128], enc),
                5: octets(""),
                6: integer(4),
                7: integer(1),
            },
        )
    b.scalar((*HR, 6, 1), ticks(0))
    b.scalar((*HR, 6, 2), ticks(0))
    for n, name in enumerate(s.installed, start=1):
        b.row(
            (*HR, 6, 3, 1),
            (n,),
            {
                1: integer(n),
                2: octets(name[:64], enc),
                3: object_id("0.0"),
                4: integer(4),
                5: octets(_INSTALL_DATE),
            },
        )


def _ups(b: MibBuilder, d: _Device) -> None:
    s = d.settings
    assert isinstance(s, UpsSnmp)
    b.scalar((*UPS, 1, 1), octets(s.manufacturer))
    b.scalar((*UPS, 1, 2), octets(s.model))
    b.scalar((*UPS, 1, 3), octets("V3.1"))
    b.scalar((*UPS, 1, 4), octets("NetAgent 2.43"))
    b.scalar((*UPS, 1, 5), octets(d.name))
    b.scalar((*UPS, 2, 1), integer(s.battery_status))
    on_battery = s.output_source == 5
    since = s.seconds_on_battery

    def seconds_on_battery(elapsed: float) -> Value:
        return integer(min(int(since + elapsed), 0x7FFFFFFF))

    b.scalar((*UPS, 2, 2), seconds_on_battery if on_battery else integer(since))
    b.scalar((*UPS, 2, 3), integer(s.minutes_remaining))
    b.scalar((*UPS, 2, 4), integer(s.charge))
    b.scalar((*UPS, 2, 5), integer(2160 if s.charge > 20 else 1980))  # 0.1 V DC
    b.scalar((*UPS, 2, 7), integer(s.battery_temperature))
    b.scalar((*UPS, 3, 1), counter32(1 if on_battery else 0))
    b.scalar((*UPS, 3, 2), integer(len(s.input_voltage)))
    for n, volts in enumerate(s.input_voltage, start=1):
        freq = 0 if on_battery else round(s.input_frequency * 10)
        b.row((*UPS, 3, 3, 1), (n,), {1: integer(n), 2: integer(freq), 3: integer(volts)})
    b.scalar((*UPS, 4, 1), integer(s.output_source))
    b.scalar((*UPS, 4, 2), integer(round(s.input_frequency * 10)))
    b.scalar((*UPS, 4, 3), integer(len(s.output_load)))
    volts_out = s.output_voltage or [220] * len(s.output_load)
    for n, (volts, load) in enumerate(zip(volts_out, s.output_load, strict=True), start=1):
        power = 10_000 * load // 100
        amps10 = power * 10 // max(volts, 1)
        b.row(
            (*UPS, 4, 4, 1),
            (n,),
            {
                1: integer(n),
                2: integer(volts),
                3: integer(amps10),
                4: integer(power),
                5: integer(load),
            },
        )
    b.scalar((*UPS, 6, 1), gauge(s.alarms))


def _entity_sensors(b: MibBuilder, d: _Device) -> None:
    s = d.settings
    assert isinstance(s, EnvSnmp)
    b.row(
        ENT_PHYSICAL_ENTRY,
        (1,),
        {
            2: octets("Environment monitor chassis"),
            3: object_id("0.0"),
            4: integer(0),
            5: integer(3),
            6: integer(-1),
            7: octets(d.name),
        },
    )
    for n, sensor in enumerate(s.sensors, start=2):
        b.row(
            ENT_PHYSICAL_ENTRY,
            (n,),
            {
                2: octets(f"{sensor.type} sensor"),
                3: object_id("0.0"),
                4: integer(1),
                5: integer(8),
                6: integer(n - 1),
                7: octets(sensor.name),
            },
        )
        units = sensor.units if sensor.units is not None else _SENSOR_UNITS.get(sensor.type, "")
        b.row(
            ENT_PHY_SENSOR_ENTRY,
            (n,),
            {
                1: integer(SENSOR_TYPES[sensor.type]),
                2: integer(SENSOR_SCALES[sensor.scale]),
                3: integer(sensor.precision),
                4: integer(sensor.raw_value),
                5: integer(SENSOR_STATUS[sensor.status]),
                6: octets(units),
                7: ticks(0),
                8: gauge(5000),
            },
        )


def _lldp(b: MibBuilder, d: _Device) -> None:
    """LLDP-MIB: lldpLocPortTable for the ports with neighbours (port number = ifIndex where
    the port is in the interface table), lldpRemTable and lldpRemManAddrTable (IPv4)."""
    tables = d.data.tables
    numbers: dict[str, int] = {}
    spare = len(tables.interfaces)
    for n in tables.lldp:
        if n.local not in numbers:
            found = tables.if_index(n.local)
            if found is None:
                spare += 1
                found = spare
            numbers[n.local] = found
    for local, number in numbers.items():
        b.row(LLDP_LOC_PORT_ENTRY, (number,), {2: integer(5), 3: octets(local), 4: octets(local)})
    per_port: dict[str, int] = {}
    for n in tables.lldp:
        port = numbers[n.local]
        per_port[n.local] = per_port.get(n.local, 0) + 1
        index = (0, port, per_port[n.local])  # lldpRemTimeMark, lldpRemLocalPortNum, lldpRemIndex
        b.row(
            LLDP_REM_ENTRY,
            index,
            {
                4: integer(4),  # chassis id subtype: macAddress
                5: octets(_mac_bytes(n.chassis)),
                6: integer(5),  # port id subtype: interfaceName
                7: octets(n.port),
                8: octets(n.port),
                9: octets(n.name),
                10: octets(n.description or n.name),
            },
        )
        if n.address is not None and n.address.version == 4:
            address = tuple(n.address.packed)
            b.row(LLDP_REM_MAN_ADDR_ENTRY, (*index, 1, 4, *address), {3: integer(2)})


_HW = oid("1.3.6.1.4.1.2011.5.25.31.1.1")  # HUAWEI-ENTITY-EXTENT-MIB hwEntityState
_H3C_ENTITY_EXT = oid("1.3.6.1.4.1.25506.2.6.1.1.1.1")  # hh3cEntityExtStateEntry
_CISCO_CPU = oid("1.3.6.1.4.1.9.9.109.1.1.1.1")  # cpmCPUTotalEntry
_CISCO_MEMPOOL = oid("1.3.6.1.4.1.9.9.48.1.1.1")  # ciscoMemoryPoolEntry
_CISCO_ENVMON = oid("1.3.6.1.4.1.9.9.13.1")  # ciscoEnvMonObjects
_RUIJIE = oid("1.3.6.1.4.1.4881.1.1.10.2")  # ruijieMgmt
_ENT_CLASS = {"chassis": 3, "psu": 6, "fan": 7, "module": 9}


def _entity(b: MibBuilder, index: int, name: str, kind: str, parent: int = 0) -> None:
    b.row(
        ENT_PHYSICAL_ENTRY,
        (index,),
        {
            2: octets(name),
            3: object_id("0.0"),
            4: integer(parent),
            5: integer(_ENT_CLASS[kind]),
            6: integer(-1 if kind == "chassis" else 1),
            7: octets(name),
        },
    )


def _health(b: MibBuilder, d: _Device) -> None:
    """The platform's vendor health tables (the OIDs of govnet/data/health.yaml)."""
    s = d.settings
    if not isinstance(s, NetworkSnmp):
        return
    h = s.health
    fans = [state == "ok" for state in h.fans]
    psus = [state == "ok" for state in h.psus]
    if d.platform == "huawei":
        chassis, board = 16777216, 16842753
        _entity(b, chassis, "Chassis", "chassis")
        _entity(b, board, "MPU Board 0", "module", chassis)
        for index, (cpu, mem, temp) in (
            (chassis, (0, 0, 0)),
            (board, (h.cpu, h.memory, h.temperature)),
        ):
            b.row((*_HW, 1, 1), (index,), {5: integer(cpu), 7: integer(mem), 11: integer(temp)})
        for n, ok in enumerate(fans):
            b.row(
                (*_HW, 10, 1),
                (0, n),
                {
                    1: integer(0),
                    2: integer(n),
                    6: integer(1),
                    7: integer(1 if ok else 2),
                    8: octets(f"FAN{n + 1}"),
                },
            )
        for n, ok in enumerate(psus):
            b.row(
                (*_HW, 18, 1),
                (0, n + 1),
                {
                    1: integer(0),
                    2: integer(n + 1),
                    5: integer(1),
                    6: integer(1 if ok else 2),
                    9: octets(f"PWR{n + 1}"),
                },
            )
    elif d.platform == "hp_comware":
        _entity(b, 1, "Chassis", "chassis")
        _entity(b, 2, "Board 1", "module", 1)
        rows: list[tuple[int, int, int, int, int]] = [
            (1, 0, 0, 0, 2),
            (2, h.cpu, h.memory, h.temperature, 2),
        ]
        for n, ok in enumerate(fans):
            _entity(b, 10 + n, f"Fan {n + 1}", "fan", 1)
            rows.append((10 + n, 0, 0, 0, 2 if ok else 41))  # fanError
        for n, ok in enumerate(psus):
            _entity(b, 20 + n, f"Power {n + 1}", "psu", 1)
            rows.append((20 + n, 0, 0, 0, 2 if ok else 51))  # psuError
        for index, cpu, mem, temp, error in rows:
            b.row(
                _H3C_ENTITY_EXT,
                (index,),
                {6: integer(cpu), 8: integer(mem), 12: integer(temp), 19: integer(error)},
            )
    elif d.platform in ("cisco_ios", "cisco_xe"):
        _entity(b, 1, "Chassis", "chassis")
        _entity(b, 1001, "Switch 1", "module", 1)
        b.row(_CISCO_CPU, (1,), {1: integer(1), 2: integer(1001), 8: gauge(h.cpu)})
        total = 512 * 2**20
        for index, name, pct in ((1, "Processor", h.memory), (2, "I/O", 30)):
            used = total * pct // 100
            b.row(
                _CISCO_MEMPOOL, (index,), {2: octets(name), 5: gauge(used), 6: gauge(total - used)}
            )
        b.row(
            (*_CISCO_ENVMON, 3, 1),
            (1001,),
            {
                2: octets("SW#1, Sensor#1, GREEN"),
                3: gauge(h.temperature),
                6: integer(1 if h.temperature < 70 else 3),
            },
        )
        for n, ok in enumerate(fans):
            b.row(
                (*_CISCO_ENVMON, 4, 1),
                (1000 + n + 1,),
                {2: octets(f"Switch#1, Fan#{n + 1}"), 3: integer(1 if ok else 6)},
            )
        for n, ok in enumerate(psus):
            b.row(
                (*_CISCO_ENVMON, 5, 1),
                (1000 + n + 1,),
                {2: octets(f"Sw1, PS{n + 1}"), 3: integer(1 if ok else 6)},
            )
    elif d.platform == "ruijie_os":
        b.row(
            (*_RUIJIE, 36, 1, 2, 1), (1,), {1: integer(1), 2: octets("Slot 1"), 5: integer(h.cpu)}
        )
        b.row(
            (*_RUIJIE, 35, 1, 1, 1), (1,), {1: integer(1), 2: octets("dram"), 3: integer(h.memory)}
        )
        b.row(
            (*_RUIJIE, 1, 1, 23, 1),
            (1,),
            {1: integer(1), 2: octets("CPU"), 3: integer(h.temperature)},
        )
        for n, ok in enumerate(fans):
            b.row(
                (*_RUIJIE, 1, 1, 21, 1),
                (n + 1,),
                {1: integer(n + 1), 2: integer(4 if ok else 5), 3: octets(f"Fan {n + 1}")},
            )
        for n, ok in enumerate(psus):
            b.row(
                (*_RUIJIE, 1, 1, 18, 1),
                (n + 1,),
                {1: integer(n + 1), 2: integer(4 if ok else 2), 3: octets(f"Power {n + 1}")},
            )


def build_mib(
    name: str,
    role: str,
    platform: str,
    data: LabDeviceData,
    engine_id: bytes | None = None,
    settings: CommonSnmp | None = None,
) -> Mib:
    """Every object the agent of this device serves (raises LabError on bad lab data)."""
    if settings is None:
        settings = parse_snmp_behaviour(name, role, data.behaviour.snmp)
    device = _Device(name, role, platform, data, settings, engine_id or w.engine_id_for(name))
    b = MibBuilder()
    _system(b, device)
    rows = interface_rows(data.tables)
    if rows or role in NETWORK_ROLES:
        _interfaces(b, device, rows)
    if role in NETWORK_ROLES:
        _ip(b, device, rows)
        _bridge(b, device, rows)
        if data.tables.lldp:
            _lldp(b, device)
        _health(b, device)
    elif role == "server":
        _host_resources(b, device)
    elif role == "ups":
        _ups(b, device)
    elif role == "env":
        _entity_sensors(b, device)
    return b.build()


# ---------------------------------------------------------------------------------------
# Answering requests

_BULK_MAX_VARBINDS = 2048
_V3_OVERHEAD = 256  # header, USM parameters, padding
_MAX_PLANS = 512  # remembered request shapes per agent (a poller sends a few dozen)
_GROWTH = 10  # bytes a moving varbind may still grow by (a Counter64 from 1 to 9 octets,
# its SEQUENCE length from short to long form)


class Agent:
    """One device's agent: decodes a datagram, answers from its MIB, encodes the reply."""

    def __init__(self, spec: AgentSpec, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.name = spec.name
        self.silent = spec.data.behaviour.silent
        faults = spec.data.behaviour.faults
        self.faults = SnmpFaultGate(faults.snmp, spec.name, faults.seed) if faults.snmp else None
        self.engine_id = w.engine_id_for(spec.name)
        self.settings = parse_snmp_behaviour(spec.name, spec.role, spec.data.behaviour.snmp)
        _check_tables(spec.name, spec.data.tables)
        self._mib: Mib | None = None
        self._plans: dict[bytes, tuple[int | bytes, ...]] = {}
        self.community = spec.community.encode() if spec.community is not None else None
        self._clock = clock
        self._started = clock()
        self._uptime = self.settings.uptime
        self.usm: w.UsmAgent | None = None
        if spec.v3_user:
            try:
                user = w.UsmUser.create(
                    spec.v3_user,
                    self.engine_id,
                    _lower(spec.auth_protocol),
                    spec.auth_key,
                    _lower(spec.priv_protocol),
                    spec.priv_key,
                )
            except ValueError as exc:
                raise LabError(
                    i18n._(
                        "{name}: SNMP v3 user {v3_user!r}: {exc}",
                        name=spec.name,
                        v3_user=spec.v3_user,
                        exc=exc,
                    )
                ) from exc
            self.usm = w.UsmAgent(self.engine_id, [user], self._engine_time)
        if self.community is None and self.usm is None and not self.silent:
            raise LabError(
                i18n._("{name}: SNMP agent needs a community or a v3 user", name=spec.name)
            )

    @property
    def mib(self) -> Mib:
        """Built on first use: 200 bench agents start in milliseconds, and the lab data was
        already validated in ``__init__`` so building cannot fail later."""
        if self._mib is None:
            spec = self.spec
            self._mib = build_mib(
                spec.name, spec.role, spec.platform, spec.data, self.engine_id, self.settings
            )
        return self._mib

    def restart_clock(self) -> None:
        self._started = self._clock()

    def elapsed(self) -> float:
        return self._clock() - self._started

    def _engine_time(self) -> int:
        return min(int(self._uptime + self.elapsed()), 0x7FFFFFFF)

    def handle(self, data: bytes) -> bytes | None:
        """The reply to one datagram, or None to stay silent."""
        if self.silent:
            return None
        version = w.message_version(data)
        if version == 1:  # v2c
            if self.community is None:
                return None
            known = self._v2c_key(data)
            if known is not None:
                request_id, key = known
                plan = self._plans.get(key)
                if plan is not None:  # the same request as before: only the values are new
                    varbinds = self._render(plan, self.elapsed())
                    return w.encode_v2c(
                        self.community, w.encode_response(request_id, 0, 0, [varbinds])
                    )
            request = w.decode_v2c(data)
            if request.community != self.community:
                log.debug("%s: dropped request with a wrong community", self.name)
                return None
            budget = w.MAX_MESSAGE - 64 - len(request.community)
            pdu = self.respond(request.pdu, budget, known[1] if known is not None else None)
            return w.encode_v2c(request.community, pdu) if pdu is not None else None
        if version == 3 and self.usm is not None:
            opened = self.usm.unwrap(data)
            if isinstance(opened, w.V3Reply):
                return opened.data
            if opened.level != opened.user.level:  # below the user's configured level
                pdu = w.encode_response(
                    opened.pdu.request_id, w.AUTHORIZATION_ERROR, 1, self._echo(opened.pdu)
                )
            else:
                budget = min(max(opened.max_size, 484), w.MAX_MESSAGE) - _V3_OVERHEAD
                answer = self.respond(opened.pdu, budget)
                if answer is None:
                    return None
                pdu = answer
            return self.usm.wrap(opened, pdu)
        return None  # v1, or v3 without a user: not served

    def _v2c_key(self, data: bytes) -> tuple[int, bytes] | None:
        """(request-id, what identifies the request apart from its id) of a v2c message in
        this agent's community; None for anything else (the full decode then says why)."""
        try:
            start, stop = w.expect(data, 0, w.SEQUENCE)
            _, e = w.expect(data, start, w.INTEGER, stop)
            s, e = w.expect(data, e, w.OCTET_STRING, stop)
            if data[s:e] != self.community:
                return None
            tag, ps, pe = w.read_tlv(data, e, stop)
            s, e = w.expect(data, ps, w.INTEGER, pe)
            return w.decode_int(data, s, e), bytes((tag,)) + data[e:pe]
        except w.BerError:
            return None

    @staticmethod
    def _echo(pdu: w.Pdu) -> list[bytes]:
        return [w.tlv(w.SEQUENCE, raw + b"\x05\x00") for raw in pdu.raw_oids]

    def respond(self, pdu: w.Pdu, budget: int, key: bytes | None = None) -> bytes | None:
        """The Response-PDU for a request PDU, within ``budget`` bytes.

        With ``key`` (the request's bytes apart from its id), a reply whose shape cannot
        change (which OIDs answer, in what order, far enough within the budget whatever the
        growing values become) is remembered as a plan: the same request again only encodes
        the values that move (counters, uptime). Pollers send the same few requests every
        interval, so the agents of a 10,000-device bench stay cheap."""
        elapsed = self.elapsed()
        mib = self.mib
        plan: list[int | bytes] = []  # MIB positions, or varbinds made for this request
        pairs = zip(pdu.oids, pdu.raw_oids, strict=True)
        if pdu.tag == w.GET:
            for name, raw in pairs:
                i = mib.index_of(name)
                if i is None:
                    plan.append(w.tlv(w.SEQUENCE, raw + bytes((mib.missing_tag(name), 0))))
                else:
                    plan.append(i)
        elif pdu.tag == w.GETNEXT:
            plan = [self._next(mib.next_index(name), raw) for name, raw in pairs]
        elif pdu.tag == w.GETBULK:
            plan_or_pdu = self._bulk(pdu, budget, elapsed)
            if isinstance(plan_or_pdu, bytes):
                return plan_or_pdu
            plan = plan_or_pdu
        elif pdu.tag == w.SET:
            return w.encode_response(pdu.request_id, w.NO_ACCESS, 1, self._echo(pdu))
        else:
            return None
        parts = self._compile(plan)
        varbinds = self._render(parts, elapsed)
        if len(varbinds) > budget:
            return w.encode_response(pdu.request_id, w.TOO_BIG, 0, [])
        if key is not None and len(self._plans) < _MAX_PLANS:
            moving = sum(1 for p in parts if type(p) is int)
            if len(varbinds) + _GROWTH * moving <= budget:
                self._plans[key] = parts
        return w.encode_response(pdu.request_id, 0, 0, [varbinds])

    def _compile(self, plan: list[int | bytes]) -> tuple[int | bytes, ...]:
        """Static cells as their encoded varbinds, runs of them joined; moving cells stay
        MIB positions (encoded at each answer)."""
        mib = self.mib
        parts: list[int | bytes] = []
        run: list[bytes] = []
        for item in plan:
            if type(item) is int and not mib.is_static(item):
                if run:
                    parts.append(b"".join(run))
                    run = []
                parts.append(item)
            else:
                run.append(item if isinstance(item, bytes) else mib.varbind_at(item, 0.0))
        if run:
            parts.append(b"".join(run))
        return tuple(parts)

    def _render(self, parts: tuple[int | bytes, ...], elapsed: float) -> bytes:
        varbind_at = self.mib.varbind_at
        return b"".join([p if isinstance(p, bytes) else varbind_at(p, elapsed) for p in parts])

    def _next(self, i: int, raw: bytes) -> int | bytes:
        if i >= len(self.mib):
            return w.tlv(w.SEQUENCE, raw + b"\x82\x00")
        return i

    def _bulk(self, pdu: w.Pdu, budget: int, elapsed: float) -> list[int | bytes] | bytes:
        """The GETBULK answer as a plan (see :meth:`respond`), or a whole Response-PDU
        (tooBig). A reply cut short by the budget is not a plan: its length would move with
        the values."""
        mib = self.mib
        end = len(mib)
        n = min(max(pdu.a, 0), len(pdu.oids))
        reps = max(pdu.b, 0)
        out: list[int | bytes] = []
        size = 0
        cut = False
        for name, raw in zip(pdu.oids[:n], pdu.raw_oids[:n], strict=True):
            item = self._next(mib.next_index(name), raw)
            out.append(item)
            size += len(item) if isinstance(item, bytes) else len(mib.varbind_at(item, elapsed))
        if size > budget:
            return w.encode_response(pdu.request_id, w.TOO_BIG, 0, [])
        repeaters = list(zip(pdu.oids[n:], pdu.raw_oids[n:], strict=True))
        if repeaters:
            reps = min(reps, _BULK_MAX_VARBINDS // len(repeaters))
        first = [mib.next_index(name) for name, _ in repeaters]
        positions = list(first)
        for _ in range(reps):
            at_end = all(p >= end for p in positions)  # this row is all endOfMibView: last one
            row: list[int | bytes] = []
            row_size = 0
            for j, (_, raw) in enumerate(repeaters):
                i = positions[j]
                if i >= end:
                    # endOfMibView names the request's OID, or this repeater's last answer
                    last = raw if i == first[j] else mib.varbind_at(end - 1, elapsed)
                    vb = self._end_of_view(last)
                    row.append(vb)
                    row_size += len(vb)
                else:
                    row.append(i)
                    row_size += len(mib.varbind_at(i, elapsed))
                    positions[j] = i + 1
            if size + row_size > budget:
                cut = True
                break
            out.extend(row)
            size += row_size
            if at_end:
                break
        if cut:  # answered now, not remembered
            return w.encode_response(
                pdu.request_id, 0, 0, [self._render(self._compile(out), elapsed)]
            )
        return out

    @staticmethod
    def _end_of_view(source: bytes) -> bytes:
        """endOfMibView varbind for an OID given as an OID TLV or as a whole varbind."""
        if source[0] == w.SEQUENCE:
            _, start, stop = w.read_tlv(source, 0)
            _, _, oid_end = w.read_tlv(source, start, stop)
            source = source[start:oid_end]
        return w.tlv(w.SEQUENCE, source + b"\x82\x00")


def _check_tables(name: str, tables: LabTables) -> None:
    """What building the MIB would trip over, found at start-up instead of at first request."""
    for i, row in enumerate(tables.interfaces):
        if row.ip:
            try:
                ipaddress.ip_interface(row.ip)
            except ValueError:
                raise LabError(
                    i18n._(
                        "{name}: tables.yaml interfaces.{i}.ip: bad address {ip!r} (expected "
                        "e.g. 10.1.1.1/24)",
                        name=name,
                        i=i,
                        ip=row.ip,
                    )
                ) from None


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


class _AgentProtocol(asyncio.DatagramProtocol):
    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        gate = self.agent.faults
        if gate is not None and gate.drop(self.agent.elapsed()):
            return
        try:
            reply = self.agent.handle(data)
        except (w.BerError, ValueError, IndexError) as exc:
            log.debug("%s: dropped malformed datagram from %s: %s", self.agent.name, addr, exc)
            return
        except Exception:  # a bug must cost one answer, not the agent
            log.exception("%s: cannot answer a datagram from %s", self.agent.name, addr)
            return
        if reply is not None and self.transport is not None:
            if gate is not None and gate.delay:
                asyncio.get_running_loop().call_later(gate.delay, self._send, reply, addr)
            else:
                self.transport.sendto(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str | Any, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: %s", self.agent.name, exc)


@dataclass
class _Running:
    agent: Agent
    transport: asyncio.DatagramTransport
    address: tuple[str, int]


class SnmpLab:
    """Every lab agent in the caller's event loop, each on its own UDP port.

    MIBs are built (and lab data validated) at construction; :meth:`start` binds the ports
    (port 0 picks a free one: see :meth:`address`). ``clock`` drives uptime and counters.
    """

    def __init__(
        self, agents: Sequence[AgentSpec], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        names = [a.name for a in agents]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise LabError(
                i18n._("SNMP lab: duplicate agent names: {dupes}", dupes=", ".join(dupes))
            )
        ports = [(a.host, a.port) for a in agents if a.port]
        clash = sorted({f"{h}:{p}" for h, p in ports if ports.count((h, p)) > 1})
        if clash:
            raise LabError(
                i18n._("SNMP lab: several agents on udp {clash}", clash=", ".join(clash))
            )
        self._agents = [Agent(spec, clock) for spec in agents]
        self._running: dict[str, _Running] = {}

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            for agent in self._agents:
                spec = agent.spec
                try:
                    transport, _ = await loop.create_datagram_endpoint(
                        partial(_AgentProtocol, agent), local_addr=(spec.host, spec.port)
                    )
                except OSError as exc:
                    raise LabError(
                        i18n._(
                            "{name}: cannot bind SNMP agent to udp {host}:{port}: {reason}; stop "
                            "whatever holds the port or change snmp_port",
                            name=spec.name,
                            host=spec.host,
                            port=spec.port,
                            reason=exc.strerror or exc,
                        )
                    ) from exc
                host, port = transport.get_extra_info("sockname")[:2]
                agent.restart_clock()
                self._running[spec.name] = _Running(agent, transport, (host, port))
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        running, self._running = self._running, {}
        for item in running.values():
            item.transport.close()
        if running:
            await asyncio.sleep(0)  # let the transports finish closing

    async def __aenter__(self) -> SnmpLab:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def address(self, name: str) -> tuple[str, int]:
        """Where the agent ``name`` listens (after :meth:`start`)."""
        return self._running[name].address

    def agent(self, name: str) -> Agent:
        for agent in self._agents:
            if agent.name == name:
                return agent
        raise KeyError(name)
