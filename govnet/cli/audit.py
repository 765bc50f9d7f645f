"""``govnet audit [-p PLAYBOOK]… [filters]``, ``audit history``, ``audit show RUN_ID``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from govnet.checks.audit import (
    AuditOptions,
    Source,
    audit_lock,
    history,
    load_report,
    run_audit,
)
from govnet.checks.model import AuditReport
from govnet.cli.common import App, exit_with, filter_options, filters_from, format_option, pass_app
from govnet.cli.complete import complete_playbooks
from govnet.cli.distribute import distributed_options, remote_for
from govnet.cli.documents import channel_sender, deliver, notify_options, write_binary
from govnet.collect.fetch import CollectOptions
from govnet.core.vocabulary import Severity
from govnet.errors import GovnetError
from govnet.i18n import NP_, _, tr
from govnet.inventory.labels import Labels
from govnet.inventory.select import select_targets
from govnet.report import audit as render
from govnet.report import documents
from govnet.report.tabular import Column, emit_rows, to_json
from govnet.settings import active
from govnet.transport.ssh import SshOptions

DEFAULT_PLAYBOOK = "mlps2-baseline.yaml"  # in the playbooks folder (govnet/settings.py)
FORMATS = ("table", "json", "junit", "csv", "html", "xlsx", "pdf")


def emit_report(
    app: App, report: AuditReport, fmt: str, output: Path | None, group: str, show_all: bool
) -> None:
    if fmt == "table":
        render.print_report(app.console, report, app.lang, group, show_all)
        return
    if fmt in ("xlsx", "pdf"):
        write_binary(app, documents.render_binary(report, fmt, app.lang, show_all), output)
    else:
        text = {
            "json": lambda: render.to_json(report),
            "junit": lambda: render.to_junit(report),
            "csv": lambda: render.to_csv(report),
            "html": lambda: render.to_html(report, app.lang, show_all),
        }[fmt]()
        app.write(text, output)
    if output is not None and not app.quiet:
        c, rid = report.run.counts(), report.run.id
        said = tr(
            app.lang,
            "audit {rid}: {fail} fail, {error} error → {output}",
            rid=rid,
            fail=c["fail"],
            error=c["error"],
            output=output,
        )
        app.err.print(said, markup=False, highlight=False)


# ------------------------------------------------------------------ binary output, --notify


def send_summary(
    app: App, report: AuditReport, channel: str, sender: Any, show_all: bool, code: int
) -> int:
    """Send the 通报 summary; the exit code after it (see the audit command's help)."""
    spec, send = sender
    return deliver(app, channel, lambda: documents.send_report(report, spec, send, show_all), code)


@click.group(invoke_without_command=True)
@click.option(
    "-p",
    "--playbook",
    "playbooks",
    multiple=True,
    type=click.Path(path_type=Path),
    shell_complete=complete_playbooks,
    help=f"Playbook file or directory (repeatable) [default {DEFAULT_PLAYBOOK} of the playbooks "
    "folder: env GOVNET_PLAYBOOKS, config 'playbooks', else the shipped ones].",
)
@filter_options
@click.option(
    "--from-dir",
    type=click.Path(path_type=Path),
    help="Audit saved configs (NAME.cfg|.conf|.txt) instead of the devices.",
)
@click.option("--from-backup", is_flag=True, help="Audit the newest stored backups.")
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="high",
    show_default=True,
    help="Exit 1 on a failure at or above this severity.",
)
@click.option(
    "--group-by", type=click.Choice(["device", "control"]), default="device", show_default=True
)
@click.option("--all", "show_all", is_flag=True, help="Table: show passes and skips too.")
@click.option("--workers", default=16, show_default=True, help="Devices collected at once.")
@click.option("--timeout", type=float, help="Connect timeout per device (s).")
@click.option(
    "--read-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Longest wait for a device's prompt after a command (s).",
)
@click.option("--no-store", is_flag=True, help="Do not record the run (or backups) in the store.")
@notify_options
@distributed_options
@format_option(*FORMATS)
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    playbooks: tuple[Path, ...],
    from_dir: Path | None,
    from_backup: bool,
    fail_on: str,
    group_by: str,
    show_all: bool,
    workers: int,
    timeout: float | None,
    read_timeout: float,
    no_store: bool,
    notify: str | None,
    notify_rules: Path | None,
    distributed: bool,
    broker: str | None,
    batch_size: int,
    worker_wait: float,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Audit devices against 等保 2.0 playbooks; findings pass/fail/error/skip with evidence.

    Exit 0 clean; 1 a failure at or above --fail-on; 2 usage, inventory or playbook error;
    3 some devices could not be read (and nothing worse). With --notify, a delivery that
    fails is one line on stderr and keeps the audit's code, or makes a clean run's 0 a 3.
    With --distributed the devices are collected by 'govnet worker' processes (queues per
    zone) into the store; the run and its report are the same as a local run's."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    sender = channel_sender(app, notify, notify_rules) if notify else None  # fail before auditing
    if from_dir and from_backup:
        raise click.UsageError(_("--from-dir and --from-backup exclude each other"))
    if distributed and (from_dir or from_backup or no_store):
        raise click.UsageError(
            _(
                "--distributed collects live devices into the store: not with --from-dir, "
                "--from-backup or --no-store"
            )
        )
    if not playbooks:
        default = active().playbook(DEFAULT_PLAYBOOK)
        if not default.exists():
            raise GovnetError(
                _("no playbook given and {default} is not there; pass -p FILE", default=default)
            )
        playbooks = (default,)
    inv = app.inventory()
    filters = filters_from(kwargs)
    devices, terminals = select_targets(inv, filters, lambda: _reach_terminals(playbooks))
    source: Source = "dir" if from_dir else ("backup" if from_backup else "live")
    remote = remote_for(app, distributed, broker, batch_size, worker_wait)
    ssh = SshOptions(timeout=timeout, read_timeout=read_timeout)
    options = AuditOptions(
        tuple(playbooks),
        source,
        from_dir,
        CollectOptions(workers, ssh, remote=remote),
        Severity(fail_on),
    )
    store = None if no_store and not from_backup else app.store()
    with audit_lock():
        label = tr(app.lang, "collecting")
        with app.progress(len(devices) if source == "live" else 0, label) as advance:
            report = run_audit(devices, options, store, advance, inv, terminals)
    report.labels = Labels.from_inventory(inv)
    emit_report(app, report, fmt, output, group_by, show_all)
    code = report.exit_code
    if sender is not None and notify is not None:
        code = send_summary(app, report, notify, sender, show_all, code)
    exit_with(code)


def _reach_terminals(playbooks: tuple[Path, ...]) -> bool:
    """Could any rule apply to a terminal (platform and role ``terminal``, no tags)?"""
    from govnet.checks.playbook import load_playbooks
    from govnet.inventory.terminals import TERMINAL

    return any(
        (not a.platform or TERMINAL in a.platform)
        and (not a.role or TERMINAL in a.role)
        and not a.tags
        for book in load_playbooks(list(playbooks))
        for a in (rule.applies_to for rule in book.rules)
    )


HISTORY_COLUMNS = [
    Column("id", NP_("audit", "Run")),
    Column("started", "Started"),
    Column("status", NP_("audit", "Status")),
    Column("devices", NP_("audit", "Devices"), "right"),
    Column("pass", "Pass", "right"),
    Column("fail", "Fail", "right"),
    Column("error", "Error", "right"),
    Column("zones", "Pass share per zone"),
]


@audit.command("history")
@click.option("--limit", default=20, show_default=True)
@format_option("table", "json", "csv")
@pass_app
def history_cmd(app: App, /, limit: int, fmt: str, output: Path | None) -> None:
    """Recent audit runs: counts and the pass share per zone and site (the trend)."""
    rows = history(app.store(create=False), limit)
    table_rows = [
        {
            **r,
            "started": f"{r['started']:%Y-%m-%d %H:%M}",
            "zones": " ".join(f"{z}={s:.0%}" for z, s in r["zones"].items()),
        }
        for r in rows
    ]
    text = emit_rows(
        app.console,
        table_rows,
        HISTORY_COLUMNS,
        fmt,
        app.lang,
        tr(app.lang, "audit history"),
        json_data=rows,
    )
    if text is not None:
        app.write(text if fmt != "json" else to_json(rows), output)


@audit.command("show")
@click.argument("run_id")
@click.option("--group-by", type=click.Choice(["device", "control"]), default="device")
@click.option("--all", "show_all", is_flag=True)
@format_option(*FORMATS)
@pass_app
def show_cmd(
    app: App, /, run_id: str, group_by: str, show_all: bool, fmt: str, output: Path | None
) -> None:
    """Re-render a stored run (any format); RUN_ID may be a unique prefix."""
    report = load_report(app.store(create=False), run_id)
    with contextlib.suppress(GovnetError):  # no inventory here: ids stand for names
        report.labels = Labels.from_inventory(app.inventory())
    emit_report(app, report, fmt, output, group_by, show_all)
