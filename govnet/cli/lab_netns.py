"""``govnet lab netns up|down|status|leak``: the isolation lab in network namespaces (root)."""

from __future__ import annotations

from pathlib import Path

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.errors import ExitCode, LabError
from govnet.i18n import _, tr
from govnet.lab import netns as lab_netns
from govnet.report.tabular import Column, emit_rows, to_json

prefix_option = click.option(
    "--prefix",
    default=lab_netns.DEFAULT_PREFIX,
    show_default=True,
    envvar="GOVNET_NETNS_PREFIX",
    help="Namespace name prefix: <prefix>-int, -leak, -ext, -inet [env GOVNET_NETNS_PREFIX].",
)

STATUS_COLUMNS = [
    Column("namespace", "Namespace"),
    Column("addresses", "Addresses"),
    Column("processes", "Processes", "right"),
]


@click.group()
def netns() -> None:
    """Internal, external and internet zones in network namespaces, a canary and a
    switchable leaky dual-homed host (root; no link to the host's network)."""


@netns.command()
@prefix_option
@click.option("--leak/--no-leak", default=False, help="Start with the leaky host forwarding.")
@pass_app
def up(app: App, /, prefix: str, leak: bool) -> None:
    """Build the namespaces from the inventory's zones (fails if they exist)."""
    p = lab_netns.plan(app.inventory(), prefix)
    lab_netns.up(p, leak)
    ext, internal = p.ns("ext"), p.ns("int")
    app.console.print(
        tr(
            app.lang,
            "netns lab up: {namespaces}; canary {canary} in {ext}; vantage {vantage} in "
            "{internal}; leak {leak}",
            namespaces=", ".join(p.namespaces),
            canary=p.canary,
            ext=ext,
            vantage=p.vantage,
            internal=internal,
            leak=tr(app.lang, "on") if leak else tr(app.lang, "off"),
        ),
        markup=False,
        highlight=False,
    )
    if not app.quiet:
        app.err.print(
            f"  ip netns exec {ext} govnet isolation canary --secret file:PATH &\n"
            f"  ip netns exec {internal} govnet isolation probe --from {p.zones['int']} "
            "--secret file:PATH\n"
            f"  govnet lab netns leak on --prefix {prefix}",
            markup=False,
            highlight=False,
        )


@netns.command()
@prefix_option
@pass_app
def down(app: App, /, prefix: str) -> None:
    """End processes left inside the namespaces and delete them (and their veths)."""
    removed = lab_netns.down(prefix)
    said = (
        tr(app.lang, "netns lab down: removed {removed}", removed=", ".join(removed))
        if removed
        else tr(app.lang, "netns lab {prefix!r} was not up", prefix=prefix)
    )
    app.console.print(said, markup=False, highlight=False)


@netns.command()
@prefix_option
@format_option("table", "json")
@pass_app
def status(app: App, /, prefix: str, fmt: str, output: Path | None) -> None:
    """Which namespaces exist, their addresses, and whether the leak is on (exit 3 if down)."""
    reason = lab_netns.unavailable()
    if reason:
        raise LabError(_("netns lab: {reason}", reason=reason))
    st = lab_netns.status(prefix)
    if fmt == "json":
        app.write(to_json(st.to_dict()), output)
    else:
        rows = [
            {"namespace": ns, "addresses": d["addresses"], "processes": d["processes"]}
            for ns, d in st.namespaces.items()
        ]
        leak = {True: "on", False: "off", None: "?"}[st.leak]
        title = tr(app.lang, "netns lab {prefix} (leak {leak})", prefix=prefix, leak=leak)
        if rows:
            emit_rows(app.console, rows, STATUS_COLUMNS, "table", app.lang, title=title)
        else:
            app.console.print(
                tr(app.lang, "netns lab {prefix!r} is not up", prefix=prefix),
                markup=False,
            )
    if not st.up:
        exit_with(ExitCode.UNREACHABLE)


@netns.command()
@click.argument("state", type=click.Choice(["on", "off"]))
@prefix_option
@pass_app
def leak(app: App, /, state: str, prefix: str) -> None:
    """Switch the dual-homed host's forwarding between internal and external."""
    lab_netns.set_leak(prefix, state == "on")
    app.console.print(
        tr(
            app.lang,
            "leak {state} ({prefix}-leak forwards: {forwards})",
            state=tr(app.lang, "on") if state == "on" else tr(app.lang, "off"),
            prefix=prefix,
            forwards=state == "on",
        ),
        markup=False,
        highlight=False,
    )
