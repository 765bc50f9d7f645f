"""Collect running configs and show output over SSH, concurrently, one result per device."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from govnet.collect.fleet import DeviceResult, FleetResult, run_fleet
from govnet.collect.sanitize import normalise
from govnet.core.ids import new_run_id
from govnet.durations import utcnow
from govnet.inventory.model import Device
from govnet.platforms import get_platform
from govnet.secrets import check_all
from govnet.transport.jump import check_keys
from govnet.transport.session import SessionFactory, ssh_session
from govnet.transport.ssh import SshOptions


@dataclass
class Collected:
    """What one SSH session brought back from a device."""

    config: str | None
    outputs: dict[str, str]
    collected_at: datetime


class Gatherer(Protocol):
    """Collects elsewhere instead of in this process's thread pool (govnet/distributed: Celery
    workers): the same :class:`FleetResult` as :func:`collect`, one result per device."""

    def __call__(
        self,
        devices: Sequence[Device],
        commands: Mapping[str, list[str]],
        request: CollectRequest,
        on_done: Callable[[DeviceResult[Collected]], None] | None,
    ) -> FleetResult[Collected]: ...


@dataclass(frozen=True)
class CollectOptions:
    workers: int = 16
    ssh: SshOptions = field(default_factory=SshOptions)
    session: SessionFactory = ssh_session  # how a device session is opened (tests: a fake)
    remote: Gatherer | None = None  # collect on workers elsewhere (``--distributed``)


@dataclass(frozen=True)
class CollectRequest:
    """What a remote collection needs besides the devices: the run it belongs to (results are
    keyed by run and device), the SSH options, whether to fetch the running config."""

    run_id: str
    ssh: SshOptions
    with_config: bool = True


def fetch_one(
    device: Device,
    commands: Iterable[str],
    opts: CollectOptions,
    with_config: bool = True,
) -> Collected:
    """One device's session: the running config (normalised) and ``commands``' output. The
    per-device step of :func:`collect`, here and on distributed workers alike."""
    platform = get_platform(device.platform)
    with opts.session(device, opts.ssh) as session:
        config = normalise(session.fetch("running_config"), platform) if with_config else None
        outputs = {cmd: session.send(cmd) for cmd in dict.fromkeys(commands)}
    return Collected(config, outputs, utcnow())


def collect(
    devices: Iterable[Device],
    commands: Callable[[Device], Iterable[str]] = lambda d: (),
    options: CollectOptions | None = None,
    on_done: Callable[[DeviceResult[Collected]], None] | None = None,
    with_config: bool = True,
    run_id: str | None = None,
) -> FleetResult[Collected]:
    """Fetch the running config (normalised) and ``commands(device)`` from every device.

    With ``options.remote`` the sessions are opened by workers elsewhere (they hold the
    secrets); ``run_id`` keys their results (a fresh id when not given)."""
    opts = options or CollectOptions()
    devices = list(devices)
    if opts.remote is not None:
        wanted = {d.name: list(dict.fromkeys(commands(d))) for d in devices}
        request = CollectRequest(run_id or new_run_id("collect", utcnow()), opts.ssh, with_config)
        return opts.remote(devices, wanted, request, on_done)
    check_all(r for d in devices for r in d.ssh_secrets())  # a missing secret is exit 2, now
    check_keys(devices)  # likewise an unreadable key file or a wrong passphrase
    return run_fleet(
        devices,
        lambda d: fetch_one(d, commands(d), opts, with_config),
        workers=opts.workers,
        on_done=on_done,
    )
