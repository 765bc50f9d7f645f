"""Provisioning apply and rollback against a fake CLI session (the CliSession contract).

The fake device holds top-level configuration lines of a Huawei switch; ``configure`` types
lines as a device would (``undo X`` removes X), refusing the lines it is told to refuse with
the error netmiko's per-line check raises, or silently ignoring others (a line the device
accepts but never shows: verification must catch it). Every session is recorded, so the
tests see what was pushed in which session, what was saved, and that sessions are closed.
The same flows run against the lab's shell in tests/unit/provision and over SSH in
tests/integration/test_provision_lab.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from govnet.collect.sanitize import normalise
from govnet.errors import CommandError, ConnectError
from govnet.inventory import Filters, load_inventory
from govnet.inventory.model import Device
from govnet.platforms import get_platform
from govnet.provision.operations import DeviceChange, ProvisionOptions, apply_devices
from govnet.provision.tasks import Job, Target, make_job
from govnet.store.db import Store
from govnet.transport.session import CliSession
from govnet.transport.ssh import SshOptions
from tests.conftest import ROOT

DEVICE = "int-acc-town"  # a huawei switch of the lab inventory
LOGHOST = "info-center loghost 10.10.0.10"
NTP = "ntp-service unicast-server 10.10.0.10"
TEMPLATE = f"{LOGHOST}\n{NTP}\n"


@dataclass
class FakeDevice:
    lines: list[str] = field(default_factory=lambda: [f"sysname {DEVICE}", "info-center enable"])
    refuse: set[str] = field(default_factory=set)  # answered with an error
    ignore: set[str] = field(default_factory=set)  # accepted, never shown
    unreachable: bool = False
    saved: list[list[str]] = field(default_factory=list)
    sessions: list[FakeSession] = field(default_factory=list)

    def text(self) -> str:
        return "#\n" + "".join(f"{line}\n#\n" for line in self.lines) + "return\n"

    def session(self, device: Device, options: SshOptions) -> CliSession:
        s = FakeSession(self, device.name)
        self.sessions.append(s)
        return s


@dataclass
class FakeSession:
    dev: FakeDevice
    name: str
    opened: bool = False
    closed: bool = False
    pushed: list[str] = field(default_factory=list)

    def open(self) -> FakeSession:
        if self.dev.unreachable:
            raise ConnectError(self.name, "cannot connect to 127.0.0.1:22: Connection refused")
        self.opened = True
        return self

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeSession:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _live(self) -> None:
        assert self.opened and not self.closed, "used a session that is not open"

    def send(self, command: str, read_timeout: float | None = None) -> str:
        self._live()
        if command == "display current-configuration":
            return self.dev.text()
        raise CommandError(self.name, f"rejected {command!r}", "Error: Unrecognized command")

    def fetch(self, what: str) -> str:
        return self.send(get_platform("huawei").command(what) or "")

    def configure(self, lines: list[str]) -> str:
        self._live()
        for line in lines:
            self.pushed.append(line)
            if line in self.dev.refuse:
                raise CommandError(
                    self.name,
                    f"config rejected: Invalid input detected at command: {line}, "
                    "matched error: Error: Unrecognized command",
                    f"[{self.name}]{line}\nError: Unrecognized command found at '^' position.",
                )
            if line in self.dev.ignore:
                continue
            if line.startswith("undo "):
                gone = line.removeprefix("undo ")
                self.dev.lines = [x for x in self.dev.lines if x != gone]
            elif line not in self.dev.lines:
                self.dev.lines.append(line)
        return ""

    def save(self) -> str:
        self._live()
        self.dev.saved.append(list(self.dev.lines))
        return "Info: The current configuration was saved to the device successfully."


@dataclass
class Run:
    store: Store
    job: Job
    targets: list[Target]

    def apply(self, dev: FakeDevice) -> DeviceChange:
        options = ProvisionOptions(workers=1, session=dev.session)
        _, [change] = apply_devices(self.job, self.targets, self.store, options)
        return change


@pytest.fixture
def run(tmp_path: Path) -> Run:
    (tmp_path / "templates" / "huawei").mkdir(parents=True)
    (tmp_path / "templates" / "huawei" / "baseline.j2").write_text(TEMPLATE, encoding="utf-8")
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    inventory = load_inventory(ROOT / "inventory" / "lab.yaml")
    job, targets = make_job(
        inventory,
        store,
        "baseline",
        [],
        tmp_path / "templates",
        Filters(limit=(DEVICE,)),
        commit=True,
    )
    return Run(store, job, targets)


def test_apply_pushes_verifies_saves_and_keeps_the_backup(run: Run) -> None:
    dev = FakeDevice()
    before = normalise(dev.text(), get_platform("huawei"))
    change = run.apply(dev)
    assert (change.status, change.exit_code) == ("changed", 0), change.message
    assert change.commands == [LOGHOST, NTP]
    assert dev.lines[-2:] == [LOGHOST, NTP]
    assert dev.saved == [dev.lines]  # saved once, after the verification
    assert change.backup_sha256 == hashlib.sha256(before.encode()).hexdigest()
    [session] = dev.sessions
    assert session.pushed == [LOGHOST, NTP] and session.closed
    assert change.rollback == [] and change.problems == []


def test_a_line_refused_mid_push_is_rolled_back_in_a_fresh_session(
    run: Run,
) -> None:
    dev = FakeDevice(refuse={NTP})
    before = list(dev.lines)
    change = run.apply(dev)
    assert (change.status, change.exit_code) == ("rolled-back", 1), change.message
    assert change.problems == [f"the device rejected {NTP!r}"]
    push, back = dev.sessions
    assert push.pushed == [LOGHOST, NTP] and push.closed
    assert back.pushed == [f"undo {LOGHOST}"] and back.closed
    assert change.rollback == [f"undo {LOGHOST}"]
    assert dev.lines == before  # identical to the backup again
    assert dev.saved == []  # a failed change is never saved
    assert "rolled back: the configuration is identical to the backup" in change.message


def test_a_line_the_device_accepts_but_does_not_hold_fails_verification(
    run: Run,
) -> None:
    dev = FakeDevice(ignore={NTP})
    before = list(dev.lines)
    change = run.apply(dev)
    assert change.status == "rolled-back", change.message
    assert change.message.startswith("verification failed: ")
    assert change.problems and all(NTP in p for p in change.problems)
    assert [s.pushed for s in dev.sessions] == [[LOGHOST, NTP], [f"undo {LOGHOST}"]]
    assert dev.lines == before and dev.saved == []


def test_a_rollback_the_device_refuses_is_reported_as_failed(
    run: Run,
) -> None:
    dev = FakeDevice(refuse={NTP, f"undo {LOGHOST}"})
    change = run.apply(dev)
    assert (change.status, change.exit_code) == ("rollback-failed", 3), change.message
    assert LOGHOST in dev.lines  # left as it is: a person restores it from the backup
    assert any(f"undo {LOGHOST}" in p for p in change.problems)
    assert f"govnet backup show {DEVICE}" in change.message
    assert dev.saved == []


def test_an_unreachable_device_fails_with_nothing_sent(run: Run) -> None:
    dev = FakeDevice(unreachable=True)
    change = run.apply(dev)
    assert (change.status, change.exit_code) == ("failed", 3)
    assert "Connection refused" in change.message
    assert all(s.pushed == [] for s in dev.sessions) and dev.saved == []
