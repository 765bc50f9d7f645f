"""``govnet monitor run|status|show``: the SNMP monitoring daemon and what it has seen."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

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
from govnet.i18n import N_, NP_, tr
from govnet.inventory import Filters, Inventory, load_inventory, select_devices
from govnet.inventory.model import Device
from govnet.monitor.config import MonitorConfig, Retention
from govnet.monitor.metrics import METRICS
from govnet.report.tabular import Column, emit_rows
from govnet.secrets import check_all

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
        click.option("--rules", type=click.Path(path_type=Path), default=None,
                     help="Alert rules file [default alerts.yaml of the playbooks folder]."),
        click.option("--listen", default="127.0.0.1:9163", show_default=True, metavar="ADDR:PORT",
                     help="Serve Prometheus /metrics here."),
        click.option("--no-metrics", is_flag=True, help="Do not serve /metrics."),
        click.option("--backend", type=click.Choice(["auto", "gufo", "pysnmp"]), default="auto",
                     show_default=True, help="SNMP client (auto: gufo-snmp when installed)."),
        click.option("--concurrency", type=click.IntRange(1, 4096), default=64,
                     show_default=True, help="Polls in flight at once."),
        click.option("--poll-timeout", default="30s", show_default=True,
                     help="Outer limit on one poll (capped at 90% of the device's interval)."),
        click.option("--down-after", default="45s", show_default=True,
                     help="Unreachable for this long = down."),
        click.option("--retention", default="raw=48h,5m=30d,1h=1y", show_default=True,
                     help="How long raw samples and 5-minute/hourly rollups are kept."),
        click.option("--once", is_flag=True, help="Poll every device once, store, alert, exit."),
        click.option("--duration", default=None, help="Stop after this long (e.g. 20s)."),
        click.option("--log-format", type=click.Choice(["json", "text"]), default=None,
                     help="Log lines as JSON (default off a terminal) or text."),
    ]  # fmt: skip
    for opt in reversed(opts):
        func = opt(func)
    return func


def run_daemon(app: App, filters: Filters, verbose: int, **opts: Any) -> int:
    """Parse the run options, start the daemon, return its exit code."""
    from govnet.monitor import logfmt
    from govnet.monitor.service import Daemon, DaemonOptions
    from govnet.services.daemon import ServiceChecks

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
    daemon = Daemon(load, app.store(), options, extensions=[ServiceChecks()])
    summary = asyncio.run(daemon.run())
    if options.once:
        if not app.quiet:
            said = tr(app.lang, "polled {polls} devices: {failures} without an answer, "
                      "{varbinds} varbinds; {firing} alert(s) firing", polls=summary.polls,
                      failures=summary.failures, varbinds=summary.varbinds,
                      firing=summary.firing)  # fmt: skip
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
STALE_AFTER = 3  # poll intervals: older states are history, not the network as it is

_STATES = {"up": N_("up"), "unreachable": N_("unreachable"), "down": N_("down"),
           "unknown": N_("unknown")}  # fmt: skip


@monitor.command("status")
@filter_options
@format_option("table", "json", "csv")
@pass_app
def status_cmd(app: App, /, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """Device states as the daemon last saw them (from the store), with how old each is.

    Exit 3 if any is down, or if the newest state is older than three poll intervals (the
    daemon is not running: the states are history, not the network as it is now)."""
    from govnet.monitor.model import DeviceState
    from govnet.store.monitor import MonitorStore

    filters = filters_from(kwargs)
    rows = MonitorStore(app.store(create=False)).device_states()
    if not filters.is_empty():
        wanted = {d.name for d in select_devices(app.inventory(), filters)}
        rows = [r for r in rows if r["device"] in wanted]
    now = time.time()
    for r in rows:
        r["age_s"] = round(max(0.0, now - r["last_poll"]), 1) if r["last_poll"] else None
        r["stale"] = r["age_s"] is None or r["age_s"] > STALE_AFTER * poll_interval(r)
    rank = {s.value: s.rank for s in DeviceState}
    rows.sort(key=lambda r: (rank.get(r["state"], 9), r["device"]))
    ago = tr(app.lang, "{age} ago")
    table = [
        {
            **r,
            "state": tr(app.lang, _STATES.get(r["state"], r["state"])),
            "for": format_duration(max(0.0, now - r["since"])) if r["since"] else "",
            "rtt_ms": f"{r['rtt_ms']:.1f}" if r["rtt_ms"] is not None else "",
            "uptime": format_duration(r["uptime_s"]) if r["uptime_s"] is not None else "",
            "seen": "" if r["age_s"] is None else ago.format(age=format_duration(r["age_s"])),
        }
        for r in rows
    ]
    if not rows and fmt == "table":
        app.err.print(
            tr(app.lang, "no device states stored yet: run 'govnet monitor run'"), markup=False
        )
    text = emit_rows(app.console, table, STATUS_COLUMNS, fmt, app.lang, json_data=rows)
    if text is not None:
        app.write(text, output)
    newest = max(rows, key=lambda r: r["last_poll"], default=None)
    if newest is not None and newest["stale"]:
        age = format_duration(newest["age_s"]) if newest["age_s"] is not None else "?"
        every = format_duration(poll_interval(newest))
        raise StaleError(tr(app.lang, "device states are old: the newest poll was {age} ago "
                                      "({device}), more than {STALE_AFTER} poll intervals "
                                      "({every}); is govnetd running? (systemctl status govnetd)",
                            age=age, device=newest["device"], STALE_AFTER=STALE_AFTER,
                            every=every))  # fmt: skip
    bad = any(r["state"] in ("down", "unreachable") for r in rows)
    exit_with(int(ExitCode.UNREACHABLE) if bad else 0)


def poll_interval(row: dict[str, Any]) -> float:
    """The interval the daemon scheduled for a device: its next poll less its last one (a
    backed-off device's too), else the monitor's default."""
    from govnet.monitor.config import MonitorConfig

    scheduled = float(row.get("next_poll") or 0.0) - float(row.get("last_poll") or 0.0)
    return scheduled if scheduled > 0 else float(MonitorConfig().default_interval)


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
    from govnet.store.monitor import MonitorStore

    rows = MonitorStore(app.store(create=False)).latest_values(list(metric) or None, device)
    if not rows:
        raise GovnetError(f"{device}: no values stored (not monitored yet, or not a device name)")
    now = time.time()
    out = []
    for r in sorted(rows, key=lambda r: (r["metric"], r["instance"])):
        meta = METRICS.get(r["metric"])
        value = r["text"] if r["value"] is None else f"{r['value']:g}"
        out.append({
            "metric": r["metric"], "instance": r["instance"], "value": value,
            "unit": meta.unit if meta else "", "label": meta.label(app.lang) if meta else "",
            "age": format_duration(max(0.0, now - r["ts"])),
        })  # fmt: skip
    text = emit_rows(app.console, out, SHOW_COLUMNS, fmt, app.lang, json_data=rows)
    if text is not None:
        app.write(text, output)
