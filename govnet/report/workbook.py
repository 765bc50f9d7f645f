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

from govnet.i18n import pick
from govnet.secrets import REDACTOR
from govnet.textsafe import csv_cell

SHEETS = {
    "summary": ("Summary", "概览"),
    "ranking": ("Units ranked", "单位排名"),
    "findings": ("Findings", "问题清单"),
    "unchecked": ("Could not check", "无法检查"),
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


def _sheet(wb: Any, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           formats: dict[int, str] | None = None, wrap: Sequence[int] = ()) -> Any:  # fmt: skip
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

    def t(en: str, zh: str) -> str:
        return pick(lang, en, zh)

    def name(key: str) -> str:
        en, zh = SHEETS[key]
        return pick(lang, en, zh)

    wb = Workbook()
    wb.remove(wb.active)
    summary_rows: list[list[Any]] = [
        [t("Title", "标题"), b["title"]],
        [t("Run", "检查批次"), b["run_id"]],
        [t("Started", "开始时间"), b["period"]["start_dt"]],
        [t("Finished", "结束时间"), b["period"]["end_dt"]],
        [t("Time zone", "时区"), b["generated"].split(" ", 2)[-1]],
        [t("Baselines", "检查依据"), ", ".join(b["playbooks"])],
        [t("Units", "单位数"), b["scope"]["units"]],
        [t("Devices", "设备数"), b["scope"]["devices"]],
        [t("Overall compliance", "总体合规率"), b["total"]["share"]],
        [t("Passed", "通过"), b["total"]["passed"]],
        [t("Failed", "不合规"), b["total"]["failed"]],
        [t("Could not check (not counted)", "无法检查（不计入不合规）"), b["total"]["unchecked"]],
    ]
    for z in b["zones"]:
        summary_rows.append([t("Compliance: ", "合规率：") + z["label"], z["share"]])
    summary_rows += [
        [t("Generated", "生成时间"), b["generated_dt"]],
        [t("govnet version", "govnet 版本"), b["version"]],
    ]
    ws = _sheet(wb, name("summary"), [t("Item", "项目"), t("Value", "数值")], summary_rows)
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, float):
                cell.number_format = PERCENT_FORMAT
    ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width, 22)

    _sheet(
        wb, name("ranking"),
        [t("Rank", "排名"), t("Unit", "单位"), t("Site", "所属"), t("Compliance", "合规率"),
         t("Passed", "通过"), t("Failed", "不合规"), t("Could not check", "无法检查"),
         t("Devices", "设备数"), t("Unit id", "单位标识")],
        [[i, u["label"], u["parent"], u["share"], u["passed"], u["failed"], u["unchecked"],
          u["devices"], u["key"]] for i, u in enumerate(b["units"], start=1)],
        formats={4: PERCENT_FORMAT},
    )  # fmt: skip

    finding_rows = []
    for sev in b["failures"]:
        for g in sev["groups"]:
            for f in g["items"]:
                evidence = "\n".join(
                    (f"{e['line']}: " if e["line"] is not None else "") + e["text"]
                    for e in f["evidence"]
                )
                finding_rows.append([
                    f["severity"], f["unit"], f["device"], f["zone"], f["control"], f["clause"],
                    f["title"], "\n".join(f["explanation"]), evidence, f["remediation"],
                    t("yes", "是") if f["new"] else "", b["period"]["start_dt"],
                ])  # fmt: skip
    _sheet(
        wb, name("findings"),
        [t("Severity", "级别"), t("Unit", "单位"), t("Device", "设备"), t("Zone", "网络"),
         t("Control", "控制项"), t("Clause", "测评项"), t("Requirement", "要求"),
         t("Finding", "问题说明"), t("Evidence", "证据"), t("Remediation", "整改建议"),
         t("New", "新增"), t("Checked at", "检查时间")],
        finding_rows, formats={12: DATE_FORMAT}, wrap=(7, 8, 9, 10),
    )  # fmt: skip

    _sheet(
        wb, name("unchecked"),
        [t("Device", "设备"), t("Unit", "单位"), t("Zone", "网络"), t("Checks", "检查项"),
         t("Why", "原因"), t("Checked at", "检查时间")],
        [[d["device"], d["unit"], d["zone"], d["rules"], "\n".join(d["reasons"]),
          b["period"]["start_dt"]] for d in b["unchecked"]],
        formats={6: DATE_FORMAT}, wrap=(5,),
    )  # fmt: skip

    wb.properties.creator = f"govnet {b['version']}"
    wb.properties.title = b["title"]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
