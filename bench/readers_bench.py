"""What the input caps cost (issue 12): how fast and in how much memory each hostile file is
refused, and the throughput of a normal console export. Figures only, never assertions.

Each case runs in a child process so its peak RSS is its own. The hostile files are the ones
the tests use (tests/hostile.py), at full size here: a 1 GiB shared string in a ~1 MB workbook,
a 20-million-row sheet, a sheet without <dimension>, 100k-deep JSON, /dev/zero, a FIFO, …

    python bench/readers_bench.py                   # hostile cases + a 50,000-row export
    GOVNET_BENCH_SIZES=5000 python bench/readers_bench.py
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile  # noqa: E402

SIZES = [int(x) for x in os.environ.get("GOVNET_BENCH_SIZES", "50000").split(",")]
MIB = 1024 * 1024


def make(folder: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, source); written once, timed."""
    out: dict[str, tuple[Path, str]] = {}
    t0 = time.perf_counter()
    out["/dev/zero"] = (Path("/dev/zero"), "generic")
    fifo = folder / "fifo.csv"
    os.mkfifo(fifo)
    out["FIFO"] = (fifo, "generic")
    sparse = folder / "sparse.csv"
    with sparse.open("wb") as fh:
        fh.truncate(1024 * MIB)
    out["1 GiB sparse CSV"] = (sparse, "generic")
    out["XLSX, 1 GiB shared string"] = (
        hostile.huge_shared_string(folder / "sst.xlsx", 1024 * MIB),
        "generic",
    )
    out["XLSX, 20M rows"] = (hostile.many_rows(folder / "rows20m.xlsx", 20_000_000), "generic")
    out["XLSX, 2M rows, no <dimension>"] = (
        hostile.many_rows(folder / "nodim.xlsx", 2_000_000, dimension=False),
        "generic",
    )
    out["XLSX, 5M rows under the size cap"] = (
        hostile.many_rows(folder / "rows5m.xlsx", 5_000_000),
        "generic",
    )
    out["XLSX, entity bomb"] = (hostile.entity_bomb(folder / "bomb.xlsx"), "generic")
    objs = folder / "objs.json"
    objs.write_text("[" + "{}," * 5_000_000 + "{}]", "utf-8")
    out["JSON, 5M empty objects (15 MB)"] = (objs, "generic")
    out["JSON, 100k deep"] = (hostile.deep_json(folder / "deep.json", 100_000), "generic")
    cell = folder / "cell.csv"
    cell.write_text(
        ",".join(hostile.HEADER) + "\npc-1,10.0.0.1," + "x" * (129 * 1024) + ",2025-06-29,yes\n",
        "utf-8",
    )
    out["CSV, 129 KiB cell"] = (cell, "generic")
    sizes = ", ".join(
        f"{p.name} {p.stat().st_size / MIB:.2f} MiB" for p, _ in out.values() if p.suffix == ".xlsx"
    )
    print(f"hostile files written in {time.perf_counter() - t0:.1f} s ({sizes} on disk)")
    return out


def normal(folder: Path, n: int) -> dict[str, tuple[Path, str]]:
    import openpyxl

    sys.path.insert(0, str(ROOT / "bench"))
    from av_bench import HEADER, rows  # the same city-sized 天擎 export as bench/av_bench.py

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
    return {
        f"normal CSV, {n:,} rows": (folder / "export.csv", "qianxin"),
        f"normal XLSX, {n:,} rows": (folder / "export.xlsx", "qianxin"),
    }


def child(path: str, source: str) -> None:
    """Run in the child: parse once, print seconds, peak RSS and the outcome as JSON."""
    from govnet.av.exports import parse_export
    from govnet.av.sources import load_catalogue
    from govnet.errors import InputError

    src = load_catalogue(ROOT / "playbooks" / "av-sources.yaml").source(source)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        snap = parse_export(Path(path), src)
        outcome = f"read {len(snap.records):,} records"
    except InputError as exc:
        outcome = "exit 2: " + str(exc.diagnostics[0]).split(": ", 1)[1][:90]
    except Exception as exc:  # a figure, not a test: say what happened
        outcome = f"CRASH {type(exc).__name__}: {exc}"[:100]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "s": seconds,
                "cpu": cpu,
                "rss": peak / 1024,
                "grew": (peak - base) / 1024,
                "outcome": outcome,
            }
        )
    )


def run(name: str, path: Path, source: str, timeout: float = 300) -> None:
    try:
        command = [sys.executable, __file__, "--child", str(path), source]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        print(f"  {name:<34} still running after {timeout:.0f} s")
        return
    try:
        got = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"  {name:<34} no result: {proc.stderr.strip()[-200:]}")
        return
    n = name.split(", ")[-1].split(" ")[0].replace(",", "")
    rate = f"{int(n) / got['s']:>9,.0f} rows/s" if name.startswith("normal") else " " * 16
    print(
        f"  {name:<34} {got['s']:7.3f} s (cpu {got['cpu']:6.3f}) {rate}  "
        f"peak RSS {got['rss']:5.0f} MB (+{got['grew']:4.0f})  {got['outcome']}"
    )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("== hostile files (default limits)")
        for name, (path, source) in make(folder).items():
            run(name, path, source)
        for n in SIZES:
            print(f"== a normal export of {n:,} endpoints")
            for name, (path, source) in normal(folder, n).items():
                run(name, path, source)


if __name__ == "__main__":
    main()
