"""What else govnetd runs beside its SNMP poller: extensions (nornir's Processor pattern).

The caller that builds the :class:`~govnet.monitor.daemon.Daemon` passes them in (``govnet
monitor run`` passes the service checks of ``availability/extension.py``); the daemon knows
nothing of what they do. It calls, in this order::

    setup(ctx, inventory)        once, before anything polls
    restore(rows) -> rows        firing alerts of the previous run: keep yours, return the rest
    run_once()                   --once: beside the single round of polls
    run(stop)                    a task beside the poller until ``stop`` is set (or cancelled)
    on_device_poll(result, st)   after every device poll (event loop: no blocking)
    maintain(now)                with the daemon's store maintenance, in the writer thread
    reload(inventory)            SIGHUP, after the daemon took the new inventory

Everything an extension needs from the daemon is in the :class:`DaemonContext`; everything
it writes goes through ``ctx.writer`` (one thread, one transaction per batch).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from govnet.inventory.model import Inventory
from govnet.monitor.config import MonitorConfig
from govnet.monitor.model import Clock, DeviceStatus, PollResult
from govnet.monitor.notify import Notifier
from govnet.store.db import Store


class Writer(Protocol):
    """The daemon's store writer, as extensions see it (alert rows and calls, in order)."""

    def open(self, row: dict[str, Any]) -> None: ...

    def update(
        self, key: str, fields: dict[str, Any], event: str | None, detail: str, ts: float
    ) -> None: ...

    def call(self, fn: Callable[[], Any]) -> None: ...


@dataclass(frozen=True)
class DaemonContext:
    """The daemon's public parts, handed to every extension at ``setup``."""

    config: MonitorConfig
    clock: Clock
    store: Store
    writer: Writer
    notifier: Notifier
    # host device → why alerts of what runs on it are consequences ("" if not): the host is
    # down or unreachable, or behind a failed uplink or power feed
    suppression: Callable[[str], str]


class DaemonExtension:
    """No-op hooks; an extension overrides the ones it needs."""

    name = "extension"
    # sharded pollers (``--shards``): True runs it once per cluster, on the holder of shard 0
    # (set up afresh each time that changes); False runs it in every poller beside its shards
    singleton = False

    def setup(self, ctx: DaemonContext, inventory: Inventory) -> None:
        """Once, before restore and before anything polls."""

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Firing alerts of the previous run: take yours, return the others."""
        return list(rows)

    async def run(self, stop: asyncio.Event) -> None:
        """Runs beside the poller until ``stop`` is set (it may also be cancelled then)."""

    async def run_once(self) -> None:
        """``--once``: runs beside the single round of polls."""

    def on_device_poll(self, result: PollResult, status: DeviceStatus) -> None:
        """After every device poll, in the event loop."""

    def maintain(self, now: float) -> None:
        """With the daemon's store maintenance, in the writer thread."""

    def reload(self, inventory: Inventory) -> None:
        """SIGHUP: the new inventory (the daemon keeps the old one if it did not load)."""
