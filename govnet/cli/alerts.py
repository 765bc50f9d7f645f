"""``govnet alerts list|ack|show``: the monitor's alerts, from the store."""

from __future__ import annotations

import getpass
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from govnet.checks.model import Severity
from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.cli.complete import complete_devices
from govnet.durations import SinceParam
from govnet.errors import ExitCode, GovnetError
from govnet.i18n import NP_, tr
from govnet.monitor.channels import severity_word
from govnet.report.tabular import Column, emit_rows
from govnet.textsafe import safe_text, visible

TIME_FIELDS = ("opened", "updated", "resolved", "acked_at")

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
_STATES = {
    "firing": NP_("alert state", "firing"), "acked": NP_("alert state", "acked"),
    "suppressed": NP_("alert state", "suppressed"), "flapping": NP_("alert state", "flapping"),
    "resolved": NP_("alert state", "resolved"),
}  # fmt: skip


def local_time(ts: float | None) -> str:
    if not ts:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def alert_state(row: dict[str, Any]) -> str:
    if row["status"] != "firing":
        return "resolved"
    for flag, name in (("suppressed", "suppressed"), ("flapping", "flapping"), ("acked", "acked")):
        if row[flag]:
            return name
    return "firing"


def to_json_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: (iso(v) if k in TIME_FIELDS else v) for k, v in row.items()}
    out["state"] = alert_state(row)
    return out


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
@click.option("--device", default=None, help="Only this device's alerts.",
              shell_complete=complete_devices)  # fmt: skip
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
    app: App, /, show_all: bool, since: datetime | None, device: str | None, fail_on: str,
    fmt: str, output: Path | None,
) -> None:  # fmt: skip
    """Firing alerts, newest first (with --all, resolved ones too). Exit 1 if any firing,
    unsuppressed alert is at or above --fail-on."""
    from govnet.store.monitor import MonitorStore

    after = None
    if since is not None:
        after = since.timestamp()
    rows = MonitorStore(app.store(create=False)).list_alerts(
        status=None if show_all else "firing", since=after, device=device
    )
    table = []
    for r in rows:
        state = alert_state(r)
        table.append({
            **r,
            "severity": severity_word(app.lang, r["severity"]),
            "state": tr(app.lang, _STATES.get(state, state)),
            "opened_local": local_time(r["opened"]),
            "title": r["title_zh"] if app.lang == "zh" else r["title_en"],
        })  # fmt: skip
    if not rows and fmt == "table" and not app.quiet:
        app.err.print(tr(app.lang, "no alerts"), markup=False)
    else:
        text = emit_rows(
            app.console,
            table,
            LIST_COLUMNS,
            fmt,
            app.lang,
            json_data=[to_json_row(r) for r in rows],
        )
        if text is not None:
            app.write(text, output)
    threshold = Severity(fail_on)
    bad = any(
        r["status"] == "firing" and not r["suppressed"] and Severity(r["severity"]) >= threshold
        for r in rows
    )
    exit_with(int(ExitCode.FINDINGS) if bad else 0)


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
        app.err.print(tr(app.lang, "acknowledged alert {alert_id}", alert_id=alert_id),
                      markup=False, highlight=False)  # fmt: skip
    if missing:
        raise GovnetError(
            f"alert(s) {', '.join(map(str, missing))}: not firing, already acknowledged, or no "
            "such id (see 'govnet alerts list')"
        )


@alerts.command("show")
@click.argument("alert_id", type=int)
@format_option("table", "json")
@pass_app
def show_cmd(app: App, /, alert_id: int, fmt: str, output: Path | None) -> None:
    """One alert and its history (opened, notified, suppressed, acked, resolved, …)."""
    from govnet.store.monitor import MonitorStore

    ms = MonitorStore(app.store(create=False))
    row = ms.alert(alert_id)
    if row is None:
        raise GovnetError(f"alert {alert_id}: no such alert (see 'govnet alerts list --all')")
    events = ms.alert_events(alert_id)
    if fmt == "json":
        data = {**to_json_row(row),
                "events": [{**e, "ts": iso(e["ts"])} for e in events]}  # fmt: skip
        from govnet.report.tabular import to_json

        app.write(to_json(data), output)
        return
    title = row["title_zh"] if app.lang == "zh" else row["title_en"]
    where = f"{row['device']}:{row['instance']}" if row["instance"] else row["device"]
    head = safe_text(f"#{row['id']} {title}", style="bold")
    head.append(visible(f" {where} ({row['severity']}, {alert_state(row)})"))
    app.console.print(head)
    app.console.print(safe_text(row["message"]))
    table = [
        {"when": local_time(e["ts"]), "event": e["event"], "detail": e["detail"]} for e in events
    ]
    emit_rows(app.console, table, EVENT_COLUMNS, "table", app.lang)
