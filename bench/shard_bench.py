"""Pollers at province scale: N simulated devices polled by sharded ``govnetd`` on PostgreSQL.

Prints figures; asserts nothing. Real parts: the agents are the lab's
(:mod:`bench.agent_farm`: several processes, one 127.77.x.y address per device), PostgreSQL is a
private server (``tests/pgserver.py``, fsync off), each poller a real ``govnetd`` process.

Modes (``GOVNET_BENCH_MODE``):

``shards`` (default)  ``GOVNET_BENCH_POLLERS`` (4) × ``govnetd --shards GOVNET_BENCH_SHARDS`` (16)
                      on PostgreSQL, then a ``kill -9`` of one of them;
``single``            one ``govnetd`` without ``--shards`` (``GOVNET_BENCH_STORE=postgresql``, the
                      default, or ``sqlite``).

After the pollers balance and two intervals of warm-up (the first polls, spread over 5 s,
are a burst; then each device takes up its phase),
``GOVNET_BENCH_ROUNDS`` (3) intervals are measured (at least 150 s: two stats lines). Figures:

- the machine's load average (1/5/15 min) at the start, at the window's start and end;
- the agents apart: processes, start-up time, CPU (% of one core) and RSS over the window;
- PostgreSQL apart: its server processes' CPU (% of a core) over the window;
- per poller: shards and devices held, CPU (% of a core; the store writer thread's share) and
  RSS (peak) over the window; its polls and poll lag (start minus due time) from the
  ``poller stats`` line govnetd logs every minute: the median of the minutes' p50, the worst
  minute's p99, the largest lag;
- polls per device from the store (each poll writes an ``up`` sample): a device is due once
  per interval, so in a window of k whole intervals it must be polled k times; a **missed**
  slot is each poll short of that, a **double** poll two polls less than half an interval
  apart;
- shards: ``kill -9`` of one poller → seconds until every shard is held again (``pg_locks``), the
  gap of its devices between their last poll before the kill and the first after, double or
  missed polls across the kill; then SIGTERM of the others (hand-over time).

The headline is the issue's size, 10,000 devices at 60 s. ``GOVNET_BENCH_SCALE=k`` divides both
the devices and the interval by k (the same polls per second in a k-times shorter run) for a
quick look; its figures say so.

    python bench/shard_bench.py                                   # 10,000 devices, 60 s, 4 pollers
    GOVNET_BENCH_MODE=single python bench/shard_bench.py          # one govnetd, PostgreSQL
    GOVNET_BENCH_MODE=single GOVNET_BENCH_STORE=sqlite python bench/shard_bench.py
    GOVNET_BENCH_DEVICES=2000 GOVNET_BENCH_ROUNDS=2 python bench/shard_bench.py
    GOVNET_BENCH_SCALE=4 python bench/shard_bench.py              # 2,500 devices at 15 s

Measured on the 2-core machine, December 2026 (README "How far one machine goes" has the table;
the pollers, PostgreSQL, the agents and this bench share the two cores), after the fifth
session's work:

- 10,000 @ 60 s, one govnetd (``GOVNET_BENCH_MODE=single``), first polls over two intervals
  (two runs): 44 % and 48 % of a core, RSS 494-495 MiB, lag p99 0.28-0.33 s (every minute from
  the start), 0 missed, 0 double, CPU per poll 2.6-2.9 ms (a quicker machine than before: the
  agents 0.8-0.9 ms). With the first polls over one interval (three runs): 63-88 %,
  539-849 MiB, lag p99 0.4 s, 1.1 s and 12.6 s (a start that fell 10 s behind), 3.7-5.1 ms;
  before this session: 91-92 %, 1.1-1.2 GiB, 23-57 s behind.
- 10,000 @ 60 s, 4 × ``--shards 16`` (two runs): 17-21 % of a core and 194-237 MiB each,
  PostgreSQL 38-52 %, agents 20-21 %, lag p99 20-155 ms, 0 double, 0 missed (kill included);
  ``kill -9`` → every shard held again in 2.6-4.2 s; the victim's ~2,500 devices next polled
  after a median 60.0-61.0 s, max 77.1-80.7 s. CPU per poll: pollers 4.2-4.8 ms, PostgreSQL
  2.3-3.1 ms, agents 1.2-1.3 ms.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from agent_farm import AgentFarm  # noqa: E402
from poll_bench import COMMUNITY, kind_of  # noqa: E402

from govnet.monitor.shards import shard_of  # noqa: E402
from tests.pgserver import PostgresServer, private_server  # noqa: E402

SCALE = max(1, int(os.environ.get("GOVNET_BENCH_SCALE", "1")))
DEVICES = int(os.environ.get("GOVNET_BENCH_DEVICES", "10000")) // SCALE
INTERVAL = float(os.environ.get("GOVNET_BENCH_INTERVAL", "60")) / SCALE
ROUNDS = int(os.environ.get("GOVNET_BENCH_ROUNDS", "3"))
MODE = os.environ.get("GOVNET_BENCH_MODE", "shards")
STORE = os.environ.get("GOVNET_BENCH_STORE", "postgresql")
POLLERS = int(os.environ.get("GOVNET_BENCH_POLLERS", "4")) if MODE == "shards" else 1
SHARDS = int(os.environ.get("GOVNET_BENCH_SHARDS", "16"))
CONCURRENCY = int(os.environ.get("GOVNET_BENCH_CONCURRENCY", "0"))  # 0: govnetd's default
AGENT_PROCESSES = int(os.environ.get("GOVNET_BENCH_AGENT_PROCESSES", "4"))
WINDOW = max(ROUNDS * INTERVAL, 150.0)  # the pollers log their stats once a minute
DAEMON = [sys.executable, "-c", "from govnet.cli.daemon import main; main()"]
SHARD_LOCK_SPACE = 1936224868


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def inventory(path: Path, addresses: dict[str, tuple[str, int]]) -> None:
    devices = {}
    for name, (host, port) in sorted(addresses.items()):
        role, platform, _ = kind_of(int(name[3:]))
        devices[name] = {"host": host, "snmp_port": port, "platform": platform, "role": role}
    data = {
        "zones": {"internal": {}},
        "sites": {"city": {"level": "city"}},
        "snmp_profiles": {
            "bench": {
                "version": "2c",
                "community": "env:GOVNET_BENCH_COMMUNITY",
                "timeout": 5,
                "retries": 1,
            }
        },
        "defaults": {
            "snmp_profile": "bench",
            "zone": "internal",
            "site": "city",
            "vars": {"poll_interval": f"{INTERVAL:g}s"},
        },
        "devices": devices,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def q(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def holders(url: str) -> dict[int, int]:
    """shard → backend pid, from pg_locks (this database)."""
    rows = q(
        url,
        "SELECT objid::int, pid FROM pg_locks WHERE locktype = 'advisory' AND "
        f"classid::bigint = {SHARD_LOCK_SPACE} AND objsubid = 2 AND granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    return {int(s): int(p) for s, p in rows}


def members(url: str) -> dict[int, dict[str, Any]]:
    rows = q(url, "SELECT pid, backend_pid, shards, devices, lag_p99 FROM monitor_cluster")
    return {
        int(r[0]): {
            "backend": int(r[1]),
            "shards": json.loads(r[2]),
            "devices": int(r[3]),
            "lag_p99": float(r[4]),
        }
        for r in rows
    }


def cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


class PgCpu:
    """CPU seconds of a PostgreSQL server: the postmaster, its live backends and (through the
    postmaster's children times) the backends that already ended."""

    def __init__(self, data_dir: Path) -> None:
        self.pid = int((data_dir / "postmaster.pid").read_text().split()[0])

    def seconds(self) -> float:
        main = psutil.Process(self.pid)
        t = main.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in main.children():
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except psutil.NoSuchProcess:
                pass
        return float(total)


# --- a poller's "poller stats" log lines ---------------------------------------------------------


@dataclass
class Stats:
    """One ``poller stats`` line: the polls of the minute before ``ts``."""

    ts: float
    polls: int
    failures_total: int
    lag_p50: float
    lag_p99: float
    lag_max: float
    writer_cpu: float
    duration_p50: float
    duration_p99: float


def stats_lines(log: Path) -> list[Stats]:
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{") or '"poller stats"' not in line:
            continue
        r = json.loads(line)
        when = datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        out.append(
            Stats(
                when.timestamp(),
                int(r["polls"]),
                int(r["failures_total"]),
                float(r["lag_p50_s"]),
                float(r["lag_p99_s"]),
                float(r["lag_max_s"]),
                float(r["writer_cpu_s"]),
                float(r.get("duration_p50_s", 0.0)),
                float(r.get("duration_p99_s", 0.0)),
            )
        )
    return out


def window_stats(log: Path, start: float, end: float) -> dict[str, float]:
    """Polls, lag (median of the minutes' p50, worst minute's p99, max) and the writer's CPU
    over the minutes that lie within [start, end]."""
    lines = stats_lines(log)
    inside = [s for s in lines if start + 50 <= s.ts <= end + 10]
    if not inside:
        return {}
    before = [s for s in lines if s.ts < inside[0].ts]
    first = before[-1] if before else inside[0]
    span = inside[-1].ts - first.ts
    return {
        "minutes": len(inside),
        "polls": sum(s.polls for s in inside),
        "failures": inside[-1].failures_total - first.failures_total,
        "p50": statistics.median(s.lag_p50 for s in inside),
        "p99": max(s.lag_p99 for s in inside),
        "max": max(s.lag_max for s in inside),
        "d50": statistics.median(s.duration_p50 for s in inside),
        "d99": max(s.duration_p99 for s in inside),
        "writer": (inside[-1].writer_cpu - first.writer_cpu) / span * 100 if span > 0 else 0.0,
    }


# --- running ------------------------------------------------------------------------------------


@dataclass
class Poller:
    proc: subprocess.Popen[bytes]
    log: Path


def start_pollers(url: str, inv: Path, folder: Path) -> list[Poller]:
    out = []
    for i in range(POLLERS):
        log = folder / f"govnetd-{i}.log"
        args = [
            *DAEMON,
            "-i",
            str(inv),
            "--db",
            url,
            "--no-metrics",
            "--log-format",
            "json",
            "--backend",
            "gufo",
        ]
        if MODE == "shards":
            args += ["--shards", str(SHARDS)]
        if CONCURRENCY:
            args += ["--concurrency", str(CONCURRENCY)]
        with log.open("wb") as err:
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        out.append(Poller(proc, log))
    return out


def main() -> int:
    scaled = f" (scaled 1/{SCALE}: the same polls per second)" if SCALE > 1 else ""
    what = (
        f"{POLLERS} × govnetd --shards {SHARDS} on PostgreSQL"
        if MODE == "shards"
        else f"one govnetd on {'SQLite' if STORE == 'sqlite' else 'PostgreSQL'}"
    )
    print(
        f"== {DEVICES:,} devices at {INTERVAL:g} s{scaled}: {what}; {ROUNDS} measured intervals; "
        f"{psutil.cpu_count()} CPUs, load average {load()}"
    )
    folder = Path(tempfile.mkdtemp(prefix="govnet-shard-bench-"))
    os.environ["GOVNET_BENCH_COMMUNITY"] = COMMUNITY
    os.environ["GOVNET_CACHE_DIR"] = str(folder / "cache")
    os.environ["GOVNET_CONFIG"] = os.devnull
    t0 = time.perf_counter()
    farm = AgentFarm(DEVICES, AGENT_PROCESSES)
    print(
        f"  agents: {DEVICES:,} lab agents in {len(farm.children)} processes on 127.77.x.y, "
        f"ready in {time.perf_counter() - t0:.0f} s ({farm.cpu():.0f} s CPU building MIBs), "
        f"{farm.rss():.0f} MiB RSS together"
    )
    inv = folder / "inventory.yaml"
    inventory(inv, farm.addresses)
    pg_base = Path(tempfile.mkdtemp(prefix="govnet-bench-pg-"))
    pollers: list[Poller] = []
    try:
        if STORE == "sqlite" and MODE == "single":
            url = f"sqlite:///{folder / 'govnet.db'}"
            pollers = start_pollers(url, inv, folder)
            run(url, pollers, farm, None)
        else:
            with private_server(pg_base) as admin:
                server = PostgresServer(admin)
                pg = PgCpu(pg_base / "pgdata")
                with server.database() as url:
                    pollers = start_pollers(url, inv, folder)
                    run(url, pollers, farm, pg)
                server.engine.dispose()
    finally:
        for p in pollers:
            if p.proc.poll() is None:
                p.proc.kill()
            p.proc.wait(30)
        farm.close()
        shutil.rmtree(pg_base, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def wait_ready(url: str, pollers: list[Poller]) -> float:
    started = time.time()
    while time.time() - started < 300:
        for p in pollers:
            if p.proc.poll() is not None:
                tail = p.log.read_text(errors="replace").splitlines()[-5:]
                raise SystemExit(f"govnetd {p.proc.pid} exited: " + " | ".join(tail))
        if MODE == "shards":
            try:
                held = holders(url)
            except Exception:
                held = {}
            counts = sorted(list(held.values()).count(pid) for pid in set(held.values()))
            if (
                len(held) == SHARDS
                and len(counts) == POLLERS
                and max(counts) <= -(-SHARDS // POLLERS)
            ):
                break
        elif '"govnetd started"' in pollers[0].log.read_text(errors="replace"):
            break
        time.sleep(0.5)
    return time.time() - started


def run(url: str, pollers: list[Poller], farm: AgentFarm, pg: PgCpu | None) -> None:
    took = wait_ready(url, pollers)
    if MODE == "shards":
        print(f"  balanced ({POLLERS} × ≤{-(-SHARDS // POLLERS)} shards) after {took:.1f} s")
    else:
        print(f"  govnetd polling after {took:.1f} s")
    time.sleep(2 * INTERVAL + 10)  # every device polled, in its phase, the first burst gone
    print(f"  window starts: load average {load()}")
    window_start = time.time()
    cpu0 = {p.proc.pid: cpu(p.proc.pid) for p in pollers}
    agents0 = farm.cpu()
    pg0 = pg.seconds() if pg else 0.0
    peak: dict[int, float] = {p.proc.pid: 0.0 for p in pollers}
    agents_peak = 0.0
    while time.time() - window_start < WINDOW:
        time.sleep(min(5.0, INTERVAL / 4))
        for p in pollers:
            peak[p.proc.pid] = max(peak[p.proc.pid], psutil.Process(p.proc.pid).memory_info().rss)
        agents_peak = max(agents_peak, farm.rss())
    window = time.time() - window_start
    cpu1 = {p.proc.pid: cpu(p.proc.pid) for p in pollers}
    agents1 = farm.cpu()
    pg1 = pg.seconds() if pg else 0.0
    window_end = time.time()
    print(
        f"  window: {window:.0f} s ({window / INTERVAL:.1f} intervals); load average at its end "
        f"{load()}"
    )
    print(
        f"    agents ({len(farm.children)} processes): {(agents1 - agents0) / window * 100:.1f}% "
        f"of a core together, RSS {agents_peak:.0f} MiB together"
    )
    if pg is not None:
        print(f"    PostgreSQL server: {(pg1 - pg0) / window * 100:.1f}% of a core")
    rows = members(url) if MODE == "shards" else {}
    total_cpu = 0.0
    for p in pollers:
        pid = p.proc.pid
        m = rows.get(pid, {})
        used = (cpu1[pid] - cpu0[pid]) / window * 100
        total_cpu += used
        w = window_stats(p.log, window_start, window_end)
        held = f"{len(m.get('shards', {}))} shards, {m.get('devices', 0)} devices, " if m else ""
        print(
            f"    govnetd {pid}: {held}CPU {used:.1f}% of a core (store writer thread "
            f"{w.get('writer', 0.0):.1f}%), RSS {peak[pid] / 2**20:.0f} MiB"
        )
        if w:
            print(
                f"      {w['polls']:,.0f} polls in {w['minutes']:.0f} minutes "
                f"({w['failures']:,.0f} failed); lag p50 {w['p50'] * 1000:.0f} ms, p99 "
                f"{w['p99'] * 1000:.0f} ms (worst minute), max {w['max']:.1f} s; poll "
                f"duration p50 {w['d50'] * 1000:.0f} ms, p99 {w['d99'] * 1000:.0f} ms"
            )
        if MODE == "single":  # from the start: how the first intervals went
            minutes_so_far = stats_lines(p.log)
            print(
                "      every minute since the start: polls / lag p99 "
                + ", ".join(f"{s.polls:,} / {s.lag_p99:.1f} s" for s in minutes_so_far)
            )
    if len(pollers) > 1:
        print(f"    pollers together: {total_cpu:.1f}% of a core")
    done = sum(window_stats(p.log, window_start, window_end).get("polls", 0) for p in pollers)
    minutes = max(window_stats(p.log, window_start, window_end).get("minutes", 0) for p in pollers)
    if done:
        # CPU per poll (what bounds the size a machine carries, whatever else runs on it)
        rate = done / (minutes * 60) if minutes else done / window
        per = {
            "pollers": total_cpu / 100 / rate * 1000,
            "agents": (agents1 - agents0) / window / rate * 1000,
        }
        if pg is not None:
            per["PostgreSQL"] = (pg1 - pg0) / window / rate * 1000
        need = DEVICES / INTERVAL
        print(
            "    CPU per poll: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in per.items())
            + f"; {rate:.0f} polls/s done of the {need:.0f} needed (needs "
            + ", ".join(f"{k} {v * need / 1000:.2f} cores" for k, v in per.items())
            + ")"
        )
    killed = None
    victim_shards: set[int] = set()
    if MODE == "shards":
        killed, victim_shards = kill_one(url, pollers, rows)
    stop_all(pollers, killed)
    polls_from_store(url, window_start, window_end, killed, victim_shards)


def kill_one(
    url: str, pollers: list[Poller], rows: dict[int, dict[str, Any]]
) -> tuple[float, set[int]]:
    victim = pollers[1]
    backend = rows.get(victim.proc.pid, {}).get("backend")
    victim_shards = {s for s, pid in holders(url).items() if pid == backend}
    killed = time.time()
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    while True:
        held = holders(url)
        if len(held) == SHARDS and backend not in held.values():
            break
        if time.time() - killed > 4 * INTERVAL:
            break
        time.sleep(0.1)
    print(
        f"  kill -9 of govnetd {victim.proc.pid} ({len(victim_shards)} shards): every shard held "
        f"again after {time.time() - killed:.2f} s"
    )
    time.sleep(2 * INTERVAL + 10)
    return killed, victim_shards


def stop_all(pollers: list[Poller], killed: float | None) -> None:
    alive = [p for p in pollers if p.proc.poll() is None]
    stopping = time.time()
    for p in alive:
        p.proc.send_signal(signal.SIGTERM)
    took = []
    for p in alive:
        try:
            p.proc.wait(300)
        except subprocess.TimeoutExpired:
            tail = p.log.read_text(errors="replace").splitlines()[-5:]
            print(f"  govnetd {p.proc.pid} did not stop within 300 s:", *tail, sep="\n    ")
            p.proc.kill()
        took.append(time.time() - stopping)
    what = "the survivors handed over and stopped" if killed else "stopped"
    print(f"  SIGTERM: {what} within {max(took):.1f} s (polls in flight finish first)")


def polls_from_store(
    url: str, window_start: float, window_end: float, killed: float | None, victim: set[int]
) -> None:
    events: dict[str, list[float]] = {}
    sql = (
        "SELECT s.device, m.ts FROM monitor_samples m JOIN monitor_series s "
        "ON s.id = m.series_id WHERE s.metric = 'up' ORDER BY 1, 2"
    )
    for device, ts in q(url, sql):
        events.setdefault(str(device), []).append(float(ts))
    doubles = missed = doubles_kill = missed_kill = polls = orphaned = 0
    resumed: list[float] = []
    end = killed or window_end
    slots = (end - window_start) / INTERVAL  # each device is due this many times (±1 at edges)
    for name in (f"dev{i:04d}" for i in range(DEVICES)):
        ts = events.get(name, [])
        steady = [t for t in ts if window_start <= t <= end]
        polls += len(steady)
        missed += max(0, int(slots) - len(steady))
        for a, b in itertools.pairwise(steady):
            doubles += b - a < 0.5 * INTERVAL
        if killed is None:
            continue
        for a, b in itertools.pairwise(t for t in ts if t >= window_start):
            if b > killed:  # a gap that ends after the kill
                doubles_kill += b - a < 0.5 * INTERVAL
                missed_kill += b - a > 1.5 * INTERVAL
        if shard_of(name, SHARDS) in victim:
            after = [t for t in ts if t > killed]
            before = [t for t in ts if t <= killed]
            if after and before:
                resumed.append(after[0] - before[-1])
            elif not after:
                orphaned += 1
    span = (end - window_start) / INTERVAL
    print(
        f"  polls in the store: {len(events):,} of {DEVICES:,} devices polled; measured window "
        f"({span:.1f} intervals): {polls:,} polls, double {doubles}, missed slots {missed}"
    )
    if killed is not None:
        print(f"  after the kill (to the end): double {doubles_kill}, missed slots {missed_kill}")
    if resumed:
        resumed.sort()
        print(
            f"  the killed poller's {len(resumed):,} devices: gap between the last poll before "
            f"the kill and the first after, median {statistics.median(resumed):.1f} s, max "
            f"{resumed[-1]:.1f} s (interval {INTERVAL:g} s); {orphaned} never polled after it"
        )


if __name__ == "__main__":
    raise SystemExit(main())
