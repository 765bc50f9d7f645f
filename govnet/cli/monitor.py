"""``govnet monitor run|status|show|history``: the SNMP monitoring daemon and what it has seen."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from govnet.cli.common import (
    DEFAULT_INVENTORY,
    App,
    exit_with,
    filter_options,
    filters_from,
    format_option,
    pass_app,
)
from govnet.cli.complete import complete_devices
from govnet.durations import format_duration, parse_duration
from govnet.errors import ExitCode, GovnetError, StaleError
from govnet.i18n import NP_, _, tr
from govnet.inventory import Filters, Inventory, load_inventory, select_devices
from govnet.inventory.model import Device
from govnet.monitor.config import MonitorConfig, Retention
from govnet.monitor.extension import DaemonExtension
from govnet.report.tabular import Column, emit_rows, to_csv, to_json
from govnet.secrets import check_all
from govnet.settings import RemoteWriteSpec, active

F = TypeVar("F", bound=Callable[..., Any])


def _duration(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value, option)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def run_options(func: F) -> F:
    """Options shared by ``govnet monitor run`` and ``govnetd``."""
    opts = [
        click.option(
            "--rules",
            type=click.Path(path_type=Path),
            default=None,
            help="Alert rules file [default alerts.yaml of the playbooks folder].",
        ),
        click.option(
            "--listen",
            default="127.0.0.1:9163",
            show_default=True,
            metavar="ADDR:PORT",
            help="Serve Prometheus /metrics here.",
        ),
        click.option("--no-metrics", is_flag=True, help="Do not serve /metrics."),
        click.option(
            "--backend",
            type=click.Choice(["auto", "gufo", "pysnmp"]),
            default="auto",
            show_default=True,
            help="SNMP client (auto: gufo-snmp when installed).",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 4096),
            default=64,
            show_default=True,
            help="Polls in flight at once.",
        ),
        click.option(
            "--poll-timeout",
            default="30s",
            show_default=True,
            help="Outer limit on one poll (capped at 90% of the device's interval).",
        ),
        click.option(
            "--down-after",
            default="45s",
            show_default=True,
            help="Unreachable for this long = down.",
        ),
        click.option(
            "--retention",
            default="raw=48h,5m=30d,1h=1y",
            show_default=True,
            help="How long raw samples and 5-minute/hourly rollups are kept.",
        ),
        click.option("--once", is_flag=True, help="Poll every device once, store, alert, exit."),
        click.option("--duration", default=None, help="Stop after this long (e.g. 20s)."),
        click.option(
            "--log-format",
            type=click.Choice(["json", "text"]),
            default=None,
            help="Log lines as JSON (default off a terminal) or text.",
        ),
        click.option(
            "--shards",
            type=ShardsParam(),
            default=None,
            metavar="N|auto",
            help="Sharded pollers on one PostgreSQL store: devices split into N "
            "shards (SHA-1 of the name mod N), leased by the running pollers; auto: the N "
            "of the pollers running on the store, else the N it last ran with, else 16.",
        ),
        click.option(
            "--remote-write",
            "remote_write",
            metavar="URL",
            default=None,
            help="Also send samples to this Prometheus remote-write URL (e.g. "
            "VictoriaMetrics' /api/v1/write) [config remote_write:].",
        ),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


class ShardsParam(click.ParamType):  # type: ignore[type-arg]
    """``--shards 16`` or ``--shards auto`` (:data:`~govnet.monitor.shards.AUTO_SHARDS`)."""

    name = "shards"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from govnet.monitor.shards import AUTO_SHARDS, MAX_SHARDS

        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return AUTO_SHARDS
        if not text.isdigit() or not 1 <= int(text) <= MAX_SHARDS:
            self.fail(
                _(
                    "{value!r}: expected a number of shards from 1 to {most}, or auto",
                    value=value,
                    most=MAX_SHARDS,
                ),
                param,
                ctx,
            )
        return int(text)


def run_daemon(app: App, filters: Filters, verbose: int, **opts: Any) -> int:
    """Parse the run options, start the daemon, return its exit code."""
    from govnet.availability.extension import ServiceChecks
    from govnet.monitor import logfmt
    from govnet.monitor.daemon import Daemon, DaemonOptions

    config = MonitorConfig(
        concurrency=opts["concurrency"],
        poll_timeout=_duration(opts["poll_timeout"], "--poll-timeout") or 30.0,
        down_after=_duration(opts["down_after"], "--down-after") or 0.0,
        retention=Retention.parse(opts["retention"]),
    )
    options = DaemonOptions(
        config=config,
        rules=opts["rules"],
        listen=None if opts["no_metrics"] or not opts["listen"] else opts["listen"],
        backend=opts["backend"],
        once=opts["once"],
        duration=_duration(opts["duration"], "--duration"),
        shards=opts["shards"] or 0,
    )
    if options.shards:  # before anything starts: SQLite cannot be shared by pollers
        from govnet.store.db import default_url

        url = app.db_url or default_url()
        if not url.startswith("postgresql"):
            raise GovnetError(
                tr(
                    app.lang,
                    "--shards: sharding needs a shared PostgreSQL store (--db "
                    "postgresql+psycopg://…); the store is SQLite",
                )
            )
    fmt = opts["log_format"] or ("text" if sys.stderr.isatty() else "json")
    logfmt.setup(fmt, verbose, quiet=app.quiet)
    app.freeze_inventory = False  # a daemon reloads it: the old one must stay collectable
    first = app.inventory()  # errors in the inventory stop us before any lock or socket
    path = app.inventory_path or DEFAULT_INVENTORY
    loads = iter([first])

    def load() -> tuple[Inventory, list[Device]]:
        """The inventory as it is now on disk (SIGHUP), the one just checked at first."""
        inventory = next(loads, None) or load_inventory(
            path, lazy_terminals=True, cache=app.inventory_cache
        )  # a SIGHUP reload: terminals unused here, cached when unchanged
        devices = select_devices(inventory, filters)
        check_all(r for d in devices for r in d.snmp_secrets())  # a reload keeps the old ones
        return inventory, devices

    # unknown names in filters and unset secrets are input errors, before any lock or socket
    check_all(r for d in select_devices(first, filters) for r in d.snmp_secrets())
    extensions: list[DaemonExtension] = [ServiceChecks()]
    spec = active().remote_write
    if opts["remote_write"]:
        try:
            spec = RemoteWriteSpec.model_validate(
                {
                    **(spec.model_dump(exclude_none=True) if spec else {}),
                    "url": opts["remote_write"],
                }
            )
        except ValidationError as exc:
            message = str(exc.errors()[0]["msg"])
            raise click.BadParameter(message, param_hint="--remote-write") from None
    if spec is not None and not options.once:  # --once: nothing would stay to send it
        from govnet.monitor.remote_write import extension

        extensions.append(extension(spec, app.db_url))
    daemon = Daemon(load, app.store(), options, extensions=extensions)
    summary = asyncio.run(daemon.run())
    if options.once:
        if not app.quiet:
            said = tr(
                app.lang,
                "polled {polls} devices: {failures} without an answer, "
                "{varbinds} varbinds; {firing} alert(s) firing",
                polls=summary.polls,
                failures=summary.failures,
                varbinds=summary.varbinds,
                firing=summary.firing,
            )
            app.err.print(said, markup=False, highlight=False)
        return int(ExitCode.UNREACHABLE) if summary.failures else 0
    return 0


@click.group()
def monitor() -> None:
    """SNMP monitoring: the polling daemon and the device states it records."""


@monitor.command("run")
@filter_options
@run_options
@click.pass_context
def run_cmd(ctx: click.Context, /, **kwargs: Any) -> None:
    """Poll the inventory's devices on schedule, store samples, raise alerts, serve /metrics.

    Runs until SIGTERM or Ctrl-C (SIGHUP reloads the inventory and rules). The same as
    ``govnetd``. Exit 0; with --once, 3 if some device did not answer.
    """
    app = ctx.find_object(App)
    assert app is not None
    filters = filters_from(kwargs)
    verbose = ctx.find_root().params.get("verbose", 0)
    exit_with(run_daemon(app, filters, int(verbose or 0), **kwargs))


STATUS_COLUMNS = [
    Column("device", "Device"),
    Column("zone", NP_("monitor", "Zone")),
    Column("role", "Role"),
    Column("state", "State"),
    Column("for", "For", "right"),
    Column("rtt_ms", "RTT ms", "right"),
    Column("uptime", "Uptime", "right"),
    Column("error", "Last error"),
    Column("seen", "Last poll", "right"),
]


@monitor.command("status")
@filter_options
@format_option("table", "json", "csv")
@pass_app
def status_cmd(app: App, /, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """Device states as the daemon last saw them (from the store), with how old each is.

    Exit 3 if any is down, or if the newest state is older than three poll intervals (the
    daemon is not running: the states are history, not the network as it is now)."""
    from govnet.monitor.query import STALE_AFTER, device_status, newest

    filters = filters_from(kwargs)
    wanted = None
    if not filters.is_empty():
        wanted = {d.name for d in select_devices(app.inventory(), filters)}
    now = time.time()
    states = device_status(app.store(create=False), wanted, now)
    if not states and fmt == "table":
        app.err.print(
            tr(app.lang, "no device states stored yet: run 'govnet monitor run'"), markup=False
        )
    text = emit_rows(
        app.console,
        [s.cells(app.lang, now) for s in states],
        STATUS_COLUMNS,
        fmt,
        app.lang,
        json_data=[s.to_json() for s in states],
    )
    if text is not None:
        app.write(text, output)
    last = newest(states)
    if last is not None and last.stale:
        age = format_duration(last.age_s) if last.age_s is not None else "?"
        every = format_duration(last.interval)
        raise StaleError(
            tr(
                app.lang,
                "device states are old: the newest poll was {age} ago "
                "({device}), more than {STALE_AFTER} poll intervals ({every}); "
                "is govnetd running? (systemctl status govnetd)",
                age=age,
                device=last.device,
                STALE_AFTER=STALE_AFTER,
                every=every,
            )
        )
    exit_with(int(ExitCode.UNREACHABLE) if any(s.bad for s in states) else 0)


SHOW_COLUMNS = [
    Column("metric", "Metric"),
    Column("instance", "Instance"),
    Column("value", NP_("monitor", "Value"), "right"),
    Column("unit", "Unit"),
    Column("label", "Meaning"),
    Column("age", "Age", "right"),
]


@monitor.command("show")
@click.argument("device", shell_complete=complete_devices)
@click.option("--metric", "-m", multiple=True, help="Only these metrics (repeatable).")
@format_option("table", "json", "csv")
@pass_app
def show_cmd(
    app: App, /, device: str, metric: tuple[str, ...], fmt: str, output: Path | None
) -> None:
    """The latest value of every metric of DEVICE (from the store)."""
    from govnet.monitor.query import by_metric, latest_values

    values = latest_values(app.store(create=False), device, metric)
    now = time.time()
    text = emit_rows(
        app.console,
        [v.cells(app.lang, now) for v in by_metric(values)],
        SHOW_COLUMNS,
        fmt,
        app.lang,
        json_data=[v.to_json() for v in values],
    )
    if text is not None:
        app.write(text, output)


HISTORY_COLUMNS = [
    Column("device", "Device"),
    Column("metric", "Metric"),
    Column("instance", "Instance"),
    Column("time", "Time"),
    Column("value", NP_("history", "Value"), "right"),
    Column("min", "Min", "right"),
    Column("max", "Max", "right"),
    Column("unit", "Unit"),
]


@monitor.command("history")
@click.argument("device", shell_complete=complete_devices)
@click.argument("metrics", nargs=-1)
@click.option(
    "--since",
    "-s",
    default="24h",
    show_default=True,
    help="How far back: 24h, 7d, 90m, or FROM..TO (2026-11-01..2026-11-30, ISO times).",
)
@click.option(
    "--height", type=click.IntRange(3, 60), default=8, show_default=True, help="Rows per chart."
)
@click.option(
    "--width",
    type=click.IntRange(40, 400),
    default=None,
    help="Chart width [default: the terminal's].",
)
@click.option("--tz", default=None, help="Time zone of FROM..TO and of the times shown.")
@format_option("chart", "json", "csv", default="chart")
@pass_app
def history_cmd(
    app: App,
    /,
    device: str,
    metrics: tuple[str, ...],
    since: str,
    height: int,
    width: int | None,
    tz: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """DEVICE's history: a chart per series, or its points as CSV/JSON.

    METRIC is a metric name (all its instances: if_in_bps) or METRIC:INSTANCE
    (if_in_bps:GigabitEthernet1/0/1); none: every metric of the device, interfaces only the
    two busiest. Up to two days come from the raw samples, up to two weeks from 5-minute
    rollups, longer periods from hourly ones (each point the average of its bucket, with its
    minimum and maximum)."""
    from datetime import datetime

    from govnet.availability.sla import local_zone
    from govnet.monitor.history import parse_since, read_history
    from govnet.store.monitor import MonitorStore

    zone = local_zone(tz)
    now = time.time()
    start, end = parse_since(since, now, zone)
    history = read_history(MonitorStore(app.store(create=False)), device, metrics, start, end, now)
    if fmt == "chart":
        from govnet.dashboard.chart import history_chart

        step = {
            0: tr(app.lang, "raw samples"),
            300: tr(app.lang, "5-minute averages"),
            3600: tr(app.lang, "hourly averages"),
        }[history.step]
        stamp = "%Y-%m-%d %H:%M"
        head = (
            f"{device}  {datetime.fromtimestamp(start, zone).strftime(stamp)} — "
            f"{datetime.fromtimestamp(end, zone).strftime(stamp)}  ({step})"
        )
        chart_w = width or app.console.width
        if output is not None:
            from rich.console import Console

            console = Console(width=chart_w, record=True, file=io.StringIO(), color_system=None)
            console.print(head, markup=False, highlight=False)
            console.print(history_chart(history, chart_w, height, app.lang))
            app.write(console.export_text(), output)
            return
        app.console.print(head, markup=False, highlight=False, style="bold")
        app.console.print(history_chart(history, chart_w, height, app.lang))
        return
    rows = [
        {
            "device": s.device,
            "metric": s.metric,
            "instance": s.instance,
            "time": datetime.fromtimestamp(p.ts, zone).isoformat(timespec="seconds"),
            "ts": p.ts,
            "value": p.value,
            "min": p.low,
            "max": p.high,
            "unit": s.unit,
        }
        for s in history.series
        for p in s.points
    ]
    if fmt == "json":
        data = {
            "device": device,
            "since": start,
            "until": end,
            "step": history.step,
            "series": [
                {
                    "metric": s.metric,
                    "instance": s.instance,
                    "unit": s.unit,
                    "points": [[p.ts, p.value, p.low, p.high] for p in s.points],
                }
                for s in history.series
            ],
        }
        app.write(to_json(data), output)
        return
    app.write(to_csv(rows, HISTORY_COLUMNS), output)


CLUSTER_COLUMNS = [
    Column("shard", NP_("cluster", "Shard"), "right"),
    Column("holder", NP_("cluster", "Holder")),
    Column("host", NP_("cluster", "Host")),
    Column("pid", NP_("cluster", "PID"), "right"),
    Column("lag", NP_("cluster", "Lag"), "right"),
    Column("heartbeat", NP_("cluster", "Heartbeat"), "right"),
]


@monitor.command("cluster")
@format_option("table", "json", "csv")
@pass_app
def cluster_cmd(app: App, /, fmt: str, output: Path | None) -> None:
    """Sharded pollers (govnetd --shards N): who holds which shard, each shard's poll lag and
    every poller's heartbeat. Exit 1 if a shard has no holder (its devices are not polled)."""
    from govnet.monitor.sharding import cluster_view
    from govnet.store.cluster import require_postgresql

    store = app.store(create=False)
    require_postgresql(store)
    view = cluster_view(store, time.time())
    none = tr(app.lang, "(none)")
    rows = [
        {
            "shard": r.shard,
            "holder": r.holder or none,
            "host": r.host,
            "pid": r.pid or "",
            "lag": "" if r.lag is None else f"{r.lag:.2f}s",
            "heartbeat": "" if r.heartbeat_age is None else f"{r.heartbeat_age:.0f}s ago",
        }
        for r in view.rows
    ]
    if not view.rows and fmt == "table":
        empty = tr(app.lang, "no sharded pollers on this store (govnetd --shards N)")
        app.err.print(empty, markup=False)
    text = emit_rows(app.console, rows, CLUSTER_COLUMNS, fmt, app.lang, json_data=view.to_json())
    if text is not None:
        app.write(text, output)
    exit_with(1 if view.unheld else 0)
