"""A private VictoriaMetrics (Debian's ``victoria-metrics``) on a loopback port, for tests of
the remote-write sink: started on demand, its data in a temporary folder, stopped after."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests import privateserver

BINARY = "victoria-metrics"


def available() -> bool:
    return privateserver.find(BINARY) is not None


def require() -> None:
    """Skip without the binary; under CI (``$CI`` set) fail instead: .ci/run installs it."""
    privateserver.require("victoria-metrics", "remote-write", BINARY)


class VictoriaMetrics:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or privateserver.free_port()
        self.data = Path(tempfile.mkdtemp(prefix="govnet-vm-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def write_url(self) -> str:
        return f"{self.base}/api/v1/write"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                BINARY,
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.data}",
                "-retentionPeriod=100y",
                "-loggerLevel=ERROR",
                "-search.latencyOffset=0s",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=1) as reply:
                    if reply.read().strip() == b"OK":
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("victoria-metrics did not start")

    def stop(self) -> None:
        privateserver.stop(self.proc)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every sample of the series matching ``match`` (after a flush), JSON lines parsed."""
        with urllib.request.urlopen(f"{self.base}/internal/force_flush", timeout=10):
            pass
        query = urllib.parse.urlencode({"match[]": match, "start": "0"})
        with urllib.request.urlopen(f"{self.base}/api/v1/export?{query}", timeout=10) as reply:
            return [json.loads(line) for line in reply.read().splitlines() if line.strip()]
