"""The 通报 shape for any report made of ranked tables (isolation, antivirus, availability).

A :class:`Document` is a title, a few lines saying what and when (period, scope), headline
figures, and sections of rows (each a table in HTML, a sheet in XLSX), with the same footer
(generated-at in local time with its zone, govnet's version), A4 print CSS and CJK fonts as
the audit 通报. Untrusted text is escaped (HTML) or kept from reading as a formula (XLSX).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from govnet import __version__
from govnet.i18n import tr
from govnet.report.bulletin import local_time, report_css, report_zone
from govnet.report.tabular import Column
from govnet.textsafe import visible


@dataclass
class Section:
    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    sheet: str = ""  # the XLSX sheet's name (≤ 31 characters); default the title
    note: str = ""
    empty: str = ""  # said instead of an empty table
    percent: frozenset[str] = frozenset()  # keys holding shares 0..1
    bad: str = ""  # a key: rows where it is truthy are marked


@dataclass
class Document:
    title: str
    lang: str
    kind: str = "report"  # ASCII: names attached files (isolation, av, availability)
    subtitle: str = ""
    meta: list[tuple[str, str]] = field(default_factory=list)
    figures: list[tuple[str, str, str]] = field(default_factory=list)  # label, value, good|bad|warn
    sections: list[Section] = field(default_factory=list)
    run_id: str = ""
    tz: tzinfo | None = None
    now: datetime | None = None

    def zone(self) -> tzinfo:
        return self.tz or report_zone()

    def generated(self) -> datetime:
        return self.now or datetime.now(self.zone())


def share_class(value: float | None) -> str:
    if value is None:
        return "muted"
    return "good" if value >= 1 else ("bad" if value < 0.8 else "warn")


def _text(value: Any, percent: bool, tz: tzinfo) -> str:
    if value is None:
        return "—" if percent else ""
    if percent and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, datetime):
        return local_time(value, tz)
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    return visible(str(value))


def to_html(doc: Document) -> str:
    import jinja2

    tz = doc.zone()
    sections = []
    for s in doc.sections:
        rows = []
        for r in s.rows:
            cells = []
            for c in s.columns:
                pct = c.key in s.percent
                value = r.get(c.key)
                cls = "num" if c.justify == "right" else ""
                if pct and isinstance(value, int | float):
                    cls += " " + share_class(float(value))
                cells.append({"text": _text(value, pct, tz), "cls": cls.strip()})
            rows.append({"cells": cells, "cls": "bad" if s.bad and r.get(s.bad) else ""})
        sections.append(
            {
                "title": s.title,
                "note": s.note,
                "rows": rows,
                "empty": s.empty or tr(doc.lang, "Nothing to report."),
                "columns": [{"label": c.label(doc.lang), "justify": c.justify} for c in s.columns],
            }
        )
    from importlib import resources

    template = resources.files("govnet").joinpath("data/document.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        d=doc, css=report_css(), sections=sections, version=__version__, footer=footer(doc)
    )


def footer(doc: Document) -> str:
    t = doc.lang
    parts = [f"{tr(t, 'Run')} {doc.run_id}"] if doc.run_id else []
    parts.append(f"{tr(t, 'generated')} {local_time(doc.generated(), doc.zone())}")
    parts.append(f"govnet {__version__}")
    return " · ".join(parts)


def _excel(value: Any, tz: tzinfo) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        return value.astimezone(tz).replace(tzinfo=None, microsecond=0)
    if isinstance(value, list | tuple | dict):
        return visible(", ".join(map(str, value)) if not isinstance(value, dict) else str(value))
    return value


def to_xlsx(doc: Document) -> bytes:
    """One summary sheet (meta and figures), then one sheet per section."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from govnet.report.workbook import DATE_FORMAT, PERCENT_FORMAT, _sheet

    tz = doc.zone()
    lang = doc.lang
    wb = Workbook()
    wb.remove(wb.active)
    summary = [[tr(lang, "Title"), doc.title]]
    summary += [[k, v] for k, v in doc.meta]
    summary += [[k, v] for k, v, _cls in doc.figures]
    said = local_time(doc.generated(), tz)
    summary += [
        [tr(lang, "Generated"), _excel(doc.generated(), tz)],
        [tr(lang, "Time zone"), said.split(" ", 2)[-1]],
        [tr(lang, "govnet version"), __version__],
    ]
    ws = _sheet(wb, tr(lang, "Summary"), [tr(lang, "Item"), tr(lang, "Value")], summary)
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = DATE_FORMAT
    used = {ws.title}
    for s in doc.sections:
        name = (s.sheet or s.title)[:31]
        for ch in "[]:*?/\\":
            name = name.replace(ch, " ")
        base, n = name, 2
        while name in used:
            name = f"{base[:28]} {n}"
            n += 1
        used.add(name)
        rows = [[_excel(r.get(c.key), tz) for c in s.columns] for r in s.rows]
        formats = {}
        for i, c in enumerate(s.columns, start=1):
            if c.key in s.percent:
                formats[i] = PERCENT_FORMAT
            elif any(isinstance(r[i - 1], datetime) for r in rows):
                formats[i] = DATE_FORMAT
        sheet = _sheet(wb, name, [c.label(lang) for c in s.columns], rows, formats)
        for i, _c in enumerate(s.columns, start=1):
            if i in formats and formats[i] == DATE_FORMAT:
                letter = get_column_letter(i)
                sheet.column_dimensions[letter].width = max(
                    sheet.column_dimensions[letter].width, 20
                )
    wb.properties.creator = f"govnet {__version__}"
    wb.properties.title = doc.title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
