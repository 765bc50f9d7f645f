"""The 通报: an audit run laid out for a 领导 to read and an auditor to check.

One view model (:func:`build`) feeds the HTML (and from it the PDF), the XLSX workbook and
the summary a channel (DingTalk, WeCom, e-mail) receives:

- title, period (local time with its zone), scope, and one compliance figure per zone;
- units (单位) ranked by their inventory label, with passed / failed / could-not-check kept
  apart: a device that could not be checked is reported, never counted as non-compliance
  (share = passed / (passed + failed));
- failures first, grouped by severity then unit, evidence lines intact, 整改建议;
- passes summarised per control (listed one by one only with ``--all``);
- the devices that could not be checked and why;
- a footer with the run id, the generation time and govnet's version.

Everything that came from a device stays text here; the HTML template escapes it (jinja2
autoescape) and control characters are made visible (:mod:`govnet.textsafe`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from govnet import __version__
from govnet.checks.model import Finding
from govnet.core.vocabulary import Evidence, Severity, Status
from govnet.i18n import N_, tr
from govnet.inventory.labels import Labels
from govnet.settings import time_zone
from govnet.textsafe import visible


def severity_label(severity: str, lang: str, english: str = "Title") -> str:
    """A severity as people read it (the one table: core.vocabulary.SEVERITY_LABELS, 严重/高/
    中/低); ``english="en-lower"`` keeps the terminal's lower-case identifiers in English."""
    if lang != "zh" and english == "en-lower":
        return severity
    try:
        return Severity(severity).label(lang)
    except ValueError:
        return severity


SEVERITIES = ("critical", "high", "medium", "low")


def severity_labels(lang: str) -> dict[str, str]:
    """Severity value → its label in ``lang`` (the one table: core.vocabulary.SEVERITY_LABELS)."""
    return {s.value: s.label(lang) for s in Severity}


def report_css() -> Any:
    """The reports' shared style sheet (A4 print, CJK font list), safe to put in <style>."""
    from importlib import resources

    from markupsafe import Markup

    css = resources.files("govnet").joinpath("data/report.css").read_text("utf-8")
    return Markup(css.replace("</", "<\\/"))


# ------------------------------------------------------------------------------ time


def report_zone(name: str | None = None) -> tzinfo:
    """The zone reports speak in: ``name``, else the settings' ``timezone`` (GOVNET_TZ or the
    config file), else this machine's."""
    return time_zone(name)


def local_time(when: datetime | None, tz: tzinfo) -> str:
    """``2026-12-06 09:39:14 CST (UTC+08:00)``: local time to the second, said as such."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is this machine's
    local = when.astimezone(tz)
    offset = local.strftime("%z")
    name = local.tzname() or ""
    zone = f"UTC{offset[:3]}:{offset[3:]}"
    if not name or name == "UTC" or name[0] in "+-" or name.startswith("UTC"):
        return f"{local:%Y-%m-%d %H:%M:%S} {zone}"
    return f"{local:%Y-%m-%d %H:%M:%S} {name} ({zone})"


# ---------------------------------------------------------------------------- labels


# ----------------------------------------------------------------------- explanations

_VALUE = re.compile(r"^= (?P<shown>.+?), required (?P<need>.+)$")
_DEFAULT = re.compile(
    r"^no line matches .+ \(platform default: (?P<d>.*)\) = (?P<shown>.+?), required (?P<need>.+)$"
)


def explain(f: Finding, lang: str) -> list[str]:
    """What failed, in the reader's language: one sentence per evidence line, built from the
    rule's title and the line number (config rules), instead of the check's regexes. Other
    check kinds keep their own message."""
    title = f.title.get(lang) or f.rule
    out: list[str] = []
    for e in f.evidence:
        said = _explain_one(e, title, lang)
        if said:
            out.append(said)
    if not out and f.message:
        out.append(f.message)
    return out


def _explain_one(e: Evidence, title: str, lang: str) -> str:
    note, line = e.note, e.line
    if note.startswith("must not match "):
        return tr(
            lang,
            "line {line} has a setting this requirement forbids: {text}",
            line=line,
            text=e.text,
        )
    if m := _DEFAULT.match(note):
        return tr(
            lang,
            "not configured; platform default {d} = {shown}, required {need}",
            d=m["d"],
            shown=m["shown"],
            need=m["need"],
        )
    if note.startswith("no line matches") or note.startswith("no section matches"):
        if line is not None:
            return tr(
                lang,
                "missing in the section at line {line} ({text}): {title}",
                line=line,
                text=e.text,
                title=title,
            )
        return tr(lang, "required setting missing: {title}", title=title)
    if m := _VALUE.match(note):
        return tr(
            lang,
            "line {line}: value {shown}, required {need}",
            line=line,
            shown=m["shown"],
            need=m["need"],
        )
    return ""


_ERROR_KINDS = (
    ("missing:", N_("no saved configuration or output to check")),
    ("timeout", N_("the device did not answer in time")),
    ("auth", N_("login refused")),
    ("unreachable", N_("the device could not be reached")),
    ("refused", N_("connection refused")),
)


def reason(message: str, lang: str) -> str:
    """Why a device could not be checked: a short phrase in the reader's language, then the
    tool's own words (which name the file or host)."""
    low = message.lower()
    for key, en in _ERROR_KINDS:
        if key in low:
            return f"{tr(lang, en)}（{message}）" if lang == "zh" else f"{en} ({message})"
    return message


# ------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    passed: int = 0
    failed: int = 0
    unchecked: int = 0  # could-not-check results: reported, not counted against
    devices: int = 0
    parent: str = ""  # a unit's site label, a zone has none

    @property
    def share(self) -> float | None:
        """Passed / (passed + failed); None when nothing could be checked."""
        checked = self.passed + self.failed
        return self.passed / checked if checked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "parent": self.parent,
            "passed": self.passed,
            "failed": self.failed,
            "unchecked": self.unchecked,
            "devices": self.devices,
            "share": self.share,
            "share_text": "—" if self.share is None else f"{self.share:.1%}",
        }


def _tallies(findings: list[Finding], scope: str, labels: Labels, lang: str) -> list[Tally]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    devices: dict[str, set[str]] = defaultdict(set)
    site_of: dict[str, str] = {}
    for f in findings:
        if f.status is Status.SKIP:
            continue
        key = getattr(f, scope) or ""
        counts[key][{Status.PASS: 0, Status.FAIL: 1, Status.ERROR: 2}[f.status]] += 1
        devices[key].add(f.device)
        site_of.setdefault(key, f.site)
    out = [
        Tally(
            key,
            labels.name(scope, key, lang),
            p,
            fl,
            e,
            len(devices[key]),
            labels.name("site", site_of[key], lang) if scope == "unit" else "",
        )
        for key, (p, fl, e) in counts.items()
    ]
    # worst first: lowest share, most failures; units nothing could be checked on go last
    out.sort(key=lambda t: (t.share is None, t.share or 0.0, -t.failed, t.label))
    return out


def _evidence(e: Evidence, lang: str) -> dict[str, Any]:
    return {"line": e.line, "text": visible(e.text), "note": visible(note_text(e.note, lang))}


_NOTES = (
    (re.compile(r"^must not match (?P<pattern>.+)$"), N_("must not match {pattern}")),
    (
        re.compile(
            r"^no line matches (?P<pattern>.+?) \(platform default: (?P<default>.*)\) = "
            r"(?P<shown>.+?), required (?P<need>.+)$"
        ),
        N_("no line matches {pattern} (platform default: {default}) = {shown}, required {need}"),
    ),
    (
        re.compile(
            r"^no line matches (?P<pattern>.+?) \(platform default: (?P<default>.*)\) = "
            r"(?P<shown>.+)$"
        ),
        N_("no line matches {pattern} (platform default: {default}) = {shown}"),
    ),
    (re.compile(r"^no line matches (?P<pattern>.+)$"), N_("no line matches {pattern}")),
    (re.compile(r"^no section matches (?P<pattern>.+)$"), N_("no section matches {pattern}")),
    (_VALUE, N_("= {shown}, required {need}")),
)


def note_text(note: str, lang: str) -> str:
    """An evidence note of a config check (English, as stored) in the reader's language; the
    patterns and values in it stay as they are."""
    for pattern, msgid in _NOTES:
        if m := pattern.match(note):
            return tr(lang, msgid, **m.groupdict())
    return note


def evidence_line(e: Evidence, lang: str) -> str:
    """``13: telnet server enable  (…)``: the device's line as it is, the note translated."""
    where = f"{e.line}: " if e.line is not None else ""
    note = tr(lang, "  ({note})", note=note_text(e.note, lang)) if e.note else ""
    return f"{where}{e.text}{note}"


def build(
    report: Any,
    lang: str,
    labels: Labels | None = None,
    tz: tzinfo | None = None,
    show_all: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The 通报 of an :class:`~govnet.checks.model.AuditReport` as plain data (str, int,
    float, None, lists and dicts) for the HTML template, the workbook and the summary."""
    labels = labels or Labels()
    tz = tz or report_zone()
    run = report.run
    findings: list[Finding] = list(run.findings)

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    sev_label = severity_labels(lang)

    zones = _tallies(findings, "zone", labels, lang)
    units = _tallies(findings, "unit", labels, lang)
    considered = [f for f in findings if f.status is not Status.SKIP]
    total = Tally(
        "",
        t("All"),
        sum(f.status is Status.PASS for f in considered),
        sum(f.status is Status.FAIL for f in considered),
        sum(f.status is Status.ERROR for f in considered),
        len({f.device for f in considered}),
    )

    failures: list[dict[str, Any]] = []
    for sev in SEVERITIES:
        in_sev = [f for f in findings if f.status is Status.FAIL and f.severity.value == sev]
        if not in_sev:
            continue
        by_unit: dict[str, list[Finding]] = defaultdict(list)
        for f in in_sev:
            by_unit[f.unit or ""].append(f)
        groups = []
        for unit in sorted(by_unit, key=lambda u: labels.name("unit", u, lang)):
            items = sorted(by_unit[unit], key=lambda f: (f.device, f.control, f.rule))
            groups.append(
                {
                    "unit": labels.name("unit", unit, lang),
                    "unit_key": unit,
                    "items": [_finding(f, report, labels, lang) for f in items],
                }
            )
        failures.append(
            {"severity": sev, "label": sev_label[sev], "count": len(in_sev), "groups": groups}
        )

    controls: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.status is Status.SKIP:
            continue
        c = controls.setdefault(
            f.control,
            {
                "control": f.control,
                "clause": f.clause,
                "title": f.title.get(lang) or f.rule,
                "passed": 0,
                "failed": 0,
                "unchecked": 0,
                "devices": set(),
            },
        )
        c[{Status.PASS: "passed", Status.FAIL: "failed", Status.ERROR: "unchecked"}[f.status]] += 1
        if f.status is Status.PASS:
            c["devices"].add(f.device)
    pass_summary = [
        {**c, "devices": len(c["devices"])}
        for c in sorted(controls.values(), key=lambda c: (-c["failed"], c["control"]))
    ]

    unchecked: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.status is not Status.ERROR:
            continue
        d = unchecked.setdefault(
            f.device,
            {
                "device": f.device,
                "unit": labels.name("unit", f.unit, lang),
                "site": labels.name("site", f.site, lang),
                "zone": labels.name("zone", f.zone, lang),
                "rules": 0,
                "reasons": [],
            },
        )
        d["rules"] += 1
        said = visible(reason(f.message, lang))
        if said not in d["reasons"]:
            d["reasons"].append(said)
    for d in unchecked.values():
        if len(d["reasons"]) > 3:
            more = len(d["reasons"]) - 3
            d["reasons"] = [*d["reasons"][:3], t("and {more} more", more=more)]

    passes = (
        [
            _finding(f, report, labels, lang)
            for f in sorted(findings, key=lambda f: (f.unit or "", f.device, f.control))
            if f.status is Status.PASS
        ]
        if show_all
        else []
    )

    generated = now or datetime.now(tz)
    scope_units = sorted({f.unit for f in considered if f.unit})
    return {
        "lang": lang,
        "title": t("Network security compliance audit bulletin"),
        "run_id": run.id,
        "period": {
            "start": local_time(run.started, tz),
            "end": local_time(run.finished, tz),
            "start_dt": _naive(run.started, tz),
            "end_dt": _naive(run.finished, tz),
        },
        "playbooks": [visible(p) for p in run.playbooks],
        "scope": {
            "zones": [z.label for z in zones],
            "units": len(scope_units),
            "devices": total.devices,
            "checks": total.passed + total.failed + total.unchecked,
        },
        "total": total.to_dict(),
        "zones": [z.to_dict() for z in zones],
        "units": [u.to_dict() for u in units],
        "failures": failures,
        "failed_count": total.failed,
        "failed_by_severity": {
            s: sum(1 for f in findings if f.status is Status.FAIL and f.severity.value == s)
            for s in SEVERITIES
        },
        "pass_summary": pass_summary,
        "passes": passes,
        "show_all": show_all,
        "unchecked": sorted(unchecked.values(), key=lambda d: (d["unit"], d["device"])),
        "previous_run": report.previous_run,
        "new_failures": len(report.new_failures),
        "fail_on": sev_label[report.fail_on.value],
        "generated": local_time(generated, tz),
        "generated_dt": _naive(generated, tz),
        "version": __version__,
    }


def _naive(when: datetime | None, tz: tzinfo) -> datetime | None:
    """Local wall time without tzinfo (Excel has no time zones)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(tz).replace(tzinfo=None, microsecond=0)


def _finding(f: Finding, report: Any, labels: Labels, lang: str) -> dict[str, Any]:
    return {
        "device": visible(f.device),
        "unit": labels.name("unit", f.unit, lang),
        "zone": labels.name("zone", f.zone, lang),
        "site": labels.name("site", f.site, lang),
        "rule": f.rule,
        "control": f.control,
        "clause": f.clause,
        "severity": f.severity.label(lang),
        "severity_key": f.severity.value,
        "title": visible(f.title.get(lang) or f.rule),
        "explanation": [visible(x) for x in explain(f, lang)],
        "message": visible(f.message),
        "evidence": [_evidence(e, lang) for e in f.evidence],
        "remediation": visible(f.remediation.get(lang)),
        "new": bool(report.is_new(f)),
    }
