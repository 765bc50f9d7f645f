"""History and traffic-report speed on a store holding a month of 5-minute rollups.

Seeds N interfaces (in and out) × 30 days of rollups (8,640 buckets each) plus two hours of
raw samples not rolled up yet into a temporary SQLite store, then times `report traffic
--period` over the month (95th percentile per link) and one link's `monitor history --since
30d` (hourly rollups, what the chart reads). Figures only, no asserts.

    python bench/history_bench.py          # N = 48 interfaces (seeding takes a while)
    GOVNET_BENCH_SIZES=24 python bench/history_bench.py
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from govnet.monitor.history import read_history, traffic_report
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore, meta, rollups

DAY = 86400.0


def seed(ms: MonitorStore, links: int, now: float) -> None:
    start = float(int((now - 30 * DAY) // 3600) * 3600)
    mark = float(int((now - 2 * 3600) // 300) * 300)
    rng = random.Random(15)
    raw = []
    for i in range(links):
        for metric in ("if_in_bps", "if_out_bps"):
            for ts in range(int(mark), int(now), 60):
                raw.append(
                    (
                        f"sw-{i // 48:03d}",
                        metric,
                        f"GE1/0/{i % 48 + 1}",
                        float(ts),
                        rng.uniform(1e6, 9e8),
                    )
                )
    ms.write(Batch(raw, [], []), now)  # creates the series too
    ids = ms.series_keys(metrics=["if_in_bps", "if_out_bps"])
    with ms.store.begin() as conn:
        for sid in ids.values():
            rows = []
            for k in range(int((mark - start) // 300)):
                v = rng.uniform(1e6, 9e8)
                rows.append(
                    {
                        "series_id": sid,
                        "step": 300,
                        "ts": start + k * 300,
                        "n": 5,
                        "sum": v * 5,
                        "min": v * 0.8,
                        "max": v * 1.3,
                    }
                )
            for k in range(int((mark - start) // 3600)):
                v = rng.uniform(1e6, 9e8)
                rows.append(
                    {
                        "series_id": sid,
                        "step": 3600,
                        "ts": start + k * 3600,
                        "n": 60,
                        "sum": v * 60,
                        "min": v * 0.5,
                        "max": v * 1.5,
                    }
                )
            conn.execute(insert(rollups), rows)
        for step in (300, 3600):
            conn.execute(
                insert(meta),
                [{"key": f"rollup_watermark_{step}", "value": repr(mark)}],
            )


def main() -> None:
    sizes = [int(x) for x in os.environ.get("GOVNET_BENCH_SIZES", "48").split(",")]
    for links in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            now = time.time()
            ms = MonitorStore(Store.open(f"sqlite:///{Path(tmp) / 'b.sqlite'}"))
            t0 = time.perf_counter()
            seed(ms, links, now)
            seeded = time.perf_counter() - t0
            cpu0, t0 = time.process_time(), time.perf_counter()
            step, rows = traffic_report(ms, now - 30 * DAY, now)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            buckets = rows[0].samples if rows else 0
            t1 = time.perf_counter()
            h = read_history(ms, "sw-000", ["if_in_bps:GE1/0/1"], now - 30 * DAY, now, now)
            chart = time.perf_counter() - t1
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{links:5d} links: seed {seeded:5.1f}s | report traffic (30 d, step {step}, "
                f"{buckets} buckets/link): {wall:5.2f}s wall {cpu:5.2f}s CPU, "
                f"{links * 2 * buckets / max(wall, 1e-9) / 1e6:.2f}M buckets/s | history 30d "
                f"one link: {len(h.series[0].points)} points in {chart * 1000:.0f} ms | "
                f"peak RSS {rss:.0f} MiB"
            )
            ms.store.engine.dispose()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
