"""Fleet execution: run a task on many devices in a bounded thread pool.

Like nornir's AggregatedResult, every device gets a :class:`DeviceResult`; one dead switch
never aborts the run, and failures are data reported together at the end.

It lives in ``collect``, the lowest layer that runs fleets: it needs only the errors and the
inventory's :class:`Device`, and every user (collect's fetch, backup and MAC tables; the
domain packages av and provision; checks; the CLI) sits at or above ``collect``. Transport
opens one session; it never runs fleets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Generic, TypeVar

from govnet.errors import GovnetError, TransportError
from govnet.inventory.model import Device

T = TypeVar("T")


@dataclass
class DeviceResult(Generic[T]):
    device: str
    result: T | None = None
    error: GovnetError | None = None
    elapsed: float = 0.0
    changed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def error_kind(self) -> str | None:
        if self.error is None:
            return None
        return self.error.kind if isinstance(self.error, TransportError) else "error"


@dataclass
class FleetResult(Generic[T]):
    results: dict[str, DeviceResult[T]]
    elapsed: float

    def __iter__(self) -> Iterator[DeviceResult[T]]:
        return iter(self.results.values())

    @property
    def failed(self) -> list[DeviceResult[T]]:
        return [r for r in self.results.values() if not r.ok]


def run_fleet(
    devices: Iterable[Device],
    task: Callable[[Device], T],
    workers: int = 16,
    on_done: Callable[[DeviceResult[T]], None] | None = None,
) -> FleetResult[T]:
    """Run ``task(device)`` for every device, at most ``workers`` at once.

    Errors raised as :class:`GovnetError` become failed results; anything else is a bug and
    propagates after the pool drains (never silently swallowed).
    """
    devices = list(devices)
    started = time.monotonic()
    results: dict[str, DeviceResult[T]] = {}

    def one(device: Device) -> DeviceResult[T]:
        t0 = time.monotonic()
        try:
            value = task(device)
            return DeviceResult(device.name, value, None, time.monotonic() - t0)
        except GovnetError as exc:
            return DeviceResult(device.name, None, exc, time.monotonic() - t0)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(devices) or 1))) as pool:
        futures = {pool.submit(one, d): d for d in devices}
        for fut in as_completed(futures):
            res = fut.result()
            results[res.device] = res
            if on_done is not None:
                on_done(res)
    ordered = {d.name: results[d.name] for d in devices}
    return FleetResult(ordered, time.monotonic() - started)
