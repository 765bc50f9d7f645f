"""The service scheduler: every service on its own interval, a bounded number at once.

Mirrors the SNMP poller (govnet/monitor/poller.py): each due service is its own asyncio task
waiting for one of ``concurrency`` slots; the whole check (all its probes, concurrently)
runs under an outer timeout (never more than 90 % of the interval); states go up →
unreachable → down with backoff through the very same functions (govnet/monitor/states.py).
A service is *up* when every one of its probes succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from govnet.availability.checkers import Checkers, CheckOutcome
from govnet.inventory.model import Service
from govnet.monitor import states
from govnet.monitor.config import MonitorConfig
from govnet.monitor.model import Clock, DeviceState, DeviceStatus, SystemClock
from govnet.monitor.poller import stable_fraction
from govnet.monitor.schedule import Scheduler, next_due

log = logging.getLogger("govnet.availability")


@dataclass
class CheckResult:
    """One check of one service (the outcomes of all its checks)."""

    service: str
    started: float  # wall time
    scheduled: float
    duration: float = 0.0
    outcomes: list[CheckOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(p.ok for p in self.outcomes)

    @property
    def error(self) -> str:
        return "; ".join(f"{p.probe}: {p.error}" for p in self.outcomes if not p.ok)

    @property
    def error_kind(self) -> str:
        return next((p.error_kind for p in self.outcomes if not p.ok), "")

    @property
    def ms(self) -> float | None:
        """The slowest check's response time."""
        values = [p.ms for p in self.outcomes if p.ms is not None]
        return max(values) if values else None

    @property
    def cert_days(self) -> float | None:
        values = [p.cert_days for p in self.outcomes if p.cert_days is not None]
        return min(values) if values else None

    @property
    def lag(self) -> float:
        return max(0.0, self.started - self.scheduled)


@dataclass
class RunnerStats:
    checks: int = 0
    failures: int = 0
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))

    def lag_quantile(self, q: float) -> float:
        if not self.lags:
            return 0.0
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


OnCheck = Callable[[CheckResult, DeviceStatus, states.Transition | None], None]


def service_status(service: Service) -> DeviceStatus:
    return DeviceStatus(device=service.name, zone=service.zone, site=service.site, role="service")


class ServiceRunner(Scheduler[CheckResult]):
    task_label = "check"

    def __init__(
        self,
        services: Iterable[Service],
        config: MonitorConfig | None = None,
        clock: Clock | None = None,
        on_check: OnCheck | None = None,
        checkers: Checkers | None = None,
    ) -> None:
        self.config = config or MonitorConfig()
        self.clock: Clock = clock or SystemClock()
        self.on_check = on_check
        self.checkers = checkers or Checkers(self.clock.time)
        self.stats = RunnerStats()
        self.statuses: dict[str, DeviceStatus] = {}
        self.services: dict[str, Service] = {}
        self._init_schedule(self.config.concurrency)
        self.set_services(services)

    def set_services(self, services: Iterable[Service]) -> None:
        """New services start, removed ones stop; known ones keep state and schedule."""
        fresh = {s.name: s for s in services}
        now = self.clock.monotonic()
        for name, service in fresh.items():
            status = self.statuses.get(name)
            if status is None:
                self.statuses[name] = service_status(service)
            else:
                status.zone, status.site = service.zone, service.site
            if name not in self._due:
                spread = min(self.config.first_spread, service.interval)
                self._schedule(name, now + stable_fraction(name) * spread)
        for name in list(self._due):
            if name not in fresh:
                del self._due[name]
                self.statuses.pop(name, None)
        self.services = fresh
        self._wake.set()

    def timeout(self, service: Service) -> float:
        longest = max(p.timeout for p in service.probes) + 1.0
        return max(0.5, min(longest, self.config.poll_timeout, service.interval * 0.9))

    # -- running -----------------------------------------------------------------------

    async def check(self, name: str) -> CheckResult:
        """Check one service now (outside its schedule)."""
        return await self._check(self.services[name], self.clock.time())

    async def check_all(self) -> list[CheckResult]:
        results = await asyncio.gather(*(self._bounded(n, None) for n in self.services))
        return [r for r in results if r is not None]

    async def _bounded(self, name: str, due: float | None) -> CheckResult | None:
        async with self._semaphore:
            service = self.services.get(name)
            if service is None:
                return None
            lag = max(0.0, self.clock.monotonic() - due) if due is not None else 0.0
            result = await self._check(service, self.clock.time() - lag)
        if due is not None and name in self._due:
            self._reschedule(service, due)
        return result

    def _reschedule(self, service: Service, due: float) -> None:
        status = self.statuses[service.name]
        now = self.clock.monotonic()
        delay = states.next_delay(status, service.interval, self.config)
        self._schedule(service.name, next_due(status.state is DeviceState.UP, delay, due, now))

    async def _check(self, service: Service, scheduled: float) -> CheckResult:
        now = self.clock.time()
        result = CheckResult(service.name, now, min(scheduled, now))
        start = self.clock.monotonic()
        timeout = self.timeout(service)
        try:
            result.outcomes = list(
                await asyncio.wait_for(
                    asyncio.gather(*(self.checkers.run(p) for p in service.probes)), timeout
                )
            )
        except TimeoutError:
            result.outcomes = [
                CheckOutcome(
                    p.name,
                    p.kind,
                    False,
                    error=f"check did not finish within {timeout:g} s",
                    error_kind="timeout",
                )
                for p in service.probes
            ]
        result.duration = self.clock.monotonic() - start
        self.stats.checks += 1
        self.stats.lags.append(result.lag)
        status = self.statuses[service.name]
        if result.ok:
            transition = states.on_success(status, result.started)
            status.rtt_ms = result.ms
        else:
            self.stats.failures += 1
            transition = states.on_failure(
                status,
                result.started,
                result.error,
                result.error_kind,
                service.interval,
                self.config,
            )
        if transition is not None:
            log.info(
                "service state changed",
                extra={
                    "service": service.name,
                    "from": transition[0].value,
                    "to": transition[1].value,
                    "error": status.error,
                },
            )
        if self.on_check is not None:
            self.on_check(result, status, transition)
        return result

    async def close(self) -> None:
        await self.checkers.close()
