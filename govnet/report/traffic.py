"""``govnet report traffic``: per-link 95th percentile and peak, busiest first, as a table,
JSON, CSV, or the 通报 document (HTML, XLSX, PDF)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console

from govnet.i18n import NP_, tr
from govnet.monitor.history import LinkTraffic
from govnet.report.bulletin import local_time
from govnet.report.document import Document, Section
from govnet.report.tabular import Column, emit_rows


@dataclass
class TrafficReport:
    start: float
    end: float
    label: str  # 2026-11, 2026-W47, FROM..TO
    tz: tzinfo
    step: int  # 300: 95th of 5-minute averages; 3600: of hourly ones
    links: Sequence[LinkTraffic]


COLUMNS = [
    Column("rank", NP_("traffic", "#"), "right"),
    Column("device", "Device"),
    Column("interface", "Interface"),
    Column("alias", "Description"),
    Column("speed", "Speed", "right"),
    Column("p95_util", "95th pct. util.", "right"),
    Column("peak_util", "Peak util.", "right"),
    Column("in_p95", "In 95th", "right"),
    Column("out_p95", "Out 95th", "right"),
    Column("peak", "Peak", "right"),
]


def rate(bps: float | None) -> str:
    if bps is None:
        return ""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if bps >= factor:
            return f"{bps / factor:.3g} {prefix}bit/s"
    return f"{bps:.0f} bit/s"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def data(report: TrafficReport) -> dict[str, Any]:
    """The JSON: bit/s and shares 0..1 as numbers, the period as UNIX and ISO times."""
    return {
        "period": report.label,
        "start": report.start,
        "end": report.end,
        "start_local": datetime.fromtimestamp(report.start, report.tz).isoformat(),
        "end_local": datetime.fromtimestamp(report.end, report.tz).isoformat(),
        "percentile_of": f"{report.step // 60}-minute averages",
        "links": [
            {
                "rank": i,
                "device": k.device,
                "interface": k.interface,
                "alias": k.alias,
                "speed_bps": k.speed_bps,
                "p95_util": k.p95_util,
                "peak_util": k.peak_util,
                "in_p95_bps": k.in_p95_bps,
                "out_p95_bps": k.out_p95_bps,
                "in_peak_bps": k.in_peak_bps,
                "out_peak_bps": k.out_peak_bps,
                "buckets": k.samples,
            }
            for i, k in enumerate(report.links, start=1)
        ],
    }


def rows(report: TrafficReport, shares_as_text: bool = True) -> list[dict[str, Any]]:
    out = []
    for i, k in enumerate(report.links, start=1):
        out.append(
            {
                "rank": i,
                "device": k.device,
                "interface": k.interface,
                "alias": k.alias,
                "speed": rate(k.speed_bps),
                "p95_util": _share(k.p95_util) if shares_as_text else k.p95_util,
                "peak_util": _share(k.peak_util) if shares_as_text else k.peak_util,
                "in_p95": rate(k.in_p95_bps),
                "out_p95": rate(k.out_p95_bps),
                "peak": rate(k.peak_bps),
                "hot": (k.p95_util or 0.0) >= 0.7,
            }
        )
    return out


def render(report: TrafficReport, fmt: str, lang: str, console: Console) -> str | None:
    """table (to the console), json or csv (returned)."""
    if fmt == "json":
        from govnet.report.tabular import to_json

        return to_json(data(report))
    title = tr(lang, "Link traffic {label}", label=report.label)
    return emit_rows(console, rows(report), COLUMNS, fmt, lang, title=title)


def document(report: TrafficReport, lang: str) -> Document:
    """The 通报: the period, headline figures, the ranked links (95th ≥ 70 % marked)."""

    def t(en: str, /, **params: object) -> str:
        return tr(lang, en, **params)

    zone = report.tz
    start = datetime.fromtimestamp(report.start, zone)
    end = datetime.fromtimestamp(report.end, zone)
    hot = [k for k in report.links if (k.p95_util or 0.0) >= 0.7]
    busiest = report.links[0] if report.links else None
    figures = [
        (t("Links with traffic"), str(len(report.links)), "good"),
        (t("95th ≥ 70 %"), str(len(hot)), "bad" if hot else "good"),
    ]
    if busiest is not None and busiest.p95_util is not None:
        figures.append(
            (
                t("Busiest link (95th)"),
                f"{busiest.device} {busiest.interface} {busiest.p95_util:.1%}",
                "bad" if busiest.p95_util >= 0.9 else "warn",
            )
        )
    minutes = report.step // 60
    note = t(
        "95th percentile of {minutes}-minute averages (the larger of in "
        "and out), peak = the highest single sample; utilisation against "
        "the interface speed.",
        minutes=minutes,
    )
    return Document(
        title=t("Link traffic bulletin"),
        lang=lang,
        kind="traffic",
        tz=zone,
        subtitle=t("Period: ") + f"{local_time(start, zone)} — {local_time(end, zone)}",
        meta=[(t("Period"), report.label)],
        figures=figures,
        sections=[
            Section(
                t("Links by 95th percentile utilisation"),
                COLUMNS,
                rows(report, shares_as_text=False),
                sheet=t("Links"),
                note=note,
                empty=t("No interface traffic stored for this period."),
                percent=frozenset({"p95_util", "peak_util"}),
                bad="hot",
            )
        ],
    )
