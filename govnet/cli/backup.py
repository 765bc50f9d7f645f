"""``govnet backup [filters]``, ``backup diff HOST``, ``backup stale``, ``backup show HOST``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App, exit_with, filter_options, filters_from, format_option, pass_app
from govnet.cli.complete import complete_devices
from govnet.cli.distribute import distributed_options, remote_for
from govnet.collect.backup import backup_diff, run_backup, stale_devices
from govnet.collect.fetch import CollectOptions
from govnet.collect.sanitize import mask_secrets
from govnet.durations import SinceParam
from govnet.errors import ExitCode, GovnetError
from govnet.i18n import _, tr
from govnet.inventory import select_devices
from govnet.report.tabular import Column, emit_rows
from govnet.transport.ssh import SshOptions

RESULT_COLUMNS = [
    Column("device", "Device"),
    Column("status", "Result"),
    Column("lines", "Lines", "right"),
    Column("elapsed", "Seconds", "right"),
    Column("message", "Message"),
]
STALE_COLUMNS = [
    Column("device", "Device"),
    Column("last_backup", "Last backup"),
    Column("age_days", "Age (days)", "right"),
    Column("last_attempt", "Last attempt"),
]


def ssh_devices(app: App, kwargs: dict[str, Any]) -> list[Any]:
    from govnet.platforms import platforms

    devices = select_devices(app.inventory(), filters_from(kwargs))
    return [d for d in devices if platforms()[d.platform].netmiko and d.credentials]


@click.group(invoke_without_command=True)
@filter_options
@click.option("--workers", default=16, show_default=True, help="Devices fetched at once.")
@click.option("--timeout", type=float, help="Connect timeout per device (s) [inventory value].")
@click.option("--retries", default=1, show_default=True, help="Extra attempts on timeout.")
@click.option(
    "--keep-secrets",
    is_flag=True,
    help="Store the device's own text (passwords, keys, communities); masked otherwise.",
)
@distributed_options
@format_option("table", "json", "csv")
@click.pass_context
def backup(
    ctx: click.Context,
    /,
    workers: int,
    timeout: float | None,
    retries: int,
    keep_secrets: bool,
    distributed: bool,
    broker: str | None,
    batch_size: int,
    worker_wait: float,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Back up running configs over SSH (unchanged configs are stored once).

    Secrets are masked in the store as on screen unless --keep-secrets.
    With --distributed the configs are fetched by 'govnet worker' processes (queues per zone).
    Exit 3 if some devices could not be read."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    devices = ssh_devices(app, kwargs)
    if not devices:
        raise GovnetError(_("no SSH device matches the filters"))
    remote = remote_for(app, distributed, broker, batch_size, worker_wait)
    options = CollectOptions(workers, SshOptions(timeout=timeout, retries=retries), remote=remote)
    with app.progress(len(devices), tr(app.lang, "backing up")) as advance:
        run_id, outcomes = run_backup(
            devices, app.store(), options, on_done=advance, keep_secrets=keep_secrets
        )
    rows = [o.to_dict() for o in outcomes]
    title = tr(app.lang, "backup {run_id}", run_id=run_id)
    text = emit_rows(
        app.console,
        rows,
        RESULT_COLUMNS,
        fmt,
        app.lang,
        title,
        json_data={"run": run_id, "results": rows},
    )
    if text is not None:
        app.write(text, output)
    if any(o.status == "failed" for o in outcomes):
        exit_with(ExitCode.UNREACHABLE)


@backup.command()
@click.argument("host", shell_complete=complete_devices)
@click.option(
    "--since",
    type=SinceParam(),
    help="Compare with the backup in effect then: 7d, 1.5h, 2026-11-01 or an ISO time.",
)
@pass_app
def diff(app: App, host: str, since: datetime | None) -> None:
    """Unified diff of HOST's newest backup (secrets masked, volatile lines dropped)."""
    if host not in app.inventory().devices:
        raise GovnetError(_("{host!r}: no such device in the inventory", host=host))
    text = backup_diff(app.store(create=False), host, since)
    if not text:
        app.err.print(tr(app.lang, "{host}: no change", host=host))
        return
    app.write(text, None)


@backup.command()
@click.argument("host", shell_complete=complete_devices)
@pass_app
def show(app: App, host: str) -> None:
    """Print HOST's newest backup (secrets masked)."""
    cfg = app.store(create=False).latest_config(host)
    if cfg is None:
        raise GovnetError(_("{host}: no backup in the store; run 'govnet backup' first", host=host))
    app.write(mask_secrets(cfg.text), None)


MAC_COLUMNS = [
    Column("device", "Device"),
    Column("status", "Result"),
    Column("sightings", "MACs on ports", "right"),
    Column("message", "Message"),
]


@backup.command()
@filter_options
@click.option(
    "--via",
    type=click.Choice(["ssh", "snmp"]),
    default="ssh",
    show_default=True,
    help="Read MAC tables over SSH (the platform's MAC table command) or SNMP (BRIDGE-MIB).",
)
@click.option("--workers", default=16, show_default=True, help="Devices read at once.")
@click.option("--timeout", type=float, help="Connect timeout per device (s) [inventory value].")
@click.option("--retries", default=1, show_default=True, help="Extra attempts on timeout.")
@click.option(
    "--retention",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    help="Days a sighting or a collection is kept.",
)
@format_option("table", "json", "csv")
@pass_app
def macs(
    app: App,
    /,
    via: str,
    workers: int,
    timeout: float | None,
    retries: int,
    retention: int,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Record the switches' MAC tables in the store (which MAC was on which port, first and
    last seen); run it daily from cron. 'provision apply shutdown-unused-ports' decides on
    these records. Exit 3 if some devices could not be read."""
    from govnet.collect.macs import collect_macs
    from govnet.durations import utcnow
    from govnet.platforms import platforms
    from govnet.store import macs as store_macs

    if via == "snmp":
        devices = [
            d
            for d in select_devices(app.inventory(), filters_from(kwargs))
            if d.snmp is not None and platforms()[d.platform].netmiko
        ]
    else:
        devices = [d for d in ssh_devices(app, kwargs) if platforms()[d.platform].command("mac")]
    if not devices:
        raise GovnetError(
            _(
                "no switch matches the filters with a MAC table over {protocol}",
                protocol=via.upper(),
            )
        )
    store = app.store()
    now = utcnow()
    ssh = SshOptions(timeout=timeout, retries=retries)
    with app.progress(len(devices), tr(app.lang, "reading MAC tables")) as advance:
        outcomes = collect_macs(devices, store, now, via, workers, ssh, on_done=advance)
    pruned = store_macs.prune(store, now - timedelta(days=retention))
    rows = [o.to_dict() for o in outcomes]
    title = tr(app.lang, "MAC tables recorded")
    text = emit_rows(
        app.console,
        rows,
        MAC_COLUMNS,
        fmt,
        app.lang,
        title,
        json_data={"results": rows, "pruned": {"sightings": pruned[0], "collections": pruned[1]}},
    )
    if text is not None:
        app.write(text, output)
    if any(o.status == "failed" for o in outcomes):
        exit_with(ExitCode.UNREACHABLE)


@backup.command()
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="Older than this is stale.",
)
@filter_options
@format_option("table", "json", "csv")
@pass_app
def stale(app: App, /, days: int, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """Devices whose newest backup is older than --days (exit 1 if any)."""
    rows = stale_devices(app.store(create=False), ssh_devices(app, kwargs), timedelta(days=days))
    text = emit_rows(
        app.console,
        rows,
        STALE_COLUMNS,
        fmt,
        app.lang,
        tr(app.lang, "stale backups (> {days} d)", days=days),
        json_data=rows,
    )
    if text is not None:
        app.write(text, output)
    if rows:
        exit_with(ExitCode.FINDINGS)
