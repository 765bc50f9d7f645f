"""``govnet av import FILE --source NAME``, ``av status [filters]``, ``av snapshots``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from govnet.av.operations import import_file, status
from govnet.av.parse import CHINA, ValueProblem, parse_datetime
from govnet.checks.kinds.antivirus import load_policy
from govnet.cli.common import App, exit_with, filter_options, filters_from, format_option, pass_app
from govnet.cli.documents import channel_sender, notify_options, send_document
from govnet.errors import ExitCode, GovnetError
from govnet.i18n import _, tr
from govnet.inventory.select import DeviceOnlyFilter, select_only_terminals
from govnet.report import av as render
from govnet.report.tabular import emit_rows, to_json
from govnet.settings import active
from govnet.store.av import list_snapshots

POLICY_FILE = "antivirus.yaml"  # in the playbooks folder (govnet/settings.py)
VIEWS = ("all", "terminals", "summary", "unknown", "snapshots")


class DateTimeParam(click.ParamType):  # type: ignore[type-arg]  # generic only in click 8.3+
    """``2026-11-20``, ``2026-11-20 09:00`` or ISO 8601; local times are UTC+8."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            when = parse_datetime(value, CHINA)
        except ValueProblem as exc:
            self.fail(_("{exc} (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)", exc=exc), param, ctx)
        if when is None:
            self.fail(_("empty date"), param, ctx)
        return when


@click.group()
def av() -> None:
    """Antivirus coverage: console exports, SNMP and SSH sources, per-terminal status."""


@av.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--source",
    "-s",
    required=True,
    help="Export layout: a key of av-sources.yaml's sources (qianxin, huorong, rising, "
    "kingsoft, defender, generic).",
)
@click.option(
    "--date",
    "taken",
    type=DateTimeParam(),
    help="When the export was taken [default: its export time, else the newest "
    "last-seen time in it].",
)
@click.option(
    "--console",
    help="Which console it came from, when several consoles use the "
    "same layout [default: the source name].",
)
@click.option(
    "--sources",
    "sources_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Column mappings and product catalogue [default av-sources.yaml of the playbooks folder].",
)
@format_option("table", "json")
@pass_app
def import_cmd(
    app: App,
    /,
    file: Path,
    source: str,
    taken: datetime | None,
    console: str | None,
    sources_path: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Read a console export (CSV/XLSX/JSON, UTF-8 or GBK) and keep it as a snapshot.

    Exit 2 on a bad file (every problem named with file, line and column); nothing is stored
    then."""
    try:  # only to say how many records join terminals: a bad inventory must not block this
        inv = app.inventory()
        len(inv.terminals)  # terminals are read lazily: a bad terminals CSV shows here
    except GovnetError:
        inv = None
    result = import_file(app.store(), file, source, sources_path, taken, console, inv)
    for warning in result.snapshot.warnings:
        app.err.print(
            "govnet: " + _("warning: ") + warning, style="yellow", markup=False, highlight=False
        )
    if fmt == "json":
        app.write(to_json(result.to_dict()), output)
        return
    app.console.print(render.import_lines(result, app.lang), markup=False, highlight=False)


@av.command("status")
@filter_options
@click.option(
    "--policy",
    "-p",
    "policy_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Playbook whose antivirus rules hold the policy [default "
    f"{POLICY_FILE} of the playbooks folder].",
)
@click.option(
    "--view",
    type=click.Choice(VIEWS),
    default="all",
    show_default=True,
    help="Table: what to show; CSV: which table (all = terminals).",
)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(list(render.STATE_LABEL)),
    help="Only terminals in this state (repeatable).",
)
@format_option("table", "json", "csv", "html", "xlsx")
@notify_options
@pass_app
def status_cmd(
    app: App,
    /,
    policy_path: Path | None,
    view: str,
    states: tuple[str, ...],
    fmt: str,
    output: Path | None,
    notify: str | None,
    notify_rules: Path | None,
    **kwargs: Any,
) -> None:
    """Per-terminal antivirus state and coverage per unit, site and zone (worst first).

    Judged from the newest snapshot of each console, as of the snapshot's date. Exit 1 when a
    terminal is not covered, stale, not running, unapproved or standalone."""
    sender = channel_sender(app, notify, notify_rules) if notify else None  # before any work
    inv = app.inventory()
    filters = filters_from(kwargs)
    try:
        terminals = select_only_terminals(inv, filters)
    except DeviceOnlyFilter as exc:
        raise click.UsageError(str(exc)) from None
    policy = load_policy(policy_path or active().playbook(POLICY_FILE))
    report = status(inv, app.store(create=False), policy, terminals)
    if states:
        report.terminals = [x for x in report.terminals if x["state"] in states]
    for snap in report.snapshots:
        if snap["stale_for"]:
            app.err.print(
                tr(
                    app.lang,
                    "govnet: warning: snapshot #{id} {console} ({file}) is {age_days} days old, "
                    "older than the limit for {stale_for}: import a newer export",
                    id=snap["id"],
                    console=snap["console"],
                    file=snap["file"],
                    age_days=snap["age_days"],
                    stale_for=tr(app.lang, ", ").join(snap["stale_for"]),
                ),
                style="yellow",
                markup=False,
                highlight=False,
            )
    if fmt in ("html", "xlsx"):  # the 通报
        from govnet.cli.documents import emit_document
        from govnet.inventory.labels import Labels
        from govnet.report.bulletins import av_document

        doc = av_document(report, Labels.from_inventory(inv), app.lang)
        emit_document(app, doc, fmt, output)
    elif fmt == "table":
        render.print_status(app.console, report, app.lang, view)
    else:
        app.write(render.status_text(report, fmt, "terminals" if view == "all" else view), output)
    code = int(ExitCode.FINDINGS) if report.problems else 0
    if notify and sender is not None:
        from govnet.inventory.labels import Labels
        from govnet.report.bulletins import av_document

        doc = av_document(report, Labels.from_inventory(inv), sender[0].lang)
        code = send_document(app, doc, notify, sender, code)
    exit_with(code)


@av.command("snapshots")
@format_option("table", "json", "csv")
@pass_app
def snapshots_cmd(app: App, /, fmt: str, output: Path | None) -> None:
    """Every imported snapshot, newest first."""
    rows = [s.to_dict() for s in list_snapshots(app.store(create=False))]
    columns = [c for c in render.SNAPSHOT_COLUMNS if c.key not in ("age_days", "stale_for")]
    title = tr(app.lang, "antivirus snapshots")
    text = emit_rows(app.console, rows, columns, fmt, app.lang, title, json_data=rows)
    if text is not None:
        app.write(text, output)
