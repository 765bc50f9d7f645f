"""The monitoring daemon (``govnetd`` / ``govnet monitor run``): poller → store, alerts, /metrics.

::

    poller (asyncio) ──► on_result ──► StoreWriter (one thread, one transaction per batch)
                               ├─────► AlertEngine ──► Notifier (tasks) ; alert rows → writer
                               └─────► latest values ──► /metrics (prometheus_client thread)

- the event loop never touches the disk for samples: a single writer thread commits batches
  (at least every ``flush_every`` seconds), so polling keeps its schedule while SQLite syncs;
- SIGTERM/SIGINT: stop scheduling, let polls in flight finish (each under its timeout),
  drain notifications, commit everything queued, release the lock, exit 0;
- SIGHUP: reload the inventory and the alert rules; on an error keep the old ones (logged);
- one daemon per store (:meth:`MonitorStore.daemon_lock`); a heartbeat in ``monitor_meta``
  tells the dashboard the daemon is alive;
- every ``maintenance_every`` seconds: rollups (5 min, 1 h) and retention;
- extensions (:mod:`govnet.monitor.extension`, e.g. the service checks) passed in by the
  caller get a :class:`DaemonContext` and are called at fixed points (restore, every device
  poll, run, reload, maintenance).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import os
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from govnet import __version__
from govnet.errors import GovnetError, InputError
from govnet.inventory.model import Device, Inventory
from govnet.monitor.alerts import AlertEngine
from govnet.monitor.config import MonitorConfig
from govnet.monitor.delivery import Delivery
from govnet.monitor.exporter import ExporterView, Health, MetricsServer, serve_metrics
from govnet.monitor.extension import DaemonContext, DaemonExtension
from govnet.monitor.metrics import LATEST_ONLY
from govnet.monitor.model import Clock, DeviceStatus, PollResult, SystemClock
from govnet.monitor.notify import Notice, Notifier
from govnet.monitor.poller import Poller, PollerStats, quantile, stable_fraction
from govnet.monitor.rules import AlertRules, load_rules
from govnet.monitor.sharding import (
    ShardMember,
    ShardOptions,
    guard,
    lease_period,
    resolve_shards,
)
from govnet.monitor.shards import AUTO_SHARDS, shard_of
from govnet.monitor.states import Transition
from govnet.monitor.topology import READS as TOPOLOGY_READS
from govnet.monitor.topology import RemoteStates, Topology
from govnet.sdnotify import SdNotify
from govnet.store.cluster import require_postgresql
from govnet.store.db import Store
from govnet.store.monitor import Batch, LatestRow, MonitorStore
from govnet.store.outbox import Outbox
from govnet.transport.snmp import SnmpBackend, snmp_backend

log = logging.getLogger("govnet.monitor")

HEARTBEAT_EVERY = 5.0
STATS_EVERY = 60.0  # the "poller stats" log line: polls, lag quantiles, store writer
LATEST_REFRESH = 300.0
SWITCH_INTERVAL = 0.001  # s: the interpreter's thread switch interval while the writer runs


def batch_of(result: PollResult, status: DeviceStatus) -> Batch:
    """The rows one poll writes."""
    ts = result.started
    name = result.device
    polled = result.samples
    series = [(name, m, i, ts, v) for m, i, v in polled if m not in LATEST_ONLY]
    rows: list[LatestRow] = [(name, m, i, ts, v, "") for m, i, v in polled]
    rows += [
        (name, m, i, ts, None if v is None else float(v), text) for m, i, v, text in result.latest
    ]
    return Batch(series, rows, [status.to_row()])


def merge(batches: list[Batch]) -> Batch:
    """One transaction's rows; a latest value or device repeated keeps its last row (the
    store's upserts take them in order)."""
    if len(batches) == 1:
        return batches[0]
    out = Batch.empty()
    for b in batches:
        out.samples += b.samples
        out.latest += b.latest
        out.devices += b.devices
    return out


def next_slot(last: float, after: float, interval: float) -> float:
    """The first of a device's slots (``last`` plus whole intervals, at least one) not
    before ``after``: a device taken over keeps the phase its last holder polled it in."""
    return last + max(1, math.ceil((after - last) / interval)) * interval


_row_key = itemgetter(1, 2)  # a latest row's metric and instance
_row_value = itemgetter(4)
_row_text = itemgetter(5)


@dataclass(slots=True)
class Written:
    """A device's latest values as last written: ``keys`` (metric, instance, metric, …) in
    the poll's order, their values and texts, and when all were last written."""

    keys: tuple[str, ...]
    values: list[float | None]
    texts: tuple[str, ...]
    refreshed: float


class StoreWriter:
    """One thread writes everything, in order: poll batches, alert changes, maintenance.

    Implements :class:`~govnet.monitor.alerts.AlertSink`. A store error is logged and the
    batch retried (three times, a second apart) before it is dropped and counted.
    """

    def __init__(
        self, mstore: MonitorStore, flush_every: float = 1.0, clock: Clock | None = None
    ) -> None:
        self.mstore = mstore
        self.flush_every = flush_every
        self.clock: Clock = clock or SystemClock()
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self.dropped = 0
        self.batches = 0
        self.cpu = 0.0  # CPU seconds the writer thread has used (self-metric, bench)
        self._written: dict[str, Written] = {}  # per device: the latest values last written
        self._switch = sys.getswitchinterval()  # the interpreter's, while the thread runs

    # producer side (event loop) --------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            # The event loop gives the interpreter lock up at every select() and waits to get
            # it back; with CPython's default switch interval (5 ms) a busy writer thread kept
            # it that long each time: at 10,000 devices a poll's dozen requests then took
            # 300 ms and one govnetd fell 30 s behind (lag p99 1.8 s with 1 ms, same CPU;
            # bench/shard_bench.py single). Restored by stop().
            self._switch = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch, SWITCH_INTERVAL))
            self._thread = threading.Thread(
                target=self._run, name="govnet-store-writer", daemon=True
            )
            self._thread.start()

    def poll(self, result: PollResult, status: DeviceStatus) -> None:
        self._put(("batch", batch_of(result, status)))

    def open(self, row: dict[str, Any]) -> None:
        self._put(("open", row))

    def update(
        self, key: str, fields: dict[str, Any], event: str | None, detail: str, ts: float
    ) -> None:
        self._put(("update", (key, fields, event, detail, ts)))

    def call(self, fn: Callable[[], Any]) -> None:
        self._put(("call", fn))

    def _put(self, item: tuple[str, Any]) -> None:
        if self._thread is None:  # not started (tools, tests): write here and now
            self._apply([item])
        else:
            self._queue.put(item)

    def depth(self) -> int:
        return self._queue.qsize()

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until everything queued so far is committed."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Commit everything queued, waiting at most ``timeout`` seconds; what is still queued
        then is lost with the process, and said so in an error line (never silently)."""
        if self._thread is None:
            return
        self._queue.put(("stop", None))
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error(
                "store writer did not finish within %g s: about %d queued items (polls, "
                "alert changes) are not written",
                timeout,
                self._queue.qsize(),
            )
        self._thread = None
        sys.setswitchinterval(self._switch)

    # the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            items = [item]
            deadline = time.monotonic() + min(self.flush_every, 0.2) if item[0] == "batch" else 0
            # gather what else is queued (a burst of polls becomes one transaction)
            while items[-1][0] not in ("stop", "flush") and len(items) < 5000:
                try:
                    wait = max(0.0, deadline - time.monotonic())
                    items.append(
                        self._queue.get(timeout=wait) if wait else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
            started = time.thread_time()
            self._apply(items)
            self.cpu += time.thread_time() - started
            if items[-1][0] == "stop":
                return

    def _apply(self, items: list[tuple[str, Any]]) -> None:
        pending: list[Batch] = []
        for kind, payload in items:
            if kind == "batch":
                pending.append(payload)
                continue
            self._write_batches(pending)
            pending = []
            if kind == "flush":
                payload.set()
            elif kind == "stop":
                pass
            else:
                self._retry(partial(self._alert_op, kind, payload), kind)
        self._write_batches(pending)

    def _write_batches(self, batches: list[Batch]) -> None:
        if batches:
            self._retry(partial(self._write, batches), "samples")
            self.batches += 1

    def _write(self, batches: list[Batch]) -> None:
        """Latest values that did not change are rewritten only every LATEST_REFRESH
        seconds: most of a switch's statuses and names stay the same poll after poll.

        What was written is remembered per device by position (a poll gives a device's
        values in the same order each time), not per value: a dictionary entry per latest
        value was a quarter of govnetd's memory at 10,000 switches."""
        written = self._written
        staged: dict[str, Written] = {}  # becomes `written` once the transaction committed
        fresh: list[LatestRow] = []
        for batch in batches:  # one poll each
            rows = batch.latest
            if not rows:
                continue
            device = rows[0][0]
            keys = tuple(chain.from_iterable(map(_row_key, rows)))
            values = list(map(_row_value, rows))
            texts = tuple(map(_row_text, rows))
            ts = rows[0][3]
            seen = staged.get(device) or written.get(device)
            if seen is None or seen.keys != keys or ts - seen.refreshed >= LATEST_REFRESH:
                fresh += rows  # new, changed in shape, or due for its refresh: all of them
                staged[device] = Written(keys, values, texts, ts)
                continue
            fresh += [
                row
                for row, value, text, was, had in zip(
                    rows, values, texts, seen.values, seen.texts, strict=True
                )
                if value != was or text != had
            ]
            staged[device] = Written(seen.keys, values, texts, seen.refreshed)
        batch = merge(batches)
        self.mstore.write(Batch(batch.samples, fresh, batch.devices), self.clock.time())
        written.update(staged)

    def forget(self, names: Iterable[str]) -> None:
        """Devices no longer polled here (removed, handed over, taken over: another poller
        may have written theirs meanwhile): what was written for them is forgotten, in
        order with the batches queued before."""
        gone = list(names)
        if gone:
            self.call(partial(self._forget, gone))

    def _forget(self, names: list[str]) -> None:
        for name in names:
            self._written.pop(name, None)

    def _alert_op(self, kind: str, payload: Any) -> None:
        if kind == "open":
            self.mstore.open_alert(payload)
        elif kind == "update":
            key, fields, event, detail, ts = payload
            self.mstore.update_firing(key, fields, event, detail, ts)
        elif kind == "call":
            payload()

    def _retry(self, op: Callable[[], Any], what: str) -> None:
        for attempt in range(4):
            try:
                op()
                return
            except GovnetError as exc:
                self.errors += 1
                log.error("store write failed (%s, attempt %d): %s", what, attempt + 1, exc)
                if attempt < 3:
                    time.sleep(1.0)
            except Exception:  # a bug: log it, keep the writer alive
                self.errors += 1
                log.exception("store write failed (%s)", what)
                break
        self.dropped += 1


@dataclass(frozen=True)
class DaemonOptions:
    config: MonitorConfig = field(default_factory=MonitorConfig)
    rules: Path | None = None
    listen: str | None = "127.0.0.1:9163"
    backend: str = "auto"
    once: bool = False
    duration: float | None = None
    handle_signals: bool = True
    # sharded pollers (PostgreSQL): 0 = one daemon per store, N = this device's shards of N,
    # AUTO_SHARDS = the N of the cluster (sharding.resolve_shards)
    shards: int = 0
    # systemd's Type=notify: READY=1 once polling starts, WATCHDOG=1 pings, STOPPING=1
    sd: SdNotify = field(default_factory=SdNotify)


@dataclass
class DaemonSummary:
    polls: int
    failures: int
    varbinds: int
    firing: int
    metrics_port: int | None
    skipped: dict[str, str]
    exit_code: int = 0


InventoryLoader = Callable[[], tuple[Inventory, list[Device]]]


class Daemon:
    """Wires poller, store writer, alert engine, notifier and exporter; runs until stopped."""

    def __init__(
        self,
        load: InventoryLoader,
        store: Store,
        options: DaemonOptions,
        clock: Clock | None = None,
        backend: SnmpBackend | None = None,
        extensions: Sequence[DaemonExtension] = (),
    ) -> None:
        self.load = load
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.mstore = MonitorStore(store)
        self.backend = backend
        self.stop_event: asyncio.Event | None = None
        self.reload_event: asyncio.Event | None = None
        self.metrics: MetricsServer | None = None
        self.poller: Poller | None = None
        self.engine: AlertEngine | None = None
        self.writer = StoreWriter(self.mstore, options.config.flush_every, self.clock)
        self.notifier: Notifier | None = None
        self.delivery: Delivery | None = None  # DingTalk/WeCom/e-mail through the outbox
        self.inventory: Inventory | None = None
        self.started = 0.0
        self.extensions: tuple[DaemonExtension, ...] = tuple(extensions)
        # sharding (options.shards > 0): the whole selection, this member, per-shard lag
        self.selection: dict[str, Device] = {}
        self.member: ShardMember | None = None
        self._shard_cache: dict[str, int] = {}
        self._shard_lag: dict[int, float] = {}
        self._singletons: list[asyncio.Task[Any]] = []
        self._singleton_stop: asyncio.Event | None = None
        self._stale_remote: list[str] = []  # other pollers' devices last seen stale
        self._guards: set[asyncio.Task[None]] = set()  # devices taken over, after the guard

    # ------------------------------------------------------------------ set-up

    def _rules(self) -> AlertRules:
        path = self.options.rules
        if path is None:
            from govnet.monitor.rules import default_rules

            path = default_rules()
        return load_rules(path)

    def _on_result(
        self, result: PollResult, status: DeviceStatus, transition: Transition | None
    ) -> None:
        self.writer.poll(result, status)
        for ext in self.extensions:
            if not (self.sharded and ext.singleton and not self._singletons):
                ext.on_device_poll(result, status)
        if self.options.shards:
            shard = self.shard(result.device)
            lag = max(0.0, result.started - result.scheduled)
            self._shard_lag[shard] = max(self._shard_lag.get(shard, 0.0), lag)
            if self.poller is not None and not self.poller.polls(result.device):
                return  # handed over while in flight (a failed lock session): not ours to judge
        if self.engine is not None:
            self.engine.on_poll(result, status, transition)

    def _maintenance(self, device: str, now: float) -> str:
        window = self.inventory.maintenance_now("device", device, now) if self.inventory else None
        return f"maintenance window {window.name}" if window else ""

    def suppression(self, host: str) -> str:
        """Why alerts of something running on device ``host`` are consequences ("" if not)."""
        return self.engine.host_suppression(host) if self.engine is not None else ""

    def context(self) -> DaemonContext:
        """What extensions see of the daemon (once it runs: the notifier exists)."""
        assert self.notifier is not None
        return DaemonContext(
            config=self.options.config,
            clock=self.clock,
            store=self.mstore.store,
            writer=self.writer,
            notifier=self.notifier,
            suppression=self.suppression,
        )

    def _notify_failed(self, notice: Notice, detail: str) -> None:
        self.writer.update(notice.key, {}, "notify_failed", detail, self.clock.time())

    def _view(self) -> ExporterView:
        def alerts() -> dict[str, int]:
            out: dict[str, int] = {}
            for p in self.engine.firing() if self.engine else []:
                if not p.suppressed:
                    out[p.rule.severity.value] = out.get(p.rule.severity.value, 0) + 1
            return out

        def latest() -> Mapping[tuple[str, str, str], float | None]:
            return dict(self.engine.latest) if self.engine else {}

        def writer() -> dict[str, float]:
            w = self.writer
            return {
                "queue_depth": float(w.depth()),
                "write_errors": float(w.errors),
                "dropped_batches": float(w.dropped),
                "writer_cpu_seconds": w.cpu,
            }

        return ExporterView(
            statuses=lambda: dict(self.poller.statuses) if self.poller else {},
            latest=latest,
            stats=lambda: self.poller.stats if self.poller else PollerStats(),
            alerts=alerts,
            writer=writer,
            health=self.health,
            watched=lambda d, i: self.engine.topology.watches(d, i) if self.engine else False,
            firing=lambda: [
                (p.rule.id, p.device, p.instance, p.rule.severity.value)
                for p in (self.engine.firing() if self.engine else [])
                if not p.suppressed
            ],
        )

    def health(self) -> Health:
        """Whether the poller keeps up: no device a whole poll interval (and 10 s) past its due
        time, and the store writer not dropping batches (``/healthz``)."""
        if self.poller is None:
            return Health(False, "starting: the poller is not running yet")
        now = self.clock.time()
        late: list[float] = []
        devices = self.poller.devices
        for name, st in list(self.poller.statuses.items()):
            device = devices.get(name)
            interval = self.options.config.interval(device) if device else 60.0
            if st.next_poll and now - st.next_poll > max(interval, 10.0):
                late.append(now - st.next_poll)
        total = len(self.poller.statuses)
        if late:
            return Health(
                False,
                f"behind: {len(late)} of {total} devices more than one poll "
                f"interval late (worst {max(late):.0f}s)",
            )
        if self.writer.dropped:
            return Health(False, f"store writer dropped {self.writer.dropped} batches")
        return Health(True, f"ok: {total} devices polled on time")

    def holder(self) -> str:
        return f"pid {os.getpid()} on {socket.gethostname()}"

    # ------------------------------------------------------------------ running

    async def run(self) -> DaemonSummary:
        if self.options.shards:  # shard leases instead of the one-daemon lock
            require_postgresql(self.mstore.store)
            if self.options.shards == AUTO_SHARDS:
                n, source = await asyncio.to_thread(
                    resolve_shards, self.mstore.store, self.clock.time()
                )
                log.info("--shards auto", extra={"shards": n, "from": source})
                self.options = dataclasses.replace(self.options, shards=n)
            return await self._run()
        with self.mstore.daemon_lock(self.holder()):
            return await self._run()

    # ------------------------------------------------------------------ sharding

    @property
    def sharded(self) -> bool:
        return self.options.shards > 0

    @property
    def leader(self) -> bool:
        """Does the cluster-wide work (maintenance, notification delivery, service checks):
        the only daemon of its store, or the holder of shard 0."""
        return not self.sharded or (self.member is not None and 0 in self.member.held)

    def shard(self, name: str) -> int:
        s = self._shard_cache.get(name)
        if s is None:
            s = self._shard_cache[name] = shard_of(name, self.options.shards)
        return s

    def _mine(self, devices: Sequence[Device]) -> list[Device]:
        if not self.sharded:
            return list(devices)
        held = self.member.held if self.member is not None else set()
        return [d for d in devices if self.shard(d.name) in held]

    async def gain(self, shards: set[int], clean: set[int]) -> None:
        """Shards just locked: restore their devices' alerts and state, poll them on their
        slots (the last holder's last poll plus whole intervals): the next slot when the
        last holder released the shard cleanly; else a device whose next slot falls within the
        guard time (a holder that lost its session may poll until it notices) waits for its
        end (:meth:`_after_guard`): polled late, not skipped. A device never polled starts
        at a stable point within its interval."""
        assert self.poller is not None and self.engine is not None
        names = [n for n in self.selection if self.shard(n) in shards]
        rows = await asyncio.to_thread(self.mstore.device_rows, names)
        firing = await asyncio.to_thread(self.mstore.firing_alerts, names)
        now = self.clock.time()
        wait = guard(self.member.options.every) if self.member is not None else 0.0
        first_due: dict[str, float] = {}
        seed: dict[str, DeviceStatus] = {}
        guarded: dict[str, float] = {}  # due within the guard time: name → its last poll
        for name in names:
            try:
                interval = self.options.config.interval(self.selection[name])
            except GovnetError:
                continue  # skipped by the poller, with its reason
            row = rows.get(name)
            if row is None or not row["last_poll"]:
                first_due[name] = now + wait + stable_fraction(name) * interval
                continue
            seed[name] = DeviceStatus.from_row(row)
            last = float(row["last_poll"])
            if self.shard(name) in clean:
                first_due[name] = next_slot(last, now, interval)
                continue
            # the first slot past the guard time (a holder that lost its session may poll
            # until it notices); but if its next slot is already past (the holder died with
            # that poll uncommitted, or before it) or within the guard, and that first slot
            # comes later than the check after the guard would: decided then (_after_guard)
            due = next_slot(last, now + wait, interval)
            if last + interval < now + wait and due > now + self._guard_check(wait):
                guarded[name] = last
                continue
            first_due[name] = due
        self.engine.restore(firing)
        self.writer.forget(names)  # their holder meanwhile wrote other latest values
        await self._refresh_remote(names)  # their parents elsewhere: known before they poll
        current = list(self.poller.devices.values())
        self.poller.set_devices(
            current + [self.selection[n] for n in names if n not in guarded], first_due, seed
        )
        if guarded:
            task = asyncio.create_task(self._after_guard(guarded, seed, wait), name="guard")
            self._guards.add(task)
            task.add_done_callback(self._guards.discard)
        log.info(
            "polling shards",
            extra={
                "gained": sorted(shards),
                "devices": len(names),
                "alerts": len(firing),
                "held": sorted(self.member.held) if self.member else [],
            },
        )
        if 0 in shards:
            await self._leader_on()

    def _guard_check(self, wait: float) -> float:
        """Seconds after a takeover when the old holder can no longer poll and what it
        polled is committed (its writer flushes every ``flush_every``)."""
        return wait + self.options.config.flush_every + 0.5

    async def _after_guard(
        self, guarded: Mapping[str, float], seed: Mapping[str, DeviceStatus], wait: float
    ) -> None:
        """Devices of a shard whose holder died, whose next slot is past or within the guard
        time: once the old holder can no longer poll (and what it polled is committed), each
        is polled at once unless the store shows it polled after ``guarded[name]`` (then at
        its next slot) — late by the guard time at most, never skipped, never twice."""
        await asyncio.sleep(self._guard_check(wait))
        assert self.poller is not None
        held = self.member.held if self.member is not None else set()
        names = [n for n in guarded if n in self.selection and self.shard(n) in held]
        if not names:
            return
        try:
            rows = await asyncio.to_thread(self.mstore.device_rows, names)
        except GovnetError as exc:  # poll them anyway: late beats missed
            log.error("cannot read the devices taken over: %s", exc)
            rows = {}
        now = self.clock.time()
        first_due: dict[str, float] = {}
        for name in names:
            row = rows.get(name)
            last = float(row["last_poll"]) if row and row["last_poll"] else guarded[name]
            interval = self._interval(self.selection[name])
            if last > guarded[name]:  # the old holder polled it after all: its next slot
                first_due[name] = next_slot(last, now, interval)
            else:
                first_due[name] = now
        held = self.member.held if self.member is not None else set()
        names = [n for n in names if self.shard(n) in held]  # (the read took a moment)
        current = list(self.poller.devices.values())
        self.poller.set_devices(current + [self.selection[n] for n in names], first_due, seed)

    async def lose(self, shards: set[int], failed: bool) -> None:
        """Shards going: stop polling their devices now; unless the lock session failed,
        wait for their polls in flight and commit everything (the next holder reads it)."""
        assert self.poller is not None and self.engine is not None
        names = {n for n in self.poller.devices if self.shard(n) in shards}
        self.poller.set_devices([d for d in self.poller.devices.values() if d.name not in names])
        if 0 in shards:
            await self._leader_off(flush=not failed)
        if not failed:
            await self.poller.settle(names)
        handed = self.engine.release(names)
        self.writer.forget(names)
        for s in shards:
            self._shard_lag.pop(s, None)
        if not failed:
            await asyncio.to_thread(self.writer.flush)
        log.info(
            "stopped polling shards",
            extra={
                "shards": sorted(shards),
                "devices": len(names),
                "alerts_handed_over": handed,
                "failed": failed,
            },
        )

    def beat(self) -> dict[str, Any]:
        lags, self._shard_lag = self._shard_lag, {}
        stats = self.poller.stats if self.poller else PollerStats()
        return {
            "shards": lags,
            "devices": len(self.poller.statuses) if self.poller else 0,
            "lag_p99": stats.lag_quantile(0.99),
        }

    async def _leader_on(self) -> None:
        """Shard 0 came here: notification delivery and the cluster-wide extensions."""
        if self.options.once or self.delivery is None:
            return
        self.delivery.start()
        if self.inventory is None or self.stop_event is None:
            return
        firing: list[Mapping[str, Any]] = list(await asyncio.to_thread(self.mstore.firing_alerts))
        self._singleton_stop = asyncio.Event()
        ctx = self.context()
        for ext in self.extensions:
            if ext.singleton:
                ext.setup(ctx, self.inventory)  # fresh: what the last holder did is in the store
                firing = ext.restore(firing)
                self._singletons.append(
                    asyncio.create_task(ext.run(self._singleton_stop), name=ext.name)
                )

    async def _leader_off(self, flush: bool) -> None:
        if self._singleton_stop is not None:
            self._singleton_stop.set()
        tasks, self._singletons = self._singletons, []
        if tasks:
            await asyncio.wait(tasks, timeout=30)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.delivery is not None:
            self.delivery.stop()
            if flush:
                await asyncio.to_thread(self.delivery.step, True)

    async def _run(self) -> DaemonSummary:
        opts = self.options
        inventory, devices = self.load()
        rules = self._rules()
        self.started = self.clock.time()
        self.stop_event = asyncio.Event()
        self.reload_event = asyncio.Event()
        backend = self.backend or snmp_backend(opts.backend, opts.config.concurrency)
        self.inventory = inventory
        self.delivery = Delivery(Outbox(self.mstore.store), rules.notifiers, self.clock)
        self.notifier = Notifier(rules.notifiers, self._notify_failed, self.delivery)
        topology = Topology.from_inventory(inventory)
        by_name = {d.name: d for d in devices}
        self.selection = dict(by_name)
        if opts.listen:  # first: a port in use stops us before anything runs
            self.metrics = serve_metrics(self._view(), opts.listen)
            log.info(
                "serving /metrics",
                extra={"address": self.metrics.address, "port": self.metrics.port},
            )
        self.writer.start()
        try:
            self.engine = AlertEngine(
                rules, by_name, topology, self.writer, self.notifier, self.clock, self._maintenance
            )
            if self.metrics is None:  # nobody reads the other latest values in memory
                self.engine.keep_latest = TOPOLOGY_READS
            if self.sharded:  # parents other pollers hold: from the store (_refresh_remote)
                self.engine.remote = RemoteStates()
                # a poll elsewhere is in the store this long after it (its writer's batches);
                # --once: one round, judged from the view read before it, nothing waits
                self.engine.settle = None if opts.once else opts.config.flush_every + 1.0
            firing: list[Mapping[str, Any]] = list(
                await asyncio.to_thread(self.mstore.firing_alerts)
            )
            ctx = self.context()
            for ext in self.extensions:
                if self.sharded and ext.singleton:
                    continue  # set up on the holder of shard 0, when it takes it
                ext.setup(ctx, inventory)
                firing = ext.restore(firing)
            if not self.sharded:  # sharded: each shard's alerts come with the shard
                self.engine.restore(firing)
            self.poller = Poller(
                self._mine(devices), backend, opts.config, self.clock, self._on_result
            )
            stale = {r["device"] for r in await asyncio.to_thread(self.mstore.device_states)}
            if self.sharded:
                every = min(
                    (self._interval(d) for d in devices), default=opts.config.default_interval
                )
                self.member = ShardMember(
                    self.mstore.store,
                    ShardOptions(opts.shards, lease_period(every)),
                    self,
                    self.clock,
                )
                await self.member.start()
        except BaseException:
            self.writer.stop()
            if self.metrics is not None:
                self.metrics.stop()
            await backend.close()
            raise
        for name, why in self.poller.skipped.items():
            log.warning("not monitored: %s", why, extra={"device": name})
        # devices no longer in the inventory; sharded: the others' devices are not "stale"
        known = set(self.selection) if self.sharded else set(self.poller_devices())
        self.writer.call(lambda: self.mstore.forget_devices(stale - known))
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if opts.handle_signals:
            for sig, handler in (
                (signal.SIGTERM, self.stop),
                (signal.SIGINT, self.stop),
                (signal.SIGHUP, self.request_reload),
            ):
                loop.add_signal_handler(sig, handler)
                installed.append(sig)
        log.info(
            "govnetd started",
            extra={
                "devices": len(self.poller.devices),
                "rules": len(rules.rules),
                "backend": type(backend).__name__,
                "version": __version__,
            },
        )
        tasks: list[asyncio.Task[Any]] = []
        try:
            self._heartbeat()
            opts.sd.ready(f"polling {len(self.poller.devices)} devices")
            if opts.sd.watchdog_every is not None and not opts.once:
                tasks.append(asyncio.create_task(self._watchdog(), name="watchdog"))
            if opts.once:
                if self.member is not None:
                    await self.member.step()  # --once --shards: the shards this one gets
                await asyncio.gather(
                    self.poller.poll_all(),
                    *(
                        ext.run_once()
                        for ext in self.extensions
                        if not (self.sharded and ext.singleton)
                    ),
                )
            else:
                if not self.sharded:
                    self.delivery.start()
                tasks += [  # += : the watchdog task, if any, is cancelled with them
                    asyncio.create_task(self._housekeeping(), name="housekeeping"),
                    asyncio.create_task(self._reloader(), name="reloader"),
                ]
                tasks += [
                    asyncio.create_task(ext.run(self.stop_event), name=ext.name)
                    for ext in self.extensions
                    if not (self.sharded and ext.singleton)
                ]
                if self.member is not None:
                    tasks.append(
                        asyncio.create_task(self.member.run(self.stop_event), name="shards")
                    )
                if opts.duration is not None:
                    loop.call_later(opts.duration, self.stop)
                await self.poller.run(self.stop_event)
        finally:
            opts.sd.stopping()
            if self.member is not None:  # hand the shards over before anything stops
                if self.stop_event is not None:
                    self.stop_event.set()
                member_tasks = [t for t in tasks if t.get_name() == "shards"]
                await asyncio.gather(*member_tasks, return_exceptions=True)
                await self.member.stop()
            tasks += self._guards
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for sig in installed:
                loop.remove_signal_handler(sig)
            await self.notifier.drain()
            self.notifier.close()
            self.delivery.stop()
            if not self.sharded:  # sharded: the holder of shard 0 flushed it on release
                await asyncio.to_thread(self.delivery.step, True)  # what is due goes now
                self.writer.call(lambda: self.mstore.set_meta("daemon", ""))
            self.writer.stop()
            await backend.close()
            if self.metrics is not None:
                self.metrics.stop()
            log.info("govnetd stopped", extra={"polls": self.poller.stats.polls})
        stats = self.poller.stats
        return DaemonSummary(
            polls=stats.polls,
            failures=stats.failures,
            varbinds=stats.varbinds,
            firing=len(self.engine.firing()),
            metrics_port=self.metrics.port if self.metrics else None,
            skipped=dict(self.poller.skipped),
        )

    def _interval(self, device: Device) -> float:
        try:
            return self.options.config.interval(device)
        except GovnetError:
            return self.options.config.default_interval

    def poller_devices(self) -> list[str]:
        return list(self.poller.devices) if self.poller else []

    def stop(self) -> None:
        if self.stop_event is not None:
            self.stop_event.set()

    def request_reload(self) -> None:
        if self.reload_event is not None:
            self.reload_event.set()

    def _heartbeat(self) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": self.started,
            "heartbeat": self.clock.time(),
            "version": __version__,
            "metrics": f"{self.metrics.address}:{self.metrics.port}" if self.metrics else "",
        }
        text = json.dumps(info)
        self.writer.call(lambda: self.mstore.set_meta("daemon", text))

    async def _housekeeping(self) -> None:
        cfg = self.options.config
        last_maintenance = last_stats = self.clock.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            self._heartbeat()
            if self.sharded:
                await self._refresh_remote()
            if self.clock.monotonic() - last_stats >= STATS_EVERY:
                last_stats = self.clock.monotonic()
                self._log_stats()
            try:
                acked = await asyncio.to_thread(self.mstore.acked_firing_keys)
            except GovnetError as exc:
                log.error("cannot read acknowledgements: %s", exc)
                acked = set()
            if self.engine is not None and acked:
                self.engine.sync_acks(acked)
            if (
                self.leader
                and self.delivery is not None
                and any(c.spec.repeat_critical for c in self.delivery.channels.values())
            ):
                try:
                    firing = await asyncio.to_thread(self.mstore.list_alerts, "firing")
                    await asyncio.to_thread(self.delivery.queue_repeats, firing)
                except GovnetError as exc:
                    log.error("cannot queue repeated alerts: %s", exc)
            if self.clock.monotonic() - last_maintenance >= cfg.maintenance_every:
                last_maintenance = self.clock.monotonic()
                if self.leader:  # once per store: sharded, the holder of shard 0
                    self.writer.call(partial(self._maintain, self.clock.time()))

    async def _refresh_remote(self, gained: Iterable[str] = ()) -> None:
        """Sharded: one read of the store's rows of the parents and UPSes that this poller's
        devices (and ``gained``, about to be) depend on and other pollers hold, for topology
        suppression: once a housekeeping tick, and when shards come."""
        engine, poller = self.engine, self.poller
        if engine is None or poller is None:
            return
        # the parents this poller does not know itself (a device just gained is known from
        # its first poll here on: until then, from the store)
        topology = engine.topology
        local = engine.states.keys()
        wanted: set[str] = set()
        keys: set[tuple[str, str, str]] = set()
        for name in chain(poller.devices, gained):
            wanted.update(d for d in topology.dependencies(name) if d not in local)
            keys.update(k for k in topology.dependency_keys(name) if k[0] not in local)
        now = self.clock.time()  # before the read: the view is at least this new
        if not wanted:
            engine.set_remote(RemoteStates(read_at=now))
            return
        try:
            rows, values = await asyncio.to_thread(
                self.mstore.dependency_rows, sorted(wanted), sorted(keys)
            )
        except GovnetError as exc:
            log.error("cannot read the states of other pollers' devices: %s", exc)
            engine.recheck_remote()  # waits run out and rows grow stale all the same
            return
        view = RemoteStates.from_rows(
            rows, values, now, self.selection, self.options.config, wanted
        )
        stale = view.stale(self.clock.time())
        if stale != self._stale_remote:
            if stale:
                log.warning(
                    "stale states from other pollers: alerts behind these devices are told",
                    extra={"devices": stale},
                )
            self._stale_remote = stale
        engine.set_remote(view)

    def _log_stats(self) -> None:
        """Once a minute: whether the poller keeps up (polls, lag quantiles of the polls since
        the last line, the store writer's queue and CPU)."""
        if self.poller is None:
            return
        stats = self.poller.stats
        lags, durations = stats.take_recent()
        log.info(
            "poller stats",
            extra={
                "devices": len(self.poller.devices),
                "polls": len(lags),
                "polls_total": stats.polls,
                "failures_total": stats.failures,
                "lag_p50_s": round(quantile(lags, 0.5), 4),
                "lag_p99_s": round(quantile(lags, 0.99), 4),
                "lag_max_s": round(lags[-1], 4) if lags else 0.0,
                "duration_p50_s": round(quantile(durations, 0.5), 4),
                "duration_p99_s": round(quantile(durations, 0.99), 4),
                "writer_queue": self.writer.depth(),
                "writer_cpu_s": round(self.writer.cpu, 3),
            },
        )

    def _maintain(self, now: float) -> None:
        r = self.options.config.retention
        counts = self.mstore.maintain(now, r.raw, r.rollup_5m, r.rollup_1h)
        for ext in self.extensions:
            ext.maintain(now)
        log.info("store maintenance", extra=counts)

    async def _watchdog(self) -> None:
        """WATCHDOG=1 at half systemd's WatchdogSec, from the event loop itself: a loop that
        hangs stops the pings and systemd restarts the daemon."""
        every = self.options.sd.watchdog_every
        assert every is not None
        while True:
            self.options.sd.watchdog()
            await asyncio.sleep(every)

    async def _reloader(self) -> None:
        assert self.reload_event is not None
        while True:
            await self.reload_event.wait()
            self.reload_event.clear()
            self.options.sd.reloading()
            try:
                inventory, devices = await asyncio.to_thread(self.load)
                rules = self._rules()
            except GovnetError as exc:
                log.error("reload failed, keeping the running inventory and rules: %s", exc)
                self.options.sd.ready("reload failed: kept the running inventory and rules")
                for diagnostic in exc.diagnostics if isinstance(exc, InputError) else []:
                    log.error("reload: %s", diagnostic)
                continue
            assert self.poller is not None and self.engine is not None
            before = set(self.selection) if self.sharded else set(self.poller.devices)
            by_name = {d.name: d for d in devices}
            self.selection = dict(by_name)
            self.poller.set_devices(self._mine(devices))
            self.engine.reload(rules, by_name, Topology.from_inventory(inventory))
            for ext in self.extensions:
                if not (self.sharded and ext.singleton and not self._singletons):
                    ext.reload(inventory)
            if self.notifier is not None:
                self.notifier.specs = list(rules.notifiers)
            if self.delivery is not None:
                self.delivery.configure(rules.notifiers)
            self.inventory = inventory
            removed = before - (set(self.selection) if self.sharded else set(self.poller.devices))
            self.writer.call(partial(self.mstore.forget_devices, removed))
            self.writer.forget(removed)
            log.info(
                "reloaded",
                extra={
                    "devices": len(self.poller.devices),
                    "rules": len(rules.rules),
                    "removed": sorted(removed),
                },
            )
            self.options.sd.ready(f"polling {len(self.poller.devices)} devices")
