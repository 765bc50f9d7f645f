"""``govnet av`` results for people (rich tables, zh/en) and machines (JSON, CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from govnet.av.service import ImportResult, StatusReport
from govnet.i18n import pick, tr
from govnet.report.tabular import Column, rich_table, to_csv, to_json

STATE_LABEL = {
    "ok": ("ok", "正常", "green"),
    "exempt": ("exempt", "不适用", "dim"),
    "no-data": ("no data", "无数据", "yellow"),
    "unreadable": ("unreadable", "无法读取", "yellow"),
    "not-covered": ("NOT COVERED", "未安装", "bold red"),
    "unapproved": ("unapproved", "非准许产品", "red"),
    "not-running": ("not running", "未运行", "red"),
    "stale": ("STALE", "病毒库过期", "bold red"),
    "unknown-age": ("age unknown", "病毒库日期未知", "yellow"),
    "standalone": ("standalone", "单机版", "red"),
}

TERMINAL_COLUMNS = [
    Column("terminal", "Terminal", "终端"),
    Column("unit", "Unit", "单位"),
    Column("zone", "Zone", "网络"),
    Column("state", "State", "状态"),
    Column("product", "Product", "产品"),
    Column("edition", "Edition", "版本"),
    Column("sig_date", "Signatures", "病毒库日期"),
    Column("age_days", "Age (d)", "天数", "right"),
    Column("limit_days", "Limit", "时限", "right"),
    Column("realtime", "Real-time", "实时防护"),
    Column("last_seen", "Last seen", "最后在线"),
    Column("matched_by", "Joined by", "关联方式"),
    Column("source", "Source", "来源"),
    Column("message", "Finding", "说明"),
]
CSV_TERMINAL_COLUMNS = [
    *TERMINAL_COLUMNS[:4],
    Column("site", "Site", "地点"),
    Column("kind", "Kind", "类型"),
    Column("ip", "IP", "IP"),
    Column("mac", "MAC", "MAC"),
    Column("vendor", "Vendor", "厂商"),
    *TERMINAL_COLUMNS[4:6],
    Column("client_version", "Client", "客户端版本"),
    Column("sig_version", "Signature version", "病毒库版本"),
    *TERMINAL_COLUMNS[6:10],
    Column("running", "Running", "运行"),
    *TERMINAL_COLUMNS[10:12],
    Column("as_of", "As of", "数据日期"),
    Column("data_age_days", "Data age (d)", "数据天数"),
    *TERMINAL_COLUMNS[12:],
]
SUMMARY_COLUMNS = [
    Column("scope", "Scope", "范围"),
    Column("name", "Name", "名称"),
    Column("terminals", "Terminals", "终端数", "right"),
    Column("coverage", "Coverage", "覆盖率", "right"),
    Column("fresh_share", "Fresh", "病毒库及时率", "right"),
    Column("managed_share", "Managed", "网络版占比", "right"),
    Column("covered", "Covered", "已覆盖", "right"),
    Column("fresh", "Fresh n", "及时", "right"),
    Column("managed", "Managed n", "网络版", "right"),
    Column("exempt", "Exempt", "不适用", "right"),
]
UNKNOWN_COLUMNS = [
    Column("host", "Host", "主机名"),
    Column("ip", "IP", "IP"),
    Column("mac", "MAC", "MAC"),
    Column("zone", "Zone", "网络"),
    Column("unit", "Unit (console)", "单位（控制台）"),
    Column("product", "Product", "产品"),
    Column("last_seen", "Last seen", "最后在线"),
    Column("source", "Source", "来源"),
]
SNAPSHOT_COLUMNS = [
    Column("id", "#", "#", "right"),
    Column("console", "Console", "控制台"),
    Column("source", "Source", "来源格式"),
    Column("file", "File", "文件"),
    Column("taken", "Taken", "快照时间"),
    Column("age_days", "Age (d)", "天数", "right"),
    Column("records", "Records", "记录数", "right"),
    Column("stale_for", "Too old for", "已超时限的网络"),
]
SCOPE_ZH = {"unit": "单位", "site": "地点", "zone": "网络"}


def _state(state: str, lang: str) -> Text:
    en, zh, style = STATE_LABEL.get(state, (state, state, ""))
    return Text(pick(lang, en, zh), style=style)


def _pct(value: float) -> Text:
    style = "red" if value < 0.8 else ("yellow" if value < 1 else "green")
    return Text(f"{value:.0%}", style=style)


def terminals_table(rows: Sequence[dict[str, Any]], lang: str, title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for col in TERMINAL_COLUMNS:
        table.add_column(col.label(lang), justify=col.justify,  # type: ignore[arg-type]
                         overflow="fold" if col.key == "message" else "ellipsis")  # fmt: skip
    for row in rows:
        cells: list[RenderableType] = []
        for col in TERMINAL_COLUMNS:
            value = row.get(col.key)
            if col.key == "state":
                cells.append(_state(str(value), lang))
            elif col.key == "realtime":
                cells.append({True: tr(lang, "on"), False: tr(lang, "OFF"),
                              None: ""}[value])  # fmt: skip
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
                SCOPE_ZH[scope] if lang == "zh" else scope, s["name"], str(s["terminals"]),
                _pct(s["coverage"]), _pct(s["fresh_share"]), _pct(s["managed_share"]),
                str(s["covered"]), str(s["fresh"]), str(s["managed"]), str(s["exempt"]),
            )  # fmt: skip
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
        title = tr(lang, "Unknown endpoints (in an export, not in the inventory)")  # fmt: skip
        parts.append(rich_table(report.unknown, UNKNOWN_COLUMNS, lang, title))
    c = len(report.terminals)
    line = tr(lang, "{c} terminal(s), {problems} with problems, {n_unknown} unknown endpoint(s)", c=c, problems=report.problems, n_unknown=len(report.unknown))
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
    what = pick(lang, "imported" if result.new else "already imported",
                "已导入" if result.new else "此前已导入，未重复保存")  # fmt: skip
    return tr(lang, "{what}: snapshot #{id} {console} ({source}) {file} taken {taken:%Y-%m-%d %H:%M %z}: {n_records} record(s), {joined} joined to inventory terminals, {unknown} unknown endpoint(s)", what=what, id=s.id, console=s.console, source=s.source, file=s.file, taken=s.taken, n_records=len(s.records), joined=result.joined, unknown=result.unknown)
