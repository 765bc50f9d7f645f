"""Isolation figures: L2 correlation of 100,000 ARP/MAC table entries (target < 1 s).

A synthetic city: an internal and an external zone, each with a core, 5 aggregation and 50
access switches (cabled in ``inventory.links``); 25,000 terminals, each seen four times — at
its access port, on the aggregation and core uplinks, and in the core's ARP table — plus
dual-homed PCs and unknown MACs seeded on access ports. Prints figures; asserts nothing except
that the seeded problems are found (a wrong answer fast is no figure).

    python bench/isolation_bench.py
    GOVNET_BENCH_ENTRIES=400000 python bench/isolation_bench.py
"""

from __future__ import annotations

import dataclasses
import gc
import ipaddress
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.collect.tables import DeviceTables, TableEntry, entries_from_rows
from govnet.inventory.model import (
    Device,
    Inventory,
    Label,
    Link,
    Pools,
    Site,
    Terminal,
    Unit,
    Zone,
)
from govnet.isolation.correlate import correlate

ENTRIES = int(os.environ.get("GOVNET_BENCH_ENTRIES", "100000"))
ACCESS, AGGS = 50, 5  # per zone
SEEDED = 50  # dual-homed PCs and unknown MACs each
RUNS = 5
ZONES = {
    "internal": ("10.0.0.0/8", (100, 1999)),
    "external": ("172.16.0.0/12", (2000, 3999)),
}


def mac(n: int) -> str:
    return ":".join(f"{b:02x}" for b in n.to_bytes(6, "big"))


def build() -> tuple[Inventory, dict[str, DeviceTables]]:
    per_terminal = 4
    terminals_per_zone = ENTRIES // per_terminal // len(ZONES)
    zones = {
        name: Zone(
            name,
            Label(),
            frozenset(set(ZONES) - {name}),
            Pools(prefixes=[p], vlans=[f"{v[0]}-{v[1]}"]),
        )  # type: ignore[list-item]
        for name, (p, v) in ZONES.items()
    }
    sites = {"city": Site("city", Label(), "city", None)}
    units = {"office": Unit("office", Label(), "city", tuple(ZONES))}
    devices: dict[str, Device] = {}
    links: list[Link] = []
    terminals: dict[str, Terminal] = {}
    tables: dict[str, DeviceTables] = {}
    serial = 0x001A2B000000
    for z, zone in enumerate(ZONES):
        base = ipaddress.ip_network(ZONES[zone][0]).network_address
        core = f"{zone}-core"
        devices[core] = Device(core, "127.0.0.1", "huawei", "core", zone, "city")
        tables[core] = DeviceTables(core, zone, "ssh")
        for a in range(AGGS):
            agg = f"{zone}-agg-{a}"
            devices[agg] = Device(agg, "127.0.0.1", "huawei", "aggregation", zone, "city")
            tables[agg] = DeviceTables(agg, zone, "ssh")
            links.append(Link(core, f"GigabitEthernet0/0/{a + 1}", agg, "GigabitEthernet0/0/48"))
        for s in range(ACCESS):
            acc, agg = f"{zone}-acc-{s}", f"{zone}-agg-{s % AGGS}"
            devices[acc] = Device(acc, "127.0.0.1", "hp_comware", "access", zone, "city")
            tables[acc] = DeviceTables(acc, zone, "ssh")
            links.append(
                Link(agg, f"GigabitEthernet0/0/{s // AGGS + 1}", acc, "GigabitEthernet1/0/48")
            )
        for t in range(terminals_per_zone):
            s = t % ACCESS
            acc, agg = f"{zone}-acc-{s}", f"{zone}-agg-{s % AGGS}"
            m = mac(serial)
            serial += 1
            ip = base + 65536 + t
            name = f"pc-{zone}-{t}"
            terminals[name] = Terminal(name, m, "office", zone, ip)
            vlan = ZONES[zone][1][0] + s
            tables[acc].entries.append(
                TableEntry(acc, zone, m, None, vlan, f"GigabitEthernet1/0/{t % 47 + 1}", "ssh-mac")
            )
            tables[agg].entries.append(
                TableEntry(agg, zone, m, None, vlan, f"GigabitEthernet0/0/{s // AGGS + 1}")
            )
            tables[core].entries.append(
                TableEntry(core, zone, m, None, vlan, f"GigabitEthernet0/0/{s % AGGS + 1}")
            )
            tables[core].entries.append(
                TableEntry(core, zone, m, str(ip), vlan, f"Vlanif{vlan}", "ssh-arp")
            )
        if z == 1:  # internal PCs also plugged into the external access switches
            for k in range(SEEDED):
                victim = terminals[f"pc-internal-{k}"]
                tables[f"external-acc-{k % ACCESS}"].entries.append(
                    TableEntry(
                        f"external-acc-{k % ACCESS}",
                        zone,
                        victim.mac,
                        None,
                        2000,
                        "GigabitEthernet1/0/47",
                        "ssh-mac",
                    )
                )
        for k in range(SEEDED):  # strangers on access ports
            acc = f"{zone}-acc-{k % ACCESS}"
            tables[acc].entries.append(
                TableEntry(
                    acc,
                    zone,
                    mac(0x0200_0000_0000 + z * 1000 + k),
                    None,
                    100,
                    "GigabitEthernet1/0/46",
                    "ssh-mac",
                )
            )
    inv = Inventory(zones, sites, units, devices, terminals, links)
    return inv, tables


def main() -> None:
    t0 = time.perf_counter()
    inv, tables = build()
    entries = sum(len(t.entries) for t in tables.values())
    print(
        f"synthetic city: {len(inv.devices)} switches, {len(inv.terminals):,} terminals, "
        f"{entries:,} table entries (built in {time.perf_counter() - t0:.2f} s)"
    )
    times, cpu = [], []
    result = correlate(inv, tables)
    for _ in range(RUNS):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = correlate(inv, tables)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    dual = len(result.dual_homed)
    unknown = len(result.unknown)
    assert dual == SEEDED, dual
    assert unknown == SEEDED * len(ZONES), unknown
    assert not result.dual_by_device.get("internal-core"), "uplink noise on the core"
    best, median = min(times), statistics.median(times)
    print(
        f"correlate {entries:,} entries: best {best:.3f} s, median {median:.3f} s wall, "
        f"median {statistics.median(cpu):.3f} s CPU ({entries / median:,.0f} entries/s; "
        f"target < 1 s) → {dual} dual-homed, {unknown} unknown"
    )

    # worst case: no terminal in the inventory yet, every host MAC is unknown and located
    bare = dataclasses.replace(inv, terminals={})
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    worst = correlate(bare, tables)
    took, took_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(
        f"correlate {entries:,} entries, empty terminal list ({len(worst.unknown):,} unknown "
        f"MACs located): {took:.3f} s wall, {took_cpu:.3f} s CPU"
    )

    # the normaliser behind SSH and SNMP: template rows → entries
    device = inv.devices["internal-acc-0"]
    rows = [
        {
            "mac_address": f"{i:012x}"[:4] + "-" + f"{i:012x}"[4:8] + "-" + f"{i:012x}"[8:],
            "vlan_id": "100",
            "interface": f"GE1/0/{i % 48 + 1}",
            "state": "Learned",
        }
        for i in range(1, 100_001)
    ]
    start = time.perf_counter()
    parsed, _ = entries_from_rows(device, "mac", rows)
    took = time.perf_counter() - start
    print(
        f"normalise {len(rows):,} MAC-table rows into entries: {took:.3f} s "
        f"({len(parsed) / took:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
