"""Antivirus speed: a city-sized console export through import, store, join and judgement.

Writes a GBK 天擎-layout CSV with N endpoints (and an XLSX of the same rows), then times:
parse (CSV and XLSX), saving the snapshot, loading the newest snapshots back, joining to N
terminals (a tenth by IP only, a tenth by host name only, a twentieth unknown) and judging
every terminal for the three controls. Prints rows/s per step and peak RSS. Figures only.

    python bench/av_bench.py                  # N = 5000 and 50000
    GOVNET_BENCH_SIZES=2000 python bench/av_bench.py
"""

from __future__ import annotations

import csv
import io
import ipaddress
import os
import resource
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from govnet.av.exports import parse_export
from govnet.av.join import join
from govnet.av.parse import CHINA
from govnet.av.policy import AvPolicy, assess
from govnet.av.sources import Source, load_catalogue
from govnet.inventory.model import Device
from govnet.store.av import newest_snapshots, save_snapshot
from govnet.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(x) for x in os.environ.get("GOVNET_BENCH_SIZES", "5000,50000").split(",")]
TAKEN = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA)
HEADER = [
    "终端名称",
    "IP地址",
    "MAC地址",
    "所属单位",
    "操作系统",
    "客户端版本",
    "病毒库版本",
    "病毒库更新时间",
    "实时防护",
    "在线状态",
    "最后在线时间",
]


def mac(i: int) -> str:
    return "00-1A-" + "-".join(f"{(i >> s) & 0xFF:02X}" for s in (24, 16, 8, 0))


def ip(i: int) -> str:
    return str(ipaddress.ip_address(0x0A000000 + i + 1))


def rows(n: int) -> list[list[str]]:
    out = []
    for i in range(n):
        sig = TAKEN - timedelta(days=i % 45)
        out.append(
            [
                f"PC-{i:06d}",
                ip(i),
                "" if i % 10 == 1 else mac(i),
                "青石镇政府",
                "Windows 10",
                "10.0.0.4120",
                f"{sig:%Y.%m.%d}.01",
                f"{sig:%Y-%m-%d %H:%M:%S}",
                "开启" if i % 50 else "关闭",
                "在线",
                f"{TAKEN - timedelta(minutes=i % 600):%Y-%m-%d %H:%M:%S}",
            ]
        )
    return out


def endpoints(n: int) -> list[Device]:
    out = []
    for i in range(n):
        if i % 20 == 3:
            i += 10_000_000  # not in the export: not covered
        by_name = i % 10 == 2
        out.append(
            Device(
                name=f"pc-{i:06d}",
                host="",
                platform="terminal",
                role="terminal",
                zone=("internal", "external")[i % 2],
                site="town",
                unit="office",
                address=None if by_name else ipaddress.ip_address(ip(i)),
                mac=None if by_name else mac(i).replace("-", ":").lower(),
                description="pc",
            )
        )
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, n: int, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    print(f"  {label:<28} {dt:7.2f} s  {n / dt:>10,.0f} rows/s")
    return result


def write_files(folder: Path, n: int) -> None:
    import openpyxl

    data = rows(n)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(data)
    (folder / "export.csv").write_bytes(buf.getvalue().encode("gbk"))
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for r in data:
        sheet.append(r)
    book.save(folder / "export.xlsx")


def run(folder: Path, n: int, source: Source, policy: AvPolicy) -> None:
    write_files(folder, n)
    snap = timed("parse CSV (GBK)", n, lambda: parse_export(folder / "export.csv", source))
    timed("parse XLSX", n, lambda: parse_export(folder / "export.xlsx", source))
    store = Store.open(f"sqlite:///{folder / 'store.sqlite'}")
    timed("save snapshot", n, lambda: save_snapshot(store, snap))
    loaded = timed("load newest snapshots", n, lambda: newest_snapshots(store))
    records = [r for s in loaded for r in s.records]
    targets = endpoints(n)
    joined = timed("join (MAC, IP, name)", n, lambda: join(targets, records))
    now = TAKEN + timedelta(days=2)

    def judge() -> list[str]:
        return [assess(t, joined.of(t.name), policy, now).state for t in targets]

    states = timed("judge 3 controls", n, judge)
    counts = {s: states.count(s) for s in sorted(set(states))}
    print(f"  states {counts}, unknown endpoints {len(joined.unknown):,}")
    print(f"  peak RSS {rss_mb():.0f} MB")


def main() -> None:
    catalogue = load_catalogue(ROOT / "playbooks" / "av-sources.yaml")
    for n in SIZES:
        print(f"== {n:,} endpoints")
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), n, catalogue.source("qianxin"), AvPolicy())


if __name__ == "__main__":
    main()
