"""Three sharded govnetd processes on one private PostgreSQL against the lab's SNMP agents.

Every device is polled every 2 s. The poll events are the store's own record (the distinct
sample times of each device): no device may be polled twice within half an interval (two
pollers at once) nor go two intervals without a poll, except across a ``kill -9``, where its
shards must be polled again within two intervals. The alerts firing when a poller dies stay
the same rows, never resolved and never opened twice, taken over by the new holder.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from govnet.monitor.shards import shard_of
from tests.integration.conftest import Lab
from tests.integration.test_monitor_daemon import RULES, fast_inventory, wait_for
from tests.pgserver import PostgresServer

pytestmark = pytest.mark.integration

DAEMON = [sys.executable, "-c", "from govnet.cli.daemon import main; main()"]
GOVNET = [sys.executable, "-c", "from govnet.cli.main import main; main()"]
INTERVAL = 2.0
SHARDS = 6


class Poller:
    def __init__(self, inventory: Path, url: str, log: Path) -> None:
        self.log = log
        with log.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    *DAEMON,
                    "-i",
                    str(inventory),
                    "--db",
                    url,
                    "--rules",
                    str(RULES),
                    "--listen",
                    "127.0.0.1:0",
                    "--log-format",
                    "json",
                    "--down-after",
                    "2s",
                    "--shards",
                    str(SHARDS),
                ],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def logs(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in self.log.read_text(encoding="utf-8").splitlines()
            if line.startswith("{")
        ]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.database() as url:
        yield url


@pytest.fixture
def pollers() -> Iterator[Callable[..., Poller]]:
    started: list[Poller] = []

    def start(*args: Any) -> Poller:
        p = Poller(*args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def cluster(url: str) -> dict[str, Any]:
    out = subprocess.run(
        [*GOVNET, "--db", url, "monitor", "cluster", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode in (0, 1), out.stderr
    return dict(json.loads(out.stdout))


def by_pid(view: dict[str, Any]) -> dict[int, list[int]]:
    """pid → shards held, of the live members."""
    return {m["pid"]: m["shards"] for m in view["members"] if m["live"] and m["shards"]}


def cluster_when(
    url: str, what: str, ok: Callable[[dict[int, list[int]]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """The cluster view once every shard is held and ``ok`` holds for the live members."""

    def check() -> dict[str, Any] | None:
        view = cluster(url)
        return view if not view["unheld"] and ok(by_pid(view)) else None

    return dict(wait_for(what, check, timeout))


def polls(url: str) -> dict[str, list[float]]:
    """device → the start times of its polls, from the samples each poll committed."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT s.device, m.ts FROM monitor_samples m JOIN monitor_series s "
                    "ON s.id = m.series_id GROUP BY s.device, m.ts ORDER BY s.device, m.ts"
                )
            )
            out: dict[str, list[float]] = {}
            for device, ts in rows:
                out.setdefault(str(device), []).append(float(ts))
            return out
    finally:
        engine.dispose()


def up_devices(url: str) -> set[str]:
    """Devices that answer (a down one is polled on its back-off, not every interval)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT device FROM monitor_devices WHERE state = 'up' AND failures = 0")
            )
            return {str(d) for (d,) in rows}
    finally:
        engine.dispose()


def alerts(url: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, key, device, status FROM monitor_alerts"))
            found = [dict(r._mapping) for r in rows]
            for a in found:
                a["events"] = [
                    e
                    for (e,) in conn.execute(
                        text("SELECT event FROM monitor_alert_events WHERE alert_id = :i"),
                        {"i": a["id"]},
                    )
                ]
            return found
    finally:
        engine.dispose()


def test_sharded_pollers_share_the_lab(
    lab: Lab, tmp_path: Path, pg_url: str, pollers: Callable[..., Poller]
) -> None:
    inventory = fast_inventory(lab, tmp_path / "inv")
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    data["defaults"]["vars"]["poll_interval"] = f"{INTERVAL:g}s"
    inventory.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")

    # SQLite cannot be shared: refused in one line, before anything starts
    refused = subprocess.run(
        [
            *DAEMON,
            "-i",
            str(inventory),
            "--db",
            f"sqlite:///{tmp_path / 's.sqlite'}",
            "--shards",
            "3",
            "--no-metrics",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "sharding needs a shared PostgreSQL store" in refused.stderr
    assert "Traceback" not in refused.stderr

    ps = [pollers(inventory, pg_url, tmp_path / f"govnetd-{i}.log") for i in range(3)]
    view = cluster_when(
        pg_url,
        "three pollers holding two shards each",
        lambda held: sorted(map(len, held.values())) == [2, 2, 2],
        timeout=60,
    )
    assert sorted(s for shards in by_pid(view).values() for s in shards) == list(range(SHARDS))
    wait_for(
        "the UPS-on-battery alert",
        lambda: [
            a
            for a in alerts(pg_url)
            if a["key"] == "ups-on-battery|ups-1|" and a["status"] == "firing"
        ],
        timeout=30,
    )
    time.sleep(4 * INTERVAL)  # steady state

    # kill -9 the poller of ups-1: its shards go to the others, its alerts with them
    ups_shard = shard_of("ups-1", SHARDS)
    victim_pid = next(pid for pid, shards in by_pid(cluster(pg_url)).items() if ups_shard in shards)
    victim = next(p for p in ps if p.proc.pid == victim_pid)
    firing_before = {a["key"]: a["id"] for a in alerts(pg_url) if a["status"] == "firing"}
    killed = time.time()
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    view = cluster_when(
        pg_url,
        "the two survivors holding every shard",
        lambda held: len(held) == 2 and victim_pid not in held,
    )
    taken_over = time.time() - killed
    assert sorted(len(s) for s in by_pid(view).values()) == [3, 3]
    assert taken_over < 2 * INTERVAL + 3.0  # + the cluster command's own start-up
    heir = next(p for p in ps if ups_shard in by_pid(view).get(p.proc.pid, []))
    gained = wait_for(
        "the heir restoring ups-1's alerts",
        lambda: [
            r
            for r in heir.logs()
            if r.get("msg") == "polling shards" and ups_shard in r["gained"] and r["alerts"] >= 1
        ],
    )
    assert gained
    time.sleep(3 * INTERVAL)

    # the lock session of one survivor dies (the server ends it): it stops polling at once,
    # the other takes everything, then it comes back and the two balance again
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        pid_of = {
            int(p): int(b)
            for p, b in conn.execute(text("SELECT pid, backend_pid FROM monitor_cluster"))
        }
        survivor = next(p for p in ps if p is not victim and p is not heir)
        conn.execute(text("SELECT pg_terminate_backend(:b)"), {"b": pid_of[survivor.proc.pid]})
    engine.dispose()
    wait_for(
        "the survivor noticing",
        lambda: [
            r
            for r in survivor.logs()
            if str(r.get("msg", "")).startswith("shard lock session lost")
        ],
    )
    cluster_when(
        pg_url, "the two balanced again", lambda held: sorted(map(len, held.values())) == [3, 3]
    )
    time.sleep(2 * INTERVAL)

    # SIGTERM: a clean hand-over of all its shards to the last one
    survivor.proc.send_signal(signal.SIGTERM)
    assert survivor.proc.wait(30) == 0
    cluster_when(
        pg_url,
        "the last poller holding every shard",
        lambda held: list(held.values()) == [list(range(SHARDS))],
    )
    time.sleep(3 * INTERVAL)
    table = subprocess.run(
        [*GOVNET, "--db", pg_url, "--lang", "en", "monitor", "cluster"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert table.returncode == 0, table.stderr
    assert str(heir.proc.pid) in table.stdout and "(none)" not in table.stdout

    # poll events: never two pollers on a device, never an interval without a poll except
    # across the kill (within two intervals of it)
    events = polls(pg_url)
    answering = {d for d, ts in events.items() if len(ts) >= 8} & up_devices(pg_url)
    assert len(answering) >= 10, sorted(events)
    doubles, missed = [], []
    for device in sorted(answering):
        ts = events[device]
        for a, b in itertools.pairwise(ts):
            if b - a < 0.5 * INTERVAL:
                doubles.append((device, a, b))
            across_kill = a <= killed <= b
            limit = (killed - a) + 2 * INTERVAL + 1.0 if across_kill else 2 * INTERVAL + 1.0
            if b - a > limit:
                missed.append((device, round(a - killed, 1), round(b - a, 1)))
    handovers = sorted(
        (
            round(datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp(), 3),
            p.proc.pid,
            r["msg"],
            r.get("shards") or r.get("gained"),
        )
        for p in ps
        for r in p.logs()
        if "shards" in str(r.get("msg"))
    )
    assert not doubles, (killed, doubles, handovers)
    assert not missed, (killed, missed, handovers)

    # alerts: the ones firing at the kill are the same rows, still firing, opened once
    after = alerts(pg_url)
    for key, alert_id in firing_before.items():
        row = next(a for a in after if a["id"] == alert_id)
        assert row["status"] == "firing", (key, row)
        assert "resolved" not in row["events"] and row["events"].count("opened") == 1
    keys = [a["key"] for a in after]
    assert len(keys) == len(set(keys)), "an alert was opened twice"
