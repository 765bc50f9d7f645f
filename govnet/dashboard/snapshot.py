"""What one dashboard frame shows, read from the store in a handful of indexed queries.

The daemon writes, the dashboard reads (another process; SQLite WAL lets both work at once):
device states, the latest UPS and sensor values, the busiest interfaces, firing alerts, the
last hour of a few series for sparklines, the daemon's heartbeat, and the services' latest
checks (``ServiceStore.states()``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from govnet.store.availability import ServiceStore
from govnet.store.monitor import MonitorStore

SPARK_WINDOW = 3600.0
HEARTBEAT_STALE = 30.0
STALE_INTERVALS = 3  # a device state older than this many poll intervals is drawn stale
DEFAULT_INTERVAL = 60.0

UPS_METRICS = (
    "ups_output_source",
    "ups_battery_status",
    "ups_charge_pct",
    "ups_minutes_left",
    "ups_seconds_on_battery",
    "ups_load_pct",
)
ENV_METRICS = ("temperature_c", "humidity_pct", "leak", "sensor_ok")
ROOM_ROLES = ("ups", "env")
# network devices' health (govnet/monitor/health.py), instance = the component's name
HEALTH_METRICS = ("cpu_pct", "mem_used_pct", "temperature_c", "fan_ok", "psu_ok", "hw_ok")
NETWORK_ROLES = frozenset({"core", "aggregation", "access", "firewall", "gap", "router"})
HOT_C, BUSY_PCT, FULL_PCT = 70.0, 90.0, 95.0  # as the shipped alert rules


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """The worst of a device's components (latest values of the health set)."""

    cpu: float | None = None  # highest cpu_pct of its boards/CPUs
    mem: float | None = None  # highest mem_used_pct
    temp: float | None = None  # highest temperature_c
    failed: tuple[str, ...] = ()  # "fan:Fan 2", "psu:Sw1, PS2", "hw:Board 1"

    @property
    def flag(self) -> str:
        """``!`` a failed part, ``^`` running hot/busy/full, ``""`` fine."""
        if self.failed:
            return "!"
        if (self.temp or 0) > HOT_C or (self.cpu or 0) > BUSY_PCT or (self.mem or 0) > FULL_PCT:
            return "^"
        return ""


@dataclass(frozen=True, slots=True)
class DeviceTile:
    name: str
    zone: str
    site: str
    rack: str
    role: str
    state: str  # up | unreachable | down | unknown
    since: float
    error: str
    alerts: int = 0  # firing, unsuppressed
    worst: str = ""  # worst firing severity
    last_poll: float = 0.0  # 0: never polled
    interval: float = 60.0  # the poll interval the daemon scheduled (next poll - last poll)

    def age(self, now: float) -> float | None:
        return max(0.0, now - self.last_poll) if self.last_poll else None

    def stale(self, now: float) -> bool:
        """Its state is older than three poll intervals: history, not the device now."""
        age = self.age(now)
        return age is not None and age > STALE_INTERVALS * self.interval

    health: DeviceHealth | None = None  # network devices with a health set

    @property
    def rank(self) -> tuple[int, int, str, str]:
        """Worst first: down, unreachable, critical/high alerts, unknown, other alerts, up."""
        severity = _SEVERITY_RANK.get(self.worst, 9)
        state = _STATE_RANK.get(self.state)
        if state is None:
            state = (
                2 if severity <= 1 else 3 if self.state == "unknown" else 4 if self.alerts else 5
            )
        return state, severity, self.rack or self.site, self.name


_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
_STATE_RANK = {"down": 0, "unreachable": 1}


@dataclass(frozen=True, slots=True)
class ServiceTile:
    """A service's latest check."""

    name: str
    label_en: str
    label_zh: str
    zone: str
    unit: str
    state: str  # up | unreachable | down | unknown
    since: float
    ms: float | None  # the slowest probe's response time
    cert_days: float | None  # https: days left on the certificate
    error: str
    alerts: int = 0
    worst: str = ""

    @property
    def rank(self) -> tuple[int, int, str]:
        """Worst first, as device tiles: down, unreachable, alerting, unknown, up."""
        severity = _SEVERITY_RANK.get(self.worst, 9)
        state = _STATE_RANK.get(self.state)
        if state is None:
            state = (
                2 if severity <= 1 else 3 if self.state == "unknown" else 4 if self.alerts else 5
            )
        return state, severity, self.name


@dataclass(frozen=True)
class Ups:
    device: str
    state: str
    source: float | None  # 3 normal, 4 bypass, 5 battery, 2 none
    battery: float | None  # 2 normal, 3 low, 4 depleted
    charge: float | None
    minutes: float | None
    on_battery_s: float | None
    load: float | None


@dataclass(frozen=True)
class Sensor:
    device: str
    name: str
    metric: str  # temperature_c | humidity_pct | leak
    value: float | None
    ok: bool


@dataclass(frozen=True)
class Link:
    device: str
    interface: str
    util: float
    alias: str = ""


@dataclass(frozen=True)
class ActiveAlert:
    id: int
    opened: float
    severity: str
    device: str
    instance: str
    title_en: str
    title_zh: str
    message: str
    suppressed: bool
    acked: bool
    flapping: bool


@dataclass
class Snapshot:
    now: float
    devices: list[DeviceTile] = field(default_factory=list)
    ups: list[Ups] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    alerts: list[ActiveAlert] = field(default_factory=list)
    sparks: dict[tuple[str, str, str], list[tuple[float, float]]] = field(default_factory=dict)
    daemon: dict[str, Any] = field(default_factory=dict)
    services: list[ServiceTile] = field(default_factory=list)  # worst first
    zone_labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # zone → (en, zh)

    @property
    def newest_poll(self) -> float | None:
        """When the freshest device state was polled (None: no device polled yet)."""
        return max((d.last_poll for d in self.devices if d.last_poll), default=None)

    @property
    def daemon_alive(self) -> bool:
        beat = self.daemon.get("heartbeat")
        return isinstance(beat, int | float) and self.now - beat <= HEARTBEAT_STALE


def read_health(ms: MonitorStore, devices: set[str]) -> dict[str, DeviceHealth]:
    """Each device's :class:`DeviceHealth` from the latest health values."""
    worst: dict[str, dict[str, float]] = {}
    failed: dict[str, list[str]] = {}
    for r in ms.latest_values(HEALTH_METRICS):
        device, metric, value = r["device"], r["metric"], r["value"]
        if device not in devices or value is None:
            continue
        if metric in ("fan_ok", "psu_ok", "hw_ok"):
            if value == 0.0:
                failed.setdefault(device, []).append(f"{metric[:-3]}:{r['instance']}")
            worst.setdefault(device, {})
        else:
            seen = worst.setdefault(device, {})
            seen[metric] = max(seen.get(metric, value), value)
    return {
        d: DeviceHealth(
            v.get("cpu_pct"),
            v.get("mem_used_pct"),
            v.get("temperature_c"),
            tuple(sorted(failed.get(d, ()))),
        )
        for d, v in worst.items()
    }


def read_snapshot(
    ms: MonitorStore,
    now: float,
    zones: Sequence[str] = (),
    top: int = 12,
    zone_labels: Mapping[str, tuple[str, str]] | None = None,
) -> Snapshot:
    snap = Snapshot(now=now, zone_labels=dict(zone_labels or {}))
    alerts = ms.list_alerts("firing", limit=500)
    per_device: dict[str, list[str]] = {}
    for a in alerts:
        if not a["suppressed"]:
            per_device.setdefault(a["device"], []).append(a["severity"])
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    wanted = set(zones)
    names: set[str] = set()
    for row in ms.device_summaries():
        device, zone, site, rack, role, state, since, error, last_poll, next_poll = row
        if wanted and zone not in wanted:
            continue
        sev = per_device.get(device)
        worst = min(sev, key=lambda s: order.get(s, 9)) if sev else ""
        interval = next_poll - last_poll if last_poll and next_poll > last_poll else 0.0
        snap.devices.append(
            DeviceTile(
                device,
                zone,
                site,
                rack,
                role,
                state,
                since,
                error,
                len(sev) if sev else 0,
                worst,
                float(last_poll or 0.0),
                interval or DEFAULT_INTERVAL,
            )
        )
        names.add(device)
    for r in ServiceStore(ms.store).states():
        if wanted and r["zone"] not in wanted:
            continue
        sev = per_device.get(r["service"])
        worst = min(sev, key=lambda s: order.get(s, 9)) if sev else ""
        snap.services.append(
            ServiceTile(
                r["service"],
                r["label_en"],
                r["label_zh"],
                r["zone"],
                r["unit"],
                r["state"],
                r["since"],
                r["ms"],
                r["cert_days"],
                r["error"],
                len(sev) if sev else 0,
                worst,
            )
        )
        names.add(r["service"])  # its alerts (device = the service) pass the zone filter
    snap.services.sort(key=lambda t: t.rank)
    states = {d.name: d.state for d in snap.devices}
    # the room: UPSes and environment sensors (a switch's own temperatures are its health)
    room = {d.name for d in snap.devices if d.role in ROOM_ROLES}
    network = {d.name for d in snap.devices if d.role in NETWORK_ROLES}
    if network:
        health = read_health(ms, network)
        snap.devices = [
            replace(d, health=health[d.name]) if d.name in health else d for d in snap.devices
        ]
    latest = [r for r in ms.latest_values(UPS_METRICS + ENV_METRICS) if r["device"] in room]
    ups: dict[str, dict[str, float | None]] = {}
    env: dict[tuple[str, str], dict[str, float | None]] = {}
    for r in latest:
        if r["metric"] in UPS_METRICS:
            ups.setdefault(r["device"], {})[r["metric"]] = r["value"]
        else:
            env.setdefault((r["device"], r["instance"]), {})[r["metric"]] = r["value"]
    for device, v in sorted(ups.items()):
        snap.ups.append(
            Ups(
                device,
                states.get(device, "unknown"),
                v.get("ups_output_source"),
                v.get("ups_battery_status"),
                v.get("ups_charge_pct"),
                v.get("ups_minutes_left"),
                v.get("ups_seconds_on_battery"),
                v.get("ups_load_pct"),
            )
        )
    for (device, name), v in sorted(env.items()):
        ok = v.get("sensor_ok") != 0.0
        for metric in ("temperature_c", "humidity_pct", "leak"):
            if metric in v or (not ok and metric == "temperature_c" and len(v) == 1):
                snap.sensors.append(Sensor(device, name, metric, v.get(metric), ok))
    for r in ms.top("if_util_pct", top * 3):
        if r["device"] in names and len(snap.links) < top:
            snap.links.append(Link(r["device"], r["instance"], float(r["value"])))
    if snap.links:
        aliases = {
            (r["device"], r["instance"]): r["text"]
            for r in ms.latest_values(["if_alias"])
            if (r["device"], r["instance"]) in {(k.device, k.interface) for k in snap.links}
        }
        snap.links = [
            Link(k.device, k.interface, k.util, aliases.get((k.device, k.interface), ""))
            for k in snap.links
        ]
    for a in alerts:
        if wanted and a["device"] not in names:
            continue
        snap.alerts.append(_active_alert(a))
    keys = [(u.device, "ups_charge_pct", "") for u in snap.ups]
    keys += [(s.device, s.metric, s.name) for s in snap.sensors if s.metric != "leak"]
    keys += [(k.device, "if_in_bps", k.interface) for k in snap.links]
    snap.sparks = ms.values_many(keys, now - SPARK_WINDOW, now)
    raw = ms.get_meta("daemon")
    if raw:
        try:
            snap.daemon = json.loads(raw)
        except ValueError:
            snap.daemon = {}
    return snap


# ------------------------------------------------------------------------------ one device


@dataclass(frozen=True)
class Reading:
    metric: str
    instance: str
    value: float | None
    text: str
    ts: float


@dataclass(frozen=True)
class Port:
    name: str
    alias: str
    oper: float | None  # 1 up
    admin: float | None
    util: float | None  # %
    in_bps: float | None
    out_bps: float | None
    errors: float | None


@dataclass
class Detail:
    """One device for the detail view: its state, every non-interface reading in the store
    (system, UPS, sensors, and whatever health metric sets add), its interfaces busiest first,
    its firing alerts, and the last hour of its series for sparklines."""

    now: float
    device: str
    state: dict[str, Any] = field(default_factory=dict)  # the monitor_devices row
    readings: list[Reading] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    alerts: list[ActiveAlert] = field(default_factory=list)
    sparks: dict[tuple[str, str, str], list[tuple[float, float]]] = field(default_factory=dict)


_PORT_METRICS = {
    "if_in_bps",
    "if_out_bps",
    "if_util_pct",
    "if_oper",
    "if_admin",
    "if_alias",
    "if_errors_ps",
    "if_speed_bps",
}


def read_detail(ms: MonitorStore, device: str, now: float, ports: int = 12) -> Detail:
    from govnet.monitor.metrics import is_series

    detail = Detail(now=now, device=device)
    detail.state = next((r for r in ms.device_states() if r["device"] == device), {})
    by_port: dict[str, dict[str, Any]] = {}
    for r in ms.latest_values(device=device):
        if r["metric"] in _PORT_METRICS:
            by_port.setdefault(r["instance"], {})[r["metric"]] = (
                r["text"] if r["metric"] == "if_alias" else r["value"]
            )
        elif r["metric"] != "up":
            detail.readings.append(
                Reading(r["metric"], r["instance"], r["value"], r["text"], r["ts"])
            )
    detail.readings.sort(key=lambda r: (r.metric, r.instance))

    def traffic(v: dict[str, Any]) -> float:
        return float(v.get("if_in_bps") or 0.0) + float(v.get("if_out_bps") or 0.0)

    def num(v: dict[str, Any], key: str) -> float | None:
        value = v.get(key)
        return float(value) if isinstance(value, int | float) else None

    ranked = sorted(by_port.items(), key=lambda kv: (-traffic(kv[1]), kv[0]))
    for name, v in ranked[:ports]:
        detail.ports.append(
            Port(
                name,
                str(v.get("if_alias") or ""),
                num(v, "if_oper"),
                num(v, "if_admin"),
                num(v, "if_util_pct"),
                num(v, "if_in_bps"),
                num(v, "if_out_bps"),
                num(v, "if_errors_ps"),
            )
        )
    for a in ms.list_alerts("firing", limit=500):
        if a["device"] == device:
            detail.alerts.append(_active_alert(a))
    keys = [(device, r.metric, r.instance) for r in detail.readings if is_series(r.metric)]
    keys += [(device, "if_in_bps", p.name) for p in detail.ports[:6]]
    detail.sparks = ms.values_many(keys, now - SPARK_WINDOW, now)
    return detail


def _active_alert(a: Mapping[str, Any]) -> ActiveAlert:
    """A firing alert as the store lists it (``MonitorStore.list_alerts``/``firing_alerts``)."""
    return ActiveAlert(
        a["id"],
        a["opened"],
        a["severity"],
        a["device"],
        a["instance"],
        a["title_en"],
        a["title_zh"],
        a["message"],
        bool(a["suppressed"]),
        bool(a["acked"]),
        bool(a["flapping"]),
    )
