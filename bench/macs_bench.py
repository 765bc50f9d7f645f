"""MAC sightings figures: a county's MAC tables recorded into a SQLite store, daily.

``GOVNET_BENCH_SWITCHES`` switches (default 300) of 48 access ports with 2 MACs each, recorded
as one collection per day for ``GOVNET_BENCH_DAYS`` days (default 5; 5 % of the MACs change
every day); then what ``shutdown-unused-ports`` reads per device (its collections, last seen
per port). Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.store import macs
from govnet.store.db import Store


def main() -> None:
    switches = int(os.environ.get("GOVNET_BENCH_SWITCHES", "300"))
    days = int(os.environ.get("GOVNET_BENCH_DAYS", "5"))
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'store.sqlite'}")
        tables = {
            f"sw{i}": [
                macs.Sighting(
                    f"GigabitEthernet0/0/{p}",
                    f"00:1a:{i >> 8:02x}:{i & 255:02x}:{p:02x}:{k:02x}",
                    100,
                )
                for p in range(1, 49)
                for k in range(2)
            ]
            for i in range(switches)
        }
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for day in range(days):
            if day:
                for rows in tables.values():  # 5 % of the terminals replaced
                    for j in rng.sample(range(len(rows)), len(rows) // 20):
                        mac = ":".join(f"{b:02x}" for b in rng.randbytes(6))
                        rows[j] = macs.Sighting(rows[j].port, "02" + mac[2:], 100)
            t0 = time.perf_counter()
            n = sum(
                macs.record(store, d, rows, start + timedelta(days=day), "ssh")
                for d, rows in tables.items()
            )
            dt = time.perf_counter() - t0
            print(
                f"day {day + 1}: {n:,} sightings of {switches} switches recorded in {dt:.2f} s "
                f"({n / dt:,.0f}/s, {dt / switches * 1000:.1f} ms per switch)"
            )
        with store.begin() as conn:
            total = conn.execute(select(func.count()).select_from(macs.mac_sightings)).scalar()
        print(f"rows kept: {total:,} (one per device/port/MAC/VLAN, not per collection)")
        t0 = time.perf_counter()
        for d in tables:
            macs.collections(store, d)
            macs.last_seen_by_port(store, d)
        dt = time.perf_counter() - t0
        print(
            "task reads (collections + last seen per port): "
            f"{dt / switches * 1000:.2f} ms per switch"
        )
        t0 = time.perf_counter()
        pruned = macs.prune(store, start + timedelta(days=days - 1))
        print(
            f"prune: {pruned[0]:,} sightings, {pruned[1]:,} collections "
            f"in {time.perf_counter() - t0:.2f} s"
        )


if __name__ == "__main__":
    main()
