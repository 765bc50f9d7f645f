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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from govnet.inventory.model import Device, Inventory, Link
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
