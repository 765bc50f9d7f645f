"""govnetd as systemd runs it (issue 18): READY=1 once polling starts, WATCHDOG=1 at half
WATCHDOG_USEC, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM, all over a real
unix datagram socket; log lines carry <N> priorities when stderr is the journal stream."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Lab
from tests.integration.test_monitor_daemon import DAEMON, RULES, fast_inventory

pytestmark = pytest.mark.integration


def _messages(sock: socket.socket, until: float, stop: bytes) -> list[bytes]:
    got: list[bytes] = []
    while time.monotonic() < until:
        try:
            got.append(sock.recv(4096))
        except TimeoutError:
            continue
        if got[-1].startswith(stop):
            break
    return got


def test_govnetd_speaks_sd_notify_and_journal_priorities(lab: Lab, tmp_path: Path) -> None:
    inventory = fast_inventory(lab, tmp_path / "inv")
    notify = tmp_path / "notify"
    stderr = tmp_path / "stderr"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock, stderr.open("wb") as err:
        sock.bind(str(notify))
        sock.settimeout(0.5)
        st = os.fstat(err.fileno())
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(notify),
            "WATCHDOG_USEC": "1000000",
            "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
        }
        proc = subprocess.Popen(
            [
                *DAEMON,
                "-i",
                str(inventory),
                "--db",
                f"sqlite:///{tmp_path / 'db.sqlite'}",
                "--rules",
                str(RULES),
                "--no-metrics",
                "--log-format",
                "json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        try:
            first = _messages(sock, time.monotonic() + 30, b"WATCHDOG=1")
            assert first and first[0].startswith(b"READY=1\nSTATUS=polling "), first
            pings = _messages(sock, time.monotonic() + 1.6, b"never")
            assert pings.count(b"WATCHDOG=1") >= 2  # every 0.5 s
            proc.send_signal(signal.SIGHUP)
            reload = _messages(sock, time.monotonic() + 20, b"READY=1")
            assert b"RELOADING=1" in reload and reload[-1].startswith(b"READY=1"), reload
            proc.send_signal(signal.SIGTERM)
            assert b"STOPPING=1" in _messages(sock, time.monotonic() + 30, b"STOPPING=1")
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    lines = stderr.read_text(encoding="utf-8").splitlines()
    assert lines and all(line[:3] in ("<3>", "<4>", "<6>", "<7>") for line in lines), lines[:5]
    started = [json.loads(line[3:]) for line in lines if '"govnetd started"' in line]
    assert started and lines[0].startswith("<6>")
