"""``govnet inventory validate|list|show|tree``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App, filter_options, filters_from, format_option, pass_app
from govnet.cli.complete import complete_any_name
from govnet.i18n import NP_, tr
from govnet.inventory import select_devices, select_terminals
from govnet.inventory.views import describe, device_row, site_tree
from govnet.report.inventory import entry_table as render_entry
from govnet.report.inventory import site_tree as render_tree
from govnet.report.tabular import Column, emit_rows, to_json

DEVICE_COLUMNS = [
    Column("name", "Device"),
    Column("zone", "Zone"),
    Column("site", NP_("inventory", "Site")),
    Column("unit", "Unit"),
    Column("role", "Role"),
    Column("platform", "Platform"),
    Column("address", "Address"),
    Column("ssh", "SSH"),
    Column("snmp", "SNMP"),
    Column("tags", "Tags"),
]
TERMINAL_COLUMNS = [
    Column("name", "Terminal"),
    Column("zone", "Zone"),
    Column("unit", "Unit"),
    Column("kind", "Kind"),
    Column("mac", "MAC"),
    Column("ip", "IP"),
    Column("owner", "Owner"),
    Column("os", "OS"),
]


@click.group()
def inventory() -> None:
    """Inspect and validate the inventory (zones, sites, units, devices, terminals)."""


@inventory.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_app
def validate(app: App, paths: tuple[Path, ...]) -> None:
    """Validate inventory files; print every error as FILE:LINE:COL and exit 2 if any."""
    from govnet.inventory import load_inventory

    inv = load_inventory(list(paths)) if paths else app.inventory()
    n_terminals = len(inv.terminals)  # reads the terminals CSVs: their errors and warnings too
    for warning in inv.warnings:
        app.err.print(str(warning), style="yellow", markup=False, highlight=False, soft_wrap=True)
    summary = tr(
        app.lang,
        "OK: {n_zones} zones, {n_sites} sites, {n_units} units, {n_devices} devices, "
        "{n_terminals} terminals, {n_links} links",
        n_zones=len(inv.zones),
        n_sites=len(inv.sites),
        n_units=len(inv.units),
        n_devices=len(inv.devices),
        n_terminals=n_terminals,
        n_links=len(inv.links),
    )
    if inv.warnings:
        summary += tr(app.lang, " ({n_warnings} warnings)", n_warnings=len(inv.warnings))
    app.console.print(summary, markup=False, highlight=False)


@inventory.command("list")
@click.option(
    "--terminals", "what", flag_value="terminals", help="List terminals instead of devices."
)
@click.option("--devices", "what", flag_value="devices", default=True, hidden=True)
@filter_options
@format_option("table", "json", "csv")
@pass_app
def list_(app: App, /, what: str, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """List devices (or --terminals) matching the filters."""
    inv = app.inventory()
    filters = filters_from(kwargs)
    if what == "terminals":
        rows = [t.to_dict() for t in select_terminals(inv, filters)]
        columns = TERMINAL_COLUMNS
    else:
        rows = [device_row(inv, d) for d in select_devices(inv, filters)]
        columns = DEVICE_COLUMNS
    text = emit_rows(app.console, rows, columns, fmt, app.lang)
    if text is not None:
        app.write(text, output)


@inventory.command()
@click.argument("name", shell_complete=complete_any_name)
@format_option("table", "json")
@pass_app
def show(app: App, name: str, fmt: str, output: Path | None) -> None:
    """Show one device, terminal, unit, site or zone with every inherited value resolved."""
    data = describe(app.inventory(), name)
    if fmt == "json":
        app.write(to_json(data), output)
        return
    app.console.print(render_entry(data))


@inventory.command()
@filter_options
@format_option("table", "json")
@pass_app
def tree(app: App, /, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """Draw city → county → town with device and terminal counts per zone."""
    inv = app.inventory()
    filters = filters_from(kwargs)
    roots = site_tree(inv, select_devices(inv, filters), select_terminals(inv, filters))
    if fmt == "json":
        app.write(to_json([r.to_dict() for r in roots]), output)
        return
    title = tr(app.lang, "Sites (devices / terminals per zone)")
    app.console.print(render_tree(roots, app.lang, title))
