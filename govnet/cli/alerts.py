"""``govnet alerts list|ack|show``: the monitor's alerts, from the store."""

from __future__ import annotations

import getpass
import time
from datetime import datetime
from pathlib import Path

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.cli.complete import complete_devices
from govnet.core.vocabulary import Severity
from govnet.durations import SinceParam
from govnet.errors import ExitCode, GovnetError
from govnet.i18n import _, tr
from govnet.report.tabular import Column, emit_rows
from govnet.textsafe import safe_text, visible

LIST_COLUMNS = [
    Column("id", "ID", "right"),
    Column("severity", "Severity"),
    Column("state", "State"),
    Column("opened_local", "Opened"),
    Column("device", "Device"),
    Column("instance", "Object"),
    Column("title", "Alert"),
    Column("message", "Detail"),
]
EVENT_COLUMNS = [
    Column("when", "Time"),
    Column("event", "Event"),
    Column("detail", "Detail"),
]


@click.group()
def alerts() -> None:
    """Alerts raised by the monitor (govnetd): list, acknowledge, show history."""


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Resolved alerts too (history).")
@click.option(
    "--since",
    type=SinceParam(),
    default=None,
    help="Only alerts changed since then: 7d, 1.5h, 2026-11-01 or an ISO time.",
)
@click.option(
    "--device", default=None, help="Only this device's alerts.", shell_complete=complete_devices
)
@click.option(
    "--fail-on",
    type=click.Choice(["critical", "high", "medium", "low"]),
    default="low",
    show_default=True,
    help="Exit 1 if a firing, unsuppressed alert is at least this severe.",
)
@format_option("table", "json", "csv")
@pass_app
def list_cmd(
    app: App,
    /,
    show_all: bool,
    since: datetime | None,
    device: str | None,
    fail_on: str,
    fmt: str,
    output: Path | None,
) -> None:
    """Firing alerts, newest first (with --all, resolved ones too). Exit 1 if any firing,
    unsuppressed alert is at or above --fail-on."""
    from govnet.monitor.query import any_at_least, list_alerts

    found = list_alerts(app.store(create=False), show_all, since, device)
    if not found and fmt == "table" and not app.quiet:
        app.err.print(tr(app.lang, "no alerts"), markup=False)
    else:
        text = emit_rows(
            app.console,
            [a.cells(app.lang) for a in found],
            LIST_COLUMNS,
            fmt,
            app.lang,
            json_data=[a.to_json() for a in found],
        )
        if text is not None:
            app.write(text, output)
    exit_with(int(ExitCode.FINDINGS) if any_at_least(found, Severity(fail_on)) else 0)


@alerts.command("ack")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--by", default=None, help="Who acknowledges [default: your login name].")
@click.option("--comment", "-m", default="", help="Why, or what is being done.")
@pass_app
def ack_cmd(app: App, /, ids: tuple[int, ...], by: str | None, comment: str) -> None:
    """Acknowledge firing alerts by ID: they stay listed (as acked) until they resolve; a
    latched alert (water leak) resolves once acknowledged and clear."""
    from govnet.store.monitor import MonitorStore

    who = by or getpass.getuser()
    ms = MonitorStore(app.store(create=False))
    done = ms.ack(list(ids), who, comment, time.time())
    missing = [i for i in ids if i not in done]
    for alert_id in done:
        app.err.print(
            tr(app.lang, "acknowledged alert {alert_id}", alert_id=alert_id),
            markup=False,
            highlight=False,
        )
    if missing:
        raise GovnetError(
            _(
                "alert(s) {str}: not firing, already acknowledged, or no such id (see 'govnet "
                "alerts list')",
                str=", ".join(map(str, missing)),
            )
        )


@alerts.command("show")
@click.argument("alert_id", type=int)
@format_option("table", "json")
@pass_app
def show_cmd(app: App, /, alert_id: int, fmt: str, output: Path | None) -> None:
    """One alert and its history (opened, notified, suppressed, acked, resolved, …)."""
    from govnet.monitor.query import alert_history

    alert, events = alert_history(app.store(create=False), alert_id)
    if fmt == "json":
        from govnet.report.tabular import to_json

        data = {**alert.to_json(), "events": [e.to_json() for e in events]}
        app.write(to_json(data), output)
        return
    head = safe_text(f"#{alert.id} {alert.title(app.lang)}", style="bold")
    head.append(visible(f" {alert.where} ({alert.severity}, {alert.state})"))
    app.console.print(head)
    app.console.print(safe_text(alert.message))
    emit_rows(app.console, [e.cells() for e in events], EVENT_COLUMNS, "table", app.lang)
