"""Who depends on whom: uplinks from inventory ``links``, power feeds from ``vars.power_feed``.

An alert on a device is **suppressed** (kept, shown dimmed, not notified) when the device is
behind a failed uplink or fed only by failed UPSes, because the failure it reports is a
consequence of another one that has its own alert:

- a device's *parents* are its link neighbours of a higher tier (core above gap/firewall/
  router above aggregation above access above servers, UPSes and sensors), plus any named
  in ``vars.parents``; same-tier neighbours (core to core) are peers, not parents;
- an uplink has *failed* when the parent is down or unreachable, or the parent's port towards
  the device is not operationally up;
- a device is behind a failed uplink when every one of its uplinks has failed;
- ``vars.power_feed: ups-1`` (or a list) names the UPSes feeding a device; a UPS has failed
  when it is down, its output is off (upsOutputSource none) or its battery is depleted;
  a device is suppressed when all its feeds failed.

Sharded pollers (``govnetd --shards N``) hold only some devices: a parent or UPS another poller
holds is judged from the shared store instead (:class:`RemoteStates`: its ``monitor_devices``
row and ``monitor_latest`` values, read once per housekeeping tick). A row its poller has not
renewed for two poll intervals (a down device's back-off counted) is not trusted: that
dependency counts as working, so the alert is told (fail open).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govnet.errors import GovnetError
from govnet.inventory.model import Device, Inventory, Link
from govnet.monitor.config import MonitorConfig
from govnet.monitor.model import DeviceState

TIERS = {
    "core": 0,
    "gap": 1,
    "firewall": 1,
    "router": 1,
    "aggregation": 2,
    "access": 3,
    "server": 4,
    "ups": 4,
    "env": 4,
    "terminal": 5,
}

LatestLookup = Mapping[tuple[str, str, str], float | None]
READS = frozenset({"if_oper", "ups_output_source", "ups_battery_status"})
"""The latest values suppression looks up (a parent's port state, a UPS's output)."""
UPS_METRICS = ("ups_output_source", "ups_battery_status")  # of READS, a UPS's


@dataclass(frozen=True)
class Uplink:
    parent: str
    parent_port: str  # "" when declared by vars.parents (no port known)
    port: str


@dataclass
class Topology:
    uplinks: dict[str, list[Uplink]] = field(default_factory=dict)
    feeds: dict[str, list[str]] = field(default_factory=dict)
    watched: dict[str, set[str]] = field(default_factory=dict)  # device → ports in links
    watch_all: set[str] = field(default_factory=set)  # devices with vars.watch_interfaces: all

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> Topology:
        return cls.build(inventory.devices, inventory.links)

    @classmethod
    def build(cls, devices: Mapping[str, Device], links: Sequence[Link]) -> Topology:
        topo = cls()
        for link in links:
            a, a_port = link.a_device, link.a_port
            b, b_port = link.b_device, link.b_port
            topo.watched.setdefault(a, set()).add(a_port)
            topo.watched.setdefault(b, set()).add(b_port)
            if a not in devices or b not in devices:
                continue
            ta, tb = TIERS.get(devices[a].role, 9), TIERS.get(devices[b].role, 9)
            if ta < tb:
                topo.uplinks.setdefault(b, []).append(Uplink(a, a_port, b_port))
            elif tb < ta:
                topo.uplinks.setdefault(a, []).append(Uplink(b, b_port, a_port))
        for device in devices.values():
            parents = _names(device.vars.get("parents"))
            known = {u.parent for u in topo.uplinks.get(device.name, [])}
            for parent in parents:
                if parent not in known:
                    topo.uplinks.setdefault(device.name, []).append(Uplink(parent, "", ""))
            feeds = _names(device.vars.get("power_feed"))
            if feeds:
                topo.feeds[device.name] = feeds
            watch = device.vars.get("watch_interfaces")
            if watch == "all":
                topo.watch_all.add(device.name)
            else:
                topo.watched.setdefault(device.name, set()).update(_names(watch))
        return topo

    def children(self, device: str) -> list[str]:
        out = [d for d, ups in self.uplinks.items() if any(u.parent == device for u in ups)]
        out += [d for d, feeds in self.feeds.items() if device in feeds]
        return sorted(set(out))

    def dependencies(self, device: str) -> set[str]:
        """The devices whose failure suppresses ``device``'s alerts: its parents and UPSes."""
        return {u.parent for u in self.uplinks.get(device, ())} | set(self.feeds.get(device, ()))

    def dependency_keys(self, device: str) -> list[tuple[str, str, str]]:
        """The latest values suppression reads for ``device``: its parents' ports towards it
        (``if_oper``) and its UPSes' output and battery."""
        keys = [(u.parent, "if_oper", u.parent_port) for u in self.uplinks.get(device, ())]
        keys += [(ups, m, "") for ups in self.feeds.get(device, ()) for m in UPS_METRICS]
        return [k for k in keys if k[2] or k[1] != "if_oper"]

    def read_keys(self) -> dict[str, frozenset[tuple[str, str]]]:
        """Per device, the (metric, instance) of its latest values suppression reads (a
        parent's ports towards its children, a UPS's output and battery)."""
        found: dict[str, set[tuple[str, str]]] = {}
        for child in self.uplinks.keys() | self.feeds.keys():
            for device, metric, instance in self.dependency_keys(child):
                found.setdefault(device, set()).add((metric, instance))
        return {device: frozenset(keys) for device, keys in found.items()}

    def watches(self, device: str, port: str) -> bool:
        return device in self.watch_all or port in self.watched.get(device, ())

    def suppressed_by(
        self, device: str, states: Mapping[str, DeviceState], latest: LatestLookup
    ) -> str:
        """Why alerts on ``device`` are consequences of another failure ("" if they are not)."""
        uplinks = self.uplinks.get(device, [])
        if uplinks:
            reasons = [_uplink_failed(u, states, latest) for u in uplinks]
            if all(reasons):
                return "behind " + "; ".join(reasons)
        feeds = self.feeds.get(device, [])
        if feeds:
            reasons = [_feed_failed(f, states, latest) for f in feeds]
            if all(reasons):
                return "power: " + "; ".join(reasons)
        return ""


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value and value != "all" else []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _uplink_failed(u: Uplink, states: Mapping[str, DeviceState], latest: LatestLookup) -> str:
    state = states.get(u.parent)
    if state in (DeviceState.DOWN, DeviceState.UNREACHABLE):
        return f"{u.parent} ({state.value})"
    if u.parent_port:
        oper = latest.get((u.parent, "if_oper", u.parent_port))
        if oper is not None and oper != 1:
            return f"{u.parent}:{u.parent_port} (link down)"
    return ""


def _feed_failed(ups: str, states: Mapping[str, DeviceState], latest: LatestLookup) -> str:
    state = states.get(ups)
    if state is DeviceState.DOWN:
        return f"{ups} (down)"
    if latest.get((ups, "ups_output_source", "")) == 2:
        return f"{ups} (output off)"
    if (
        latest.get((ups, "ups_battery_status", "")) == 4
        and latest.get((ups, "ups_output_source", "")) == 5
    ):
        return f"{ups} (battery depleted)"
    return ""


# ------------------------------------------------------------------ sharded pollers


def trusted_until(row: Mapping[str, Any], device: Device, config: MonitorConfig) -> float:
    """Until when a ``monitor_devices`` row written by another poller tells the device's
    state: its last poll plus the gap to the next one (the interval; a down device's back-off:
    interval, 2×, 4×, … as :mod:`~govnet.monitor.states` schedules it) plus one more interval
    and the store writer's commit delay. Past that its poller is late or gone."""
    interval = config.interval(device)
    last = float(row["last_poll"])
    gap = interval
    if str(row["state"]) == DeviceState.DOWN.value:
        since = float(row["since"])
        gap = max(interval, min(max(config.max_backoff, interval), last - since + interval))
    return last + gap + interval + config.flush_every + 1.0


@dataclass(frozen=True)
class RemoteStates:
    """What the shared store said, at ``read_at``, of devices other pollers hold: their
    states (each trusted until a wall time, see :func:`trusted_until`) and latest values."""

    states: Mapping[str, DeviceState] = field(default_factory=dict)
    until: Mapping[str, float] = field(default_factory=dict)
    latest: LatestLookup = field(default_factory=dict)
    read_at: float = 0.0  # 0: never read
    asked: frozenset[str] = frozenset()  # the devices the read was for (found or not)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, Any]],
        latest: Iterable[tuple[str, str, str, float | None]],
        read_at: float,
        devices: Mapping[str, Device],
        config: MonitorConfig,
        asked: Iterable[str] = (),
    ) -> RemoteStates:
        states: dict[str, DeviceState] = {}
        until: dict[str, float] = {}
        for row in rows:
            name = str(row["device"])
            device = devices.get(name)
            if device is None or not row["last_poll"]:
                continue  # not in this inventory, or never polled: nothing to tell
            try:
                state = DeviceState(str(row["state"]))
                until[name] = trusted_until(row, device, config)
            except (ValueError, GovnetError):
                continue  # an unknown state or a bad interval: not trusted
            states[name] = state
        values: dict[tuple[str, str, str], float | None] = {
            (d, m, i): value for d, m, i, value in latest if d in until
        }
        return cls(states, until, values, read_at, frozenset(asked) | states.keys())

    def adopt(
        self, states: Mapping[str, DeviceState], latest: LatestLookup, until: float
    ) -> RemoteStates:
        """This view plus what this poller last knew of devices it just handed over, trusted
        until ``until`` (the next read replaces it with their new holder's rows)."""
        return RemoteStates(
            {**self.states, **states},
            {**self.until, **dict.fromkeys(states, until)},
            {**self.latest, **{k: v for k, v in latest.items() if k[0] in states}},
            self.read_at,
            self.asked | states.keys(),
        )

    def trusted(self, device: str, now: float) -> bool:
        return now <= self.until.get(device, -1.0)

    def stale(self, now: float) -> list[str]:
        """The devices whose rows are no longer trusted (their pollers are late or gone)."""
        return sorted(d for d, t in self.until.items() if now > t)

    def states_with(self, local: Mapping[str, DeviceState], now: float) -> _States:
        """This poller's own states first, then the trusted rows of the others."""
        return _States(local, self, now)

    def latest_with(self, local: LatestLookup, now: float) -> _Latest:
        return _Latest(local, self, now)


class _States(Mapping[str, DeviceState]):
    def __init__(self, local: Mapping[str, DeviceState], remote: RemoteStates, now: float):
        self.local, self.remote, self.now = local, remote, now

    def __getitem__(self, name: str) -> DeviceState:
        state = self.local.get(name)
        if state is not None:
            return state
        if self.remote.trusted(name, self.now):
            return self.remote.states[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self.local
        yield from (n for n in self.remote.states if n not in self.local and n in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Latest(Mapping[tuple[str, str, str], float | None]):
    def __init__(self, local: LatestLookup, remote: RemoteStates, now: float):
        self.local, self.remote, self.now = local, remote, now

    def __getitem__(self, key: tuple[str, str, str]) -> float | None:
        if key in self.local:
            return self.local[key]
        if self.remote.trusted(key[0], self.now):
            return self.remote.latest[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        yield from self.local
        yield from (k for k in self.remote.latest if k not in self.local and k in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
