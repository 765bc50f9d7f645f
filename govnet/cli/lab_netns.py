"""``govnet lab netns up|down|status|leak``: the isolation lab in network namespaces (root)."""

from __future__ import annotations

from pathlib import Path

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.errors import ExitCode, LabError
from govnet.i18n import pick, tr
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
    Column("namespace", "Namespace", "命名空间"),
    Column("addresses", "Addresses", "地址"),
    Column("processes", "Processes", "进程数", "right"),
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
        pick(
            app.lang,
            f"netns lab up: {', '.join(p.namespaces)}; canary {p.canary} in {ext}; "
            f"vantage {p.vantage} in {internal}; leak {'on' if leak else 'off'}",
            f"命名空间实验网络已建立：{', '.join(p.namespaces)}；探针接收端 {p.canary}（{ext}）；"
            f"探测点 {p.vantage}（{internal}）；违规外联{'开启' if leak else '关闭'}",
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
    msg = (
        (f"netns lab down: removed {', '.join(removed)}", f"已删除：{', '.join(removed)}")
        if removed
        else (f"netns lab {prefix!r} was not up", f"命名空间实验网络 {prefix} 未建立")
    )
    app.console.print(pick(app.lang, *msg), markup=False, highlight=False)


@netns.command()
@prefix_option
@format_option("table", "json")
@pass_app
def status(app: App, /, prefix: str, fmt: str, output: Path | None) -> None:
    """Which namespaces exist, their addresses, and whether the leak is on (exit 3 if down)."""
    reason = lab_netns.unavailable()
    if reason:
        raise LabError(f"netns lab: {reason}")
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
        pick(
            app.lang,
            f"leak {state} ({prefix}-leak forwards: {state == 'on'})",
            f"违规外联已{'开启' if state == 'on' else '关闭'}（{prefix}-leak）",
        ),
        markup=False,
        highlight=False,
    )
