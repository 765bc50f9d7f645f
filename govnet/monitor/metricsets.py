"""Metric sets: which objects to read from a device of each role, and how they become samples.

=========== ================================================================================
system      sysUpTime, sysName, snmpEngineBoots (sysDescr, sysObjectID now and then): the
            reachability test, response time, uptime and reboot detection
interfaces  IF-MIB: ifXTable 64-bit octet counters when the agent has them (32-bit ifTable
            counters otherwise, or with ``vars.if_counters: 32``), errors, oper/admin status,
            speed, name and alias; rates in bit/s, wraps and resets are gaps (counters.py)
host        HOST-RESOURCES-MIB: hrProcessorLoad, hrStorageTable (memory and fixed disks)
ups         UPS-MIB (RFC 1628): output source, battery status, charge, minutes left, seconds
            on battery, input voltage and output load per line, alarms present
health      vendor MIBs of network devices (govnet/data/health.yaml, chosen by platform): CPU,
            memory, temperature per component, fan and power-supply state (health.py)
sensors     ENTITY-SENSOR-MIB (scaled by entPhySensorScale/Precision, names from
            entPhysicalName) and the vendor tables of ``govnet/data/env-probes.yaml``;
            truthvalue sensors are leak contacts or dry contacts
=========== ================================================================================

Names, speeds and other slow-changing columns are read on the first poll, every
``STATIC_EVERY`` polls and after a reboot; counters and statuses on every poll. Each set is an
``async`` function of a :class:`PollContext`; the decoders are pure functions for the tests.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import Field, ValidationError

from govnet.errors import GovnetError, TransportError
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.monitor.counters import DeltaKind, UptimeChange, counter_rate, uptime_change
from govnet.monitor.health import as_int, as_text, poll_health
from govnet.monitor.model import PollEvent, PollResult, Sample
from govnet.transport.snmp import (
    DEFAULT_MAX_REPETITIONS,
    SnmpBackend,
    SnmpTarget,
    SnmpValue,
    oid_text,
)
from govnet.validation import Strict, first_problem

STATIC_EVERY = 10
MAX_COLUMN_REPETITIONS = 40  # ~26-byte Counter64 varbinds: about 1 KB a reply

# ------------------------------------------------------------------------------------ OIDs

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
ENGINE_BOOTS = "1.3.6.1.6.3.10.2.1.2.0"

IF = "1.3.6.1.2.1.2.2.1"
IF_DESCR, IF_SPEED, IF_ADMIN, IF_OPER = f"{IF}.2", f"{IF}.5", f"{IF}.7", f"{IF}.8"
IF_IN_OCTETS, IF_IN_ERRORS, IF_OUT_OCTETS, IF_OUT_ERRORS = (
    f"{IF}.10",
    f"{IF}.14",
    f"{IF}.16",
    f"{IF}.20",
)
IFX = "1.3.6.1.2.1.31.1.1.1"
IF_NAME, IF_HC_IN, IF_HC_OUT, IF_HIGH_SPEED, IF_ALIAS = (
    f"{IFX}.1",
    f"{IFX}.6",
    f"{IFX}.10",
    f"{IFX}.15",
    f"{IFX}.18",
)

HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"
HR_STORAGE = "1.3.6.1.2.1.25.2.3.1"
HR_STORAGE_TYPE, HR_STORAGE_DESCR, HR_STORAGE_UNITS, HR_STORAGE_SIZE, HR_STORAGE_USED = (
    f"{HR_STORAGE}.2",
    f"{HR_STORAGE}.3",
    f"{HR_STORAGE}.4",
    f"{HR_STORAGE}.5",
    f"{HR_STORAGE}.6",
)
HR_STORAGE_RAM = "1.3.6.1.2.1.25.2.1.2"
HR_STORAGE_FIXED_DISK = "1.3.6.1.2.1.25.2.1.4"

UPS = "1.3.6.1.2.1.33.1"
UPS_BATTERY_STATUS = f"{UPS}.2.1.0"
UPS_SECONDS_ON_BATTERY = f"{UPS}.2.2.0"
UPS_MINUTES_LEFT = f"{UPS}.2.3.0"
UPS_CHARGE = f"{UPS}.2.4.0"
UPS_INPUT_VOLTAGE = f"{UPS}.3.3.1.3"
UPS_OUTPUT_SOURCE = f"{UPS}.4.1.0"
UPS_OUTPUT_LOAD = f"{UPS}.4.4.1.5"
UPS_ALARMS = f"{UPS}.6.1.0"

ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
ENT_SENSOR = "1.3.6.1.2.1.99.1.1.1"
ENT_SENSOR_TYPE, ENT_SENSOR_SCALE, ENT_SENSOR_PRECISION, ENT_SENSOR_VALUE, ENT_SENSOR_STATUS = (
    f"{ENT_SENSOR}.1",
    f"{ENT_SENSOR}.2",
    f"{ENT_SENSOR}.3",
    f"{ENT_SENSOR}.4",
    f"{ENT_SENSOR}.5",
)

# ------------------------------------------------------------------------- role → sets

ROLE_SETS: dict[str, tuple[str, ...]] = {
    "core": ("system", "interfaces", "health"),
    "aggregation": ("system", "interfaces", "health"),
    "access": ("system", "interfaces", "health"),
    "firewall": ("system", "interfaces", "health"),
    "gap": ("system", "interfaces", "health"),
    "router": ("system", "interfaces", "health"),
    "server": ("system", "interfaces", "host"),
    "ups": ("system", "ups"),
    "env": ("system", "sensors"),
}


def metric_sets_for(device: Device) -> tuple[str, ...]:
    """The device's sets: ``vars.metric_sets`` if given, else by role (``system`` always)."""
    wanted = device.vars.get("metric_sets")
    if isinstance(wanted, list | tuple):
        names = tuple(str(s) for s in wanted)
        unknown = [s for s in names if s not in METRIC_SETS]
        if unknown:
            raise GovnetError(
                _(
                    "{name}: vars.metric_sets: unknown set(s) {unknown} (known: {metric_sets})",
                    name=device.name,
                    unknown=", ".join(unknown),
                    metric_sets=", ".join(METRIC_SETS),
                )
            )
        return ("system", *(s for s in names if s != "system"))
    return ROLE_SETS.get(device.role, ("system",))


# --------------------------------------------------------------------------- poll state


# an interface's octets in, out, errors in, out at the last poll are kept four to an
# interface in an unsigned 64-bit array, in the order of the device's interfaces; NOT_READ
# for a counter not read (a Counter64 at exactly 2**64 - 1 reads as not read: one rate lost)
NOT_READ = 2**64 - 1


@dataclass(slots=True)
class Interface:
    name: str
    alias: str = ""
    speed_bps: float = 0.0


@dataclass
class DeviceMemory:
    """What a device's polls remember from one to the next (never stored: a restart of the
    daemon starts again with a gap, as a reboot would)."""

    polls: int = 0
    uptime_ticks: int | None = None
    boots: int | None = None
    last_time: float | None = None  # wall time of the previous successful poll
    sys_object_id: str = ""
    interfaces: dict[str, Interface] | None = None
    if_bits: int = 64
    # the four counters of each interface at the last poll (NOT_READ where not read), in the
    # order of counter_keys (the interfaces' indices then): 32 bytes an interface, where a
    # dictionary of tuples was ~260 (at 10,000 switches, ~100 MB)
    counter_keys: tuple[str, ...] = ()
    counters: array[int] = field(default_factory=lambda: array("Q"))
    counter_time: float | None = None
    storage: dict[str, tuple[str, str, int]] | None = None  # index → (type oid, descr, units)
    sensor_names: dict[str, str] | None = None
    health_labels: dict[str, dict[str, SnmpValue]] | None = None  # name columns (health.py)

    def forget_counters(self) -> None:
        self.counter_keys, self.counters = (), array("Q")
        self.counter_time = None


@dataclass
class PollContext:
    device: Device
    target: SnmpTarget
    backend: SnmpBackend
    now: float  # wall time of the poll (the samples' timestamp)
    memory: DeviceMemory
    result: PollResult
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time

    @property
    def refresh(self) -> bool:
        """Read the slow-changing columns this time."""
        return self.memory.polls % STATIC_EVERY == 0 or self.result.rebooted

    def sample(self, metric: str, value: float | None, instance: str = "") -> None:
        if value is not None:
            self.result.samples.append(Sample(metric, instance, float(value)))

    def latest(self, metric: str, value: float | None, instance: str = "", text: str = "") -> None:
        self.result.latest.append((metric, instance, value, text))

    def event(self, kind: str, detail: str, instance: str = "") -> None:
        self.result.events.append(PollEvent(kind, detail, instance))

    async def get(self, oids: Sequence[str]) -> dict[str, SnmpValue]:
        values = await self.backend.get(self.target, oids)
        self.result.varbinds += len(values)
        return values

    async def walk(self, oid: str) -> dict[str, str | int | bytes | None]:
        """The column (or table) under ``oid`` keyed by the index after it."""
        values = await self.backend.bulkwalk(self.target, oid)
        self.result.varbinds += len(values)
        return column(values, oid)

    async def walk_many(
        self, oids: Sequence[str], max_repetitions: int = DEFAULT_MAX_REPETITIONS
    ) -> list[dict[str, SnmpValue]]:
        """:meth:`walk` of each column, in one backend operation."""
        out = []
        replies = await self.backend.bulkwalk_many(self.target, oids, max_repetitions)
        for oid, values in zip(oids, replies, strict=True):
            self.result.varbinds += len(values)
            out.append(column(values, oid))
        return out


def column(values: Mapping[str, SnmpValue], oid: str) -> dict[str, SnmpValue]:
    """``{"1.3.6.1.2.1.2.2.1.8.3": 1}`` under ``1.3.6.1.2.1.2.2.1.8`` → ``{"3": 1}``."""
    prefix = oid_text(oid) + "."
    n = len(prefix)
    return {k[n:]: v for k, v in values.items() if k.startswith(prefix)}


# ------------------------------------------------------------------------------ system


async def poll_system(ctx: PollContext) -> None:
    """The reachability test: a GET of the system scalars. Raises TransportError when the
    device does not answer (the poller then counts a failure)."""
    mem = ctx.memory
    oids = [SYS_UPTIME, SYS_NAME, ENGINE_BOOTS]
    if ctx.refresh or not mem.sys_object_id:
        oids += [SYS_DESCR, SYS_OBJECT_ID]
    start = ctx.monotonic()
    values = await ctx.get(oids)
    rtt_ms = (ctx.monotonic() - start) * 1000
    ctx.sample("up", 1)
    ctx.sample("rtt_ms", round(rtt_ms, 3))
    if SYS_OBJECT_ID in values and values[SYS_OBJECT_ID] is not None:
        mem.sys_object_id = as_text(values[SYS_OBJECT_ID])
    ticks = as_int(values.get(SYS_UPTIME))
    boots = as_int(values.get(ENGINE_BOOTS))
    seconds = ctx.now - mem.last_time if mem.last_time is not None else 0.0
    if ticks is not None:
        change = uptime_change(mem.uptime_ticks, ticks, seconds, mem.boots, boots)
        if change is UptimeChange.REBOOT:
            ctx.result.rebooted = True
            mem.forget_counters()
            ctx.event("reboot", f"rebooted: uptime {mem.uptime_ticks} → {ticks} ticks")
        elif change is UptimeChange.WRAP:
            ctx.event("uptime-wrap", "sysUpTime wrapped at 2^32 ticks (497 days); not a reboot")
        mem.uptime_ticks = ticks
        ctx.result.uptime_s = ticks / 100
        ctx.latest("uptime_s", ticks / 100)
    if boots is not None:
        mem.boots = boots
    ctx.result.rtt_ms = round(rtt_ms, 3)
    ctx.result.sys_name = as_text(values.get(SYS_NAME))
    if SYS_DESCR in values:
        ctx.result.sys_descr = as_text(values.get(SYS_DESCR))


# -------------------------------------------------------------------------- interfaces


async def poll_interfaces(ctx: PollContext) -> None:
    mem = ctx.memory
    if mem.interfaces is None or ctx.refresh:
        names = await ctx.walk(IF_NAME) or await ctx.walk(IF_DESCR)
        aliases = await ctx.walk(IF_ALIAS)
        speeds: dict[str, float] = {
            k: float(v) * 1_000_000
            for k, v in (await ctx.walk(IF_HIGH_SPEED)).items()
            if isinstance(v, int)
        }
        if not speeds or all(s == 0 for s in speeds.values()):
            speeds = {
                k: float(v) for k, v in (await ctx.walk(IF_SPEED)).items() if isinstance(v, int)
            }
        mem.interfaces = {
            idx: Interface(as_text(name) or idx, as_text(aliases.get(idx)), speeds.get(idx, 0.0))
            for idx, name in names.items()
        }
        wanted = str(ctx.device.vars.get("if_counters", "")).strip()
        mem.if_bits = 32 if wanted == "32" else 64
    if not mem.interfaces:
        return
    bits = mem.if_bits
    octets = (IF_HC_IN, IF_HC_OUT) if bits == 64 else (IF_IN_OCTETS, IF_OUT_OCTETS)
    admin, oper, in_octets, out_octets, in_errors, out_errors = await ctx.walk_many(
        (IF_ADMIN, IF_OPER, *octets, IF_IN_ERRORS, IF_OUT_ERRORS),
        column_repetitions(len(mem.interfaces)),
    )
    if bits == 64 and not in_octets:  # no ifXTable counters on this agent: 32-bit from now on
        bits = mem.if_bits = 32
        mem.forget_counters()
        in_octets, out_octets = await ctx.walk_many(
            (IF_IN_OCTETS, IF_OUT_OCTETS), column_repetitions(len(mem.interfaces))
        )
    read_at = ctx.wall()  # rates over the time between readings, not between poll starts
    interface_samples(
        ctx,
        mem.interfaces,
        admin,
        oper,
        in_octets,
        out_octets,
        in_errors,
        out_errors,
        bits,
        read_at,
    )


def column_repetitions(rows: int) -> int:
    """GETBULK max-repetitions for walking a column of ``rows`` known rows: the fewest pages
    of at most :data:`MAX_COLUMN_REPETITIONS` that hold every row and the first OID past the
    column (where the walk ends), split evenly; never below the default. A 52-port switch's
    column is two requests of 27 instead of three of 25, a 28-port one a single request; each
    reply stays about 1 KB, well inside one Ethernet frame."""
    wanted = rows + 1
    pages = -(-wanted // MAX_COLUMN_REPETITIONS)
    return max(DEFAULT_MAX_REPETITIONS, -(-wanted // pages))


def interface_samples(
    ctx: PollContext,
    interfaces: Mapping[str, Interface],
    admin: Mapping[str, SnmpValue],
    oper: Mapping[str, SnmpValue],
    in_octets: Mapping[str, SnmpValue],
    out_octets: Mapping[str, SnmpValue],
    in_errors: Mapping[str, SnmpValue],
    out_errors: Mapping[str, SnmpValue],
    bits: int,
    read_at: float,
) -> None:
    """Statuses, rates (bit/s), errors (/s) and utilisation of every interface.

    The poller's hottest loop (a 50-port switch is 300 counters a poll): values are appended
    to the result directly, an interface's four counters are remembered as one tuple under its
    index, and the usual counter step (grew, within the line's speed) is computed in
    :func:`_rate` itself; anything else (first reading, a wrap, a reset, a spike) goes through
    :func:`counter_rate`, which says which it is. Same figures as one call per counter.
    """
    mem = ctx.memory
    result = ctx.result
    samples, latest = result.samples, result.latest
    static = ctx.refresh or mem.counter_time is None
    seconds = read_at - mem.counter_time if mem.counter_time is not None else 0.0
    keys = tuple(interfaces)
    previous = mem.counters
    # the last poll's counters of an interface start at at[idx] in previous (the same
    # interfaces in the same order: at position × 4, no lookup)
    at: Mapping[str, int] | None = (
        None if keys == mem.counter_keys else {k: 4 * n for n, k in enumerate(mem.counter_keys)}
    )
    current = array("Q", bytes(32 * len(keys)))
    base = -4
    for idx, iface in interfaces.items():
        base += 4
        name = iface.name
        raw = oper.get(idx)
        oper_status = raw if type(raw) is int else as_int(raw)
        raw = admin.get(idx)
        admin_status = raw if type(raw) is int else as_int(raw)
        latest.append(("if_oper", name, oper_status, ""))
        latest.append(("if_admin", name, admin_status, ""))
        speed = iface.speed_bps
        if static:  # read this poll: names, aliases and speeds change rarely
            latest.append(("if_speed_bps", name, speed or None, ""))
            if iface.alias:
                latest.append(("if_alias", name, None, iface.alias))
        max_rate = speed / 8 * 1.1 if speed > 0 else None
        raw = in_octets.get(idx)
        v_in = raw if type(raw) is int else as_int(raw)
        raw = out_octets.get(idx)
        v_out = raw if type(raw) is int else as_int(raw)
        raw = in_errors.get(idx)
        v_ie = raw if type(raw) is int else as_int(raw)
        raw = out_errors.get(idx)
        v_oe = raw if type(raw) is int else as_int(raw)
        # kept as read; NOT_READ for none (or anything that is no counter's value)
        current[base] = v_in if v_in is not None and 0 <= v_in < NOT_READ else NOT_READ
        current[base + 1] = v_out if v_out is not None and 0 <= v_out < NOT_READ else NOT_READ
        current[base + 2] = v_ie if v_ie is not None and 0 <= v_ie < NOT_READ else NOT_READ
        current[base + 3] = v_oe if v_oe is not None and 0 <= v_oe < NOT_READ else NOT_READ
        was = base if at is None else at.get(idx, -1)
        p_in = p_out = p_ie = p_oe = None
        if was >= 0:
            p_in, p_out, p_ie, p_oe = previous[was : was + 4]
            if p_in == NOT_READ:
                p_in = None
            if p_out == NOT_READ:
                p_out = None
            if p_ie == NOT_READ:
                p_ie = None
            if p_oe == NOT_READ:
                p_oe = None
        r_in = _rate(ctx, name, "in", p_in, v_in, seconds, bits, max_rate)
        r_out = _rate(ctx, name, "out", p_out, v_out, seconds, bits, max_rate)
        r_ie = _rate(ctx, name, "in_err", p_ie, v_ie, seconds, 32, None)
        r_oe = _rate(ctx, name, "out_err", p_oe, v_oe, seconds, 32, None)
        up = oper_status == 1
        if up:
            if r_in is not None:
                samples.append(Sample("if_in_bps", name, round(r_in * 8, 3)))
            if r_out is not None:
                samples.append(Sample("if_out_bps", name, round(r_out * 8, 3)))
            if r_ie is not None and r_oe is not None:
                samples.append(Sample("if_errors_ps", name, round(r_ie + r_oe, 6)))
        if speed > 0 and (r_in is not None or r_out is not None):
            peak = max(r_in if r_in is not None else 0.0, r_out if r_out is not None else 0.0)
            latest.append(("if_util_pct", name, round(min(peak * 8 / speed * 100, 100.0), 3), ""))
        elif not up:
            latest.append(("if_util_pct", name, 0.0, ""))
    mem.counter_keys, mem.counters = keys, current
    mem.counter_time = read_at


def _rate(
    ctx: PollContext,
    name: str,
    key: str,
    prev: int | None,
    value: int | None,
    seconds: float,
    width: int,
    limit: float | None,
) -> float | None:
    """A counter's rate per second since the previous poll, None for none (no value, the
    first reading, or a gap: a wrap, a reset or a spike, which is also an event)."""
    if value is None:
        return None
    if prev is not None and seconds > 0 and value >= prev:  # the usual step, inline
        rate = (value - prev) / seconds
        if limit is None or rate <= limit:
            return rate
    delta = counter_rate(prev, value, seconds, width, limit)
    if delta.rate is None and delta.kind is not DeltaKind.FIRST:
        ctx.event("counter-gap", f"{name} {key}: {delta.kind.value}, left as a gap", name)
    return delta.rate


# -------------------------------------------------------------------------------- host


async def poll_host(ctx: PollContext) -> None:
    mem = ctx.memory
    loads = await ctx.walk(HR_PROCESSOR_LOAD)
    if mem.storage is None or ctx.refresh:
        types = await ctx.walk(HR_STORAGE_TYPE)
        descrs = await ctx.walk(HR_STORAGE_DESCR)
        units = await ctx.walk(HR_STORAGE_UNITS)
        mem.storage = {
            idx: (as_text(kind), as_text(descrs.get(idx)) or idx, as_int(units.get(idx)) or 1)
            for idx, kind in types.items()
        }
    sizes = await ctx.walk(HR_STORAGE_SIZE)
    used = await ctx.walk(HR_STORAGE_USED)
    for metric, instance, value in host_samples(loads, mem.storage, sizes, used):
        ctx.sample(metric, value, instance)


def host_samples(
    loads: Mapping[str, SnmpValue],
    storage: Mapping[str, tuple[str, str, int]],
    sizes: Mapping[str, SnmpValue],
    used: Mapping[str, SnmpValue],
) -> list[tuple[str, str, float]]:
    """CPU (average of the cores, instance ""), memory and fixed-disk use in percent."""
    out: list[tuple[str, str, float]] = []
    cores = [v for v in (as_int(x) for x in loads.values()) if v is not None]
    if cores:
        out.append(("cpu_pct", "", round(sum(cores) / len(cores), 3)))
    ram_size = ram_used = 0
    for idx, (kind, descr, _units) in storage.items():
        size, use = as_int(sizes.get(idx)), as_int(used.get(idx))
        if not size or use is None:
            continue
        if kind == HR_STORAGE_RAM:
            ram_size, ram_used = ram_size + size, ram_used + use
        elif kind == HR_STORAGE_FIXED_DISK:
            out.append(("storage_used_pct", descr, round(use / size * 100, 3)))
    if ram_size:
        out.append(("mem_used_pct", "", round(ram_used / ram_size * 100, 3)))
    return out


# --------------------------------------------------------------------------------- UPS


async def poll_ups(ctx: PollContext) -> None:
    scalars = await ctx.get(
        [
            UPS_BATTERY_STATUS,
            UPS_SECONDS_ON_BATTERY,
            UPS_MINUTES_LEFT,
            UPS_CHARGE,
            UPS_OUTPUT_SOURCE,
            UPS_ALARMS,
        ]
    )
    voltages = await ctx.walk(UPS_INPUT_VOLTAGE)
    loads = await ctx.walk(UPS_OUTPUT_LOAD)
    samples, latest = ups_values(scalars, voltages, loads)
    for metric, instance, value in samples:
        ctx.sample(metric, value, instance)
    for metric, instance, level in latest:
        ctx.latest(metric, level, instance)


def ups_values(
    scalars: Mapping[str, SnmpValue],
    voltages: Mapping[str, SnmpValue],
    loads: Mapping[str, SnmpValue],
) -> tuple[list[tuple[str, str, float]], list[tuple[str, str, float | None]]]:
    """RFC 1628 objects → (samples, latest-only values)."""
    samples: list[tuple[str, str, float]] = []
    latest: list[tuple[str, str, float | None]] = []
    source = as_int(scalars.get(UPS_OUTPUT_SOURCE))
    if source is not None:
        samples.append(("ups_on_battery", "", 1.0 if source == 5 else 0.0))
        latest.append(("ups_output_source", "", float(source)))
    for oid, metric in ((UPS_CHARGE, "ups_charge_pct"), (UPS_MINUTES_LEFT, "ups_minutes_left")):
        value = as_int(scalars.get(oid))
        if value is not None:
            samples.append((metric, "", float(value)))
    for oid, metric in (
        (UPS_BATTERY_STATUS, "ups_battery_status"),
        (UPS_SECONDS_ON_BATTERY, "ups_seconds_on_battery"),
        (UPS_ALARMS, "ups_alarms"),
    ):
        value = as_int(scalars.get(oid))
        latest.append((metric, "", float(value) if value is not None else None))
    line_loads = {k: v for k, v in ((k, as_int(v)) for k, v in loads.items()) if v is not None}
    if line_loads:
        samples.append(("ups_load_pct", "", float(max(line_loads.values()))))
    for line, volts in voltages.items():
        value = as_int(volts)
        if value is not None:
            samples.append(("ups_input_voltage", line, float(value)))
    return samples, latest


# ----------------------------------------------------------------------------- sensors

_SENSOR_KINDS = {8: "temperature_c", 9: "humidity_pct"}
TRUTHVALUE = 12


class ProbeTable(Strict):
    kind: str = Field(pattern="^(temperature|humidity|leak|contact)$")
    value: str
    name: str | None = None
    status: str | None = None
    scale: float = 1.0
    failed: list[int] = Field(default_factory=list)
    active: list[int] = Field(default_factory=list)


class Probe(Strict):
    id: str
    vendor: str = ""
    sys_object_id: list[str] = Field(min_length=1)
    tables: list[ProbeTable] = Field(min_length=1)

    def matches(self, sys_object_id: str) -> bool:
        oid = oid_text(sys_object_id)
        return any(oid == p or oid.startswith(oid_text(p) + ".") for p in self.sys_object_id)


class ProbeCatalogue(Strict):
    probes: list[Probe] = Field(default_factory=list)
    entity_leak_words: list[str] = Field(default_factory=list)


@cache
def probe_catalogue() -> ProbeCatalogue:
    text = resources.files("govnet.data").joinpath("env-probes.yaml").read_text(encoding="utf-8")
    try:
        return ProbeCatalogue.model_validate(yaml.safe_load(text))
    except ValidationError as exc:  # shipped data: a bug, but say where
        where, message = first_problem(exc, ProbeCatalogue)
        raise GovnetError(
            _("govnet/data/env-probes.yaml: {where}: {message}", where=where, message=message)
        ) from exc


_KIND_METRIC = {"temperature": "temperature_c", "humidity": "humidity_pct"}


async def poll_sensors(ctx: PollContext) -> None:
    mem = ctx.memory
    if mem.sensor_names is None or ctx.refresh:
        mem.sensor_names = {k: as_text(v) for k, v in (await ctx.walk(ENT_PHYSICAL_NAME)).items()}
    types = await ctx.walk(ENT_SENSOR_TYPE)
    if types:
        scales = await ctx.walk(ENT_SENSOR_SCALE)
        precisions = await ctx.walk(ENT_SENSOR_PRECISION)
        values = await ctx.walk(ENT_SENSOR_VALUE)
        statuses = await ctx.walk(ENT_SENSOR_STATUS)
        leak_names = ctx.device.vars.get("leak_sensors")
        for metric, instance, value in entity_sensor_samples(
            types,
            scales,
            precisions,
            values,
            statuses,
            mem.sensor_names,
            leak_names if isinstance(leak_names, list) else None,
        ):
            _emit(ctx, metric, instance, value)
    catalogue = probe_catalogue()
    for probe in catalogue.probes:
        if mem.sys_object_id and probe.matches(mem.sys_object_id):
            for table in probe.tables:
                columns = {"value": await ctx.walk(table.value)}
                if not columns["value"]:
                    continue
                if table.name:
                    columns["name"] = await ctx.walk(table.name)
                if table.status:
                    columns["status"] = await ctx.walk(table.status)
                for metric, instance, value in probe_samples(table, columns):
                    _emit(ctx, metric, instance, value)


def _emit(ctx: PollContext, metric: str, instance: str, value: float | None) -> None:
    if metric in ("sensor_ok", "contact"):
        ctx.latest(metric, value, instance)
    else:
        ctx.sample(metric, value, instance)


def _scaled(value: int, scale: int | None, precision: int | None) -> float:
    """entPhySensorValue × 10^(3·(scale − units)) / 10^precision (units = 9)."""
    exponent = 3 * ((scale or 9) - 9) - (precision or 0)
    return round(value * 10.0**exponent, 6)


def entity_sensor_samples(
    types: Mapping[str, SnmpValue],
    scales: Mapping[str, SnmpValue],
    precisions: Mapping[str, SnmpValue],
    values: Mapping[str, SnmpValue],
    statuses: Mapping[str, SnmpValue],
    names: Mapping[str, str],
    leak_names: Sequence[str] | None = None,
) -> list[tuple[str, str, float | None]]:
    """ENTITY-SENSOR-MIB rows → (metric, sensor name, value); ``sensor_ok`` for every row."""
    words = [w.lower() for w in probe_catalogue().entity_leak_words]
    out: list[tuple[str, str, float | None]] = []
    for idx, kind_value in types.items():
        kind = as_int(kind_value)
        name = names.get(idx) or f"sensor {idx}"
        status = as_int(statuses.get(idx))
        ok = status in (None, 1)
        out.append(("sensor_ok", name, 1.0 if ok else 0.0))
        raw = as_int(values.get(idx))
        if not ok or raw is None or kind is None:
            continue
        if kind == TRUTHVALUE:
            if leak_names is not None:
                is_leak = name in leak_names
            else:
                is_leak = any(w in name.lower() for w in words)
            out.append(("leak" if is_leak else "contact", name, 1.0 if raw == 1 else 0.0))
        elif kind in _SENSOR_KINDS:
            scale, precision = as_int(scales.get(idx)), as_int(precisions.get(idx))
            out.append((_SENSOR_KINDS[kind], name, _scaled(raw, scale, precision)))
    return out


def probe_samples(
    table: ProbeTable, columns: Mapping[str, Mapping[str, SnmpValue]]
) -> list[tuple[str, str, float | None]]:
    out: list[tuple[str, str, float | None]] = []
    names = columns.get("name", {})
    statuses = columns.get("status", {})
    for idx, raw in columns["value"].items():
        name = as_text(names.get(idx)) or idx
        status = as_int(statuses.get(idx))
        failed = status is not None and status in table.failed
        out.append(("sensor_ok", name, 0.0 if failed else 1.0))
        value = as_int(raw)
        if failed or value is None:
            continue
        if table.kind in ("leak", "contact"):
            out.append((table.kind, name, 1.0 if value in table.active else 0.0))
        else:
            out.append((_KIND_METRIC[table.kind], name, round(value * table.scale, 6)))
    return out


# ---------------------------------------------------------------------------- registry

MetricSet = Callable[[PollContext], Awaitable[None]]
METRIC_SETS: dict[str, MetricSet] = {
    "system": poll_system,
    "interfaces": poll_interfaces,
    "host": poll_host,
    "ups": poll_ups,
    "sensors": poll_sensors,
    "health": poll_health,
}


async def poll_device(ctx: PollContext, sets: Sequence[str]) -> None:
    """Run the device's sets: ``system`` first (its failure is the device's failure); a
    later set that fails costs its own values only, noted as a ``partial`` event."""
    await METRIC_SETS["system"](ctx)
    for name in sets:
        if name == "system":
            continue
        try:
            await METRIC_SETS[name](ctx)
        except TransportError as exc:
            ctx.event("partial", f"{name}: {exc.message}")
    ctx.memory.polls += 1
    ctx.memory.last_time = ctx.now


def describe_sets() -> dict[str, Any]:
    return {"roles": {k: list(v) for k, v in ROLE_SETS.items()}, "sets": list(METRIC_SETS)}
