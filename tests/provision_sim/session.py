"""A provisioning session on a lab device's shell, in process.

It behaves as :class:`govnet.transport.ssh.SshSession` does towards a device: configuration
lines are typed into the device's CLI one by one; the first line the device answers with its
error text stops the push and raises :class:`~govnet.errors.CommandError` naming the line, as
netmiko's per-line check does.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govnet.collect.sanitize import normalise
from govnet.errors import CommandError
from govnet.inventory.model import Device
from govnet.lab.data import LabBehaviour, LabDeviceData
from govnet.lab.shell import DeviceState, Shell
from govnet.platforms import get_platform

# platforms whose netmiko driver does not verify echoes (see SshSession.configure)
WHOLE_OUTPUT_CHECK = frozenset({"hp_comware"})


@dataclass
class Bench:
    """Lab devices kept in memory by name; :meth:`load` resets one to a configuration."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="provsim-")))
    states: dict[str, DeviceState] = field(default_factory=dict)

    def load(self, device: Device, config: str, reject: list[str] | None = None) -> None:
        data = LabDeviceData(
            name=device.name,
            running_config=config,
            behaviour=LabBehaviour(reject=reject or []),
        )
        folder = self.root / device.name  # a reset: the saved state goes too
        for f in ("running.cfg", "startup.cfg"):
            (folder / f).unlink(missing_ok=True)
        self.states[device.name] = DeviceState.load(
            device.name, device.platform, data, folder, hostname=None
        )

    def running(self, device: Device) -> str:
        shell = Shell(self.states[device.name], "govnet")
        return normalise(
            shell.run(get_platform(device.platform).command("running_config") or ""),
            get_platform(device.platform),
        )

    def session(self, device: Device, options: Any = None) -> ShellSession:
        return ShellSession(self, device)


class ShellSession:
    def __init__(self, bench: Bench, device: Device) -> None:
        self.device = device
        self.platform = get_platform(device.platform)
        self.shell = Shell(bench.states[device.name], "govnet")
        self._errors = re.compile(self.platform.errors or "$^", re.M)
        self.sent: list[str] = []

    def open(self) -> ShellSession:
        return self

    def __enter__(self) -> ShellSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        pass

    def send(self, command: str, read_timeout: float | None = None) -> str:
        return self.shell.run(command)

    def fetch(self, what: str) -> str:
        return self.send(self.platform.command(what) or "")

    def configure(self, lines: list[str]) -> str:
        prompt = self.shell.handle(self.platform.config_enter or "")
        out = [prompt]
        # as SshSession: Comware's driver cannot check echoes, so unless every line fits the
        # terminal the lines are all sent and the whole output checked afterwards
        per_line = self.device.platform not in WHOLE_OUTPUT_CHECK or all(
            len(line) + 40 < 80 for line in lines
        )
        try:
            for line in lines:
                self.sent.append(line)
                reply = self.shell.handle(line)
                out.append(f"{prompt.rsplit(chr(10), 1)[-1]}{line}")  # the echo
                out.append(reply)
                prompt = reply
                m = self._errors.search(reply)
                if m and per_line:
                    raise CommandError(
                        self.device.name,
                        "config rejected: Invalid input detected at command: "
                        f"{line}, matched error: {m.group(0)}",
                        "\n".join(out),
                    )
        finally:
            self.shell.handle(self.platform.config_exit or "")
            self.shell.context = None
        text = "\n".join(out)
        m = self._errors.search(text)
        if m:
            first = next(ln.strip() for ln in text.splitlines() if self._errors.search(ln))
            raise CommandError(self.device.name, f"rejected 'configuration': {first}", text)
        return text

    def save(self) -> str:
        self.shell.state.save()
        return ""
