"""The due-time scheduler shared by the SNMP poller and the service runner.

Jobs (devices, services) are kept in a heap by monotonic due time; ``run`` starts each due
job as a task (one at a time per name), bounded by a semaphore in the subclass's ``_bounded``,
and sleeps until the next due time or a wake-up (a reload). Jobs that fall behind skip ahead
to their next slot: they never burst to catch up.
"""

from __future__ import annotations

import asyncio
import heapq
from functools import partial
from typing import Generic, TypeVar

from govnet.monitor.model import Clock, DeviceStatus

R = TypeVar("R")


def next_due(up: bool, delay: float, due: float, now: float) -> float:
    """When to run again: on the job's own rhythm while up (skipping missed slots), else
    ``delay`` (the backoff) from now."""
    if not up:
        return now + delay
    nxt = due + delay
    if nxt <= now:  # fell behind: skip, never burst to catch up
        nxt = now + max(0.0, delay - (now - due) % delay)
    return nxt


class Scheduler(Generic[R]):
    """Subclasses set ``clock`` and ``statuses`` and implement ``_bounded(name, due)``."""

    task_label = "job"
    clock: Clock
    statuses: dict[str, DeviceStatus]

    def _init_schedule(self, concurrency: int) -> None:
        self._due: dict[str, float] = {}  # name → monotonic time it is due
        self._heap: list[tuple[float, str]] = []
        self._running: dict[str, asyncio.Task[R | None]] = {}
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def _schedule(self, name: str, due: float) -> None:
        self._due[name] = due
        heapq.heappush(self._heap, (due, name))
        status = self.statuses.get(name)
        if status is not None:
            status.next_poll = self.clock.time() + (due - self.clock.monotonic())

    async def _bounded(self, name: str, due: float | None) -> R | None:
        raise NotImplementedError

    async def run_due(self) -> list[R]:
        """Run every job due by now and wait for them (deterministic stepping)."""
        now = self.clock.monotonic()
        due = [(name, when) for name, when in self._due.items() if when <= now]
        results = await asyncio.gather(*(self._bounded(name, when) for name, when in due))
        return [r for r in results if r is not None]

    async def run(self, stop: asyncio.Event) -> None:
        """Run jobs on schedule until ``stop`` is set; jobs in flight are then awaited."""
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                now = self.clock.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    when, name = heapq.heappop(self._heap)
                    if self._due.get(name) != when or name in self._running:
                        continue  # stale heap entry, or still running
                    task = asyncio.create_task(
                        self._bounded(name, when), name=f"{self.task_label} {name}"
                    )
                    self._running[name] = task
                    task.add_done_callback(partial(self._done, name))
                delay = (self._heap[0][0] - now) if self._heap else 1.0
                self._wake.clear()
                waker = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait(
                    {stopper, waker},
                    timeout=max(0.0, min(delay, 1.0)),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waker.cancel()
        finally:
            stopper.cancel()
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _done(self, name: str, _task: object) -> None:
        self._running.pop(name, None)
