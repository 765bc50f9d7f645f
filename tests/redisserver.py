"""A private Redis (Debian's ``redis-server``) for the distributed audit tests: a free loopback
port, its own data folder with an append-only file (tasks survive a restart, as in
production), stopped at the end. Under CI a missing binary fails the tests; locally they skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests import privateserver

BINARY = "/usr/bin/redis-server"


def binary() -> str | None:
    return privateserver.find(BINARY, "redis-server")


def require() -> str:
    """The binary's path; skip without it, or under CI (``$CI`` set) fail: .ci/run installs it."""
    return privateserver.require("redis-server", "distributed", BINARY, "redis-server")


class RedisServer:
    def __init__(self, port: int | None = None) -> None:
        self.binary = require()
        self.port = port or privateserver.free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="govnet-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--protected-mode",
                "yes",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start (log: {self.dir / 'redis.log'})")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits."""
        privateserver.stop(self.proc)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
