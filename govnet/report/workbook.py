"""The 通报 as an Excel workbook: one sheet per view, for people who sort and filter.

Sheets: 概览 (summary), 单位排名 (ranking), 问题清单 (findings), 无法检查 (could not check)
— English names with ``--lang en``. Every sheet has a bold, frozen header row, column widths
that fit the text (CJK counted double), filters on the header, and times as real Excel
dates. Cells that would read as formulas in Excel or WPS are kept as text
(:func:`govnet.textsafe.csv_cell`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from govnet.i18n import N_, NP_, tr
from govnet.secrets import REDACTOR
from govnet.textsafe import csv_cell

SHEETS = {
    "summary": N_("Summary"),
    "ranking": N_("Units ranked"),
    "findings": N_("Findings"),
    "unchecked": N_("Could not check"),
}
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
PERCENT_FORMAT = "0.0%"


def _width(value: Any) -> int:
    text = str(value) if value is not None else ""
    longest = max(
        (sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in text.split("\n")), default=0
    )
    return longest


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return csv_cell(REDACTOR(value))
    return value


def _sheet(
    wb: Any,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: dict[int, str] | None = None,
    wrap: Sequence[int] = (),
) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(list(headers))
    for row in rows:
        ws.append([_cell(v) for v in row])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF0F3")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    else:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}1"
    formats = formats or {}
    for idx, header in enumerate(headers, start=1):
        letter = get_column_letter(idx)
        values = [header] + [r[idx - 1] for r in rows]
        width = max(_width(v) for v in values) + 2
        ws.column_dimensions[letter].width = min(max(width, 6), 60)
        fmt = formats.get(idx)
        for r in range(2, len(rows) + 2):
            cell = ws.cell(row=r, column=idx)
            if fmt:
                cell.number_format = fmt
            if idx in wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif isinstance(cell.value, datetime):
                ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width, 20)
    return ws


def to_xlsx(b: dict[str, Any]) -> bytes:
    """The workbook of a :func:`govnet.report.bulletin.build` model."""
    from openpyxl import Workbook

    lang = b["lang"]

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    def name(key: str) -> str:
        return tr(lang, SHEETS[key])

    wb = Workbook()
    wb.remove(wb.active)
    summary_rows: list[list[Any]] = [
        [t("Title"), b["title"]],
        [t(NP_("workbook", "Run")), b["run_id"]],
        [t("Started"), b["period"]["start_dt"]],
        [t("Finished"), b["period"]["end_dt"]],
        [t("Time zone"), b["generated"].split(" ", 2)[-1]],
        [t("Baselines"), ", ".join(b["playbooks"])],
        [t("Units"), b["scope"]["units"]],
        [t("Devices"), b["scope"]["devices"]],
        [t("Overall compliance"), b["total"]["share"]],
        [t("Passed"), b["total"]["passed"]],
        [t("Failed"), b["total"]["failed"]],
        [t("Could not check (not counted)"), b["total"]["unchecked"]],
    ]
    for z in b["zones"]:
        summary_rows.append([t("Compliance: ") + z["label"], z["share"]])
    summary_rows += [
        [t("Generated"), b["generated_dt"]],
        [t("govnet version"), b["version"]],
    ]
    ws = _sheet(wb, name("summary"), [t("Item"), t("Value")], summary_rows)
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, float):
                cell.number_format = PERCENT_FORMAT
    ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width, 22)

    _sheet(
        wb,
        name("ranking"),
        [
            t("Rank"),
            t("Unit"),
            t("Site"),
            t("Compliance"),
            t("Passed"),
            t("Failed"),
            t("Could not check"),
            t("Devices"),
            t("Unit id"),
        ],
        [
            [
                i,
                u["label"],
                u["parent"],
                u["share"],
                u["passed"],
                u["failed"],
                u["unchecked"],
                u["devices"],
                u["key"],
            ]
            for i, u in enumerate(b["units"], start=1)
        ],
        formats={4: PERCENT_FORMAT},
    )

    finding_rows = []
    for sev in b["failures"]:
        for g in sev["groups"]:
            for f in g["items"]:
                evidence = "\n".join(
                    (f"{e['line']}: " if e["line"] is not None else "") + e["text"]
                    for e in f["evidence"]
                )
                finding_rows.append(
                    [
                        f["severity"],
                        f["unit"],
                        f["device"],
                        f["zone"],
                        f["control"],
                        f["clause"],
                        f["title"],
                        "\n".join(f["explanation"]),
                        evidence,
                        f["remediation"],
                        t("yes") if f["new"] else "",
                        b["period"]["start_dt"],
                    ]
                )
    _sheet(
        wb,
        name("findings"),
        [
            t("Severity"),
            t("Unit"),
            t("Device"),
            t("Zone"),
            t("Control"),
            t("Clause"),
            t("Requirement"),
            t(NP_("workbook", "Finding")),
            t("Evidence"),
            t("Remediation"),
            t("New"),
            t("Checked at"),
        ],
        finding_rows,
        formats={12: DATE_FORMAT},
        wrap=(7, 8, 9, 10),
    )

    _sheet(
        wb,
        name("unchecked"),
        [t("Device"), t("Unit"), t("Zone"), t("Checks"), t("Why"), t("Checked at")],
        [
            [
                d["device"],
                d["unit"],
                d["zone"],
                d["rules"],
                "\n".join(d["reasons"]),
                b["period"]["start_dt"],
            ]
            for d in b["unchecked"]
        ],
        formats={6: DATE_FORMAT},
        wrap=(5,),
    )

    wb.properties.creator = f"govnet {b['version']}"
    wb.properties.title = b["title"]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
