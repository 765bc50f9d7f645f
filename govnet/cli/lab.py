"""``govnet lab up|down|status``, ``govnet lab service down|up NAME``,
``govnet lab hostkey rotate DEVICE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.errors import ExitCode
from govnet.i18n import _, tr
from govnet.lab import launcher
from govnet.report.tabular import Column, emit_rows, to_json

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="GOVNET_LAB_DIR",
    help="Where the lab keeps device state, pid and log [env GOVNET_LAB_DIR; "
    "default ~/.local/state/govnet/lab].",
)

STATUS_COLUMNS = [
    Column("name", "Device"),
    Column("platform", "Platform"),
    Column("ssh", "SSH"),
    Column("ssh_state", "SSH state"),
    Column("snmp", "SNMP"),
    Column("snmp_state", "SNMP state"),
    Column("faults", "Faults"),
]


# Seeded lab faults that change what an audit of the lab finds, so they are served on request.
SCENARIOS = {
    "cross-zone-cable": "an LLDP-visible cable between int-acc-west and ext-acc-west "
    "(internal ↔ external): isolation.no-cross-zone-neighbor fails on both",
}


@click.group()
def lab() -> None:
    """Run the embedded lab: simulated SSH devices and SNMP agents on 127.0.0.1."""


@lab.command()
@state_dir_option
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(list(SCENARIOS)),
    help="Also serve the lab data seeded for a scenario (repeatable): "
    + "; ".join(f"{k}: {v}" for k, v in SCENARIOS.items()),
)
@pass_app
def up(app: App, state_dir: Path | None, scenarios: tuple[str, ...]) -> None:
    """Start the lab for the inventory's loopback devices (returns when all listen)."""
    inv = app.inventory()
    _served, refused = launcher.lab_devices(inv)
    for line in refused:
        app.err.print(
            "govnet: " + _("lab: skipping {line}", line=line), style="yellow", markup=False
        )
    path = app.inventory_path or Path("inventory/lab.yaml")
    st = launcher.up(path, state_dir, scenarios=scenarios)
    app.console.print(
        tr(
            app.lang,
            "lab up: {n_devices} devices (pid {pid}, state {state_dir})",
            n_devices=len(st.devices),
            pid=st.pid,
            state_dir=st.state_dir,
        ),
        markup=False,
        highlight=False,
    )


@lab.command()
@state_dir_option
@pass_app
def down(app: App, state_dir: Path | None) -> None:
    """Stop the lab (device state is kept for the next 'up')."""
    stopped = launcher.down(state_dir)
    said = tr(app.lang, "lab down") if stopped else tr(app.lang, "lab was not running")
    app.console.print(said, markup=False)


@lab.command()
@state_dir_option
@format_option("table", "json")
@pass_app
def status(app: App, state_dir: Path | None, fmt: str, output: Path | None) -> None:
    """Show whether the lab runs and probe each device (exit 3 if the lab is down)."""
    from govnet.lab.reachability import probe_devices

    st = launcher.status(state_dir)
    rows: list[dict[str, Any]] = probe_devices(st.devices, app.inventory()) if st.running else []
    if fmt == "json":
        app.write(to_json({**st.to_dict(), "devices": rows}), output)
    elif not st.running:
        app.console.print(tr(app.lang, "lab is not running"))
    else:
        title = tr(app.lang, "lab (pid {pid})", pid=st.pid)
        emit_rows(app.console, rows, STATUS_COLUMNS, "table", app.lang, title=title)
    if not st.running:
        exit_with(ExitCode.UNREACHABLE)


@lab.group()
def service() -> None:
    """Make a lab web service fail or answer again (for service checks)."""


def _switch_service(app: App, state_dir: Path | None, name: str, down: bool) -> None:
    from govnet.lab.http import set_down

    directory = state_dir or launcher.default_state_dir()
    changed = set_down(app.inventory(), directory, name, down)
    if down:
        said = tr(app.lang, "service {name} down (503)", name=name)
    else:
        said = tr(app.lang, "service {name} up", name=name)
    if not changed:
        said += tr(app.lang, " already")
    app.console.print(said, markup=False, highlight=False)


@service.command("down")
@state_dir_option
@click.argument("name")
@pass_app
def service_down(app: App, state_dir: Path | None, name: str) -> None:
    """Make service NAME answer 503 until 'govnet lab service up NAME'."""
    _switch_service(app, state_dir, name, True)


@service.command("up")
@state_dir_option
@click.argument("name")
@pass_app
def service_up(app: App, state_dir: Path | None, name: str) -> None:
    """Make service NAME answer 200 again."""
    _switch_service(app, state_dir, name, False)


@lab.group()
def hostkey() -> None:
    """The lab devices' SSH host keys (one per device, kept in the state dir)."""


@hostkey.command("rotate")
@state_dir_option
@click.argument("device")
@pass_app
def hostkey_rotate(app: App, state_dir: Path | None, device: str) -> None:
    """Give DEVICE a new SSH host key, as if it were replaced or re-keyed.

    govnet then refuses to talk to it (exit 3) until 'govnet hostkeys accept DEVICE'."""
    r = launcher.rotate_host_key(app.inventory(), device, state_dir)
    said = tr(
        app.lang,
        "{device}: new host key {new} (was {old})",
        device=device,
        new=r.new,
        old=r.old or tr(app.lang, "none"),
    )
    if r.live:
        said += tr(app.lang, "; the lab serves it now")
    else:
        said += tr(app.lang, "; served from the next 'govnet lab up'")
    app.console.print(said, markup=False, highlight=False)


def _add_netns() -> None:
    """``govnet lab netns …``: the isolation lab in network namespaces (govnet/lab/netns.py)."""
    from govnet.cli.lab_netns import netns

    lab.add_command(netns)


_add_netns()
