"""systemd's service notification protocol, spoken directly (no library): ``sd_notify(3)``.

A ``Type=notify`` unit hands the service ``$NOTIFY_SOCKET``, a unix datagram socket (a path,
or ``@name`` in the abstract namespace); each datagram is newline-separated ``KEY=VALUE``
lines: ``READY=1`` once the daemon serves, ``RELOADING=1`` / ``STOPPING=1``, ``STATUS=…``
for ``systemctl status``, ``WATCHDOG=1`` at least every ``$WATCHDOG_USEC`` microseconds when
the unit sets ``WatchdogSec=`` (we ping at half that). Without ``$NOTIFY_SOCKET`` (a terminal,
cron, tests) every call is a no-op returning False. A failed send never stops the daemon.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("govnet.sdnotify")


class SdNotify:
    """The notification socket of this process, from the environment systemd gave it."""

    def __init__(self, env: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or ""
        self.pid = os.getpid() if pid is None else pid
        usec = env.get("WATCHDOG_USEC", "")
        owner = env.get("WATCHDOG_PID", "")
        mine = not owner or (owner.isdigit() and int(owner) == self.pid)
        self.watchdog_usec = int(usec) if usec.isdigit() and int(usec) > 0 and mine else 0

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def watchdog_every(self) -> float | None:
        """Seconds between watchdog pings (half systemd's limit); None without a watchdog."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec else None

    def send(self, **fields: str | int) -> bool:
        """One datagram of ``KEY=VALUE`` lines (``send(READY=1, STATUS="polling")``)."""
        if not self.address:
            return False
        payload = "\n".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8")
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.connect(target)
                s.sendall(payload)
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send(READY=1, **({"STATUS": status} if status else {}))

    def reloading(self) -> bool:
        return self.send(RELOADING=1)

    def stopping(self) -> bool:
        return self.send(STOPPING=1)

    def status(self, text: str) -> bool:
        return self.send(STATUS=text)

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)
