"""Loopback ports for the servers tests start, that no other process can be handed meanwhile.

A test usually learns a port before the server that listens on it exists: it is written into an
inventory and the lab server (another process) binds it later, or it is given to sshd, postgres,
victoria-metrics. Asking the kernel for a free port (bind to port 0, close, use the number) races:
the number comes from the ephemeral range, and every outgoing connection or UDP client socket on
the machine (an SNMP poll of another xdist worker, say) may be given it before the server binds it.
That is how a lab once failed with "cannot bind SNMP agent to udp 127.0.0.1:53850: Address
already in use".

So ports come from below the kernel's ephemeral range (``ip_local_port_range``), which the kernel
never hands out by itself, and each one is reserved across processes with a POSIX record lock on
one byte of a shared lock file (byte offset = port number): two pytest workers, two test runs on
one machine, a bench beside the suite, never get the same port, and the kernel drops a dead
process's locks by itself. A reserved port is also checked free (TCP and UDP) before it is handed
out, so a foreign server already listening there is skipped. Reservations last until the process
exits (a port handed out is never handed out again in that process, until the whole range has been
used, then numbers are reused, still only when nobody listens on them and no other process holds
them).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

LOCK_FILE = Path(tempfile.gettempdir()) / "govnet-test-ports.lock"
LOW = 20000  # above the shipped lab (10022-10081) and the usual services (5432, 6379, 9090…)
HIGH = 32768  # Linux's default ip_local_port_range starts here


def port_range() -> range:
    """The ports handed out: [LOW, start of the ephemeral range), or above its end when the
    machine's range starts lower (at least 2,000 ports either way)."""
    try:
        lo, hi = (
            int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        )
    except (OSError, ValueError):
        lo, hi = HIGH, 60999
    if min(lo, HIGH) - LOW >= 2000:
        return range(LOW, min(lo, HIGH))
    if 65535 - hi >= 2000:
        return range(hi + 1, 65536)
    return range(LOW, HIGH)  # a machine with (nearly) every port ephemeral: locks still help


class Reserver:
    """Hands out ports of ``ports`` (default: ``port_range()``); one per process is enough."""

    def __init__(self, ports: Sequence[int] | None = None) -> None:
        self.mutex = threading.Lock()
        self.fd: int | None = None
        self.pid = 0
        self.given: set[int] = set()
        self.ports = port_range() if ports is None else ports
        self.cursor = random.SystemRandom().randrange(len(self.ports))  # workers start apart

    def _open(self) -> int:
        if self.fd is None or self.pid != os.getpid():  # a forked child holds no locks
            # Never closed: closing any descriptor of the file would drop all our locks.
            self.fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            with contextlib.suppress(OSError):
                os.fchmod(self.fd, 0o666)  # other users' test runs share it
            self.pid = os.getpid()
            self.given.clear()
        return self.fd

    def reserve(self) -> int:
        with self.mutex:
            fd = self._open()
            for _ in range(2):
                for _ in range(len(self.ports)):
                    port = self.ports[self.cursor]
                    self.cursor = (self.cursor + 1) % len(self.ports)
                    if port in self.given:
                        continue
                    try:
                        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port, os.SEEK_SET)
                    except OSError:
                        continue  # another process holds it
                    self.given.add(port)  # ours now, usable or not
                    if _bindable(port):
                        return port
                self.given.clear()  # the whole range went by: reuse our own idle numbers
            raise RuntimeError(f"no free loopback port in {min(self.ports)}-{max(self.ports)}")


def _bindable(port: int) -> bool:
    """Nobody listens on ``port`` (TCP or UDP) and no connection lingers on it."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


_RESERVER = Reserver()


def reserve_port() -> int:
    """A loopback port (free for TCP and UDP) reserved for this process: bind it later."""
    return _RESERVER.reserve()
