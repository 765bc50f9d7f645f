"""What the poller produces and everything downstream reads: samples, device states, polls.

Times are UNIX seconds (float, UTC) from the injected :class:`Clock`, so tests drive the
poller, the alert engine and the store with a fake one (:class:`govnet.testing.FakeClock`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from govnet.i18n import N_, tr


class Clock(Protocol):
    """Wall time for timestamps, monotonic time for intervals, and sleeping."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class DeviceState(StrEnum):
    """Reachability, as Zabbix's pollers see it: one failed poll makes a device
    ``unreachable`` (retried soon), failures for long enough make it ``down`` (polled with
    backoff); one answer makes it ``up`` again."""

    UNKNOWN = "unknown"
    UP = "up"
    UNREACHABLE = "unreachable"
    DOWN = "down"

    @property
    def rank(self) -> int:
        """Worst first: down 0, unreachable 1, unknown 2, up 3."""
        return {"down": 0, "unreachable": 1, "unknown": 2, "up": 3}[self.value]

    def label(self, lang: str) -> str:
        """``宕机`` in Chinese; the identifier itself in English."""
        return tr(lang, DEVICE_STATE_LABELS[self])


# One label per state, for every renderer (monitor status, the dashboard): 正常/不可达/宕机/未知.
DEVICE_STATE_LABELS = {
    DeviceState.UNKNOWN: N_("unknown"),
    DeviceState.UP: N_("up"),
    DeviceState.UNREACHABLE: N_("unreachable"),
    DeviceState.DOWN: N_("down"),
}


class Sample(NamedTuple):
    """One value of one metric of one device; ``instance`` names the interface, sensor,
    storage or line ("" for device-wide metrics). Immutable; a named tuple rather than a
    frozen dataclass because a poll of a 50-port switch makes 150 of them, and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) costs three times as much."""

    metric: str
    instance: str
    value: float


@dataclass
class DeviceStatus:
    """What the poller knows about one device between polls (also stored, for the dashboard)."""

    device: str
    zone: str = ""
    site: str = ""
    role: str = ""
    rack: str = ""
    state: DeviceState = DeviceState.UNKNOWN
    since: float = 0.0  # when the state was entered
    last_poll: float = 0.0
    last_ok: float = 0.0
    failures: int = 0  # consecutive failed polls
    error: str = ""
    error_kind: str = ""  # timeout | auth | protocol | connect | internal
    rtt_ms: float | None = None
    uptime_s: float | None = None
    next_poll: float = 0.0  # wall time of the next scheduled poll
    backoff: float = 0.0  # seconds between polls while down
    sys_name: str = ""
    sys_descr: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DeviceStatus:
        """A device's state as the store holds it (a sharded poller taking it over)."""
        try:
            state = DeviceState(str(row["state"]))
        except ValueError:
            state = DeviceState.UNKNOWN
        return cls(
            device=str(row["device"]),
            zone=str(row["zone"]),
            site=str(row["site"]),
            role=str(row["role"]),
            rack=str(row["rack"]),
            state=state,
            since=float(row["since"]),
            last_poll=float(row["last_poll"]),
            last_ok=float(row["last_ok"]),
            failures=int(row["failures"]),
            error=str(row["error"]),
            error_kind=str(row["error_kind"]),
            rtt_ms=row["rtt_ms"],
            uptime_s=row["uptime_s"],
            next_poll=float(row["next_poll"]),
            sys_name=str(row["sys_name"]),
            sys_descr=str(row["sys_descr"]),
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "zone": self.zone,
            "site": self.site,
            "role": self.role,
            "rack": self.rack,
            "state": self.state.value,
            "since": self.since,
            "last_poll": self.last_poll,
            "last_ok": self.last_ok,
            "failures": self.failures,
            "error": self.error,
            "error_kind": self.error_kind,
            "rtt_ms": self.rtt_ms,
            "uptime_s": self.uptime_s,
            "next_poll": self.next_poll,
            "sys_name": self.sys_name,
            "sys_descr": self.sys_descr[:400],
        }


@dataclass
class PollEvent:
    """Something a poll noticed besides values: a reboot, a counter gap, a walk that failed."""

    kind: str  # reboot | uptime-wrap | counter-gap | partial
    detail: str
    instance: str = ""


@dataclass
class PollResult:
    """One poll of one device."""

    device: str
    started: float  # wall time the poll began (the samples' timestamp)
    scheduled: float  # wall time it was due
    duration: float = 0.0
    ok: bool = False  # the device answered the system GET
    error: str = ""
    error_kind: str = ""
    samples: list[Sample] = field(default_factory=list)
    latest: list[tuple[str, str, float | None, str]] = field(default_factory=list)
    """(metric, instance, value, text) kept as "latest" only (names, speeds, statuses)."""
    events: list[PollEvent] = field(default_factory=list)
    varbinds: int = 0
    rebooted: bool = False
    rtt_ms: float | None = None
    uptime_s: float | None = None
    sys_name: str = ""
    sys_descr: str | None = None  # None: not read this time

    @property
    def lag(self) -> float:
        return max(0.0, self.started - self.scheduled)
