"""``--distributed`` for ``govnet audit`` and ``govnet backup``; ``govnet worker``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from govnet.cli.common import App, pass_app
from govnet.cli.complete import complete_zones
from govnet.i18n import _

F = TypeVar("F", bound=Callable[..., Any])

BROKER_HELP = "Celery broker URL redis://HOST:PORT/DB [env GOVNET_BROKER; config 'broker']."


def distributed_options(func: F) -> F:
    """``--distributed``, ``--broker URL``, ``--batch-size N``, ``--worker-wait SECONDS``."""

    @click.option(
        "--distributed",
        is_flag=True,
        help="Collect on 'govnet worker' processes (one Celery queue per zone) instead of here.",
    )
    @click.option("--broker", metavar="URL", help=BROKER_HELP)
    @click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=8,
        show_default=True,
        help="--distributed: devices per task.",
    )
    @click.option(
        "--worker-wait",
        type=click.FloatRange(min=0.1),
        default=600.0,
        show_default=True,
        metavar="SECONDS",
        help="--distributed: with no device finished for this long the devices left are "
        "queued again; after twice as long they are reported unread (no worker for their zone?). "
        "Also how long an unreachable broker is waited for while the batches are queued.",
    )
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def broker_url(broker: str | None) -> str:
    from govnet.distributed.app import broker_url as resolve
    from govnet.settings import active

    conf = active()
    return resolve(broker or conf.broker, conf.broker_password)


def remote_for(
    app: App, distributed: bool, broker: str | None, batch_size: int, worker_wait: float
) -> Any:
    """The gatherer for ``CollectOptions.remote`` (None without --distributed)."""
    if not distributed:
        if broker is not None:
            raise click.UsageError(_("--broker needs --distributed"))
        return None
    from govnet.distributed.submit import Distributed

    def notice(text: str) -> None:
        if not app.quiet:
            app.err.print(text, markup=False, highlight=False)

    return Distributed(broker_url(broker), app.store(), batch_size, worker_wait, notice)


@click.command()
@click.option(
    "--zone",
    "zones",
    multiple=True,
    metavar="ZONE",
    shell_complete=complete_zones,
    help="Take only this zone's devices (repeatable) [default: every zone of the inventory].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Batches collected at once (threads).",
)
@click.option(
    "--threads-per-batch",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Devices of one batch collected at once.",
)
@click.option("--broker", metavar="URL", help=BROKER_HELP)
@click.option("--name", help="This worker's name in the store [default govnet@HOST:PID].")
@pass_app
def worker(
    app: App,
    /,
    zones: tuple[str, ...],
    concurrency: int,
    threads_per_batch: int,
    broker: str | None,
    name: str | None,
) -> None:
    """Run a Celery worker for 'audit --distributed' and 'backup --distributed'.

    It consumes the queues govnet.zone.ZONE of the given zones, opens the SSH sessions with
    its own inventory and secrets, and writes each device's result into the store (--db:
    PostgreSQL when workers run on several machines). Stop it with SIGTERM (running batches
    finish); a killed worker's batches are redelivered to another worker."""
    from govnet.distributed.worker import WorkerContext, default_name, start

    url = broker_url(broker)
    inv = app.inventory()
    known = {d.zone for d in inv.devices.values() if d.zone} | set(inv.zones)
    for z in zones:
        if z not in known:
            choices = ", ".join(sorted(known))
            raise click.UsageError(
                _(
                    "--zone {zone}: no such zone in the inventory ({choices})",
                    zone=z,
                    choices=choices,
                )
            )
    ctx = WorkerContext(inv, app.store(), name or default_name(), threads_per_batch)
    level = "WARNING" if app.quiet or logging.getLogger().level > logging.INFO else "INFO"
    start(url, ctx, list(zones), concurrency, level)
