"""``govnet discover``: LLDP/CDP neighbours compared with the inventory and the isolation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App, exit_with, filter_options, filters_from, format_option, pass_app
from govnet.errors import GovnetError
from govnet.i18n import _, tr

SWITCH_ROLES = ("core", "aggregation", "access", "router", "firewall")


@click.command()
@filter_options
@click.option(
    "--via",
    type=click.Choice(["ssh", "snmp"]),
    default="ssh",
    show_default=True,
    help="Read neighbours over SSH (LLDP, and CDP on Cisco) or SNMP (LLDP-MIB lldpRemTable).",
)
@click.option("--workers", default=16, show_default=True, help="Devices asked at once.")
@click.option("--timeout", type=float, help="Connect timeout per device (s) [inventory value].")
@click.option("--retries", default=1, show_default=True, help="Extra attempts on timeout.")
@format_option("table", "json", "csv")
@pass_app
def discover(
    app: App,
    /,
    via: str,
    workers: int,
    timeout: float | None,
    retries: int,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Read LLDP (and CDP on Cisco) neighbours over SSH from the inventory's devices and report
    neighbours the inventory lacks (candidate entries to paste), links missing from `links`,
    declared links not seen, and cables between isolated zones that bypass the gap (the
    isolation audit's isolation.no-cross-zone-neighbor). Exit 1 on findings, 3 if some device
    could not be read."""
    from govnet.collect.fetch import CollectOptions
    from govnet.collect.neighbors import (
        collect_neighbors,
        collect_neighbors_snmp,
        lldp_parsable,
        neighbor_commands,
    )
    from govnet.inventory import select_devices
    from govnet.isolation.discovery import analyse
    from govnet.platforms import platforms
    from govnet.report.discovery import emit
    from govnet.transport.ssh import SshOptions

    inventory = app.inventory()
    selected = select_devices(inventory, filters_from(kwargs))
    if via == "snmp":
        devices = [d for d in selected if d.snmp is not None and d.role in SWITCH_ROLES]
    else:
        devices = [
            d
            for d in selected
            if platforms()[d.platform].netmiko and d.credentials and neighbor_commands(d.platform)
        ]
        unparsable = sorted({d.platform for d in devices if not lldp_parsable(d.platform)})
        for platform in unparsable:
            app.err.print(
                f"govnet: discover: skipping {platform} devices over SSH (no LLDP template); "
                "use --via snmp for them",
                style="yellow",
                markup=False,
            )
        devices = [d for d in devices if d.platform not in unparsable]
    if not devices:
        raise GovnetError(
            _("no switch matches the filters with LLDP over {protocol}", protocol=via.upper())
        )
    if via == "snmp":
        read = collect_neighbors_snmp(devices)
    else:
        options = CollectOptions(workers, SshOptions(timeout=timeout, retries=retries))
        label = tr(app.lang, "reading neighbours")
        with app.progress(len(devices), label) as advance:
            read = collect_neighbors(devices, options, on_done=advance)
    result = analyse(inventory, read)
    text = emit(app.console, result, inventory, fmt, app.lang)
    if text is not None:
        app.write(text, output)
    code = result.exit_code()
    if code:
        exit_with(code)
