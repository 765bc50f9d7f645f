"""The poller: every device on its own schedule, a bounded number at once, none able to hang.

Each due device becomes its own asyncio task: it waits for one of ``concurrency`` slots, runs
its metric sets under an outer ``asyncio.wait_for`` (pysnmp is known to hang on unreachable
hosts; the limit holds whatever the backend does), updates the device's state
(states.py) and hands the :class:`PollResult` to ``on_result`` (the store writer, the alert
engine, the exporter). A dead device costs its own slot for at most its timeout; the others
keep their schedule.

Schedules keep their phase: a device polled at 10:00:07 every 60 s is due at 10:01:07 however
long the poll took. First polls are spread over ``first_spread`` seconds (longer when there are
more than ``first_rate`` a second of them), and the second poll lands at a stable per-device
offset within the interval, so a thousand devices do not all come due in the same second.
When the first polls would fill half the interval or more, they are spread over whole
intervals (as many as ``first_rate`` needs: 10,000 devices at 60 s over two) at the device's
stable offset and keep that phase: the second polls then do not come on top of the first ones
(10,000 devices at 60 s were due at ~290 a second at the start, 167 steady). A first poll reads
names, aliases and speeds and writes every latest value, the second creates the rate series:
1.4 and 1.5 times a steady poll's CPU (300 lab switches in one process on SQLite).
A device that falls behind is not polled twice to catch up.

Self-metrics (:class:`PollerStats`): polls, failures, timeouts, varbinds, and poll lag (start
time minus due time) for the p99 the bench reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from govnet.errors import GovnetError, TransportError
from govnet.inventory.model import Device
from govnet.monitor import states
from govnet.monitor.config import MonitorConfig
from govnet.monitor.histogram import DURATION_BUCKETS, LAG_BUCKETS, Histogram
from govnet.monitor.metricsets import DeviceMemory, PollContext, metric_sets_for, poll_device
from govnet.monitor.model import (
    Clock,
    DeviceState,
    DeviceStatus,
    PollEvent,
    PollResult,
    Sample,
    SystemClock,
)
from govnet.monitor.schedule import Scheduler, next_due
from govnet.transport.snmp import SnmpBackend, SnmpTarget

log = logging.getLogger("govnet.monitor.poller")

RECENT_MAX = 1_000_000
OnResult = Callable[[PollResult, DeviceStatus, states.Transition | None], None]


def stable_fraction(name: str) -> float:
    """A number in [0, 1) fixed for a device name (its phase within the interval)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") / 2**32


@dataclass
class PollerStats:
    polls: int = 0
    failures: int = 0
    timeouts: int = 0
    varbinds: int = 0
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))
    lag_histogram: Histogram = field(default_factory=lambda: Histogram(LAG_BUCKETS))
    duration_histogram: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))

    recent: list[float] = field(default_factory=list)  # lags since take_recent()
    recent_durations: list[float] = field(default_factory=list)  # durations, likewise

    def lag_quantile(self, q: float) -> float:
        return quantile(sorted(self.lags), q)

    def take_recent(self) -> tuple[list[float], list[float]]:
        """The lags and the durations of the polls since the last call, each sorted (the
        daemon's stats line)."""
        lags, self.recent = self.recent, []
        durations, self.recent_durations = self.recent_durations, []
        lags.sort()
        durations.sort()
        return lags, durations


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values (0.0 if none)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class _Entry:
    device: Device
    target: SnmpTarget
    sets: tuple[str, ...]
    memory: DeviceMemory = field(default_factory=DeviceMemory)
    phased: bool = False  # scheduled in its phase from the start (taken over from a shard)


def device_status(device: Device) -> DeviceStatus:
    rack = device.vars.get("rack")
    return DeviceStatus(
        device=device.name,
        zone=device.zone,
        site=device.site,
        role=device.role,
        rack=str(rack) if rack is not None else "",
    )


class Poller(Scheduler[PollResult]):
    task_label = "poll"

    def __init__(
        self,
        devices: Iterable[Device],
        backend: SnmpBackend,
        config: MonitorConfig | None = None,
        clock: Clock | None = None,
        on_result: OnResult | None = None,
    ) -> None:
        self.config = config or MonitorConfig()
        self.backend = backend
        self.clock: Clock = clock or SystemClock()
        self.on_result = on_result
        self.stats = PollerStats()
        self.statuses: dict[str, DeviceStatus] = {}
        self.skipped: dict[str, str] = {}  # device → why it is not polled
        self._entries: dict[str, _Entry] = {}
        self._init_schedule(self.config.concurrency)
        self.set_devices(devices)

    # ------------------------------------------------------------------ devices

    def set_devices(
        self,
        devices: Iterable[Device],
        first_due: Mapping[str, float] | None = None,
        seed: Mapping[str, DeviceStatus] | None = None,
    ) -> None:
        """Start polling new devices, stop polling removed ones; known devices keep their
        state, counters and schedule (SIGHUP reload).

        A sharded poller taking a device over from another passes ``first_due`` (wall time of
        its first poll here: the previous holder's last poll plus the interval, so it keeps
        its phase and is polled neither twice nor late) and ``seed`` (its stored state)."""
        first_due = first_due or {}
        seed = seed or {}
        entries: dict[str, _Entry] = {}
        skipped: dict[str, str] = {}
        for device in devices:
            try:
                target = SnmpTarget.for_device(device)
                sets = metric_sets_for(device)
                self.config.interval(device)
                self.config.timeout(device)
            except GovnetError as exc:
                skipped[device.name] = str(exc)
                continue
            old = self._entries.get(device.name)
            entry = _Entry(
                device,
                target,
                sets,
                old.memory if old else DeviceMemory(),
                old.phased if old else False,
            )
            entries[device.name] = entry
            status = self.statuses.get(device.name)
            fresh = device_status(device)
            if status is None:
                self.statuses[device.name] = seed.get(device.name) or fresh
            else:  # the inventory may have moved it
                status.zone, status.site, status.role = fresh.zone, fresh.site, fresh.role
                status.rack = fresh.rack
        now = self.clock.monotonic()
        wall = self.clock.time()
        first = sum(1 for n in entries if n not in self._due and n not in first_due)
        burst = first / self.config.first_rate  # seconds the first polls take at that rate
        spread_all = (
            burst if burst > max(1.0, self.config.first_spread) else self.config.first_spread
        )
        for name, entry in entries.items():
            if name not in self._due:
                if name in first_due:  # taken over: keep the phase the last holder had
                    entry.phased = True
                    self._schedule(name, now + max(0.0, first_due[name] - wall))
                    continue
                interval = self.config.interval(entry.device)
                if spread_all * 2 >= interval:
                    # so many first polls that they fill half the interval or more: spread
                    # them over whole intervals (as many as first_rate needs) and keep that
                    # phase, so the second polls (taking up a phase of their own) do not
                    # come on top of the first ones; whole intervals: phases stay even
                    entry.phased = True
                    whole = interval * max(1, math.ceil(spread_all / interval))
                    self._schedule(name, now + stable_fraction(name) * whole)
                    continue
                self._schedule(name, now + stable_fraction(name) * spread_all)
        for name in list(self._due):
            if name not in entries:
                del self._due[name]
                self.statuses.pop(name, None)
        self._entries = entries
        self.skipped = skipped
        self._wake.set()

    def polls(self, name: str) -> bool:
        """Whether ``name`` is one of the devices polled here now."""
        return name in self._entries

    async def settle(self, names: Iterable[str]) -> None:
        """Wait for the polls of ``names`` in flight (removed devices, before a hand-over)."""
        tasks = [t for n in names if (t := self._running.get(n)) is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def devices(self) -> dict[str, Device]:
        return {name: e.device for name, e in self._entries.items()}

    # ------------------------------------------------------------------ polling

    async def poll(self, name: str) -> PollResult:
        """Poll one device now (outside its schedule; tests and ``monitor run --once``)."""
        return await self._poll_entry(self._entries[name], self.clock.time())

    async def poll_all(self) -> list[PollResult]:
        """Poll every device once now, ``concurrency`` at a time."""
        results = await asyncio.gather(*(self._bounded(name, None) for name in self._entries))
        return [r for r in results if r is not None]

    async def _bounded(self, name: str, due: float | None) -> PollResult | None:
        async with self._semaphore:
            entry = self._entries.get(name)
            if entry is None:  # removed by a reload while waiting
                return None
            start = self.clock.monotonic()
            lag = max(0.0, start - due) if due is not None else 0.0
            result = await self._poll_entry(entry, self.clock.time() - lag)
        if due is not None and name in self._due:
            self._reschedule(entry, due, result)
        return result

    def _reschedule(self, entry: _Entry, due: float, result: PollResult) -> None:
        name = entry.device.name
        status = self.statuses[name]
        interval = self.config.interval(entry.device)
        now = self.clock.monotonic()
        delay = states.next_delay(status, interval, self.config)
        up = status.state is DeviceState.UP
        if up and entry.memory.polls == 1 and not entry.phased:  # take up the device's phase
            delay = max(1.0, interval * stable_fraction(name))
        self._schedule(name, next_due(up, delay, due, now))

    async def _poll_entry(self, entry: _Entry, scheduled: float) -> PollResult:
        device = entry.device
        status = self.statuses[device.name]
        now = self.clock.time()
        result = PollResult(device=device.name, started=now, scheduled=min(scheduled, now))
        ctx = PollContext(
            device,
            entry.target,
            self.backend,
            now,
            entry.memory,
            result,
            self.clock.monotonic,
            self.clock.time,
        )
        start = self.clock.monotonic()
        timeout = self.config.timeout(device)
        error = kind = ""
        try:
            await asyncio.wait_for(poll_device(ctx, entry.sets), timeout)
        except TransportError as exc:
            error, kind = exc.message, exc.kind
        except TimeoutError:
            error, kind = f"poll did not finish within {timeout:g} s", "timeout"
        except GovnetError as exc:
            error, kind = str(exc), "config"
        except Exception as exc:  # a bug must cost one poll, not the poller
            log.exception("%s: poll failed", device.name)
            error, kind = f"internal error: {type(exc).__name__}: {exc}", "internal"
        result.duration = self.clock.monotonic() - start
        result.ok = any(s.metric == "up" for s in result.samples)
        if result.ok and error:
            # the device answered, then a later set failed or the poll ran out of time
            result.events.append(PollEvent("partial", error))
        elif not result.ok:
            result.error, result.error_kind = error or "no answer", kind or "timeout"
            result.samples = [Sample("up", "", 0.0)]
            result.latest = []
        self._account(result)
        transition = self._update_status(entry, status, result)
        if self.on_result is not None:
            self.on_result(result, status, transition)
        return result

    def _update_status(
        self, entry: _Entry, status: DeviceStatus, result: PollResult
    ) -> states.Transition | None:
        if result.ok:
            transition = states.on_success(status, result.started)
            status.rtt_ms = result.rtt_ms
            status.uptime_s = result.uptime_s
            if result.sys_name:
                status.sys_name = result.sys_name
            if result.sys_descr is not None:
                status.sys_descr = result.sys_descr
        else:
            interval = self.config.interval(entry.device)
            transition = states.on_failure(
                status, result.started, result.error, result.error_kind, interval, self.config
            )
        if transition is not None:
            old, new = transition
            log.info(
                "device state changed",
                extra={
                    "device": status.device,
                    "from": old.value,
                    "to": new.value,
                    "error": status.error,
                },
            )
        return transition

    def _account(self, result: PollResult) -> None:
        stats = self.stats
        stats.polls += 1
        stats.varbinds += result.varbinds
        stats.lags.append(result.lag)
        if len(stats.recent) < RECENT_MAX:  # the daemon takes them every minute
            stats.recent.append(result.lag)
            stats.recent_durations.append(result.duration)
        stats.durations.append(result.duration)
        stats.lag_histogram.observe(result.lag)
        stats.duration_histogram.observe(result.duration)
        if not result.ok:
            stats.failures += 1
            if result.error_kind == "timeout":
                stats.timeouts += 1


def summarize(results: Sequence[PollResult]) -> dict[str, int]:
    return {
        "polled": len(results),
        "ok": sum(1 for r in results if r.ok),
        "failed": sum(1 for r in results if not r.ok),
        "samples": sum(len(r.samples) for r in results),
    }
