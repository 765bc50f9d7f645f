"""What govnetd does for services, beside its SNMP poller: a daemon extension.

``govnet monitor run`` passes one :class:`ServiceChecks` to the daemon
(:mod:`govnet.monitor.extension`); the daemon calls its hooks: setup, restore (firing service
alerts), run (the scheduler, same concurrency limit, timeouts and state timings as SNMP polls),
every device poll (its availability span), reload (SIGHUP), maintenance (raw probe results).
Everything it writes goes through the daemon's single store-writer thread, one transaction
per ``flush_every`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from govnet.availability.alerts import ServiceAlerts
from govnet.availability.runner import CheckResult, ServiceRunner
from govnet.inventory.model import Device, Inventory, Service
from govnet.monitor.config import MonitorConfig
from govnet.monitor.extension import DaemonContext, DaemonExtension
from govnet.monitor.model import DeviceStatus, PollResult
from govnet.monitor.states import Transition, next_delay
from govnet.store.availability import Observation, ServiceBatch, ServiceStore

log = logging.getLogger("govnet.availability")

SAMPLES_RETENTION = 30 * 86400.0  # raw probe results; spans are kept


T = TypeVar("T")


def _ready(part: T | None) -> T:
    if part is None:
        raise RuntimeError("ServiceChecks used before the daemon called setup()")
    return part


def observation(kind: str, name: str, ok: bool, ts: float, valid: float) -> Observation:
    return Observation(kind, name, "up" if ok else "down", ts, valid)


class ServiceChecks(DaemonExtension):
    name = "services"
    singleton = True  # sharded pollers: the services are checked once, by shard 0's holder

    def __init__(self) -> None:
        self._ctx: DaemonContext | None = None
        self._inventory: Inventory | None = None
        self._runner: ServiceRunner | None = None
        self._alerts: ServiceAlerts | None = None
        self._sstore: ServiceStore | None = None
        self.pending = ServiceBatch()
        self._device_timing: dict[str, tuple[float, float]] = {}

    # -- the daemon's parts, once set up -------------------------------------------------

    @property
    def ctx(self) -> DaemonContext:
        return _ready(self._ctx)

    @property
    def config(self) -> MonitorConfig:
        return self.ctx.config

    @property
    def runner(self) -> ServiceRunner:
        return _ready(self._runner)

    @property
    def alerts(self) -> ServiceAlerts:
        return _ready(self._alerts)

    @property
    def sstore(self) -> ServiceStore:
        return _ready(self._sstore)

    # -- hooks the daemon calls ----------------------------------------------------------

    def setup(self, ctx: DaemonContext, inventory: Inventory) -> None:
        self._ctx = ctx
        self._inventory = inventory
        self._sstore = ServiceStore(ctx.store)
        self._runner = ServiceRunner(
            inventory.services.values(), ctx.config, ctx.clock, self._on_check
        )
        self._alerts = ServiceAlerts(
            inventory.services, ctx.writer, ctx.notifier, ctx.clock, self._suppression
        )
        self._set_devices(inventory.devices.values())

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return self.alerts.restore(rows)

    async def run(self, stop: asyncio.Event) -> None:
        flusher = asyncio.create_task(self._flusher(stop))
        try:
            await self.runner.run(stop)
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            await self.close()

    async def run_once(self) -> None:
        try:
            await self.runner.check_all()
        finally:
            await self.close()

    async def close(self) -> None:
        self.flush()  # first: this may run while the task is being cancelled
        await self.runner.close()

    def on_device_poll(self, result: PollResult, status: DeviceStatus) -> None:
        interval, timeout = self._device_timing.get(result.device, (60.0, 30.0))
        valid = 2 * next_delay(status, interval, self.config) + timeout
        self.pending.observations.append(
            observation("device", result.device, result.ok, result.started, valid)
        )

    def reload(self, inventory: Inventory) -> None:
        before = set(self.runner.services)
        self._inventory = inventory
        self.runner.set_services(inventory.services.values())
        self.alerts.reload(inventory.services)
        self._set_devices(inventory.devices.values())
        removed = before - set(inventory.services)
        if removed:
            self.ctx.writer.call(lambda: self.sstore.forget_services(removed))

    def maintain(self, now: float) -> None:
        """Called in the writer thread with the daemon's maintenance."""
        self.sstore.prune(now - SAMPLES_RETENTION)

    # -- internals ---------------------------------------------------------------------

    def _set_devices(self, devices: Iterable[Device]) -> None:
        timing: dict[str, tuple[float, float]] = {}
        for d in devices:
            try:
                timing[d.name] = (self.config.interval(d), self.config.timeout(d))
            except Exception:  # skipped by the poller, with its reason
                continue
        self._device_timing = timing

    def _suppression(self, name: str) -> str:
        """A service in a maintenance window is muted; one on a host that is down, or behind
        a failed uplink or power feed, is a consequence."""
        if self._inventory is not None:
            window = self._inventory.maintenance_now("service", name, self.ctx.clock.time())
            if window is not None:
                return f"maintenance window {window.name}"
        service = self.runner.services.get(name)
        return self.ctx.suppression(service.host) if service and service.host else ""

    def _on_check(
        self, result: CheckResult, status: DeviceStatus, transition: Transition | None
    ) -> None:
        service = self.runner.services.get(result.service)
        if service is None:
            return
        batch = self.pending
        for p in result.outcomes:
            batch.samples.append(
                {
                    "service": result.service,
                    "probe": p.probe,
                    "ts": result.started,
                    "ok": int(p.ok),
                    "ms": p.ms,
                    "cert_days": p.cert_days,
                    "error": p.error,
                    "error_kind": p.error_kind,
                }
            )
        batch.states.append(state_row(service, status, result))
        valid = 2 * next_delay(status, service.interval, self.config) + self.runner.timeout(service)
        batch.observations.append(
            observation("service", result.service, result.ok, result.started, valid)
        )
        self.alerts.on_check(result, status)

    def flush(self) -> None:
        batch, self.pending = self.pending, ServiceBatch()
        if batch:
            self.ctx.writer.call(lambda: self.sstore.write(batch))

    async def _flusher(self, stop: asyncio.Event) -> None:
        every = max(0.2, self.config.flush_every)
        while not stop.is_set():
            await asyncio.sleep(every)
            self.flush()


def state_row(service: Service, status: DeviceStatus, result: CheckResult) -> dict[str, Any]:
    return {
        "service": service.name,
        "zone": service.zone,
        "unit": service.unit,
        "site": service.site,
        "host": service.host or "",
        "label_zh": service.label.zh or "",
        "label_en": service.label.en or "",
        "state": status.state.value,
        "since": status.since,
        "last_check": status.last_poll,
        "last_ok": status.last_ok,
        "failures": status.failures,
        "error": status.error[:1000],
        "ms": result.ms,
        "cert_days": result.cert_days,
        "next_check": status.next_poll,
        "updated": result.started,
    }
