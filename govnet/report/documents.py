"""Binary documents of an audit (XLSX, PDF) and the 通报 sent to a channel."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from govnet.checks.model import AuditReport
from govnet.report.audit import to_html
from govnet.report.bulletin import build, report_zone


def render_binary(report: AuditReport, fmt: str, lang: str, show_all: bool = False) -> bytes:
    """``xlsx`` (the workbook) or ``pdf`` (printed from the HTML)."""
    if fmt == "xlsx":
        from govnet.report.workbook import to_xlsx

        return to_xlsx(build(report, lang, report.labels, None, show_all))
    if fmt == "pdf":
        from govnet.report.pdf import html_to_pdf

        return html_to_pdf(to_html(report, lang, show_all))
    raise ValueError(fmt)


def send_report(report: AuditReport, spec: Any, sender: Any, show_all: bool = False) -> None:
    """Send the summary through ``sender`` (a channel of the alert rules, ``spec`` its
    :class:`~govnet.monitor.rules.NotifierSpec`): in the channel's language and time zone;
    an e-mail carries the HTML and XLSX reports. Raises ``DeliveryError``."""
    from govnet.report.mailing import ReportMessage
    from govnet.report.workbook import to_xlsx

    lang = spec.lang
    tz = report_zone(spec.timezone or None)
    bulletin = build(report, lang, report.labels, tz, show_all)
    with tempfile.TemporaryDirectory(prefix="govnet-bulletin-") as tmp:
        attachments: tuple[Path, ...] = ()
        if spec.kind == "email":
            html_path = Path(tmp) / f"govnet-{report.run.id}.html"
            xlsx_path = Path(tmp) / f"govnet-{report.run.id}.xlsx"
            html_path.write_text(to_html(report, lang, show_all, tz), encoding="utf-8")
            xlsx_path.write_bytes(to_xlsx(bulletin))
            attachments = (html_path, xlsx_path)
        message = ReportMessage(
            (), lang=lang, timezone=spec.timezone, attachments=attachments, bulletin=bulletin
        )
        sender.send(message)


def send_document(doc: Any, spec: Any, sender: Any) -> None:
    """Send a document's summary through ``sender`` (e-mail: HTML and XLSX attached).
    Raises ``DeliveryError``. The document keeps the language it was built in."""
    from govnet.report import document
    from govnet.report.mailing import DocumentMessage

    stem = "govnet-" + "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in doc.kind)
    with tempfile.TemporaryDirectory(prefix="govnet-bulletin-") as tmp:
        attachments: tuple[Path, ...] = ()
        if spec.kind == "email":
            html_path, xlsx_path = Path(tmp) / f"{stem}.html", Path(tmp) / f"{stem}.xlsx"
            html_path.write_text(document.to_html(doc), encoding="utf-8")
            xlsx_path.write_bytes(document.to_xlsx(doc))
            attachments = (html_path, xlsx_path)
        message = DocumentMessage(
            (), lang=doc.lang, timezone=spec.timezone, attachments=attachments, document=doc
        )
        sender.send(message)
