"""A poller cut off from PostgreSQL by the network (no FIN, no RST) gives its shards up in
seconds, not hours (issue 17).

Three namespaces made here: ``C`` (poller A) — ``R`` (a router) — ``S`` (PostgreSQL on
10.77.2.2:5432, and its Unix socket in the test's folder). Poller B and the observer reach the
server through that socket, so the cut never concerns them. Two cuts, each silent for the
hosts at both ends (nothing answers, no FIN, RST or ICMP): ``drop``, the router discards
everything between them (blackhole routes: what a firewall's DROP rule or a dead path does),
and ``link``, the router's two links go down (``ip link set … down``: a switch switched off,
both cables dead). Both pollers are ``tests/shardpoller.py``: the real
:class:`~govnet.monitor.sharding.ShardMember` with a host that logs each shard it polls
every 0.1 s, starting a shard taken from a dead session after the guard as govnetd does.

Shown: (a) the server ends A's lock session, so its locks go, within the session's
``server_drop`` of the cut (pg_locks read through the socket; before #17's fix they stayed
for the kernel's 2 h 11 min), and A's other store session too, with the transaction A left
open there (a write in flight when the cut came) and its row lock; (b) B then holds every shard; (c) A stopped polling every shard
at once within its lease ``L`` of the cut, and B polls none of A's shards before A's last poll
of it; (d) once the path is back A rejoins and the shards are shared again. ``scenario`` is
also what ``bench/netcut_bench.py`` runs with longer lease periods.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from govnet.lab import netns
from govnet.monitor.sharding import guard
from govnet.store.cluster import SHARD_LOCK_SPACE, SessionTimeouts
from tests.pgserver import PostgresServer, private_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EVERY = 0.5  # lease period: poll interval 2 s
SHARDS = 4
CLIENT, ROUTER_C, ROUTER_S, SERVER = "10.77.1.2", "10.77.1.1", "10.77.2.1", "10.77.2.2"
ROW = "netcut-probe"  # the monitor_meta row A keeps locked in an open transaction
SLACK = 2.0  # observing on a loaded 2-core machine; the bounds themselves are the product's


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@dataclass
class Net:
    c: str
    r: str
    s: str
    how: str  # "drop": the router discards both ways; "link": the router's links go down

    def cut(self) -> None:
        if self.how == "link":
            for dev in ("r0", "r1"):
                ip("-n", self.r, "link", "set", dev, "down")
            return
        for dest in (SERVER, CLIENT):
            ip("-n", self.r, "route", "add", "blackhole", f"{dest}/32")

    def restore(self) -> None:
        if self.how == "link":
            for dev in ("r0", "r1"):
                ip("-n", self.r, "link", "set", dev, "up")
            return
        for dest in (SERVER, CLIENT):
            ip("-n", self.r, "route", "del", "blackhole", f"{dest}/32")


@contextmanager
def network(how: str) -> Iterator[Net]:
    """The three namespaces and their two links; removed at the end with anything left in
    them."""
    tag = f"govnet-cut-{os.getpid()}"
    n = Net(f"{tag}-c", f"{tag}-r", f"{tag}-s", how)
    try:
        for ns in (n.c, n.r, n.s):
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        # created inside the namespaces: the host's own links are never touched
        ip("-n", n.c, "link", "add", "c0", "type", "veth", "peer", "name", "r0", "netns", n.r)
        ip("-n", n.r, "link", "add", "r1", "type", "veth", "peer", "name", "s1", "netns", n.s)
        for ns, dev, addr in (
            (n.c, "c0", f"{CLIENT}/24"),
            (n.r, "r0", f"{ROUTER_C}/24"),
            (n.r, "r1", f"{ROUTER_S}/24"),
            (n.s, "s1", f"{SERVER}/24"),
        ):
            ip("-n", ns, "addr", "add", addr, "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", n.c, "route", "add", "default", "via", ROUTER_C)
        ip("-n", n.s, "route", "add", "default", "via", ROUTER_S)
        forward = "echo 1 > /proc/sys/net/ipv4/ip_forward"  # the router's own (per namespace)
        ip("netns", "exec", n.r, "sh", "-c", forward)
        yield n
    finally:
        for ns in (n.c, n.r, n.s):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


@pytest.fixture(params=["drop", "link"])
def net(request: pytest.FixtureRequest) -> Iterator[Net]:
    reason = netns.unavailable(try_create=True)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with network(request.param) as n:
        yield n


@dataclass
class Poller:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    events: list[dict[str, Any]] = field(default_factory=list)

    def read(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        self.events = [json.loads(line) for line in lines if line.endswith("}")]
        return self.events

    def polls(self, shard: int) -> list[float]:
        return [e["t"] for e in self.read() if shard in e.get("poll", ())]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_poller(
    name: str, url: str, every: float, tmp: Path, inside: str | None = None, row: str = ""
) -> Poller:
    log = tmp / f"{name}.jsonl"
    argv = [sys.executable, str(ROOT / "tests" / "shardpoller.py"), url, str(SHARDS)]
    argv += [str(every), name, str(log), *([row] if row else [])]
    if inside:
        argv = ["ip", "netns", "exec", inside, *argv]
    err = (tmp / f"{name}.stderr").open("wb")
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    return Poller(name, proc, log)


def wait_for(what: str, check: Callable[[], Any], timeout: float, tmp: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in tmp.glob("*.stderr")
    )
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def owners(engine: Engine) -> dict[int, tuple[int, str]]:
    """shard → (backend pid, client address or 'local') from pg_locks, over the socket."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT l.objid::int, l.pid, coalesce(host(a.client_addr), 'local') "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.classid::bigint = :k "
                "AND l.objsubid = 2 AND l.granted"
            ),
            {"k": SHARD_LOCK_SPACE},
        )
        return {int(s): (int(p), str(addr)) for s, p, addr in rows}


@dataclass(frozen=True)
class Figures:
    """Seconds from the cut (or from the restore, for ``rejoined``)."""

    fenced: float  # A's last shard dropped (A's lease: SessionTimeouts.lease)
    gone: float  # A's locks gone on the server (SessionTimeouts.server_drop)
    taken: float  # B held every shard
    b_polls: float  # B polled the last of A's shards (after the guard)
    rejoined: float  # A held its half again and polled it


def test_a_poller_cut_off_by_the_network_gives_its_shards_up_within_the_bound(
    net: Net,
) -> None:
    got = scenario(net, EVERY)
    t = SessionTimeouts(EVERY)
    print(
        f"{net.how}: cut→A fenced {got.fenced:.2f}s (lease {t.lease:g}s); "
        f"cut→locks gone {got.gone:.2f}s (server_drop {t.server_drop}s); "
        f"cut→B polls A's shards {got.b_polls:.2f}s (guard {guard(EVERY)}s); "
        f"restore→A rejoined {got.rejoined:.2f}s"
    )


def scenario(net: Net, every: float) -> Figures:
    """PostgreSQL in ``net``'s server namespace, pollers A (cut) and B, the cut and the
    restore, with every check of the module docstring; the timings."""
    base = Path(tempfile.mkdtemp(prefix="govnet-test-netcut-"))  # the server runs as postgres
    try:
        with private_server(base, netns=net.s, listen=SERVER, trust=["10.77.1.0/24"]) as admin:
            server = PostgresServer(admin)
            try:
                with server.database() as local_url:
                    return run(net, every, local_url, base)
            finally:
                server.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def sessions_from(engine: Engine, addr: str) -> int:
    with engine.connect() as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE host(client_addr) = :a"
        return int(conn.execute(text(query), {"a": addr}).scalar() or 0)


def row_free(engine: Engine) -> bool:
    """Can another session lock the row A holds in its open transaction?"""
    with engine.connect() as conn:
        try:
            conn.execute(text(f"SELECT 1 FROM monitor_meta WHERE key = '{ROW}' FOR UPDATE NOWAIT"))
        except OperationalError:  # lock not available
            return False
        finally:
            conn.rollback()
    return True


def run(net: Net, every: float, local_url: str, tmp: Path) -> Figures:
    over_tcp = (
        make_url(local_url)
        .set(host=SERVER, port=5432, query={})
        .render_as_string(hide_password=False)
    )
    timeouts = SessionTimeouts(every)
    wait = guard(every) + 4 * every + 10  # a step, the guard, a poll: on a loaded machine
    observer = create_engine(local_url, isolation_level="AUTOCOMMIT")
    rows = create_engine(local_url)
    with observer.connect() as conn:
        conn.execute(text(f"INSERT INTO monitor_meta (key, value) VALUES ('{ROW}', '')"))
    a = start_poller("A", over_tcp, every, tmp, inside=net.c, row=ROW)
    b = None
    try:
        wait_for("A to hold every shard", lambda: len(owners(observer)) == SHARDS, 30, tmp)
        assert not row_free(rows)  # A's write in flight holds it
        b = start_poller("B", local_url, every, tmp)

        def shared() -> dict[str, set[int]] | None:
            by: dict[str, set[int]] = {}
            for s, (_, addr) in owners(observer).items():
                by.setdefault("A" if addr == CLIENT else "B", set()).add(s)
            ok = len(by.get("A", ())) == len(by.get("B", ())) == SHARDS // 2
            return by if ok else None

        held = wait_for("A and B to share the shards", shared, 30, tmp)
        a_shards = held["A"]
        a_pid = next(pid for s, (pid, _) in owners(observer).items() if s in a_shards)
        wait_for("A and B to poll", lambda: all(a.polls(s) for s in a_shards), wait, tmp)
        wait_for("B to poll", lambda: all(b.polls(s) for s in held["B"]), wait, tmp)

        t_cut = time.time()
        net.cut()

        # (a) the server drops A's silent session: its locks are gone
        wait_for(
            "the server to drop A's lock session",
            lambda: all(pid != a_pid for pid, _ in owners(observer).values()),
            timeouts.server_drop + wait,
            tmp,
        )
        t_gone = time.time()
        # and every other session of A's: a transaction it left open no longer holds its rows
        wait_for(
            "the server to drop A's other sessions",
            lambda: sessions_from(observer, CLIENT) == 0,
            timeouts.server_drop + wait,
            tmp,
        )
        t_all_gone = time.time()
        assert row_free(rows)
        # (b) B takes them
        wait_for(
            "B to hold every shard",
            lambda: (
                {s for s, (_, addr) in owners(observer).items() if addr == "local"}
                == set(range(SHARDS))
            ),
            wait,
            tmp,
        )
        t_taken = time.time()
        wait_for("B to poll A's shards", lambda: all(b.polls(s) for s in a_shards), wait, tmp)
        b_polls = max(min(t for t in b.polls(s) if t > t_cut) for s in a_shards)
        time.sleep(1.0)  # a poll of A's after B began would show here

        # (c) A fenced itself: it stopped polling every shard at once, within its lease
        a_events = a.read()
        fenced = [e for e in a_events if e.get("failed") and e["t"] > t_cut]
        assert fenced and set(fenced[0]["lose"]) == a_shards, a_events[-5:]
        t_fence = fenced[0]["t"]
        for s in a_shards:
            a_last = max(a.polls(s))
            b_first = min(t for t in b.polls(s) if t > t_cut)
            assert a_last < b_first, (s, a_last, b_first)  # never two pollers on one shard
            assert a_last <= t_fence < t_cut + timeouts.lease + SLACK
        assert t_gone - t_cut < timeouts.server_drop + SLACK
        assert t_all_gone - t_cut < timeouts.server_drop + SLACK

        # (d) the path comes back: A rejoins with a new session and the shards are shared
        t_restore = time.time()
        net.restore()
        again = wait_for("A to rejoin and take its half", shared, 3 * wait, tmp)
        wait_for(
            "A to poll again",
            lambda: all(any(t > t_restore for t in a.polls(s)) for s in again["A"]),
            wait,
            tmp,
        )
        t_rejoined = time.time()
        assert a.proc.poll() is None and b.proc.poll() is None  # neither crashed
        return Figures(
            t_fence - t_cut,
            t_gone - t_cut,
            t_taken - t_cut,
            b_polls - t_cut,
            t_rejoined - t_restore,
        )
    finally:
        a.stop()
        if b is not None:
            b.stop()
        observer.dispose()
        rows.dispose()
