"""Start, stop and inspect the embedded lab.

``govnet lab up`` starts one detached server process (``python -m govnet.lab.server``) that
serves every loopback device of the inventory: SSH devices (asyncssh) and SNMP agents, all in
one asyncio loop. The process writes ``ready.json`` once every listener is up; ``down`` sends
SIGTERM and waits (SIGKILL after a grace period). Being one process, a crash leaves nothing
behind; a stale pid file is detected and cleaned.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govnet.errors import GovnetError, LabError
from govnet.i18n import _
from govnet.inventory.model import Device, Inventory

READY = "ready.json"
PIDFILE = "lab.pid"
LOGFILE = "lab.log"


def default_state_dir() -> Path:
    env = os.environ.get("GOVNET_LAB_DIR")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "govnet" / "lab"


def data_dir_for(inventory_path: Path) -> Path:
    """Lab data lives beside the inventory: ``<inventory dir>/lab-data/<device>/``."""
    base = inventory_path if inventory_path.is_dir() else inventory_path.parent
    return base / "lab-data"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class LabDevice:
    """What the lab serves for one inventory device."""

    name: str
    ssh_port: int | None
    snmp_port: int | None


def lab_devices(inv: Inventory) -> tuple[list[LabDevice], list[str]]:
    """Devices the lab serves (loopback hosts only) and the names it refuses, with why."""
    served: list[LabDevice] = []
    refused: list[str] = []
    for d in sorted(inv.devices.values(), key=lambda d: d.name):
        if not is_loopback(d.host):
            refused.append(
                f"{d.name}: host {d.host} is not on 127.0.0.0/8; the lab serves loopback only"
            )
            continue
        ssh = d.port if has_ssh(d) else None
        snmp = d.snmp_port if d.snmp is not None else None
        if ssh is None and snmp is None:
            continue
        served.append(LabDevice(d.name, ssh, snmp))
    return served, refused


def has_ssh(d: Device) -> bool:
    from govnet.platforms import platforms

    plat = platforms().get(d.platform)
    return bool(plat and plat.netmiko) and d.credentials is not None


@dataclass
class LabStatus:
    running: bool
    pid: int | None
    state_dir: Path
    inventory: str | None = None
    started: float | None = None
    devices: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "state_dir": str(self.state_dir),
            "inventory": self.inventory,
            "started": self.started,
            "devices": self.devices,
        }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own exited child) counts as gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PIDFILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _log_tail(state_dir: Path, lines: int = 3) -> str:
    try:
        text = (state_dir / LOGFILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    tail = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return " | ".join(tail)


def status(state_dir: Path | None = None) -> LabStatus:
    state_dir = state_dir or default_state_dir()
    pid = _read_pid(state_dir)
    running = pid is not None and _pid_alive(pid)
    st = LabStatus(running=running, pid=pid if running else None, state_dir=state_dir)
    if running:
        try:
            ready = json.loads((state_dir / READY).read_text())
        except (OSError, ValueError):
            ready = {}
        st.inventory = ready.get("inventory")
        st.started = ready.get("started")
        st.devices = ready.get("devices", [])
    return st


def up(
    inventory_path: Path,
    state_dir: Path | None = None,
    wait: float = 30.0,
    scenarios: tuple[str, ...] = (),
) -> LabStatus:
    """Start the lab server for ``inventory_path``; return once every listener is up.

    ``scenarios`` adds the lab data seeded for them (``cross-zone-cable``: an LLDP-visible
    cable between the internal and external west access switches)."""
    state_dir = state_dir or default_state_dir()
    current = status(state_dir)
    if current.running:
        raise LabError(
            _(
                "the lab is already running (pid {pid}, state {state_dir}); run 'govnet lab "
                "down' first",
                pid=current.pid,
                state_dir=state_dir,
            )
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in (READY, PIDFILE):
        (state_dir / name).unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "govnet.lab.server",
        "--inventory",
        str(inventory_path.resolve()),
        "--state-dir",
        str(state_dir.resolve()),
        *(arg for name in scenarios for arg in ("--scenario", name)),
    ]
    log = str(state_dir / LOGFILE)
    # posix_spawn with setsid: the server outlives this command, in its own session, and no
    # Popen object is left to complain about a child it never waited for.
    pid = os.posix_spawn(
        sys.executable,
        cmd,
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    (state_dir / PIDFILE).write_text(f"{pid}\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if (state_dir / READY).exists():
            return status(state_dir)
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            (state_dir / PIDFILE).unlink(missing_ok=True)
            exit_code = os.waitstatus_to_exitcode(code)
            raise LabError(
                _(
                    "the lab server exited with code {exit_code}: {state_dir}",
                    exit_code=exit_code,
                    state_dir=_log_tail(state_dir),
                )
            )
        time.sleep(0.05)
    _terminate(pid, grace=2.0)
    (state_dir / PIDFILE).unlink(missing_ok=True)
    raise LabError(
        _(
            "the lab did not come up within {wait:.0f} s: {state_dir}",
            wait=wait,
            state_dir=_log_tail(state_dir),
        )
    )


def _terminate(pid: int, grace: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our own child
            os.waitpid(pid, os.WNOHANG)
        if not _pid_alive(pid):
            return
        time.sleep(0.02)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def down(state_dir: Path | None = None, grace: float = 5.0) -> bool:
    """Stop the lab; True if one was running. Device state in ``state_dir`` is kept."""
    state_dir = state_dir or default_state_dir()
    pid = _read_pid(state_dir)
    was_running = pid is not None and _pid_alive(pid)
    if pid is not None and was_running:
        _terminate(pid, grace)
    for name in (READY, PIDFILE):
        (state_dir / name).unlink(missing_ok=True)
    return was_running


def device_state_dir(state_dir: Path, name: str) -> Path:
    """Where the lab keeps one device's config state and SSH host key."""
    return state_dir / "devices" / name


@dataclass(frozen=True)
class Rotation:
    device: str
    old: str | None  # fingerprints (SHA256:…); None: the device had no key yet
    new: str
    live: bool  # the running lab serves the new key now (else: from the next 'lab up')


def rotate_host_key(
    inv: Inventory, name: str, state_dir: Path | None = None, wait: float = 5.0
) -> Rotation:
    """Give lab device ``name`` a new SSH host key, on purpose (to see host key checking
    refuse it). A running lab is told with SIGHUP and serves it to new connections; this
    returns once the device's port presents it."""
    from govnet.lab.sshsim import HOST_KEY_FILE, load_host_key, new_host_key
    from govnet.transport.hostkeys import HostKey
    from govnet.transport.ssh import fetch_host_key

    state_dir = state_dir or default_state_dir()
    device = inv.devices.get(name)
    if device is None:
        raise LabError(_("{name!r}: no such device in the inventory", name=name))
    if not (is_loopback(device.host) and has_ssh(device)):
        raise LabError(
            _("{name}: not an SSH device of the lab (loopback host, SSH platform)", name=name)
        )
    st = status(state_dir)
    if any(d.get("name") == name and d.get("silent") for d in st.devices):
        raise LabError(
            _("{name}: silent in the lab (never sends an SSH banner): no key to rotate", name=name)
        )
    path = device_state_dir(state_dir, name) / HOST_KEY_FILE
    old = HostKey(load_host_key(path).public_data).fingerprint if path.is_file() else None
    new = HostKey(new_host_key(path).public_data)
    if not st.running or st.pid is None:
        return Rotation(name, old, new.fingerprint, live=False)
    os.kill(st.pid, signal.SIGHUP)
    deadline = time.monotonic() + wait
    while True:
        try:
            if fetch_host_key(device, timeout=1.0) == new:
                return Rotation(name, old, new.fingerprint, live=True)
        except GovnetError:
            pass
        if time.monotonic() > deadline:
            raise LabError(
                _(
                    "{name}: new host key written to {path}, but the lab did not serve it "
                    "within {wait:.0f} s; restart the lab ('govnet lab down', 'govnet lab up')",
                    name=name,
                    path=path,
                    wait=wait,
                )
            )
        time.sleep(0.05)


def probe_ssh(host: str, port: int, timeout: float = 1.0) -> str:
    """``up`` (SSH banner), ``silent`` (TCP open, no banner), ``garbled`` or ``down``."""
    from govnet.transport.ssh import peek_banner

    first = peek_banner(host, port, timeout)
    if first is None:
        return "down"
    if first == b"":
        return "silent"
    return "up" if first.startswith(b"SSH-") else "garbled"
