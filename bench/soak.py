"""Soak (issue 12, item 9): govnetd against 500 lab SNMP agents, 10 % of them flapping.

For ``--minutes`` (default 30) govnetd polls every agent; a tenth of them stop and start
answering on a schedule (lab fault ``snmp.flap``). Then govnetd is killed with SIGKILL and
started again for ``--after`` seconds. Prints, figures only (no asserts):

- govnetd's RSS and open file descriptors over time, and the RSS growth after warm-up;
- samples lost: per series, samples a reader saw committed before the kill that are missing
  after the restart (must be 0);
- the alert history of every flapping agent: one firing alert per problem at a time, each
  alert either resolved or still the open one, none opened twice, the alert open at the kill
  carried on by the restarted daemon (not duplicated); and alerts on healthy agents (0).

    python bench/soak.py                  # 30 minutes
    python bench/soak.py --minutes 4 --after 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govnet.lab import launcher  # noqa: E402
from tests.integration.conftest import PortPicker  # noqa: E402

DAEMON = [sys.executable, "-c", "from govnet.cli.daemon import main; main()"]
RULES = ROOT / "playbooks" / "alerts.yaml"
PLATFORMS = ("huawei", "hp_comware", "cisco_ios")


def write_inventory(
    folder: Path, n: int, flap_share: float, poll: float, period: float, down: float
) -> tuple[Path, set[str]]:
    """``n`` SNMP-only switches on free UDP ports; a seeded ``flap_share`` of them flap."""
    (folder / "community").write_text("soak-community\n")
    picker = PortPicker()
    try:
        ports = [picker.pick(socket.SOCK_DGRAM) for _ in range(n)]
    finally:
        picker.release()
    rng = random.Random(12)
    names = [f"ag{i:03d}" for i in range(n)]
    flapping = set(rng.sample(names, round(n * flap_share)))
    for name in sorted(flapping):
        data = folder / "lab-data" / name
        data.mkdir(parents=True, exist_ok=True)
        flap = {"period": period, "down": down, "offset": round(rng.uniform(0, period), 1)}
        (data / "lab.yaml").write_text(yaml.safe_dump({"faults": {"snmp": {"flap": flap}}}))
    inv = {
        "zones": {"internal": {"pools": {"prefixes": ["10.0.0.0/8"]}}},
        "sites": {"city": {"level": "city"}},
        "snmp_profiles": {
            "v2c": {"version": "2c", "community": "file:community", "timeout": 1, "retries": 1}
        },
        "defaults": {
            "snmp_profile": "v2c",
            "zone": "internal",
            "site": "city",
            "role": "access",
            "vars": {"poll_interval": f"{poll:g}s"},
        },
        "devices": {
            name: {
                "host": "127.0.0.1",
                "snmp_port": ports[i],
                "platform": PLATFORMS[i % 3],
                "address": f"10.{i // 250}.{i % 250}.1",
            }
            for i, name in enumerate(names)
        },
    }
    path = folder / "soak.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return path, flapping


def query(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def start(inventory: Path, db: Path, log: Path, down_after: float) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [
                *DAEMON,
                "-i",
                str(inventory),
                "--db",
                f"sqlite:///{db}",
                "--rules",
                str(RULES),
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--down-after",
                f"{down_after:g}s",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def figures(proc: subprocess.Popen[bytes], db: Path) -> dict[str, float]:
    p = psutil.Process(proc.pid)
    samples = query(db, "SELECT count(*) FROM monitor_samples")
    firing = query(db, "SELECT count(*) FROM monitor_alerts WHERE status = 'firing'")
    return {
        "rss": p.memory_info().rss / 2**20,
        "fds": float(p.num_fds()),
        "samples": float(samples[0][0]) if samples else 0.0,
        "firing": float(firing[0][0]) if firing else 0.0,
        "cpu": sum(p.cpu_times()[:2]),
    }


def watch(
    proc: subprocess.Popen[bytes],
    db: Path,
    seconds: float,
    every: float,
    t0: float,
    label: str,
    rows: list[tuple[str, float, dict[str, float]]],
) -> None:
    end = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"govnetd exited early with {proc.returncode}; see its log")
        f = figures(proc, db)
        rows.append((label, time.monotonic() - t0, f))
        print(
            f"  {label:7s} t={rows[-1][1]:7.0f} s  RSS {f['rss']:7.1f} MiB  fds {f['fds']:4.0f}  "
            f"samples {f['samples']:9.0f}  firing {f['firing']:3.0f}  "
            f"CPU {f['cpu']:7.1f} s",
            flush=True,
        )
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(every, left))


def series_snapshot(db: Path) -> dict[int, tuple[int, float]]:
    """Per series: (samples, newest ts) as a reader sees them now (committed)."""
    rows = query(db, "SELECT series_id, count(*), max(ts) FROM monitor_samples GROUP BY series_id")
    return {int(s): (int(n), float(t)) for s, n, t in rows}


def lost_samples(db: Path, before: dict[int, tuple[int, float]]) -> int:
    lost = 0
    for sid, (n, newest) in before.items():
        got = query(
            db,
            "SELECT count(*) FROM monitor_samples WHERE series_id = ? AND ts <= ?",
            (sid, newest),
        )[0][0]
        lost += max(0, n - int(got))
    return lost


def alert_audit(db: Path, flapping: set[str], open_at_kill: dict[str, int]) -> dict[str, Any]:
    rows = query(
        db,
        "SELECT id, key, device, status, opened, resolved FROM monitor_alerts "
        "ORDER BY key, opened, id",
    )
    events = query(db, "SELECT alert_id, event FROM monitor_alert_events")
    opened_events: dict[int, int] = defaultdict(int)
    for alert_id, event in events:
        if event == "opened":
            opened_events[int(alert_id)] += 1
    by_key: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        by_key[r[1]].append(r)
    problems: list[str] = []
    per_device: dict[str, int] = defaultdict(int)
    for key, alerts in by_key.items():
        if sum(1 for a in alerts if a[3] == "firing") > 1:
            problems.append(f"{key}: more than one firing alert")
        for a, b in itertools.pairwise(alerts):
            if a[3] != "resolved" or a[5] is None:
                problems.append(f"{key}: alert {a[0]} neither resolved nor the open one")
            elif b[4] < a[5]:
                problems.append(f"{key}: alert {b[0]} opened before {a[0]} resolved")
        for a in alerts:
            if a[3] == "resolved" and (a[5] is None or a[5] < a[4]):
                problems.append(f"{key}: alert {a[0]} resolved before it opened")
            if opened_events.get(int(a[0]), 1) > 1:
                problems.append(f"{key}: alert {a[0]} opened {opened_events[int(a[0])]} times")
            per_device[a[2]] += 1
    carried = 0
    for key, alert_id in open_at_kill.items():
        x = next((a for a in by_key.get(key, []) if a[0] == alert_id), None)
        if x is None:
            problems.append(f"{key}: the alert open at the kill ({alert_id}) is gone")
            continue
        end = x[5] if x[5] is not None else float("inf")
        again = [a for a in by_key[key] if a[0] != alert_id and x[4] <= a[4] < end]
        if again:
            problems.append(f"{key}: opened again ({again[0][0]}) while {alert_id} was open")
        else:
            carried += 1
    healthy = {d: n for d, n in per_device.items() if d not in flapping}
    return {
        "alerts": len(rows),
        "flapping_with_alerts": sum(1 for d in flapping if per_device.get(d)),
        "per_flapping_device": sorted(per_device[d] for d in flapping),
        "healthy_alerts": healthy,
        "problems": problems,
        "carried": carried,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="soak before the kill -9")
    ap.add_argument("--after", type=float, default=90.0, help="seconds after the restart")
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--flap-share", type=float, default=0.10)
    ap.add_argument("--poll", type=float, default=10.0, help="poll interval (s)")
    ap.add_argument("--flap-period", type=float, default=120.0)
    ap.add_argument("--flap-down", type=float, default=60.0)
    ap.add_argument("--down-after", type=float, default=20.0)
    ap.add_argument("--every", type=float, default=None, help="seconds between figure rows")
    args = ap.parse_args()
    seconds = args.minutes * 60
    every = args.every or max(10.0, seconds / 30)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inventory, flapping = write_inventory(
            folder, args.devices, args.flap_share, args.poll, args.flap_period, args.flap_down
        )
        db, log = folder / "soak.sqlite", folder / "govnetd.log"
        t_lab = time.monotonic()
        launcher.up(inventory, folder / "state", wait=120)
        print(
            f"lab: {args.devices} SNMP agents up in {time.monotonic() - t_lab:.1f} s, "
            f"{len(flapping)} flapping (silent {args.flap_down:g} s of every "
            f"{args.flap_period:g} s); poll every {args.poll:g} s, down after "
            f"{args.down_after:g} s; soak {args.minutes:g} min, then kill -9, restart, "
            f"{args.after:g} s"
        )
        rows: list[tuple[str, float, dict[str, float]]] = []
        first = second = None
        try:
            t0 = time.monotonic()
            first = start(inventory, db, log, args.down_after)
            watch(first, db, seconds, every, t0, "soak", rows)
            before = series_snapshot(db)
            committed = sum(n for n, _ in before.values())
            open_at_kill = {
                k: int(i)
                for i, k in query(db, "SELECT id, key FROM monitor_alerts WHERE status = 'firing'")
            }
            first.send_signal(signal.SIGKILL)
            first.wait(30)
            integrity = query(db, "PRAGMA integrity_check")
            after_kill = sum(n for n, _ in series_snapshot(db).values())
            t_restart = time.monotonic()
            second = start(inventory, db, log, args.down_after)
            watch(second, db, args.after, min(every, max(5.0, args.after / 6)), t0, "restart", rows)
            second.send_signal(signal.SIGTERM)
            code = second.wait(60)
            restart_s = time.monotonic() - t_restart
            lost = lost_samples(db, before)
            audit = alert_audit(db, flapping, open_at_kill)
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
            launcher.down(folder / "state")
        errors = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        errors = [e for e in errors if e.get("level") in ("error", "ERROR", "critical")]

    soak = [r for r in rows if r[0] == "soak"]
    warm = next((r for r in soak if r[1] >= min(120.0, seconds / 4)), soak[0])
    last = soak[-1]
    hours = max((last[1] - warm[1]) / 3600, 1e-9)
    growth = last[2]["rss"] - warm[2]["rss"]
    print("\n--- figures ---")
    print(
        f"RSS after warm-up (t={warm[1]:.0f} s): {warm[2]['rss']:.1f} MiB; before the kill "
        f"(t={last[1]:.0f} s): {last[2]['rss']:.1f} MiB; growth {growth:+.1f} MiB "
        f"({growth / hours:+.1f} MiB/h)"
    )
    fds = [int(r[2]["fds"]) for r in soak if r[1] >= warm[1]]
    print(
        f"open fds after warm-up: min {min(fds)}, max {max(fds)}, before the kill "
        f"{int(last[2]['fds'])}; restarted daemon at the end {int(rows[-1][2]['fds'])} "
        "(one UDP socket per polled agent)"
    )
    rate = (last[2]["samples"] - soak[0][2]["samples"]) / max(last[1] - soak[0][1], 1e-9)
    print(
        f"samples: {committed} committed before kill -9 ({rate:.0f}/s), {after_kill} "
        f"readable after it, integrity {integrity[0][0] if integrity else '?'}; "
        f"lost after restart: {lost}"
    )
    print(f"govnetd CPU before the kill: {last[2]['cpu']:.1f} s over {last[1]:.0f} s")
    print(f"restart: ran {restart_s:.0f} s, SIGTERM exit code {code}")
    print(
        f"alerts: {audit['alerts']} in the store; flapping agents with alerts "
        f"{audit['flapping_with_alerts']}/{len(flapping)}; alerts per flapping agent "
        f"min {min(audit['per_flapping_device'] or [0])} max "
        f"{max(audit['per_flapping_device'] or [0])}; on healthy agents "
        f"{sum(audit['healthy_alerts'].values())}"
    )
    print(
        f"alerts open at the kill: {len(open_at_kill)}, carried on by the restarted daemon "
        f"(same alert, not reopened): {audit['carried']}"
    )
    print(f"alert history inconsistencies: {len(audit['problems'])}")
    for p in audit["problems"][:20]:
        print(f"  {p}")
    print(f"errors in govnetd's log: {len(errors)}")
    for e in errors[:5]:
        print(f"  {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
