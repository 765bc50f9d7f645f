"""Distributed audits and backups (issue 17 item 2) on real parts: a private redis-server,
``govnet worker`` subprocesses per zone, the lab's SSH devices, the store (PostgreSQL as in a
multi-machine setup, SQLite on one machine).

Each test compares the distributed run's JSON report with a local audit of the same devices:
the same findings and counts, only the run's id and times differ."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.store import distributed as dist
from govnet.store.db import Store
from tests.integration.conftest import Lab
from tests.pgserver import PostgresServer
from tests.redisserver import RedisServer

pytestmark = pytest.mark.integration

GOVNET = str(Path(sys.executable).parent / "govnet")
ROOT = Path(__file__).resolve().parents[2]
VISIBILITY = "3"  # seconds before a killed worker's unacknowledged batch is redelivered
AUDIT = ("--lang", "en", "audit", "--timeout", "3", "-f", "json")
INTERNAL = {
    "int-core-1",
    "int-agg-east",
    "int-acc-west",
    "int-acc-town",
    "int-acc-east",
    "int-fw-1",
}
EXTERNAL = {"ext-core-1", "ext-agg-east", "ext-acc-west", "ext-acc-town", "ext-fw-1"}
HUNG = "ext-acc-town"  # the lab's switch that never answers: its batch runs ≥ 3 s


class Cluster:
    """Redis, a store and the environment every govnet process of a test shares."""

    def __init__(self, lab: Lab, base: Path, db: str) -> None:
        self.lab, self.base, self.db = lab, base, db
        self.redis = RedisServer()
        self.redis.start()
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "GOVNET_CONFIG": os.devnull,
            "GOVNET_DB": db,
            "GOVNET_BROKER": self.redis.url,
            "GOVNET_BROKER_VISIBILITY": VISIBILITY,
            "GOVNET_LOCK_DIR": str(base / "locks"),
            "GOVNET_KNOWN_HOSTS": str(base / "known_hosts"),
            "GOVNET_SYSTEM_KNOWN_HOSTS": "",
        }

    def worker(self, name: str, *zones: str, concurrency: int = 2) -> subprocess.Popen[bytes]:
        argv = [
            GOVNET,
            "-i",
            str(self.lab.inventory_path),
            "worker",
            "--name",
            name,
            "--concurrency",
            str(concurrency),
            *(a for z in zones for a in ("--zone", z)),
        ]
        with (self.base / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                argv, env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        self.workers[name] = proc
        return proc

    def submit(self, *args: str, broker: str | None = None) -> subprocess.Popen[str]:
        argv = [GOVNET, "-i", str(self.lab.inventory_path), *args]
        env = self.env if broker is None else {**self.env, "GOVNET_BROKER": broker}
        return subprocess.Popen(
            argv, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def run(self, *args: str, timeout: float = 120) -> tuple[int, str, str]:
        proc = self.submit(*args)
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err

    def store(self) -> Store:
        return Store.open(self.db)

    def close(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.redis.close()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.base.glob("*.log"))
        )


class PublishGate:
    """A TCP relay on 127.0.0.1 between the submitting govnet and Redis that holds the
    submitter's traffic right after its first LPUSH (the first batch queued), so the test can
    stop redis-server at exactly that point of the publishing; a connection whose Redis side
    closes is closed on the submitter's side too (what a broker going down looks like)."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.first_publish = threading.Event()
        self.first_reply = threading.Event()  # Redis answered that LPUSH: batch 1 is queued
        self.open = threading.Event()
        self.open.set()
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def release(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.closing = True
        self.open.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.redis_port), timeout=1)
            except OSError:
                client.close()  # Redis is down: refused, as the broker itself would
                continue
            server.settimeout(None)
            dead, pushed = threading.Event(), threading.Event()
            threading.Thread(
                target=self._pump, args=(client, server, dead, pushed, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, dead, pushed, False), daemon=True
            ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        dead: threading.Event,
        pushed: threading.Event,
        up: bool,
    ) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while up and not self.open.wait(0.05):
                    if dead.is_set():
                        return
                if dead.is_set():
                    return
                dst.sendall(data)
                if up and b"LPUSH" in data and not self.first_publish.is_set():
                    self.open.clear()  # the next command waits until the test releases it
                    pushed.set()
                    self.first_publish.set()
                elif not up and pushed.is_set():
                    self.first_reply.set()
        except OSError:
            pass
        finally:
            dead.set()
            for end in (src, dst):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between two runs: the run's id and times, the
    comparison with a previous run, each finding's elapsed time."""
    run = {
        k: v
        for k, v in report["run"].items()
        if k not in ("id", "started", "finished", "previous_run", "new_failures")
    }
    findings = [{k: v for k, v in f.items() if k != "elapsed"} for f in report["findings"]]
    return {**report, "run": run, "findings": findings}


@pytest.fixture(scope="module")
def local_report(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A local audit of the lab (its own store): what every distributed run must equal."""
    base = tmp_path_factory.mktemp("local")
    env = {
        **os.environ,
        "GOVNET_CONFIG": os.devnull,
        "GOVNET_LOCK_DIR": str(base / "locks"),
        "GOVNET_DB": f"sqlite:///{base / 'store.sqlite'}",
        "GOVNET_KNOWN_HOSTS": str(base / "known_hosts"),
        "GOVNET_SYSTEM_KNOWN_HOSTS": "",
    }
    proc = subprocess.run(
        [GOVNET, "-i", str(lab.inventory_path), *AUDIT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr  # the hung switch is unreadable
    report: dict[str, Any] = json.loads(proc.stdout)
    assert {f["device"] for f in report["findings"]} >= INTERNAL | EXTERNAL
    return report


@pytest.fixture
def sqlite_cluster(lab: Lab, tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(lab, tmp_path, f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        yield cluster
    finally:
        cluster.close()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _run_id(report: dict[str, Any]) -> str:
    return str(report["run"]["id"])


def test_distributed_audit_equals_local_and_zones_stay_apart(
    lab: Lab, tmp_path: Path, postgres_server: PostgresServer, local_report: dict[str, Any]
) -> None:
    """Workers per zone on a PostgreSQL store: one run, one report, the same as the local one;
    the internal worker never touched an external device and the other way round."""
    with postgres_server.database() as url:
        cluster = Cluster(lab, tmp_path, url)
        try:
            cluster.worker("w-internal", "internal")
            cluster.worker("w-external", "external")
            code, out, err = cluster.run(*AUDIT, "--distributed", "--batch-size", "2")
            assert code == 3, err + cluster.logs()
            report = json.loads(out)
            assert comparable(report) == comparable(local_report)
            with cluster.store() as store:
                runs = store.runs("audit")
                assert [r["id"] for r in runs] == [_run_id(report)]  # one run in the store
                attempts = dist.attempts(store, _run_id(report))
                kept = dist.results(store, _run_id(report))
        finally:
            cluster.close()
    touched = {(a["worker"], a["device"]) for a in attempts}
    assert {d for w, d in touched if w == "w-internal"} == INTERNAL
    assert {d for w, d in touched if w == "w-external"} == EXTERNAL
    assert {a["queue"] for a in attempts if a["worker"] == "w-internal"} == {"govnet.zone.internal"}
    assert {r["device"]: r["worker"] for r in kept} == {
        **{d: "w-internal" for d in INTERNAL},
        **{d: "w-external" for d in EXTERNAL},
    }
    # the configs travelled through the store only until the run was finished
    assert all("config" not in r["payload"] and r["payload"]["consumed"] for r in kept)


def test_distributed_backup(sqlite_cluster: Cluster) -> None:
    cluster = sqlite_cluster
    cluster.worker("w-all")
    code, out, err = cluster.run(
        "--lang",
        "en",
        "backup",
        "--distributed",
        "--timeout",
        "2",
        "--retries",
        "0",
        "-l",
        "int-*",
        "-l",
        HUNG,
        "-f",
        "json",
    )
    assert code == 3, err + cluster.logs()  # the hung switch could not be read
    data = json.loads(out)
    status = {r["device"]: r["status"] for r in data["results"]}
    assert status == {**{d: "new" for d in INTERNAL}, HUNG: "failed"}
    with cluster.store() as store:
        for device in INTERNAL:
            cfg = store.latest_config(device)
            assert cfg is not None and device in cfg.text  # sysname/hostname: its own config
        assert [r["id"] for r in store.runs("backup")] == [data["run"]]


def test_killed_worker_has_its_batch_retried_and_counted_once(
    sqlite_cluster: Cluster, local_report: dict[str, Any]
) -> None:
    """kill -9 of the worker holding the hung switch's batch: after the visibility timeout the
    batch goes to another worker; the run completes with the local run's findings, none twice."""
    cluster = sqlite_cluster
    cluster.worker("w-internal", "internal")
    victim = cluster.worker("victim", "external", concurrency=1)
    submitter = cluster.submit(*AUDIT, "--distributed", "--batch-size", "1")
    store = cluster.store()

    def victim_on_hung() -> bool:
        with store.begin() as conn:
            from sqlalchemy import select

            rows = conn.execute(
                select(dist.dist_attempts.c.run_id).where(
                    dist.dist_attempts.c.worker == "victim", dist.dist_attempts.c.device == HUNG
                )
            ).all()
        return bool(rows) and HUNG not in dist.done_devices(store, rows[0].run_id)

    _wait(victim_on_hung, 60, "the victim to start on the hung switch")
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    cluster.worker("rescue", "external")
    out, err = submitter.communicate(timeout=120)
    assert submitter.returncode == 3, err + cluster.logs()
    report = json.loads(out)
    assert comparable(report) == comparable(local_report)
    pairs = [(f["device"], f["rule"]) for f in report["findings"]]
    assert len(pairs) == len(set(pairs))
    with store:
        stored = store.findings(_run_id(report))
        attempts = dist.attempts(store, _run_id(report))
        kept = {r["device"]: r["worker"] for r in dist.results(store, _run_id(report))}
    assert len(stored) == len(report["findings"])  # no device counted twice in the store
    on_hung = [a["worker"] for a in attempts if a["device"] == HUNG]
    assert on_hung[0] == "victim" and "rescue" in on_hung[1:]
    assert kept[HUNG] == "rescue"
    assert not {a["device"] for a in attempts if a["worker"] in ("victim", "rescue")} & INTERNAL


def test_broker_restart_mid_run_pauses_and_resumes(
    sqlite_cluster: Cluster, local_report: dict[str, Any]
) -> None:
    """Redis stopped after the first device finished and started again: the queued batches
    (in its append-only file) are taken once it is back; the run completes, the same."""
    cluster = sqlite_cluster
    cluster.worker("w-1", concurrency=1)
    submitter = cluster.submit(*AUDIT, "--distributed", "--batch-size", "1")
    store = cluster.store()

    def started() -> bool:
        with store.begin() as conn:
            from sqlalchemy import func, select

            return bool(conn.execute(select(func.count()).select_from(dist.dist_results)).scalar())

    _wait(started, 60, "a first device to finish")
    cluster.redis.stop()
    with store.begin() as conn:
        from sqlalchemy import func, select

        before = conn.execute(select(func.count()).select_from(dist.dist_results)).scalar()
    assert before is not None and before < len(INTERNAL | EXTERNAL)  # batches left in Redis
    time.sleep(2)
    assert submitter.poll() is None  # waiting, not failed
    cluster.redis.start()
    out, err = submitter.communicate(timeout=120)
    assert submitter.returncode == 3, err + cluster.logs()
    report = json.loads(out)
    assert comparable(report) == comparable(local_report)
    with store:
        assert len(dist.results(store, _run_id(report))) == len(INTERNAL | EXTERNAL)


def test_no_worker_for_a_zone_is_reported_not_waited_for_forever(sqlite_cluster: Cluster) -> None:
    """Only an internal worker: the external devices are queued again after --worker-wait,
    then reported unread (exit 3) naming their zone; the internal ones are audited."""
    cluster = sqlite_cluster
    cluster.worker("w-internal", "internal")
    code, out, err = cluster.run(
        *AUDIT, "--distributed", "--worker-wait", "2", "-l", "int-core-1", "-l", "ext-core-1"
    )
    assert code == 3, err + cluster.logs()
    assert "publishing the 1 left again" in err
    report = json.loads(out)
    errors = {f["device"]: f["message"] for f in report["findings"] if f["status"] == "error"}
    assert set(errors) == {"ext-core-1"}
    assert "is 'govnet worker' running for zone external?" in errors["ext-core-1"]
    assert {f["status"] for f in report["findings"] if f["device"] == "int-core-1"} >= {"pass"}


def test_broker_down_while_the_batches_are_queued_then_back(
    sqlite_cluster: Cluster, local_report: dict[str, Any]
) -> None:
    """Redis stopped right after the first of eleven batches was queued and started again two
    seconds later: the submitter waits, queues the rest once it is back, and the run completes
    with the local run's report, no device twice."""
    cluster = sqlite_cluster
    gate = PublishGate(cluster.redis.port)
    try:
        cluster.worker("w-1", concurrency=2)
        submitter = cluster.submit(*AUDIT, "--distributed", "--batch-size", "1", broker=gate.url)
        assert gate.first_publish.wait(60), "the submitter never queued a batch"
        assert gate.first_reply.wait(10)  # batch 1 is queued; the next command is held
        cluster.redis.stop()
        gate.release()  # the held command's connection is gone: it is dropped, not sent
        time.sleep(2)
        assert submitter.poll() is None  # waiting for the broker, not failed
        cluster.redis.start()
        try:
            out, err = submitter.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            submitter.kill()
            out, err = submitter.communicate()
            with cluster.store() as store, store.begin() as conn:
                from sqlalchemy import select

                tried = [tuple(r) for r in conn.execute(select(dist.dist_attempts)).all()]
                done = [r.device for r in conn.execute(select(dist.dist_results.c.device))]
            pytest.fail(f"no end: {err}\ntried: {tried}\ndone: {done}\n{cluster.logs()}")
    finally:
        gate.close()
    assert submitter.returncode == 3, err + cluster.logs()
    assert "unreachable" in err and "is back" in err
    report = json.loads(out)
    assert comparable(report) == comparable(local_report)
    pairs = [(f["device"], f["rule"]) for f in report["findings"]]
    assert len(pairs) == len(set(pairs))
    with cluster.store() as store:
        assert len(store.findings(_run_id(report))) == len(report["findings"])
        assert len(dist.results(store, _run_id(report))) == len(INTERNAL | EXTERNAL)


def test_broker_down_past_the_wait_while_queuing_is_one_line_and_exit_3(
    sqlite_cluster: Cluster,
) -> None:
    cluster = sqlite_cluster
    gate = PublishGate(cluster.redis.port)
    try:
        submitter = cluster.submit(
            *AUDIT,
            "--distributed",
            "--batch-size",
            "1",
            "--worker-wait",
            "1",
            "-l",
            "int-*",
            broker=gate.url,
        )
        assert gate.first_publish.wait(60), "the submitter never queued a batch"
        assert gate.first_reply.wait(10)
        cluster.redis.stop()
        gate.release()
        out, err = submitter.communicate(timeout=60)
    finally:
        gate.close()
    assert submitter.returncode == 3, err
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert f"127.0.0.1:{gate.port}" in last and re.search(r"unreachable for \d+s", last), err
    assert "(1 of 6 queued" in last and "Traceback" not in err
