"""Sharded pollers at scale: N simulated devices polled by 4 ``govnetd --shards`` on PostgreSQL.

Prints figures; asserts nothing. The agents are the lab's (``bench/poll_bench.py``'s, in child
processes on 127.0.0.1); PostgreSQL is a private server (``tests/pgserver.py``); each poller is
a real ``govnetd`` process. Figures:

- per poller: shards and devices held, CPU (% of a core) and RSS over the steady window, the
  poll lag p99 its heartbeat reports;
- takeover: a ``kill -9`` of one poller mid-run → seconds until every shard is held again
  (``pg_locks``), and until each of its devices was polled again;
- poll events from the store (each poll's sample times): double polls (two within half an
  interval) and missed slots (a gap over 1.5 intervals), outside and across the kill. Gaps
  are all the store records, so when polls lag (a saturated machine) a late poll followed by
  one on time also counts as "double": read that figure only where lag p99 is small.

    python bench/shard_bench.py                                  # 2,000 devices, 60 s, 4 pollers
    GOVNET_BENCH_DEVICES=10000 GOVNET_BENCH_INTERVAL=60 GOVNET_BENCH_SECONDS=360 \\
        python bench/shard_bench.py
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
from pathlib import Path
from typing import Any

import psutil
import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from poll_bench import COMMUNITY, Agents, kind_of  # noqa: E402

from govnet.monitor.shards import shard_of  # noqa: E402
from tests.pgserver import PostgresServer, private_server  # noqa: E402

DEVICES = int(os.environ.get("GOVNET_BENCH_DEVICES", "2000"))
INTERVAL = float(os.environ.get("GOVNET_BENCH_INTERVAL", "60"))
SECONDS = float(os.environ.get("GOVNET_BENCH_SECONDS", "240"))
POLLERS = int(os.environ.get("GOVNET_BENCH_POLLERS", "4"))
SHARDS = int(os.environ.get("GOVNET_BENCH_SHARDS", "16"))
AGENT_PROCESSES = int(os.environ.get("GOVNET_BENCH_AGENT_PROCESSES", "2"))
DAEMON = [sys.executable, "-c", "from govnet.cli.daemon import main; main()"]


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
        "classid::bigint = 1936224868 AND objsubid = 2 AND granted AND database = "
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


def main() -> int:
    print(
        f"== {DEVICES} devices at {INTERVAL:g} s, {POLLERS} sharded govnetd, {SHARDS} shards, "
        f"{SECONDS:.0f} s"
    )
    folder = Path(tempfile.mkdtemp(prefix="govnet-shard-bench-"))
    os.environ["GOVNET_BENCH_COMMUNITY"] = COMMUNITY
    os.environ["GOVNET_CACHE_DIR"] = str(folder / "cache")
    os.environ["GOVNET_CONFIG"] = os.devnull
    t0 = time.perf_counter()
    agents = Agents(DEVICES, AGENT_PROCESSES)
    print(
        f"  agents: {DEVICES} in {AGENT_PROCESSES} processes, up in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    inv = folder / "inventory.yaml"
    inventory(inv, agents.addresses)
    pg_base = Path(tempfile.mkdtemp(prefix="govnet-bench-pg-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with private_server(pg_base) as admin:
            server = PostgresServer(admin)
            with server.database() as url:
                for i in range(POLLERS):
                    log = (folder / f"govnetd-{i}.log").open("wb")
                    procs.append(
                        subprocess.Popen(
                            [
                                *DAEMON,
                                "-i",
                                str(inv),
                                "--db",
                                url,
                                "--no-metrics",
                                "--log-format",
                                "json",
                                "--shards",
                                str(SHARDS),
                                "--backend",
                                "gufo",
                            ],
                            stdout=subprocess.DEVNULL,
                            stderr=log,
                        )
                    )
                run(url, procs, folder)
            server.engine.dispose()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(30)
        agents.close()
        shutil.rmtree(pg_base, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def run(url: str, procs: list[subprocess.Popen[bytes]], folder: Path) -> None:
    started = time.time()
    share = -(-SHARDS // POLLERS)
    while time.time() - started < 120:
        try:
            held = holders(url)
        except Exception:
            held = {}
        counts = sorted(list(held.values()).count(pid) for pid in set(held.values()))
        if len(held) == SHARDS and len(counts) == POLLERS and max(counts) <= share:
            break
        time.sleep(0.5)
    print(f"  balanced ({POLLERS} × ≤{share} shards) after {time.time() - started:.1f} s")
    time.sleep(INTERVAL + 5)  # one full round, then measure
    window_start = time.time()
    cpu0 = {p.pid: cpu(p.pid) for p in procs}
    time.sleep(max(10.0, SECONDS / 2 - INTERVAL - 5))
    window = time.time() - window_start
    rows = members(url)
    print(f"  steady window {window:.0f} s:")
    for p in procs:
        m = rows.get(p.pid, {})
        rss = psutil.Process(p.pid).memory_info().rss / 2**20
        print(
            f"    pid {p.pid}: {len(m.get('shards', {}))} shards, {m.get('devices', 0)} devices, "
            f"CPU {(cpu(p.pid) - cpu0[p.pid]) / window * 100:.1f}% of a core, RSS {rss:.0f} MiB, "
            f"lag p99 {m.get('lag_p99', 0.0) * 1000:.0f} ms"
        )

    # kill -9 one poller
    victim = procs[1]
    backend = rows.get(victim.pid, {}).get("backend")
    victim_shards = {s for s, pid in holders(url).items() if pid == backend}
    killed = time.time()
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    while True:
        held = holders(url)
        if len(held) == SHARDS and backend not in held.values():
            break
        if time.time() - killed > 4 * INTERVAL:
            break
        time.sleep(0.1)
    locks_back = time.time() - killed
    print(
        f"  kill -9 of pid {victim.pid} ({len(victim_shards)} shards): every shard held again "
        f"after {locks_back:.2f} s"
    )
    time.sleep(max(2 * INTERVAL + 5, SECONDS / 2))
    survivors = [p for p in procs if p is not victim]
    stopping = time.time()
    for p in survivors:
        p.send_signal(signal.SIGTERM)
    took = []
    for p in survivors:
        try:
            p.wait(300)
        except subprocess.TimeoutExpired:
            tail = (folder / f"govnetd-{procs.index(p)}.log").read_text().splitlines()[-5:]
            print(
                f"  pid {p.pid} did not stop within 300 s after SIGTERM; its log ends:",
                *tail,
                sep="\n    ",
            )
            p.kill()
        took.append(time.time() - stopping)
    print(
        f"  SIGTERM: the survivors handed over and stopped within {max(took):.1f} s "
        f"(polls in flight finish first)"
    )

    events: dict[str, list[float]] = {}
    sql = (
        "SELECT s.device, m.ts FROM monitor_samples m JOIN monitor_series s "
        "ON s.id = m.series_id GROUP BY s.device, m.ts ORDER BY 1, 2"
    )
    for device, ts in q(url, sql):
        events.setdefault(str(device), []).append(float(ts))
    since = window_start
    doubles = missed = missed_kill = 0
    resumed: list[float] = []
    for name, ts in events.items():
        ts = [t for t in ts if t >= since]
        for a, b in itertools.pairwise(ts):
            if b - a < 0.5 * INTERVAL:
                doubles += 1
            if b - a > 1.5 * INTERVAL:
                if a <= killed <= b:
                    missed_kill += 1
                else:
                    missed += 1
        if shard_of(name, SHARDS) in victim_shards:
            after = [t for t in ts if t > killed]
            before = [t for t in ts if t <= killed]
            if after and before:
                resumed.append(after[0] - before[-1])
    polled = len(events)
    print(
        f"  devices with polls: {polled} of {DEVICES}; double polls: {doubles}; missed slots: "
        f"{missed} (steady), {missed_kill} across the kill"
    )
    if resumed:
        resumed.sort()
        print(
            f"  the killed poller's {len(resumed)} devices: gap between the last poll before "
            f"the kill and the first after, median {statistics.median(resumed):.1f} s, max "
            f"{resumed[-1]:.1f} s (interval {INTERVAL:g} s)"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:  # not used: the agents are poll_bench's
        raise SystemExit(2)
    raise SystemExit(main())
