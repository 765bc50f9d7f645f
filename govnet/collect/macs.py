"""MAC tables into the store as sightings (``govnet backup macs``; audits that read tables).

Only MAC-table rows count (``ssh-mac``, ``snmp-fdb``): a port's own MAC-table row is what says
a terminal is behind it. ARP rows name a Layer-3 interface, not a port, and the switch's own
MACs are not terminals. A device whose table could not be read records nothing, so it does
not count as watched (see :func:`govnet.store.macs.watched_since`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govnet.collect.fleet import DeviceResult, run_fleet
from govnet.collect.tables import (
    DeviceTables,
    collect_snmp,
    entries_from_rows,
    parse_rows,
    reportable_mac,
    table_commands,
)
from govnet.inventory.model import Device
from govnet.secrets import REDACTOR
from govnet.store import macs as store_macs
from govnet.store.db import Store
from govnet.transport.session import SessionFactory, ssh_session
from govnet.transport.ssh import SshOptions


def sightings(tables: DeviceTables) -> list[store_macs.Sighting]:
    """The port sightings in one switch's tables."""
    out = []
    for e in tables.entries:
        if e.is_arp or e.port is None or e.port.startswith("bridge-port-"):
            continue
        if e.mac in tables.own_macs or not reportable_mac(e.mac):
            continue
        out.append(store_macs.Sighting(e.port, e.mac, e.vlan))
    return out


def record_tables(store: Store, tables: Iterable[DeviceTables], at: datetime) -> dict[str, int]:
    """Record every readable table's sightings; device → sightings recorded."""
    done = {}
    for t in tables:
        if t.ok:
            done[t.device] = store_macs.record(store, t.device, sightings(t), at, t.via)
    return done


def ssh_mac_table(
    device: Device, options: SshOptions | None = None, session: SessionFactory = ssh_session
) -> DeviceTables:
    """One switch's MAC table over SSH (the platform's ``mac`` command only)."""
    result = DeviceTables(device.name, device.zone, "ssh")
    command = table_commands(device.platform).get("mac")
    if command is None:
        result.error = f"platform {device.platform} has no MAC table command"
        return result
    with session(device, options or SshOptions()) as cli:
        output = cli.send(command)
    rows = parse_rows(device.name, device.platform, command, output)
    result.entries, result.own_macs = entries_from_rows(device, "mac", rows)
    return result


@dataclass
class MacOutcome:
    device: str
    status: str  # ok | failed
    sightings: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "status": self.status,
            "sightings": self.sightings,
            "message": self.message,
        }


def collect_macs(
    devices: Sequence[Device],
    store: Store,
    now: datetime,
    via: str = "ssh",
    workers: int = 16,
    ssh: SshOptions | None = None,
    on_done: Callable[[Any], None] | None = None,
) -> list[MacOutcome]:
    """Read the devices' MAC tables (SSH or SNMP) and record the sightings taken at ``now``."""
    tables: dict[str, DeviceTables] = {}
    if via == "snmp":
        tables = collect_snmp(devices, concurrency=workers)
    else:
        fleet = run_fleet(devices, lambda d: ssh_mac_table(d, ssh), workers, on_done=on_done)
        for res in fleet:
            tables[res.device] = _table_of(res, devices)
    counts = record_tables(store, tables.values(), now)
    out = []
    for d in devices:
        t = tables.get(d.name)
        if t is None or not t.ok:
            why = t.error if t is not None and t.error else "not collected"
            out.append(MacOutcome(d.name, "failed", message=why))
        else:
            out.append(MacOutcome(d.name, "ok", counts.get(d.name, 0)))
    return out


def _table_of(res: DeviceResult[DeviceTables], devices: Sequence[Device]) -> DeviceTables:
    if res.result is not None:
        return res.result
    zone = next((d.zone for d in devices if d.name == res.device), "")
    return DeviceTables(res.device, zone, "ssh", error=REDACTOR(str(res.error)))
