"""``govnet dashboard``: the machine-room view, live or one frame (``--once``)."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import datetime

import click

from govnet.cli.common import App, pass_app
from govnet.cli.complete import complete_devices, complete_zones
from govnet.durations import parse_duration
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.textsafe import SafeConsole


def _moment(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise click.BadParameter(
            _("{value!r}: expected seconds since 1970 or an ISO time", value=value),
            param_hint="--now",
        ) from None


def _zone_labels(app: App) -> dict[str, tuple[str, str]]:
    """zone → (en, zh) from the inventory's zone labels; without an inventory (the dashboard
    only needs the store) the built-in names are used."""
    from govnet.cli.common import DEFAULT_INVENTORY

    if app.inventory_path is None and not DEFAULT_INVENTORY.exists():
        return {}
    zones = app.inventory().zones
    return {name: (z.label.get("en", name), z.label.get("zh", name)) for name, z in zones.items()}


@click.command("dashboard")
@click.option("--once", is_flag=True, help="Print one frame and exit (cron mails, screenshots).")
@click.option("--refresh", default="2s", show_default=True, help="Time between frames (≥ 0.25s).")
@click.option(
    "--rotate",
    default="15s",
    show_default=True,
    help="Turn pages this often when devices do not fit (0 = never).",
)
@click.option(
    "--zone", multiple=True, help="Only these zones (repeatable).", shell_complete=complete_zones
)
@click.option("--width", type=click.IntRange(60, 1000), default=None, help="Frame width.")
@click.option(
    "--height",
    type=click.IntRange(20, 1000),
    default=None,
    help="Frame height (--once: default as tall as needed).",
)
@click.option("--page", type=click.IntRange(1, None), default=1, help="Page to show (--once).")
@click.option(
    "--device",
    default=None,
    shell_complete=complete_devices,
    help="--once: one device's details (health, interfaces, sparklines).",
)
@click.option("--now", default=None, hidden=True, help="Render as of this time (tests).")
@pass_app
def dashboard(
    app: App,
    /,
    once: bool,
    refresh: str,
    rotate: str,
    zone: tuple[str, ...],
    width: int | None,
    height: int | None,
    page: int,
    device: str | None,
    now: str | None,
) -> None:
    """The machine room at a glance, from the monitor's store (govnetd runs elsewhere):
    devices by zone worst first, UPS and environment, busiest links, firing alerts.

    Live in the alternate screen until q or Ctrl-C (arrows, PgUp/PgDn, Home/End turn pages,
    Tab and Enter open a device's details, ? shows the keys); --once prints one frame.
    Zone titles are the inventory's zone labels."""
    from govnet.dashboard.live import run_live
    from govnet.dashboard.render import Frame, View, render, render_detail
    from govnet.dashboard.snapshot import read_detail, read_snapshot
    from govnet.store.monitor import MonitorStore

    try:
        every = parse_duration(refresh, "--refresh")
        turn = parse_duration(rotate, "--rotate")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    at = _moment(now)
    ms = MonitorStore(app.store(create=False))
    labels = _zone_labels(app)

    def frame(view: View) -> Frame:
        snap = read_snapshot(ms, at if at is not None else time.time(), zone, zone_labels=labels)
        return render(snap, view)

    def detail(name: str, view: View) -> Frame:
        return render_detail(read_detail(ms, name, at if at is not None else time.time()), view)

    if once:
        cols = width or (
            shutil.get_terminal_size((100, 30)).columns if sys.stdout.isatty() else 100
        )
        console = SafeConsole(
            width=cols, no_color=app.console.no_color or None, highlight=False, quiet=app.quiet
        )
        if device is not None:
            if not any(r[0] == device for r in ms.device_summaries()):
                raise GovnetError(
                    _(
                        "--device {device}: no state stored for it (govnet monitor "
                        "status lists the monitored devices)",
                        device=device,
                    )
                )
            shown = detail(device, View(cols, height, app.lang))
        else:
            shown = frame(View(cols, height, app.lang, page - 1))
        console.print(shown.renderable)
        return
    if not sys.stdout.isatty():
        raise GovnetError(_("the live dashboard needs a terminal; use --once for a single frame"))
    console = SafeConsole(width=width, height=height)
    try:
        run_live(frame, console, app.lang, every, turn, detail)
    except KeyboardInterrupt:
        return
