"""tests/ports.py: ports for test servers are never handed to two processes, never ephemeral,
and never one somebody listens on. (bench/lab_ports_stress.py starts real labs concurrently.)"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from tests.ports import Reserver, port_range, reserve_port

ROOT = Path(__file__).resolve().parents[2]
# Each child holds its reservations (its locks die with it) until every child has reported.
CHILD = "import json, sys; from tests.ports import reserve_port; print(json.dumps([reserve_port() for _ in range(300)]), flush=True); sys.stdin.read()"


def ephemeral() -> range:
    lo, hi = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return range(lo, hi + 1)


def test_concurrent_processes_never_share_a_port() -> None:
    mine = [reserve_port() for _ in range(100)]  # held by this process meanwhile
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    # all alive at once: a port of a child that already exited may rightly be handed out again
    got = [json.loads(c.stdout.readline()) for c in children]  # type: ignore[union-attr]
    for c in children:
        c.communicate(timeout=60)
    everything = mine + [p for ports in got for p in ports]
    assert len(everything) == 100 + 3 * 300
    assert len(set(everything)) == len(everything)  # no number twice, in or across processes
    assert all(p in port_range() and p not in ephemeral() for p in everything)


def test_a_port_somebody_listens_on_is_skipped() -> None:
    ports = [reserve_port() for _ in range(3)]
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", ports[0]))
            reserver = Reserver(ports[:2])
            reserver.cursor = 0  # from the busy one
            assert reserver.reserve() == ports[1]
    reserver = Reserver(ports[2:])
    assert reserver.reserve() == ports[2]
    assert reserver.reserve() == ports[2]  # all handed out: our own idle port comes again
