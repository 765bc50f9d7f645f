"""``govnet worker``: a Celery worker that collects batches of devices into the store."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from celery import Celery

from govnet.collect.fetch import CollectOptions, fetch_one
from govnet.collect.fleet import DeviceResult, run_fleet
from govnet.distributed.app import TASK, make_app, queues_for
from govnet.distributed.codec import encode, ssh_from_dict
from govnet.durations import utcnow
from govnet.errors import GovnetError, StoreError
from govnet.i18n import _
from govnet.inventory.model import Device, Inventory
from govnet.secrets import check_all
from govnet.store import distributed as results
from govnet.transport.jump import check_keys
from govnet.transport.session import SessionFactory, ssh_session

if TYPE_CHECKING:
    from govnet.store.db import Store

log = logging.getLogger("govnet.worker")
STORE_RETRY = 5  # seconds before a batch that could not reach the store is tried again


@dataclass
class WorkerContext:
    """What a worker's tasks use: its own inventory (and secrets), the shared store."""

    inventory: Inventory
    store: Store
    name: str
    threads_per_batch: int = 8
    session: SessionFactory = field(default=ssh_session)  # how a device session is opened


def default_name() -> str:
    return f"govnet@{socket.gethostname()}:{os.getpid()}"


def run_batch(ctx: WorkerContext, message: dict[str, Any]) -> int:
    """Collect the batch's devices that the run has no result for yet; each result is written
    to the store as soon as its device is done. Returns how many results this call kept."""
    run_id = str(message["run_id"])
    queue = str(message.get("queue", ""))
    done = results.done_devices(ctx.store, run_id)
    names = [n for n in message["devices"] if n not in done]
    kept = 0

    def save(res: DeviceResult[Any]) -> None:
        nonlocal kept
        kept += results.save_result(ctx.store, run_id, res.device, ctx.name, utcnow(), encode(res))

    devices: list[Device] = []
    for name in names:
        device = ctx.inventory.devices.get(name)
        if device is None:
            err = GovnetError(
                _(
                    "{device}: not in the inventory of worker {worker}; give the workers the "
                    "submitter's inventory",
                    device=name,
                    worker=ctx.name,
                )
            )
            save(DeviceResult(name, None, err))
        else:
            devices.append(device)
    if not devices:
        return kept
    now = utcnow()
    for d in devices:
        results.record_attempt(ctx.store, run_id, d.name, ctx.name, queue, now)
    commands: dict[str, list[str]] = message.get("commands") or {}
    bad = [c for cmds in commands.values() for c in cmds if not _one_line(c)]
    with_config = bool(message.get("with_config", True))
    ssh = ssh_from_dict(message.get("ssh") or {})
    opts = CollectOptions(workers=ctx.threads_per_batch, ssh=ssh, session=ctx.session)

    def one(device: Device) -> Any:
        if bad:  # one command per line, as playbooks write them: never typed-ahead input
            raise GovnetError(
                _(
                    "{device}: refused a task with a multi-line command {command!r}",
                    device=device.name,
                    command=bad[0],
                )
            )
        check_all(device.ssh_secrets())  # a secret missing on this worker: this device's error
        check_keys([device])
        return fetch_one(device, commands.get(device.name, []), opts, with_config)

    try:
        run_fleet(devices, one, workers=ctx.threads_per_batch, on_done=save)
    except StoreError:
        raise  # the store is away: the task is retried later (worker_app), nothing is lost
    except Exception as exc:  # a bug: the devices left get an error, the run still finishes
        log.exception("batch of run %s failed", run_id)
        missing = set(d.name for d in devices) - results.done_devices(ctx.store, run_id)
        for name in sorted(missing):
            err = GovnetError(
                _(
                    "{device}: internal error on worker {worker}: {kind}: {exc}",
                    device=name,
                    worker=ctx.name,
                    kind=type(exc).__name__,
                    exc=exc,
                )
            )
            save(DeviceResult(name, None, err))
    return kept


def _one_line(command: object) -> bool:
    return isinstance(command, str) and command.isprintable() and bool(command.strip())


def worker_app(url: str, ctx_factory: Callable[[], WorkerContext]) -> Celery:
    """The app with the collect task bound to a lazily built :class:`WorkerContext`."""
    app = make_app(url)
    holder: list[WorkerContext] = []

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def collect_batch(task: Any, message: dict[str, Any]) -> int:
        if not holder:
            holder.append(ctx_factory())
        try:
            return run_batch(holder[0], message)
        except StoreError as exc:  # queued again (a new message; this one is acknowledged)
            log.warning(
                "store unavailable, batch of run %s retried in %ss: %s",
                message.get("run_id"),
                STORE_RETRY,
                exc,
            )
            raise task.retry(exc=exc, countdown=STORE_RETRY, max_retries=None) from exc

    return app


def start(url: str, ctx: WorkerContext, zones: list[str], concurrency: int, loglevel: str) -> None:
    """Run the worker in this process until SIGTERM/SIGINT (warm shutdown: running batches
    finish; a SIGKILL leaves them to be redelivered to another worker)."""
    every = (d.zone for d in ctx.inventory.devices.values())
    queues = queues_for(zones) if zones else queues_for(every)
    app = worker_app(url, lambda: ctx)
    argv = [
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--queues",
        ",".join(queues),
        "--hostname",
        ctx.name,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    app.worker_main(argv)
