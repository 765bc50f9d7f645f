"""The 通报 of ``isolation report``, ``av status`` and ``report availability`` (HTML + XLSX):
each result laid out as a :class:`~govnet.report.document.Document` — worst first, names from
the inventory's labels, could-not-judge kept apart from failures, local times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govnet.i18n import N_, NP_, tr
from govnet.inventory.labels import Labels
from govnet.report.document import Document, Section, share_class
from govnet.report.tabular import Column

ANGLE = {
    "static": N_("static analysis"),
    "l2": N_("ARP/MAC tables"),
    "probe": N_("active probes"),
}
VERDICT = {
    "fail": N_("FAIL"),
    "error": N_("could not judge"),
    "pass": N_("pass"),
    "none": N_("no data"),
}
_ORDER = {"fail": 0, "error": 1, "none": 2, "pass": 3}


def isolation_document(verdicts: Sequence[Any], labels: Labels, lang: str) -> Document:
    """Per pair of zones that must be isolated: each angle's verdict, failures first."""

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    rows = []
    for v in sorted(verdicts, key=lambda v: (_ORDER.get(v.verdict, 9), v.zone_a, v.zone_b)):
        en = VERDICT.get(v.verdict, v.verdict)
        a, b = labels.name("zone", v.zone_a, lang), labels.name("zone", v.zone_b, lang)
        rows.append(
            {
                "pair": f"{a} ↔ {b}",
                "angle": t(ANGLE.get(v.angle, v.angle)),
                "verdict": t(en) + (t(" (stale)") if v.stale else ""),
                "when": v.when,
                "run": v.run or "",
                "detail": v.detail,
                "failed": v.verdict == "fail",
            }
        )
    pairs = {(v.zone_a, v.zone_b) for v in verdicts}
    failing = {(v.zone_a, v.zone_b) for v in verdicts if v.verdict == "fail"}
    confirmed = {
        p for p in pairs if all(v.verdict == "pass" for v in verdicts if (v.zone_a, v.zone_b) == p)
    }
    unjudged = sum(1 for v in verdicts if v.verdict in ("error", "none"))
    stale = sum(1 for v in verdicts if v.stale)
    columns = [
        Column("pair", "Zones"),
        Column("angle", "Angle"),
        Column("verdict", "Verdict"),
        Column("when", "Checked at"),
        Column("run", "Run"),
        Column("detail", "Detail"),
    ]
    return Document(
        title=t("Network isolation bulletin"),
        lang=lang,
        kind="isolation",
        meta=[
            (
                t("Scope"),
                t(
                    "{n_pairs} pairs of zones that must be isolated",
                    n_pairs=len(pairs),
                ),
            )
        ],
        figures=[
            (
                t("Pairs with a leak or path"),
                str(len(failing)),
                "bad" if failing else "good",
            ),
            (
                t("Pairs confirmed isolated"),
                f"{len(confirmed)} / {len(pairs)}",
                "good" if len(confirmed) == len(pairs) else "warn",
            ),
            (
                t("Could not judge / no data"),
                str(unjudged),
                "warn" if unjudged else "good",
            ),
            (t("Stale verdicts"), str(stale), "warn" if stale else "good"),
        ],
        sections=[
            Section(
                t(
                    "Verdicts per pair and angle (failures first)",
                ),
                columns,
                rows,
                sheet=t("Verdicts"),
                bad="failed",
                note=t(
                    "'Could not judge' and 'no data' are not failures: run the check again.",
                ),
            )
        ],
    )


SCOPE = {"unit": N_("unit"), "site": N_("site"), "zone": N_("zone")}


def av_document(report: Any, labels: Labels, lang: str) -> Document:
    """Antivirus coverage per unit, site and zone (worst first) and the terminals with
    problems; unknown endpoints and the snapshots used."""
    from govnet.report.av import STATE_LABEL

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    summary_cols = [
        Column("name", "Name"),
        Column("terminals", NP_("bulletins", "Terminals"), "right"),
        Column("coverage", "Coverage", "right"),
        Column("fresh_share", "Signatures fresh", "right"),
        Column("managed_share", "Managed", "right"),
        Column("covered", "Covered", "right"),
        Column("exempt", "Exempt", "right"),
    ]
    sections = []
    for scope in ("unit", "site", "zone"):
        items = report.summary.get(scope, [])
        rows = [{**s, "name": labels.name(scope, s["name"], lang)} for s in items]
        en = SCOPE[scope]
        sections.append(
            Section(
                t("Coverage by {scope} (worst first)", scope=t(en)),
                summary_cols,
                rows,
                sheet=t("By {scope}", scope=t(en)),
                percent=frozenset({"coverage", "fresh_share", "managed_share"}),
            )
        )
    problem_states = {"not-covered", "unapproved", "not-running", "stale", "standalone"}
    unclear_states = {"no-data", "unreadable", "unknown-age"}

    def term_rows(states: set[str]) -> list[dict[str, Any]]:
        out = []
        for r in report.terminals:
            if r["state"] not in states:
                continue
            en, _style = STATE_LABEL.get(r["state"], (r["state"], ""))
            out.append(
                {
                    **r,
                    "state": t(en),
                    "unit": labels.name("unit", r.get("unit"), lang),
                    "zone": labels.name("zone", r.get("zone"), lang),
                }
            )
        return sorted(out, key=lambda r: (r["unit"], r["terminal"]))

    term_cols = [
        Column("terminal", "Terminal"),
        Column("unit", "Unit"),
        Column("zone", "Zone"),
        Column("state", "State"),
        Column("product", "Product"),
        Column("sig_date", "Signatures"),
        Column("age_days", "Age (d)", "right"),
        Column("message", "Finding"),
    ]
    problems = term_rows(problem_states)
    unclear = term_rows(unclear_states)
    sections.insert(
        0,
        Section(
            t("Terminals with problems"),
            term_cols,
            problems,
            sheet=t("Problems"),
            empty=t("No terminal has a problem."),
        ),
    )
    sections.append(
        Section(
            t("Could not judge (not counted as problems)"),
            term_cols,
            unclear,
            sheet=t("Could not judge"),
            empty=t("None."),
        )
    )
    if report.unknown:
        from govnet.report.av import UNKNOWN_COLUMNS

        sections.append(
            Section(
                t("Unknown endpoints"),
                UNKNOWN_COLUMNS,
                [{**u, "zone": labels.name("zone", u.get("zone"), lang)} for u in report.unknown],
                sheet=t("Unknown"),
            )
        )
    snaps = [{**s, "stale_for": ", ".join(s["stale_for"])} for s in report.snapshots]
    snap_cols = [
        Column("id", "#", "right"),
        Column("console", "Console"),
        Column("file", "File"),
        Column("age_days", "Age (d)", "right"),
        Column("stale_for", "Too old for"),
    ]
    sections.append(Section(t("Snapshots used"), snap_cols, snaps, sheet=t("Snapshots")))
    zones = report.summary.get("zone", [])
    figures = [
        (t(NP_("bulletins", "Terminals")), str(len(report.terminals)), ""),
        (t("With problems"), str(len(problems)), "bad" if problems else "good"),
    ]
    for z in zones:
        figures.append(
            (
                t("Coverage ") + labels.name("zone", z["name"], lang),
                "—" if z["coverage"] is None else f"{z['coverage']:.1%}",
                share_class(z["coverage"]),
            )
        )
    return Document(
        title=t("Antivirus bulletin"),
        lang=lang,
        kind="av",
        figures=figures,
        meta=[
            (
                t("Scope"),
                t("{n_terminals} terminals", n_terminals=len(report.terminals)),
            )
        ],
        sections=sections,
    )


LEVEL_NAMES = {"device": N_("device"), "service": N_("service")}


def availability_document(report: Any, lang: str, levels: Sequence[str]) -> Document:
    """Availability per level (worst first), the period said in local time with its zone;
    time without data and planned maintenance are shown, never counted as outages."""
    from datetime import datetime

    from govnet.report.availability import COLUMNS as AVAILABILITY_COLUMNS
    from govnet.report.availability import LEVEL_TITLES, duration
    from govnet.report.bulletin import local_time, report_zone

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    from govnet.availability.sla import Tally

    zone = report_zone(report.tz or None)
    # the availability report's columns; the bulletin says outright that no data is not counted
    no_data = Column("unknown", "No data (not counted)", "right")
    cols = [no_data if c.key == "unknown" else c for c in AVAILABILITY_COLUMNS]
    sections, figures = [], []
    unseen: list[dict[str, Any]] = []  # nothing observed in the period: reported apart

    def observed(row: Any) -> bool:
        return bool(row.tally.up or row.tally.down)

    def label(row: Any) -> str:
        return str((row.label_zh or row.label_en) if lang == "zh" else row.label_en)

    overall = Tally()
    for row in report.by_level("device") + report.by_level("service"):
        if observed(row):
            overall.add(row.tally)
        else:
            unseen.append(
                {
                    "level": t(LEVEL_NAMES.get(row.level, row.level)),
                    "name": row.name,
                    "label": label(row),
                    "why": t("no sample in the period (the monitor did not poll it)"),
                }
            )
    total = overall.availability
    figures.append(
        (
            t("Overall (devices and services)"),
            "—" if total is None else f"{total / 100:.3%}",
            share_class(None if total is None else min(1.0, total / 99.9)),
        )
    )
    for level in levels:
        rows = []
        ranked = [row for row in report.by_level(level) if observed(row)]
        for i, row in enumerate(ranked, start=1):
            times, avail = row.times, row.tally.availability
            outages = [o.duration for o in times.outages]
            rows.append(
                {
                    "rank": i,
                    "name": row.name,
                    "label": label(row),
                    "availability": None if avail is None else avail / 100,
                    "outages": len(outages),
                    "outage_time": duration(sum(outages)),
                    "longest": duration(max(outages, default=0.0)),
                    "unknown": duration(times.unknown),
                    "maintenance": duration(times.maintenance),
                }
            )
        en = LEVEL_TITLES.get(level, level)
        sections.append(
            Section(
                t(en),
                cols,
                rows,
                sheet=t(en),
                percent=frozenset({"availability"}),
                bad="outages",
                empty=t("Nothing observed at this level in the period."),
            )
        )
        if level == "zone":
            for r in rows:
                value = r["availability"]
                shown = "—" if value is None else f"{value:.3%}"
                figures.append(
                    (
                        r["label"] or r["name"],
                        shown,
                        share_class(None if value is None else min(1.0, value / 0.999)),
                    )
                )
    sections.append(
        Section(
            t("Could not check (no data, not counted)"),
            [
                Column("level", "Level"),
                Column("name", "Name"),
                Column("label", "Label"),
                Column("why", "Why"),
            ],
            unseen,
            sheet=t("No data"),
            empty=t("Every device and service was observed."),
        )
    )
    start = datetime.fromtimestamp(report.start, zone)
    end = datetime.fromtimestamp(report.end, zone)
    zones = [label(r) or r.name for r in report.by_level("zone")]
    scope = t(
        "{zones}; {devices} devices, {services} services",
        zones=t(", ").join(zones) or "—",
        devices=len(report.by_level("device")),
        services=len(report.by_level("service")),
    )
    return Document(
        title=t("Availability bulletin"),
        lang=lang,
        kind="availability",
        tz=zone,
        subtitle=t("Period: ") + f"{local_time(start, zone)} — {local_time(end, zone)}",
        figures=figures,
        sections=sections,
        meta=[
            (t("Scope"), scope),
            (
                t("Method"),
                t(
                    "Availability = up ÷ scheduled; planned maintenance and time without data are "
                    "not counted as outages.",
                ),
            ),
        ],
    )
