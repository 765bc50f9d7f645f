"""The submitting side of ``--distributed``: batches of devices onto their zones' queues,
then the results as they arrive in the store (a :class:`~govnet.collect.fetch.Gatherer`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from celery import Celery
from kombu.entity import Exchange, Queue

from govnet.collect.fetch import Collected, CollectRequest
from govnet.collect.fleet import DeviceResult, FleetResult
from govnet.distributed.app import TASK, BrokerError, make_app, queue_for, safe_broker
from govnet.distributed.codec import decode, ssh_to_dict
from govnet.errors import TransportError
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.store import distributed as results

if TYPE_CHECKING:
    from govnet.store.db import Store

POLL = 0.2  # seconds between looks at the store


@dataclass
class Distributed:
    """Collect on ``govnet worker`` processes through the broker at ``url``.

    ``stall``: seconds without any device finishing after which the devices left are
    published again (a broker that lost its data); twice that and they are reported as not
    collected (no worker serves their zone?), so a run never waits forever. A broker outage
    while the batches are being published is waited out for ``stall`` seconds as well, then
    the run stops with a :class:`BrokerError` (exit 3) naming the broker."""

    url: str
    store: Store
    batch_size: int = 8
    stall: float = 600.0
    notice: Callable[[str], None] = lambda _text: None  # outages, republishing (translated)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __call__(
        self,
        devices: Sequence[Device],
        commands: Mapping[str, list[str]],
        request: CollectRequest,
        on_done: Callable[[DeviceResult[Collected]], None] | None,
    ) -> FleetResult[Collected]:
        started = self.clock()
        app = make_app(self.url)
        self._check_broker(app)
        by_name = {d.name: d for d in devices}
        self._publish(app, list(by_name), by_name, commands, request)
        got: dict[str, DeviceResult[Collected]] = {}
        last_progress, republished = self.clock(), False
        while len(got) < len(by_name):
            fresh = (results.done_devices(self.store, request.run_id) & by_name.keys()) - got.keys()
            if fresh:
                for row in results.results(self.store, request.run_id, fresh):
                    res = decode(row["device"], row["payload"])
                    got[res.device] = res
                    if on_done is not None:
                        on_done(res)
                last_progress = self.clock()
                continue
            idle = self.clock() - last_progress
            pending = [n for n in by_name if n not in got]
            if idle > self.stall and not republished:
                wait, left = f"{self.stall:.0f}", len(pending)
                self.notice(
                    _(
                        "no device finished for {wait}s: publishing the {left} left again",
                        wait=wait,
                        left=left,
                    )
                )
                self._publish(app, pending, by_name, commands, request)
                republished = True
            elif idle > 2 * self.stall:
                for name in pending:
                    zone = by_name[name].zone or "-"
                    err = TransportError(
                        name,
                        _(
                            "no worker collected it within {wait}s; is 'govnet worker' running "
                            "for zone {zone}?",
                            wait=f"{2 * self.stall:.0f}",
                            zone=zone,
                        ),
                    )
                    err.kind = "worker"
                    got[name] = DeviceResult(name, None, err)
                    if on_done is not None:
                        on_done(got[name])
                break
            self.sleep(POLL)
        results.consume(self.store, request.run_id)
        ordered = {d.name: got[d.name] for d in devices}
        return FleetResult(ordered, self.clock() - started)

    def _check_broker(self, app: Celery) -> None:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
        except Exception as exc:  # kombu/redis raise many kinds: all mean "not reachable"
            raise BrokerError(
                _(
                    "broker {url}: cannot connect ({kind}: {exc}); is redis-server running and "
                    "--broker / GOVNET_BROKER right?",
                    url=safe_broker(self.url),
                    kind=type(exc).__name__,
                    exc=exc,
                )
            ) from exc

    def _publish(
        self,
        app: Celery,
        names: list[str],
        by_name: Mapping[str, Device],
        commands: Mapping[str, list[str]],
        request: CollectRequest,
    ) -> None:
        """One task per batch of at most ``batch_size`` devices of one zone; a broker outage
        while publishing is waited out (the run resumes when the broker is back)."""
        by_queue: dict[str, list[str]] = {}
        for name in names:
            by_queue.setdefault(queue_for(by_name[name].zone), []).append(name)
        batches = [
            (queue, members[i : i + self.batch_size])
            for queue, members in sorted(by_queue.items())
            for i in range(0, len(members), self.batch_size)
        ]
        for done, (queue, batch) in enumerate(batches):
            message: dict[str, Any] = {
                "run_id": request.run_id,
                "devices": batch,
                "queue": queue,
                "commands": {n: list(commands.get(n, [])) for n in batch},
                "with_config": request.with_config,
                "ssh": ssh_to_dict(request.ssh),
            }
            self._send(app, message, queue, (done, len(batches)))

    def _send(
        self, app: Celery, message: dict[str, Any], queue: str, progress: tuple[int, int]
    ) -> None:
        """Publish one batch; on a broker error wait (backing off) until the broker is back,
        at most ``stall`` seconds. A publish whose reply was lost in the outage may have been
        queued all the same; publishing it again then queues the batch twice, which costs a
        second collection but never a second result: the first result of a device is kept
        (the store's results are keyed by run and device)."""
        delay, told, since = 0.5, False, 0.0
        while True:
            try:
                # declared with the message: a queue no worker has declared yet would drop it
                exchange = Exchange(queue, type="direct")  # type: ignore[no-untyped-call]
                declare = [Queue(queue, exchange, routing_key=queue)]  # type: ignore[no-untyped-call]
                app.send_task(TASK, args=[message], queue=queue, retry=False, declare=declare)
                if told:
                    where = safe_broker(self.url)
                    self.notice(_("broker {where} is back", where=where))
                return
            except Exception as exc:  # connection refused/reset: wait for the broker
                if told and self.clock() - since >= self.stall:
                    raise BrokerError(
                        _(
                            "broker {where} unreachable for {wait}s while queuing the run's "
                            "batches ({done} of {total} queued; {kind}: {exc}); start "
                            "redis-server and run again",
                            where=safe_broker(self.url),
                            wait=f"{self.clock() - since:.0f}",
                            done=progress[0],
                            total=progress[1],
                            kind=type(exc).__name__,
                            exc=exc,
                        )
                    ) from exc
                if not told:
                    since = self.clock()
                    where, kind = safe_broker(self.url), type(exc).__name__
                    self.notice(
                        _(
                            "broker {where} unreachable ({kind}); retrying until it is back",
                            where=where,
                            kind=kind,
                        )
                    )
                    told = True
                self.sleep(min(delay, max(0.05, self.stall - (self.clock() - since))))
                delay = min(delay * 2, 5.0)
