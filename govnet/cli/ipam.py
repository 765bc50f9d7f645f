"""``govnet ipam list|allocate|release``: VLANs and subnets per unit and zone, in the store."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from govnet.cli.common import App, format_option, pass_app
from govnet.cli.complete import complete_units, complete_zones
from govnet.errors import GovnetError
from govnet.i18n import N_, NP_, _, tr
from govnet.provision import ipam as service
from govnet.report.tabular import Column, emit_rows, to_json

COLUMNS = [
    Column("zone", "Zone"),
    Column("unit", "Unit"),
    Column("vlan", "VLAN", "right"),
    Column("prefix", "Subnet"),
    Column("gateway", "Gateway"),
    Column("allocated_at", "Allocated"),
    Column("note", "Note"),
]
USAGE_COLUMNS = [
    Column("zone", "Zone"),
    Column("vlans", "VLAN pools"),
    Column("prefixes", "Prefix pools"),
    Column("allocated", NP_("ipam", "Allocated"), "right"),
    Column("free_vlans", "Free VLANs", "right"),
]


def _zone(app: App, unit: str, zone: str | None) -> str:
    """``--zone``, or the unit's only zone."""
    inv = app.inventory()
    if zone is not None:
        return zone
    found = inv.units.get(unit)
    if found is not None and len(found.zones) == 1:
        return found.zones[0]
    raise GovnetError(
        _(
            "{unit}: pass --zone (the unit is on {zones})",
            unit=unit,
            zones=", ".join(found.zones) if found else "no zone",
        )
    )


@click.group()
def ipam() -> None:
    """VLAN and subnet allocation per unit (单位) and zone, from the zones' pools.

    Allocation takes the next free VLAN and subnet deterministically, never hands one out
    twice (also under concurrent allocations) and skips subnets the inventory already uses."""


@ipam.command("list")
@click.option("--zone", shell_complete=complete_zones, help="Only this zone.")
@format_option("table", "json", "csv")
@pass_app
def list_(app: App, zone: str | None, fmt: str, output: Path | None) -> None:
    """Allocations, and per zone how much of its pools is left."""
    inv = app.inventory()
    if zone is not None and zone not in inv.zones:
        raise GovnetError(
            _(
                "--zone {zone!r}: no such zone (known: {zones})",
                zone=zone,
                zones=", ".join(sorted(inv.zones)),
            )
        )
    taken = service.allocations(app.store(create=False), zone)
    rows = [a.to_dict() for a in taken]
    usage = [u for u in service.usage(inv, taken) if zone is None or u["zone"] == zone]
    if fmt == "json":
        app.write(to_json({"allocations": rows, "pools": usage}), output)
        return
    text = emit_rows(app.console, rows, COLUMNS, fmt, app.lang, tr(app.lang, "IPAM"))
    if text is not None:
        app.write(text, output)
        return
    emit_rows(app.console, usage, USAGE_COLUMNS, fmt, app.lang, tr(app.lang, "pools"))


@ipam.command()
@click.argument("unit", shell_complete=complete_units)
@click.option(
    "--zone",
    shell_complete=complete_zones,
    help="Zone to allocate in [default: the unit's only zone].",
)
@click.option("--prefix-len", default=24, show_default=True, help="Subnet size (8-30).")
@click.option(
    "--vlan", type=int, help="Record this VLAN (an existing network) instead of the next free."
)
@click.option("--prefix", help="Record this subnet (an existing network) instead of the next free.")
@click.option("--note", default="", help="Free text kept with the allocation.")
@format_option("table", "json")
@pass_app
def allocate(
    app: App,
    unit: str,
    zone: str | None,
    prefix_len: int,
    vlan: int | None,
    prefix: str | None,
    note: str,
    fmt: str,
    output: Path | None,
) -> None:
    """Give UNIT a VLAN and a subnet in its zone (returns its allocation if it has one)."""
    net = None
    if prefix is not None:
        try:
            net = ipaddress.ip_network(prefix)
        except ValueError as exc:
            raise GovnetError(_("--prefix {prefix!r}: {exc}", prefix=prefix, exc=exc)) from None
    req = service.Request(unit, _zone(app, unit, zone), prefix_len, vlan, net, note)
    alloc, created = service.allocate(app.store(), app.inventory(), req)
    if fmt == "json":
        app.write(to_json({**alloc.to_dict(), "created": created}), output)
        return
    en = N_("allocated") if created else N_("already allocated")
    app.console.print(
        f"{unit} {tr(app.lang, en)}: zone {alloc.zone}, VLAN {alloc.vlan}, "
        f"{alloc.prefix} (gateway {alloc.gateway})",
        markup=False,
        highlight=False,
    )


@ipam.command()
@click.argument("unit", shell_complete=complete_units)
@click.option("--zone", shell_complete=complete_zones, help="Zone [default: the unit's only zone].")
@pass_app
def release(app: App, unit: str, zone: str | None) -> None:
    """Free UNIT's VLAN and subnet in the zone (the devices are not touched)."""
    alloc = service.release(app.store(), _zone(app, unit, zone), unit)
    app.console.print(
        tr(
            app.lang,
            "released: {unit} zone {zone} VLAN {vlan} {prefix}",
            unit=unit,
            zone=alloc.zone,
            vlan=alloc.vlan,
            prefix=alloc.prefix,
        ),
        markup=False,
        highlight=False,
    )
