"""The live dashboard's keys: escape sequences decoded whole, only q and Ctrl-C quit, paging,
help, the detail view — as a state machine, and end to end in a real terminal (tmux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet.dashboard.live import State, decode, on_key
from govnet.dashboard.render import Frame
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore

NOW = 1_800_000_000.0


def test_escape_sequences_are_keys_not_an_escape_and_letters() -> None:
    assert decode("\x1b[A\x1b[B\x1b[C\x1b[D") == ["up", "down", "right", "left"]
    assert decode("\x1b[5~\x1b[6~\x1b[H\x1b[F\x1b[1~\x1b[4~") == [
        "pgup",
        "pgdn",
        "home",
        "end",
        "home",
        "end",
    ]
    assert decode("\x1bOA\x1bOH") == ["up", "home"]  # application cursor mode
    assert decode("\x1b") == ["esc"]
    assert decode("\x1b[15~q") == ["unknown", "q"]  # F5: ignored, and q still seen
    assert decode("\t\x1b[Z\r?") == ["tab", "btab", "enter", "?"]


FRAME = Frame(renderable="", pages=3, devices=("a", "b", "c"))


def press(*keys: str, state: State | None = None) -> State | None:
    current: State | None = state or State()
    for key in keys:
        assert current is not None
        current = on_key(current, key, FRAME)
    return current


@pytest.mark.parametrize(
    "key",
    [
        "esc",
        "up",
        "down",
        "left",
        "right",
        "pgup",
        "pgdn",
        "home",
        "end",
        "unknown",
        "x",
        "tab",
        "backspace",
    ],
)
def test_no_key_but_q_and_ctrl_c_quits(key: str) -> None:
    assert press(key) is not None


@pytest.mark.parametrize("key", ["q", "Q", "ctrl-c"])
def test_q_and_ctrl_c_quit_from_anywhere(key: str) -> None:
    assert press(key) is None
    assert press("?", key) is None and press("enter", key) is None


def test_paging_keys() -> None:
    assert press("down") == State(page=1) and press("pgdn", "right", "n") == State(page=0)
    assert press("up") == State(page=2) and press("end") == State(page=2)
    assert press("end", "home") == State(page=0) and press(" ", "p", "pgup") == State(page=2)


def test_help_and_detail() -> None:
    assert press("?") == State(help=True)
    assert press("?", "down") == State(help=True)  # the help stays until Esc
    assert press("?", "esc") == State()
    assert press("enter") == State(detail="a")
    assert press("tab", "tab", "enter") == State(selected=1, detail="b")
    assert press("btab", "enter") == State(selected=2, detail="c")
    assert press("tab", "down") == State(page=1)  # a new page: no selection
    assert press("enter", "right", "right") == State(detail="c")
    assert press("enter", "left") == State(detail="c")
    assert press("enter", "esc") == State()


# ------------------------------------------------------------------------------ tmux


def fleet_store(path: Path, n: int = 200) -> str:
    url = f"sqlite:///{path}"
    ms = MonitorStore(Store.open(url))
    batch = Batch.empty()
    for i in range(n):
        batch.devices.append(
            {
                "device": f"acc-{i:03d}",
                "zone": "internal" if i % 2 else "external",
                "site": "city",
                "role": "access",
                "rack": "",
                "state": "down" if i == 7 else "up",
                "since": NOW - 600,
                "last_poll": NOW - 10,
                "last_ok": NOW - 10,
                "failures": 0,
                "error": "",
                "error_kind": "",
                "rtt_ms": 2.0,
                "uptime_s": 3e6,
                "next_poll": NOW + 50,
                "sys_name": "",
                "sys_descr": "",
            }
        )
    batch.latest.append(("acc-007", "cpu_pct", "slot 1", NOW - 10, 97.0, ""))
    ms.write(batch, NOW)
    ms.set_meta("daemon", '{"heartbeat": %r, "pid": 1}' % (NOW - 3))
    ms.store.engine.dispose()
    return url


class Tmux:
    """A private tmux server (its own socket) running one command in an 80×24 window."""

    def __init__(self, command: list[str]) -> None:
        self.socket = f"govnet-test-{os.getpid()}-{time.monotonic_ns()}"
        line = " ".join(f"'{part}'" for part in command)
        self.run(
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            "dash",
            f"env TERM=xterm-256color {line}; echo EXIT=$?; sleep 60",
        )

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "dash")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "dash", *keys)

    def wait(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux missing: .ci/run installs it")
        pytest.skip("tmux not installed (apt-get install tmux)")
    url = fleet_store(tmp_path / "fleet.sqlite")
    session = Tmux(
        [
            sys.executable,
            "-c",
            "from govnet.cli.main import main; main()",
            "--db",
            url,
            "--lang",
            "en",
            "dashboard",
            "--now",
            str(NOW),
            "--refresh",
            "0.25",
            "--rotate",
            "0",
        ]
    )
    yield session
    session.close()


def test_arrow_keys_page_escape_does_not_quit_and_q_does(dashboard: Tmux) -> None:
    first = dashboard.wait("page 1/")
    pages = int(first.split("page 1/")[1].split()[0])
    assert pages >= 3 and "✖ acc-007" in first  # the worst on every page
    dashboard.keys("Down")
    dashboard.wait(f"page 2/{pages}")
    dashboard.keys("PageDown")
    dashboard.wait(f"page 3/{pages}")
    dashboard.keys("Up")
    dashboard.wait(f"page 2/{pages}")
    dashboard.keys("End")
    dashboard.wait(f"page {pages}/{pages}")
    dashboard.keys("Home")
    dashboard.wait(f"page 1/{pages}")
    dashboard.keys("Escape")
    time.sleep(0.6)  # a few frames later it is still there
    assert f"page 1/{pages}" in dashboard.screen() and "EXIT=" not in dashboard.screen()
    dashboard.keys("?")
    dashboard.wait("Esc closes it")
    dashboard.keys("Escape")
    dashboard.wait("Devices by zone")
    dashboard.keys("Enter")  # the selected (first, worst) device's details
    detail = dashboard.wait("Health and readings")
    assert "acc-007" in detail and "slot 1" in detail and "97%" in detail
    dashboard.keys("Escape")
    dashboard.wait("Devices by zone")
    dashboard.keys("q")
    dashboard.wait("EXIT=0")


def test_ctrl_c_quits_cleanly(dashboard: Tmux) -> None:
    dashboard.wait("page 1/")
    dashboard.keys("C-c")
    shown = dashboard.wait("EXIT=")
    assert "EXIT=0" in shown and "Traceback" not in shown
