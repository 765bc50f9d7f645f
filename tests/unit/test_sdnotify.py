"""sd_notify over a real unix datagram socket, and journal priorities on stderr (issue 18)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet.logs import JournalPrefix, priority, stderr_is_journal
from govnet.sdnotify import SdNotify


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(str(path))
        s.settimeout(2)
        yield s, str(path)


def test_ready_status_and_watchdog_reach_the_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    sd = SdNotify({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"})
    assert sd.enabled and sd.watchdog_every == 1.5
    assert sd.ready("polling 13 devices")
    assert sock.recv(4096) == b"READY=1\nSTATUS=polling 13 devices"
    assert sd.watchdog() and sock.recv(4096) == b"WATCHDOG=1"
    assert sd.reloading() and sock.recv(4096) == b"RELOADING=1"
    assert sd.stopping() and sock.recv(4096) == b"STOPPING=1"


def test_abstract_socket_names() -> None:
    name = f"govnet-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        s.settimeout(2)
        assert SdNotify({"NOTIFY_SOCKET": "@" + name}).ready()
        assert s.recv(100) == b"READY=1"


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert SdNotify({}).ready() is False and SdNotify({}).watchdog_every is None
    gone = SdNotify({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.ready() is False  # logged, never raised: the daemon keeps running
    other = SdNotify({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}, pid=4242)
    assert other.watchdog_every is None  # the watchdog is another process's


def test_journal_lines_carry_their_priority(tmp_path: Path) -> None:
    assert [priority(lv) for lv in (50, 40, 30, 20, 10)] == [2, 3, 4, 6, 7]
    fmt = JournalPrefix(logging.Formatter("govnet: %(message)s"))
    rec = logging.LogRecord("x", logging.WARNING, __file__, 1, "two\nlines", None, None)
    assert fmt.format(rec) == "<4>govnet: two\n<4>lines"
    log = tmp_path / "stderr"
    with log.open("w") as f:
        st = os.fstat(f.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert stderr_is_journal(env, f.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"}, f.fileno())
        assert not stderr_is_journal({}, f.fileno())


def test_cli_errors_on_the_journal_stream_are_priority_3(tmp_path: Path) -> None:
    """A timer-run command's one-line error reaches `journalctl -p warning`."""
    import subprocess
    import sys

    from tests.conftest import LAB_INVENTORY, ROOT

    log = tmp_path / "stderr"
    with log.open("wb") as err:
        st = os.fstat(err.fileno())
        env = {
            **os.environ,
            "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
            "GOVNET_DB": f"sqlite:///{tmp_path / 'db.sqlite'}",
        }
        code = subprocess.run(
            [
                sys.executable,
                "-c",
                "from govnet.cli.main import main; main()",
                "-q",
                "-i",
                str(LAB_INVENTORY),
                "backup",
                "diff",
                "no-such-device",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=ROOT,
            timeout=60,
            check=False,
        ).returncode
    assert code == 2
    (line,) = log.read_text(encoding="utf-8").splitlines()
    assert line.startswith("<3>govnet: ") and "no-such-device" in line
