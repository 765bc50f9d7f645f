"""The 通报 of ``isolation report``, ``av status`` and ``report availability`` (HTML + XLSX):
each result laid out as a :class:`~govnet.report.document.Document` — worst first, names from
the inventory's labels, could-not-judge kept apart from failures, local times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govnet.i18n import pick
from govnet.inventory.labels import Labels
from govnet.report.document import Document, Section, share_class
from govnet.report.tabular import Column

ANGLE = {
    "static": ("static analysis", "静态分析"),
    "l2": ("ARP/MAC tables", "二层表项"),
    "probe": ("active probes", "主动探测"),
}
VERDICT = {
    "fail": ("FAIL", "不合规"),
    "error": ("could not judge", "无法判断"),
    "pass": ("pass", "通过"),
    "none": ("no data", "无数据"),
}
_ORDER = {"fail": 0, "error": 1, "none": 2, "pass": 3}


def isolation_document(verdicts: Sequence[Any], labels: Labels, lang: str) -> Document:
    """Per pair of zones that must be isolated: each angle's verdict, failures first."""

    def t(en: str, zh: str) -> str:
        return pick(lang, en, zh)

    rows = []
    for v in sorted(verdicts, key=lambda v: (_ORDER.get(v.verdict, 9), v.zone_a, v.zone_b)):
        en, zh = VERDICT.get(v.verdict, (v.verdict, v.verdict))
        a, b = labels.name("zone", v.zone_a, lang), labels.name("zone", v.zone_b, lang)
        rows.append(
            {
                "pair": f"{a} ↔ {b}",
                "angle": t(*ANGLE.get(v.angle, (v.angle, v.angle))),
                "verdict": t(en, zh) + (t(" (stale)", "（已过期）") if v.stale else ""),
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
        Column("pair", "Zones", "网络对"),
        Column("angle", "Angle", "检查角度"),
        Column("verdict", "Verdict", "结论"),
        Column("when", "Checked at", "检查时间"),
        Column("run", "Run", "批次"),
        Column("detail", "Detail", "详情"),
    ]
    return Document(
        title=t("Network isolation bulletin", "网络隔离检查通报"),
        lang=lang,
        kind="isolation",
        meta=[
            (
                t("Scope", "检查范围"),
                t(
                    f"{len(pairs)} pairs of zones that must be isolated",
                    f"应隔离的网络对 {len(pairs)} 组",
                ),
            )
        ],
        figures=[
            (
                t("Pairs with a leak or path", "不合规的网络对"),
                str(len(failing)),
                "bad" if failing else "good",
            ),
            (
                t("Pairs confirmed isolated", "确认隔离的网络对"),
                f"{len(confirmed)} / {len(pairs)}",
                "good" if len(confirmed) == len(pairs) else "warn",
            ),
            (
                t("Could not judge / no data", "无法判断或无数据"),
                str(unjudged),
                "warn" if unjudged else "good",
            ),
            (t("Stale verdicts", "已过期的结论"), str(stale), "warn" if stale else "good"),
        ],
        sections=[
            Section(
                t(
                    "Verdicts per pair and angle (failures first)",
                    "各网络对的检查结论（不合规在前）",
                ),
                columns,
                rows,
                sheet=t("Verdicts", "检查结论"),
                bad="failed",
                note=t(
                    "'Could not judge' and 'no data' are not failures: run the check again.",
                    "“无法判断”“无数据”不计为不合规，请重新检查。",
                ),
            )
        ],
    )


SCOPE = {"unit": ("unit", "单位"), "site": ("site", "地区"), "zone": ("zone", "网络")}


def av_document(report: Any, labels: Labels, lang: str) -> Document:
    """Antivirus coverage per unit, site and zone (worst first) and the terminals with
    problems; unknown endpoints and the snapshots used."""
    from govnet.report.av import STATE_LABEL

    def t(en: str, zh: str) -> str:
        return pick(lang, en, zh)

    summary_cols = [
        Column("name", "Name", "名称"),
        Column("terminals", "Terminals", "终端数", "right"),
        Column("coverage", "Coverage", "覆盖率", "right"),
        Column("fresh_share", "Signatures fresh", "病毒库及时率", "right"),
        Column("managed_share", "Managed", "网络版占比", "right"),
        Column("covered", "Covered", "已覆盖", "right"),
        Column("exempt", "Exempt", "不适用", "right"),
    ]
    sections = []
    for scope in ("unit", "site", "zone"):
        items = report.summary.get(scope, [])
        rows = [{**s, "name": labels.name(scope, s["name"], lang)} for s in items]
        en, zh = SCOPE[scope]
        sections.append(
            Section(
                t(f"Coverage by {en} (worst first)", f"按{zh}统计（由差到好）"),
                summary_cols,
                rows,
                sheet=t(f"By {en}", f"按{zh}"),
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
            en, zh, _style = STATE_LABEL.get(r["state"], (r["state"], r["state"], ""))
            out.append(
                {
                    **r,
                    "state": t(en, zh),
                    "unit": labels.name("unit", r.get("unit"), lang),
                    "zone": labels.name("zone", r.get("zone"), lang),
                }
            )
        return sorted(out, key=lambda r: (r["unit"], r["terminal"]))

    term_cols = [
        Column("terminal", "Terminal", "终端"),
        Column("unit", "Unit", "单位"),
        Column("zone", "Zone", "网络"),
        Column("state", "State", "状态"),
        Column("product", "Product", "产品"),
        Column("sig_date", "Signatures", "病毒库日期"),
        Column("age_days", "Age (d)", "天数", "right"),
        Column("message", "Finding", "说明"),
    ]
    problems = term_rows(problem_states)
    unclear = term_rows(unclear_states)
    sections.insert(
        0,
        Section(
            t("Terminals with problems", "存在问题的终端"),
            term_cols,
            problems,
            sheet=t("Problems", "问题终端"),
            empty=t("No terminal has a problem.", "没有存在问题的终端。"),
        ),
    )
    sections.append(
        Section(
            t("Could not judge (not counted as problems)", "无法判断（不计为问题）"),
            term_cols,
            unclear,
            sheet=t("Could not judge", "无法判断"),
            empty=t("None.", "无。"),
        )
    )
    if report.unknown:
        from govnet.report.av import UNKNOWN_COLUMNS

        sections.append(
            Section(
                t("Unknown endpoints", "未知终端（控制台有记录、资产清单中没有）"),
                UNKNOWN_COLUMNS,
                [{**u, "zone": labels.name("zone", u.get("zone"), lang)} for u in report.unknown],
                sheet=t("Unknown", "未知终端"),
            )
        )
    snaps = [{**s, "stale_for": ", ".join(s["stale_for"])} for s in report.snapshots]
    snap_cols = [
        Column("id", "#", "#", "right"),
        Column("console", "Console", "控制台"),
        Column("file", "File", "文件"),
        Column("age_days", "Age (d)", "天数", "right"),
        Column("stale_for", "Too old for", "超过时限"),
    ]
    sections.append(
        Section(t("Snapshots used", "所用快照"), snap_cols, snaps, sheet=t("Snapshots", "快照"))
    )
    zones = report.summary.get("zone", [])
    figures = [
        (t("Terminals", "终端数"), str(len(report.terminals)), ""),
        (t("With problems", "存在问题"), str(len(problems)), "bad" if problems else "good"),
    ]
    for z in zones:
        figures.append(
            (
                t("Coverage ", "覆盖率 ") + labels.name("zone", z["name"], lang),
                "—" if z["coverage"] is None else f"{z['coverage']:.1%}",
                share_class(z["coverage"]),
            )
        )
    return Document(
        title=t("Antivirus bulletin", "终端防病毒情况通报"),
        lang=lang,
        kind="av",
        figures=figures,
        meta=[
            (
                t("Scope", "检查范围"),
                t(f"{len(report.terminals)} terminals", f"终端 {len(report.terminals)} 台"),
            )
        ],
        sections=sections,
    )


def availability_document(report: Any, lang: str, levels: Sequence[str]) -> Document:
    """Availability per level (worst first), the period said in local time with its zone;
    time without data and planned maintenance are shown, never counted as outages."""
    from datetime import datetime

    from govnet.report.availability import COLUMNS as AVAILABILITY_COLUMNS
    from govnet.report.availability import LEVEL_TITLES, duration
    from govnet.report.bulletin import local_time, report_zone

    def t(en: str, zh: str) -> str:
        return pick(lang, en, zh)

    zone = report_zone(report.tz or None)
    # the availability report's columns; the bulletin says outright that no data is not counted
    no_data = Column("unknown", "No data (not counted)", "无数据（不计入）", "right")
    cols = [no_data if c.key == "unknown" else c for c in AVAILABILITY_COLUMNS]
    sections, figures = [], []
    for level in levels:
        rows = []
        for i, row in enumerate(report.by_level(level), start=1):
            times, avail = row.times, row.tally.availability
            outages = [o.duration for o in times.outages]
            rows.append(
                {
                    "rank": i,
                    "name": row.name,
                    "label": pick(lang, row.label_en, row.label_zh),
                    "availability": None if avail is None else avail / 100,
                    "outages": len(outages),
                    "outage_time": duration(sum(outages)),
                    "longest": duration(max(outages, default=0.0)),
                    "unknown": duration(times.unknown),
                    "maintenance": duration(times.maintenance),
                }
            )
        en, zh = LEVEL_TITLES.get(level, (level, level))
        sections.append(
            Section(t(en, zh), cols, rows, sheet=t(en, zh), percent=frozenset({"availability"}))
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
    start = datetime.fromtimestamp(report.start, zone)
    end = datetime.fromtimestamp(report.end, zone)
    return Document(
        title=t("Availability bulletin", "网络与业务系统可用性通报"),
        lang=lang,
        kind="availability",
        tz=zone,
        subtitle=t("Period: ", "统计周期：")
        + f"{local_time(start, zone)} — {local_time(end, zone)}",
        figures=figures,
        sections=sections,
        meta=[
            (
                t("Method", "计算方法"),
                t(
                    "Availability = up ÷ scheduled; planned maintenance and time without data are "
                    "not counted as outages.",
                    "可用率 = 正常时间 ÷ 应运行时间；计划维护与无数据时间不计为中断。",
                ),
            )
        ],
    )
