"""``govnet av`` results for people (rich tables, zh/en) and machines (JSON, CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from govnet.av.operations import ImportResult, StatusReport
from govnet.i18n import N_, NP_, tr
from govnet.report.tabular import Column, rich_table, to_csv, to_json

STATE_LABEL = {
    "ok": (N_("ok"), "green"),
    "exempt": (N_("exempt"), "dim"),
    "no-data": (N_("no data"), "yellow"),
    "unreadable": (N_("unreadable"), "yellow"),
    "not-covered": (N_("NOT COVERED"), "bold red"),
    "unapproved": (N_("unapproved"), "red"),
    "not-running": (N_("not running"), "red"),
    "stale": (N_("STALE"), "bold red"),
    "unknown-age": (N_("age unknown"), "yellow"),
    "standalone": (N_("standalone"), "red"),
}

TERMINAL_COLUMNS = [
    Column("terminal", "Terminal"),
    Column("unit", "Unit"),
    Column("zone", "Zone"),
    Column("state", "State"),
    Column("product", "Product"),
    Column("edition", "Edition"),
    Column("sig_date", "Signatures"),
    Column("age_days", "Age (d)", "right"),
    Column("limit_days", "Limit", "right"),
    Column("realtime", "Real-time"),
    Column("last_seen", "Last seen"),
    Column("matched_by", "Joined by"),
    Column("source", "Source"),
    Column("message", "Finding"),
]
CSV_TERMINAL_COLUMNS = [
    *TERMINAL_COLUMNS[:4],
    Column("site", NP_("av", "Site")),
    Column("kind", "Kind"),
    Column("ip", "IP"),
    Column("mac", "MAC"),
    Column("vendor", "Vendor"),
    *TERMINAL_COLUMNS[4:6],
    Column("client_version", "Client"),
    Column("sig_version", "Signature version"),
    *TERMINAL_COLUMNS[6:10],
    Column("running", "Running"),
    *TERMINAL_COLUMNS[10:12],
    Column("as_of", "As of"),
    Column("data_age_days", "Data age (d)"),
    *TERMINAL_COLUMNS[12:],
]
SUMMARY_COLUMNS = [
    Column("scope", NP_("av", "Scope")),
    Column("name", "Name"),
    Column("terminals", NP_("av", "Terminals"), "right"),
    Column("coverage", "Coverage", "right"),
    Column("fresh_share", "Fresh", "right"),
    Column("managed_share", "Managed", "right"),
    Column("covered", "Covered", "right"),
    Column("fresh", "Fresh n", "right"),
    Column("managed", "Managed n", "right"),
    Column("exempt", "Exempt", "right"),
]
UNKNOWN_COLUMNS = [
    Column("host", "Host"),
    Column("ip", "IP"),
    Column("mac", "MAC"),
    Column("zone", "Zone"),
    Column("unit", "Unit (console)"),
    Column("product", "Product"),
    Column("last_seen", "Last seen"),
    Column("source", "Source"),
]
SNAPSHOT_COLUMNS = [
    Column("id", "#", "right"),
    Column("console", "Console"),
    Column("source", NP_("av", "Source")),
    Column("file", "File"),
    Column("taken", "Taken"),
    Column("age_days", "Age (d)", "right"),
    Column("records", "Records", "right"),
    Column("stale_for", NP_("av", "Too old for")),
]
SCOPES = {"unit": NP_("av", "unit"), "site": NP_("av", "site"), "zone": NP_("av", "zone")}


def _state(state: str, lang: str) -> Text:
    en, style = STATE_LABEL.get(state, (state, ""))
    return Text(tr(lang, en), style=style)


def _pct(value: float) -> Text:
    style = "red" if value < 0.8 else ("yellow" if value < 1 else "green")
    return Text(f"{value:.0%}", style=style)


def terminals_table(rows: Sequence[dict[str, Any]], lang: str, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for col in TERMINAL_COLUMNS:
        table.add_column(
            col.label(lang),
            justify=col.justify,  # type: ignore[arg-type]
            overflow="fold" if col.key == "message" else "ellipsis",
        )
    for row in rows:
        cells: list[RenderableType] = []
        for col in TERMINAL_COLUMNS:
            value = row.get(col.key)
            if col.key == "state":
                cells.append(_state(str(value), lang))
            elif col.key == "realtime":
                cells.append({True: tr(lang, "on"), False: tr(lang, "OFF"), None: ""}[value])
            else:
                cells.append("" if value is None else str(value))
        table.add_row(*cells)
    return table


def summary_table(summary: dict[str, list[dict[str, Any]]], lang: str) -> Table:
    title = tr(lang, "Antivirus coverage (worst first)")
    table = Table(title=title, header_style="bold")
    for col in SUMMARY_COLUMNS:
        table.add_column(col.label(lang), justify=col.justify)  # type: ignore[arg-type]
    for scope, items in summary.items():
        for s in items:
            table.add_row(
                tr(lang, SCOPES.get(scope, scope)),
                s["name"],
                str(s["terminals"]),
                _pct(s["coverage"]),
                _pct(s["fresh_share"]),
                _pct(s["managed_share"]),
                str(s["covered"]),
                str(s["fresh"]),
                str(s["managed"]),
                str(s["exempt"]),
            )
    return table


def render_status(report: StatusReport, lang: str, view: str = "all") -> RenderableType:
    parts: list[RenderableType] = []
    if view in ("all", "snapshots"):
        snaps = [{**s, "stale_for": ",".join(s["stale_for"])} for s in report.snapshots]
        title = tr(lang, "Snapshots used (newest per console)")
        parts.append(rich_table(snaps, SNAPSHOT_COLUMNS, lang, title))
    if view in ("all", "terminals"):
        parts.append(terminals_table(report.terminals, lang, tr(lang, "Terminals")))
    if view in ("all", "summary"):
        parts.append(summary_table(report.summary, lang))
    if view in ("all", "unknown") and report.unknown:
        title = tr(lang, "Unknown endpoints (in an export, not in the inventory)")
        parts.append(rich_table(report.unknown, UNKNOWN_COLUMNS, lang, title))
    c = len(report.terminals)
    line = tr(
        lang,
        "{c} terminal(s), {problems} with problems, {n_unknown} unknown endpoint(s)",
        c=c,
        problems=report.problems,
        n_unknown=len(report.unknown),
    )
    parts.append(Text(line, style="bold"))
    return Group(*parts)


def status_text(report: StatusReport, fmt: str, view: str) -> str:
    """JSON (everything) or CSV (one view: terminals by default)."""
    if fmt == "json":
        return to_json(report.to_dict())
    if view == "summary":
        rows = [s for items in report.summary.values() for s in items]
        return to_csv(rows, SUMMARY_COLUMNS)
    if view == "unknown":
        return to_csv(report.unknown, UNKNOWN_COLUMNS)
    if view == "snapshots":
        return to_csv(report.snapshots, SNAPSHOT_COLUMNS)
    return to_csv(report.terminals, CSV_TERMINAL_COLUMNS)


def print_status(console: Console, report: StatusReport, lang: str, view: str) -> None:
    console.print(render_status(report, lang, view))


def import_lines(result: ImportResult, lang: str) -> str:
    s = result.snapshot
    what = tr(lang, "imported") if result.new else tr(lang, "already imported")
    return tr(
        lang,
        "{what}: snapshot #{id} {console} ({source}) {file} taken {taken:%Y-%m-%d %H:%M %z}: "
        "{n_records} record(s), {joined} joined to inventory terminals, {unknown} unknown "
        "endpoint(s)",
        what=what,
        id=s.id,
        console=s.console,
        source=s.source,
        file=s.file,
        taken=s.taken,
        n_records=len(s.records),
        joined=result.joined,
        unknown=result.unknown,
    )
