"""``govnet report availability|traffic``: availability and outages; per-link 95th percentile
and peak traffic, from the store."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from govnet.availability.sla import LEVELS, build_report, local_zone, parse_period
from govnet.cli.common import App, filter_options, filters_from, format_option, pass_app
from govnet.inventory.select import check_filters, select_devices
from govnet.report.availability import render
from govnet.store.availability import ServiceStore

F = TypeVar("F", bound=Callable[..., Any])


def period_options(command: F) -> F:
    """``--period`` and ``--tz``, the same on every report."""
    command = click.option(
        "--tz",
        default=None,
        help="Time zone of the period [env GOVNET_TZ; config 'timezone'; default this machine's].",
    )(command)
    return click.option(
        "--period",
        "-p",
        default="month",
        show_default=True,
        help="month|week|day (so far), yesterday|last-week|last-month, or FROM..TO "
        "(YYYY-MM-DD or ISO times; a date as TO includes that day).",
    )(command)


@click.group()
def report() -> None:
    """Reports from the store: availability / SLA, link traffic (95th percentile)."""


@report.command("availability")
@period_options
@click.option(
    "--by",
    "levels",
    multiple=True,
    type=click.Choice(LEVELS),
    help="Only these levels (repeatable; default all: zone, site, unit, device, service).",
)
@filter_options
@format_option("table", "json", "csv", "html", "xlsx")
@pass_app
def availability(
    app: App,
    /,
    period: str,
    tz: str | None,
    levels: tuple[str, ...],
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Availability %, outages and unknown time per device, service, unit, site and zone,
    planned maintenance excluded, worst first."""
    filters = filters_from(kwargs)
    inventory = app.inventory()
    check_filters(inventory, filters)
    zone = local_zone(tz)
    now = time.time()
    start, end, label = parse_period(period, now, zone)
    end = min(end, now)
    devices = [d.name for d in select_devices(inventory, filters)]
    services = [
        s.name
        for s in inventory.services.values()
        if (not filters.zone or s.zone in filters.zone)
        and (not filters.unit or s.unit in filters.unit)
        and (not filters.site or any(x in filters.site for x in inventory.site_chain(s.site)))
        and not (filters.role or filters.platform or filters.tag or filters.limit)
    ]
    spans = ServiceStore(app.store(create=False)).spans(start, end)
    result = build_report(inventory, spans, start, end, label, str(zone), devices, services)
    if fmt in ("html", "xlsx"):  # the 通报: ranked tables, period, scope, footer, A4
        from govnet.cli.documents import emit_document
        from govnet.report.bulletins import availability_document

        emit_document(app, availability_document(result, app.lang, levels or LEVELS), fmt, output)
        return
    text = render(result, fmt, app.lang, app.console, levels or LEVELS)
    if text is not None:
        app.write(text, output)


@report.command("traffic")
@period_options
@click.option("--top", type=click.IntRange(1), default=None, help="Only the N busiest links.")
@filter_options
@format_option("table", "json", "csv", "html", "xlsx", "pdf")
@pass_app
def traffic(
    app: App,
    /,
    period: str,
    tz: str | None,
    top: int | None,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Per-link 95th percentile and peak utilisation, busiest first (from the samples and
    their 5-minute rollups)."""
    from govnet.monitor.history import traffic_report
    from govnet.report import traffic as traffic_report_render
    from govnet.store.monitor import MonitorStore

    filters = filters_from(kwargs)
    devices: list[str] | None = None
    if not filters.is_empty():
        inventory = app.inventory()
        check_filters(inventory, filters)
        devices = [d.name for d in select_devices(inventory, filters)]
    zone = local_zone(tz)
    now = time.time()
    start, end, label = parse_period(period, now, zone)
    end = min(end, now)
    step, links = traffic_report(MonitorStore(app.store(create=False)), start, end, devices)
    result = traffic_report_render.TrafficReport(start, end, label, zone, step, links[:top])
    if fmt in ("html", "xlsx", "pdf"):
        from govnet.cli.documents import emit_document, write_binary

        doc = traffic_report_render.document(result, app.lang)
        if fmt == "pdf":
            from govnet.report import document
            from govnet.report.pdf import html_to_pdf

            write_binary(app, html_to_pdf(document.to_html(doc)), output)
            return
        emit_document(app, doc, fmt, output)
        return
    text = traffic_report_render.render(result, fmt, app.lang, app.console)
    if text is not None:
        app.write(text, output)
