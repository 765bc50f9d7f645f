"""The availability / SLA report as a table (zh/en), JSON, CSV or HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from govnet.availability.sla import LEVELS, AvailabilityReport
from govnet.i18n import N_, NP_, tr
from govnet.report.tabular import Column, rich_table, to_csv, to_json
from govnet.textsafe import safe_text, visible

COLUMNS = [
    Column("rank", NP_("availability", "#"), "right"),
    Column("name", "Name"),
    Column("label", "Label"),
    Column("availability", NP_("availability", "Availability"), "right"),
    Column("outages", "Outages", "right"),
    Column("outage_time", "Outage time", "right"),
    Column("longest", "Longest", "right"),
    Column("unknown", NP_("availability", "Unknown"), "right"),
    Column("maintenance", "Maintenance", "right"),
]
CSV_COLUMNS = [
    Column(k, k)
    for k in (
        "level",
        "name",
        "label_en",
        "label_zh",
        "unit",
        "site",
        "zone",
        "members",
        "availability_pct",
        "up_s",
        "down_s",
        "unknown_s",
        "maintenance_s",
        "outages",
        "outage_s",
        "longest_outage_s",
        "times",
        "availability_of",
    )
]
GROUP_NOTE = N_(
    "Unit, site and zone rows: times are wall-clock (outage and unknown time = while any member "
    "was down or without data); availability is over device-time (members' up ÷ scheduled)."
)
LEVEL_TITLES = {
    "zone": N_("By zone"),
    "site": N_("By site"),
    "unit": N_("By unit"),
    "device": N_("By device"),
    "service": N_("By service"),
}


def duration(seconds: float) -> str:
    """3725 → ``1h02m05s``; 0 → ``0``."""
    s = round(seconds)
    if s <= 0:
        return "0"
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d:
        return f"{d}d{h:02d}h{m:02d}m"
    if h:
        return f"{h}h{m:02d}m{sec:02d}s"
    if m:
        return f"{m}m{sec:02d}s"
    return f"{sec}s"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}%"


def display_rows(report: AvailabilityReport, level: str, lang: str) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(report.by_level(level), start=1):
        t = row.times  # wall-clock, never longer than the period
        out.append(
            {
                "rank": i,
                "name": row.name,
                "label": (row.label_zh or row.label_en) if lang == "zh" else row.label_en,
                "availability": pct(row.tally.availability),
                "outages": len(t.outages),
                "outage_time": duration(sum(o.duration for o in t.outages)),
                "longest": duration(max((o.duration for o in t.outages), default=0.0)),
                "unknown": duration(t.unknown),
                "maintenance": duration(t.maintenance),
            }
        )
    return out


def render(
    report: AvailabilityReport,
    fmt: str,
    lang: str,
    console: Console,
    levels: Sequence[str] = LEVELS,
) -> str | None:
    """Print the table to ``console``, or return JSON/CSV/HTML text."""
    if fmt == "json":
        data = report.to_dict()
        data["rows"] = [r for r in data["rows"] if r["level"] in levels]
        return to_json(data)
    if fmt == "csv":
        return to_csv([r.to_dict() for r in report.rows if r.level in levels], CSV_COLUMNS)
    if fmt == "html":
        return to_html(report, lang, levels)
    head = tr(lang, "Availability")
    title = safe_text(f"{head} {report.period}", style="bold")
    title.append(visible(f" ({_span(report)}, {report.tz})"))
    console.print(title)
    for level in levels:
        rows = display_rows(report, level, lang)
        if rows:
            console.print(rich_table(rows, COLUMNS, lang, tr(lang, LEVEL_TITLES[level])))
    if any(level in ("unit", "site", "zone") for level in levels):
        console.print(tr(lang, GROUP_NOTE), markup=False, highlight=False)
    return None


def _span(report: AvailabilityReport) -> str:
    from datetime import datetime

    a = datetime.fromtimestamp(report.start).astimezone()
    b = datetime.fromtimestamp(report.end).astimezone()
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M}"


def to_html(report: AvailabilityReport, lang: str, levels: Sequence[str] = LEVELS) -> str:
    def esc(text: str) -> str:
        return html.escape(visible(text))

    title = f"{tr(lang, 'Availability')} {report.period}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(title)}</title>',
        "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #999;padding:2px 6px}td.n{text-align:right}"
        ".bad{background:#fdd}</style></head><body>",
        f"<h1>{esc(title)}</h1><p>{esc(_span(report))} ({esc(report.tz)})</p>",
        f"<p>{esc(tr(lang, GROUP_NOTE))}</p>",
    ]
    for level in levels:
        rows = display_rows(report, level, lang)
        if not rows:
            continue
        parts.append(f"<h2>{esc(tr(lang, LEVEL_TITLES[level]))}</h2><table><tr>")
        parts.extend(f"<th>{esc(c.label(lang))}</th>" for c in COLUMNS)
        parts.append("</tr>")
        for row in rows:
            bad = ' class="bad"' if row["outages"] else ""
            parts.append(f"<tr{bad}>")
            for c in COLUMNS:
                cls = ' class="n"' if c.justify == "right" else ""
                parts.append(f"<td{cls}>{esc(str(row[c.key]))}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
