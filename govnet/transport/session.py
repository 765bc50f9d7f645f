"""The contract of a CLI session to a device: what collection, provisioning and the
antivirus collector use of one (:class:`~govnet.transport.ssh.SshSession` in production).

Code that talks to devices takes a :data:`SessionFactory` (default :func:`ssh_session`), so a
test can pass a fake session, or the lab's shell in process, instead of SSH.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from govnet.inventory.model import Device
from govnet.transport.ssh import SshOptions, SshSession


class CliSession(Protocol):
    """One session to one device. Failures raise :class:`~govnet.errors.TransportError`
    (a refused command: :class:`~govnet.errors.CommandError`, with the device's output)."""

    def open(self) -> CliSession:
        """Connect and log in (entering the session as a context manager does this too)."""
        ...

    def close(self) -> None:
        """Log out; safe to call twice."""
        ...

    def send(self, command: str, read_timeout: float | None = None) -> str:
        """One exec command's output."""
        ...

    def fetch(self, what: str) -> str:
        """The output of the platform's command for ``what`` (running_config, arp, mac, …)."""
        ...

    def configure(self, lines: list[str]) -> str:
        """Enter configuration mode, type ``lines`` in order, leave; the transcript."""
        ...

    def save(self) -> str:
        """Save the running configuration (the platform's save command)."""
        ...

    def __enter__(self) -> CliSession: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


SessionFactory = Callable[[Device, SshOptions], CliSession]


def ssh_session(device: Device, options: SshOptions) -> CliSession:
    """The production factory: a netmiko session (not yet connected)."""
    return SshSession(device, options)
