"""Collect running configs and show output over SSH, concurrently, one result per device."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from govnet.collect.fleet import DeviceResult, FleetResult, run_fleet
from govnet.collect.sanitize import normalise
from govnet.durations import utcnow
from govnet.inventory.model import Device
from govnet.platforms import get_platform
from govnet.secrets import check_all
from govnet.transport.jump import check_keys
from govnet.transport.session import SessionFactory, ssh_session
from govnet.transport.ssh import SshOptions


@dataclass(frozen=True)
class CollectOptions:
    workers: int = 16
    ssh: SshOptions = field(default_factory=SshOptions)
    session: SessionFactory = ssh_session  # how a device session is opened (tests: a fake)


@dataclass
class Collected:
    """What one SSH session brought back from a device."""

    config: str | None
    outputs: dict[str, str]
    collected_at: datetime


def collect(
    devices: Iterable[Device],
    commands: Callable[[Device], Iterable[str]] = lambda d: (),
    options: CollectOptions | None = None,
    on_done: Callable[[DeviceResult[Collected]], None] | None = None,
    with_config: bool = True,
) -> FleetResult[Collected]:
    """Fetch the running config (normalised) and ``commands(device)`` from every device."""
    opts = options or CollectOptions()
    devices = list(devices)
    check_all(r for d in devices for r in d.ssh_secrets())  # a missing secret is exit 2, now
    check_keys(devices)  # likewise an unreadable key file or a wrong passphrase

    def task(device: Device) -> Collected:
        platform = get_platform(device.platform)
        with opts.session(device, opts.ssh) as session:
            config = normalise(session.fetch("running_config"), platform) if with_config else None
            outputs = {cmd: session.send(cmd) for cmd in dict.fromkeys(commands(device))}
        return Collected(config, outputs, utcnow())

    return run_fleet(devices, task, workers=opts.workers, on_done=on_done)
