"""An audit run rendered for people (rich table, HTML) and machines (JSON, JUnit XML, CSV).

All formats come from one :class:`AuditReport`; evidence was masked when the findings were
made, so no format can leak a secret.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import tzinfo
from importlib import resources

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from govnet.checks.model import AuditReport, Finding
from govnet.core.vocabulary import Status
from govnet.i18n import N_, NP_, tr, trp
from govnet.report.bulletin import build, evidence_line, report_css, severity_label
from govnet.report.tabular import Column, csv_header
from govnet.textsafe import csv_cell, safe_text, visible

STATUS_STYLE = {"pass": "green", "fail": "bold red", "error": "yellow", "skip": "dim"}
STATUS_WORDS = {
    "pass": NP_("finding status", "pass"),
    "fail": NP_("finding status", "fail"),
    "error": NP_("finding status", "error"),
    "skip": NP_("finding status", "skip"),
}


SCOPES = {"unit": N_("unit"), "site": N_("site"), "zone": N_("zone")}


def _tr(lang: str) -> Callable[..., str]:
    """``t(msgid, **params)``: the label in the report's language."""

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    return t


def status_label(status: str, lang: str) -> str:
    return tr(lang, STATUS_WORDS.get(status, status))


def to_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = [
    Column("device", "Device"),
    Column("zone", "Zone"),
    Column("site", "Site"),
    Column("unit", "Unit"),
    Column("platform", "Platform"),
    Column("rule", "Rule"),
    Column("control", "Control"),
    Column("clause", "Clause"),
    Column("severity", "Severity"),
    Column("status", "Status"),
    Column("new", "New"),
    Column("message", "Message"),
    Column("evidence", "Evidence"),
]
CSV_FIELDS = [c.key for c in CSV_COLUMNS]


def to_csv(report: AuditReport, lang: str | None = None) -> str:
    """One row per finding; the header in ``lang`` (tabular.csv_header: labels and a BOM in
    Chinese, the keys in English or with --csv-keys)."""
    start, header = csv_header(CSV_COLUMNS, lang)
    buf = io.StringIO()
    buf.write(start)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for f in report.run.findings:
        row = f.to_dict()
        row["new"] = report.is_new(f)
        row["evidence"] = " | ".join(str(e) for e in f.evidence)
        writer.writerow([csv_cell(row.get(k, "")) for k in CSV_FIELDS])
    return buf.getvalue()


def to_junit(report: AuditReport) -> str:
    """One testsuite per device, one testcase per rule that concerns it: fail → failure,
    error → error, skip (role, zone or tags exclude it) → skipped. A rule for another
    platform is no test of the device and is left out. ``time``: seconds each rule took on
    the device's collected facts; the whole run's wall time on <testsuites>."""
    run = report.run
    by_device: dict[str, list[Finding]] = defaultdict(list)
    for f in run.findings:
        if f.out_of_scope != "platform":
            by_device[f.device].append(f)
    root = ET.Element("testsuites", name=f"govnet audit {run.id}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for device, items in sorted(by_device.items()):
        c = {s: sum(1 for f in items if f.status.value == s) for s in ("fail", "error", "skip")}
        suite = ET.SubElement(
            root,
            "testsuite",
            name=device,
            tests=str(len(items)),
            failures=str(c["fail"]),
            errors=str(c["error"]),
            skipped=str(c["skip"]),
            timestamp=run.started.isoformat(),
            time=_seconds(sum(f.elapsed for f in items)),
        )
        for key, n in (
            ("tests", len(items)),
            ("failures", c["fail"]),
            ("errors", c["error"]),
            ("skipped", c["skip"]),
        ):
            totals[key] += n
        for f in items:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{device}.{f.control}",
                name=f.rule,
                time=_seconds(f.elapsed),
            )
            detail = visible(
                "\
".join(str(e) for e in f.evidence)
            )  # XML 1.0 forbids controls
            message = visible(f.message)
            if f.status is Status.FAIL:
                el = ET.SubElement(case, "failure", message=message, type=f.severity.value)
                el.text = detail
            elif f.status is Status.ERROR:
                el = ET.SubElement(case, "error", message=message, type="could-not-check")
                el.text = detail
            elif f.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=message or "not applicable")
    for key, n in totals.items():
        root.set(key, str(n))
    if run.finished is not None:
        root.set("time", _seconds((run.finished - run.started).total_seconds()))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def to_html(
    report: AuditReport, lang: str, show_all: bool = False, tz: tzinfo | None = None
) -> str:
    """The 通报 as one self-contained HTML file (inline CSS, no scripts, no remote assets)
    to mail or print on A4 (:mod:`govnet.report.bulletin` has the layout)."""
    import jinja2

    template = resources.files("govnet").joinpath("data/audit-report.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    bulletin = build(report, lang, report.labels, tz, show_all)
    return env.from_string(template).render(
        css=report_css(),
        b=bulletin,
        lang=lang,
        _=_tr(lang),
        pgettext=lambda context, msgid: trp(lang, context, msgid),
        sev_label=lambda s: severity_label(s, lang, "en-lower"),
    )


def _findings_table(
    findings: Iterable[Finding], report: AuditReport, lang: str, group: str
) -> Table:
    t = _tr(lang)
    table = Table(show_lines=False, header_style="bold", expand=False)
    first = ("device", t("Device")) if group == "device" else ("control", t("Control"))
    second = ("control", t("Control")) if group == "device" else ("device", t("Device"))
    table.add_column(first[1])
    table.add_column(second[1])
    table.add_column(t("Severity"))
    table.add_column(t("Status"))
    table.add_column(t("Finding"), overflow="fold")
    previous = None
    findings = list(findings)
    unreadable = _unreadable_devices(findings)
    for device, (count, message) in sorted(unreadable.items()):
        rules = t("all {count} rules", count=count)
        status = Text(status_label("error", lang), style=STATUS_STYLE["error"])
        cols = (device, rules) if group == "device" else (rules, device)
        table.add_row(*map(safe_text, cols), "-", status, safe_text(message))
    ordered = sorted(
        (f for f in findings if f.device not in unreadable),
        key=lambda f: (getattr(f, first[0]), -f.severity.rank, f.rule),
    )
    for f in ordered:
        key = getattr(f, first[0])
        status = Text(status_label(f.status.value, lang), style=STATUS_STYLE[f.status.value])
        if report.is_new(f):
            status.append(t(" new"), style="bold magenta")
        title = f.title.get(lang) or f.rule
        detail = title + (tr(lang, ": ") + f.message if f.message else "")
        evidence = [evidence_line(e, lang) for e in f.evidence[:3]]
        if evidence:
            detail += "\n  " + "\n  ".join(evidence)
        sev = severity_label(f.severity.value, lang, "en-lower")
        table.add_row(
            safe_text("" if key == previous else key),
            safe_text(getattr(f, second[0])),
            sev,
            status,
            safe_text(detail),
        )
        previous = key
    return table


def _unreadable_devices(findings: list[Finding]) -> dict[str, tuple[int, str]]:
    """Devices whose every checked rule is an error with one message (it could not be read):
    shown as one row instead of one per rule."""
    by_device: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.status is not Status.SKIP:
            by_device[f.device].append(f)
    out = {}
    for device, items in by_device.items():
        messages = {f.message for f in items}
        if len(items) > 1 and all(f.status is Status.ERROR for f in items) and len(messages) == 1:
            out[device] = (len(items), messages.pop())
    return out


def _summary(report: AuditReport, lang: str) -> Text:
    run = report.run
    c = run.counts()
    t = _tr(lang)
    text = Text()
    text.append(t("audit {id}: ", id=run.id), style="bold")
    for key in ("pass", "fail", "error", "skip"):
        text.append(f"{status_label(key, lang)} {c[key]}  ", style=STATUS_STYLE[key])
    if report.previous_run:
        n, prev = len(report.new_failures), report.previous_run
        text.append(t("| new since {prev}: {n}", prev=prev, n=n))
    return text


def _scoreboard_table(report: AuditReport, lang: str) -> Table:
    t = _tr(lang)
    table = Table(title=t("Scoreboard (worst first)"), header_style="bold")
    table.add_column(t(NP_("audit", "Scope")))
    table.add_column(t("Name"))
    for en in (N_("Pass rate"), N_("Fail"), N_("Error"), N_("Devices")):
        table.add_column(t(en), justify="right")
    for scope, scores in report.scores.items():
        for s in scores:
            style = "red" if s.share < 0.8 else ("yellow" if s.share < 1 else "green")
            table.add_row(
                t(SCOPES.get(scope, scope)),
                s.name,
                Text(f"{s.share:.0%}", style=style),
                str(s.failed),
                str(s.errors),
                str(s.devices),
            )
    return table


def render(
    report: AuditReport, lang: str, group: str = "device", show_all: bool = False
) -> RenderableType:
    """The terminal view: problems (or every finding with ``show_all``), summary, ranking."""
    shown = [f for f in report.run.findings if show_all or f.status in (Status.FAIL, Status.ERROR)]
    parts: list[RenderableType] = []
    if shown:
        parts.append(_findings_table(shown, report, lang, group))
    parts += [_scoreboard_table(report, lang), _summary(report, lang)]
    return Group(*parts)


def print_report(
    console: Console, report: AuditReport, lang: str, group: str, show_all: bool
) -> None:
    console.print(render(report, lang, group, show_all))
