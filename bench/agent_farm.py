"""Simulated SNMP devices for the scale benches: the lab's agents in several processes.

``AgentFarm(count, processes)`` starts ``processes`` children (``python bench/agent_farm.py
--serve FIRST COUNT``), each serving a block of devices. Device ``i`` listens on its own
loopback address, ``127.77.(i // 250).(i % 250 + 1)`` (only 127.0.0.0/8; a kernel-chosen port),
so 10,000 devices need no 10,000 ports of one address. The answers are the lab's
(:class:`govnet.lab.snmpagent.Agent`: the same MIBs, counters and wire code as ``govnet lab``);
only the loop around them is the bench's own: one ``epoll`` over the block's sockets, every
queued datagram read per wake-up, no asyncio transport per socket. MIBs are built before a
child reports ready, so the first poll round does not pay for them.

The devices are poll_bench's realistic mix (:func:`poll_bench.kind_of`: 60 % 52-port access
switches, aggregation, core, servers, UPS, environment sensors); devices of a kind share one
interface table. ``farm.cpu()`` is the children's CPU seconds (user + system, which includes the
kernel's loopback delivery of their replies), so a bench reports the agents apart from the
pollers.

    python bench/agent_farm.py 2000 4     # start 2,000 devices in 4 processes, print figures
"""

from __future__ import annotations

import errno
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from poll_bench import COMMUNITY, kind_of  # noqa: E402

from govnet.lab import snmpwire as w  # noqa: E402
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables  # noqa: E402
from govnet.lab.snmpagent import Agent, AgentSpec  # noqa: E402

PER_OCTET = 250


def address(i: int) -> str:
    """Device ``i``'s loopback address (127.77.0.1 … 127.77.255.250: 64,000 devices)."""
    if not 0 <= i < 256 * PER_OCTET:
        raise ValueError(f"device {i}: the farm holds at most {256 * PER_OCTET} devices")
    return f"127.77.{i // PER_OCTET}.{i % PER_OCTET + 1}"


def name_of(i: int) -> str:
    return f"dev{i:04d}"


_TABLES: dict[int, LabTables] = {}


def tables(ports: int) -> LabTables:
    """One interface table per port count (poll_bench's layout), shared by its devices."""
    found = _TABLES.get(ports)
    if found is None:
        interfaces = [
            {
                "name": f"GigabitEthernet0/0/{n}",
                "speed": 1000,
                "description": f"port {n}",
                "oper": "up" if n % 5 else "down",
            }
            for n in range(1, ports - 3)
        ] + [
            {"name": f"XGigabitEthernet0/0/{n}", "speed": 10000}
            for n in range(1, min(ports, 4) + 1)
        ]
        found = _TABLES[ports] = LabTables.model_validate(
            {"interfaces": interfaces if ports else []}
        )
    return found


def spec(i: int) -> AgentSpec:
    role, platform, ports = kind_of(i)
    name = name_of(i)
    data = LabDeviceData(name, None, tables(ports), LabBehaviour())
    return AgentSpec(name, role, platform, 0, data, host=address(i), community=COMMUNITY)


# --- the child: one epoll loop over a block of agents -------------------------------------


def serve(first: int, count: int) -> int:
    agents: dict[int, tuple[socket.socket, Agent]] = {}
    poller = select.epoll()
    addresses: dict[str, tuple[str, int]] = {}
    for i in range(first, first + count):
        s = spec(i)
        agent = Agent(s)
        _ = agent.mib  # built now, not on the first request
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        sock.bind((s.host, 0))
        sock.setblocking(False)
        agent.restart_clock()
        agents[sock.fileno()] = (sock, agent)
        poller.register(sock.fileno(), select.EPOLLIN)
        addresses[s.name] = sock.getsockname()[:2]
    stdin = sys.stdin.fileno()
    poller.register(stdin, select.EPOLLIN | select.EPOLLHUP)
    print(json.dumps(addresses), flush=True)
    while True:
        for fd, _ in poller.poll():
            if fd == stdin:
                if not os.read(stdin, 4096):  # the parent closed our stdin: stop
                    return 0
                continue
            sock, agent = agents[fd]
            while True:
                try:
                    data, peer = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError as exc:  # ICMP errors of earlier replies, and the like
                    if exc.errno in (errno.ECONNREFUSED, errno.EAGAIN):
                        continue
                    raise
                try:
                    reply = agent.handle(data)
                except (w.BerError, ValueError, IndexError):
                    continue
                if reply is not None:
                    try:  # noqa: SIM105 (the hot loop: no context manager per datagram)
                        sock.sendto(reply, peer)
                    except OSError:
                        pass  # a full buffer, a closed client: the poller times out


# --- the parent -------------------------------------------------------------------------------


class AgentFarm:
    """``count`` devices spread over ``processes`` child processes."""

    def __init__(self, count: int, processes: int) -> None:
        self.count = count
        self.children: list[subprocess.Popen[str]] = []
        self.addresses: dict[str, tuple[str, int]] = {}
        per = -(-count // processes)
        try:
            for first in range(0, count, per):
                n = min(per, count - first)
                self.children.append(
                    subprocess.Popen(
                        [sys.executable, __file__, "--serve", str(first), str(n)],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            for child in self.children:
                assert child.stdout is not None
                line = child.stdout.readline()
                if not line:
                    raise RuntimeError(f"agent process {child.pid} ended before it was ready")
                for name, addr in json.loads(line).items():
                    self.addresses[name] = (addr[0], int(addr[1]))
        except BaseException:
            self.close()
            raise

    def cpu(self) -> float:
        """CPU seconds (user + system) of the agent processes so far."""
        total = 0.0
        for child in self.children:
            t = psutil.Process(child.pid).cpu_times()
            total += t.user + t.system
        return total

    def rss(self) -> float:
        """Resident memory of the agent processes together (MiB)."""
        return float(sum(psutil.Process(c.pid).memory_info().rss for c in self.children)) / 2**20

    def close(self) -> None:
        for child in self.children:
            if child.stdin is not None and not child.stdin.closed:
                child.stdin.close()
        for child in self.children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    t0 = time.perf_counter()
    farm = AgentFarm(count, processes)
    try:
        print(
            f"{count} devices in {processes} processes ready in {time.perf_counter() - t0:.1f} s, "
            f"{farm.rss():.0f} MiB RSS together, {farm.cpu():.1f} s CPU to start"
        )
    finally:
        farm.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        raise SystemExit(serve(int(sys.argv[2]), int(sys.argv[3])))
    raise SystemExit(main())
