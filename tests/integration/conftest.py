"""The lab for integration tests: the shipped lab inventory on free loopback ports.

The lab itself is the real one (``govnet.lab.launcher.up``: a detached server process with
asyncssh devices and SNMP agents); only the port numbers differ from inventory/lab.yaml so a
developer's own lab, or a parallel test worker, never collides with the tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from govnet.inventory import Inventory, load_inventory
from govnet.lab import launcher
from tests.conftest import ROOT
from tests.ports import reserve_port


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """One loopback port for a single extra listener, reserved for this process (tests/ports.py:
    no other worker or client socket can be given it before the listener binds it)."""
    del kind  # reserved ports are free for TCP and UDP alike
    return reserve_port()


class PortPicker:
    """Loopback ports for a lab inventory, never the same number twice (tests/ports.py reserves
    them: nothing else can take them between writing the inventory and the lab binding them)."""

    def __init__(self) -> None:
        self.used: set[int] = set()  # numbers not to hand out (a caller may add its own)

    def pick(self, kind: int) -> int:
        del kind  # reserved ports are free for TCP and UDP alike
        while True:
            port = reserve_port()
            if port not in self.used:
                self.used.add(port)
                return port

    def release(self) -> None:
        """Nothing to do: reservations last as long as the process (kept for callers)."""


def relocate_lab(dest: Path, source: Path = ROOT / "inventory" / "lab.yaml") -> Path:
    """Copy the lab inventory into ``dest`` with every port (SSH, SNMP and the lab's web
    services) replaced by a free one."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    ports = PortPicker()
    try:
        for device in data["devices"].values():
            if "port" in device:
                device["port"] = ports.pick(socket.SOCK_STREAM)
            if "snmp_port" in device:
                device["snmp_port"] = ports.pick(socket.SOCK_DGRAM)
        for service in (data.get("services") or {}).values():  # the lab's web services
            for probe in service.get("probes", []):
                url = urlsplit(probe.get("url", ""))
                if probe.get("kind") == "http" and url.hostname == "127.0.0.1":
                    netloc = f"{url.hostname}:{ports.pick(socket.SOCK_STREAM)}"
                    probe["url"] = urlunsplit(url._replace(netloc=netloc))
    finally:
        ports.release()
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("lab-data", "lab-secrets", "lab-terminals.csv"):
        link = dest / name
        if not link.exists():
            os.symlink(source.parent / name, link)
    path = dest / "lab.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Lab:
    inventory_path: Path
    state_dir: Path
    inventory: Inventory
    status: launcher.LabStatus


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    path = relocate_lab(base / "inventory")
    state = base / "state"
    status = launcher.up(path, state)
    try:
        yield Lab(path, state, load_inventory(path), status)
    finally:
        launcher.down(state)


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's store (SQLite) and lock folder in ``tmp_path``, run from the repository root."""
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)
    return tmp_path
