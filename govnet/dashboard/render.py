"""One frame of the machine-room view, laid out to an exact width and height.

::

    header   devices per state, firing alerts, time, whether the daemon is alive
    zones    per zone (内网区 / 外网区 …): a summary line, then device tiles worst first
             (down, unreachable, alerting, unknown, up), grouped by rack/site; pages when
             they do not fit
    services (when the inventory declares any) one line each, worst first: state,
             response time, days left on the certificate, the error
    power    UPS source, charge, minutes left; temperatures and humidity against the
             machine-room ranges; leaks            │ top interfaces by utilisation, with bars
    alerts   firing alerts, newest first (suppressed ones dimmed)
    footer   page and keys

Every section gets a line budget from the height (80×24 is usable; 2,000 devices read as
summaries and the worst tiles), so the frame never scrolls and renders the same every time
for the same snapshot (the golden test).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from govnet.core.vocabulary import Severity
from govnet.dashboard.snapshot import (
    SPARK_WINDOW,
    ActiveAlert,
    Detail,
    DeviceTile,
    Sensor,
    ServiceTile,
    Snapshot,
    Ups,
)
from govnet.durations import format_duration
from govnet.i18n import N_, ntr, tr
from govnet.monitor.model import DEVICE_STATE_LABELS, DeviceState
from govnet.textsafe import visible

if TYPE_CHECKING:
    from govnet.monitor.history import Series

TEMP_RANGE = (18.0, 27.0)  # GB 50174-2017, inlet
HUMIDITY_RANGE = (20.0, 80.0)
SPARK = "▁▂▃▄▅▆▇█"

ZONE_LABELS = {
    "internal": N_("Internal zone"),
    "external": N_("External zone"),
    "internet": N_("Internet zone"),
    "classified": N_("Classified zone"),
}
ZONE_ORDER = ("internal", "external", "internet", "classified")
STATE_STYLE = {"up": "green", "unreachable": "yellow", "down": "bold red", "unknown": "dim"}
STATE_MARK = {"up": "●", "unreachable": "◐", "down": "✖", "unknown": "○"}
ALERT_MARK = "▲"
HEALTH_STYLE = {"!": "bold red", "^": "bold yellow"}  # DeviceHealth.flag
STATE_WORDS = {s.value: DEVICE_STATE_LABELS[s] for s in DeviceState}  # msgids: 正常, 宕机…
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
# English tiles abbreviate; Chinese ones say the one label (core.vocabulary.SEVERITY_LABELS)
SEVERITY_SHORT = {"critical": "CRIT", "high": "HIGH", "medium": "MED", "low": "LOW"}
SEVERITY_WORDS = {s.value: s.value for s in Severity}  # the header: "(2 critical)"
UPS_SOURCE = {
    3: (N_("MAINS"), "green"),
    4: (N_("BYPASS"), "yellow"),
    5: (N_("BATTERY"), "bold red"),
    2: (N_("OUTPUT OFF"), "bold red"),
}
IF_SHORT = (
    ("TenGigabitEthernet", "Te"),
    ("XGigabitEthernet", "XGE"),
    ("GigabitEthernet", "GE"),
    ("FastEthernet", "Fa"),
    ("Ten-GigabitEthernet", "XGE"),
    ("Bridge-Aggregation", "BAGG"),
    ("Port-channel", "Po"),
    ("Vlan-interface", "Vlan"),
    ("Vlanif", "Vlanif"),
)


@dataclass(frozen=True)
class View:
    width: int = 100
    height: int | None = None  # None: as tall as the content needs (mail, screenshots)
    lang: str = "en"
    page: int = 0
    live: bool = False  # show the keys in the footer
    selected: str = ""  # the device tile the cursor is on (live: Tab, Enter opens it)
    help: bool = False  # the keys instead of the device tiles (live: ?)


@dataclass(frozen=True)
class Frame:
    renderable: RenderableType
    pages: int
    devices: tuple[str, ...] = ()  # the device tiles on this page, in order (live: selection)


def _t(view: View, en: str, /, **params: object) -> str:
    return tr(view.lang, en, **params)


def _severity(view: View, severity: str, english: Mapping[str, str] = SEVERITY_SHORT) -> str:
    """CRIT/HIGH/MED/LOW on English tiles (``english``); 严重/高/中/低 (the one label table)
    in Chinese."""
    if view.lang != "zh":
        return english.get(severity, severity)
    try:
        return Severity(severity).label(view.lang)
    except ValueError:
        return severity


def short_interface(name: str) -> str:
    for long, short in IF_SHORT:
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def clip(text: str, width: int) -> str:
    """``text`` (device/store data: controls made visible) cut to ``width`` cells."""
    text = visible(text, keep_layout=False)
    if width <= 0:
        return ""
    if Text(text).cell_len <= width:
        return text
    out = Text(text)
    out.truncate(max(width - 1, 0))
    return out.plain + "…"


def sparkline(
    points: Sequence[tuple[float, float]],
    now: float,
    width: int,
    lo: float,
    hi: float,
    window: float = 3600.0,
) -> str:
    """The last ``window`` seconds in ``width`` cells, each the average of its slice."""
    if width <= 0:
        return ""
    bins: list[list[float]] = [[] for _ in range(width)]
    start = now - window
    for ts, value in points:
        if start <= ts <= now:
            i = min(width - 1, int((ts - start) / window * width))
            bins[i].append(value)
    span = hi - lo if hi > lo else 1.0
    out = []
    for values in bins:
        if not values:
            out.append(" ")
            continue
        level = (sum(values) / len(values) - lo) / span
        out.append(SPARK[max(0, min(len(SPARK) - 1, int(level * len(SPARK))))])
    return "".join(out)


# ------------------------------------------------------------------------------ frame


def render(snap: Snapshot, view: View) -> Frame:
    width = max(view.width, 60)
    inner = width - 4  # panel borders and padding
    if view.height is not None:
        zones_lines, service_lines, middle_lines, alert_lines = _budget(snap, view, inner)
    else:
        zones_lines = _natural_zone_lines(snap, inner)
        middle_lines = max(3, min(10, max(len(_power_lines(snap, view, 40, 99)), len(snap.links))))
        alert_lines = max(1, min(15, len(snap.alerts)))
        service_lines = min(12, len(snap.services))
    zone_text, pages, shown = _zones(snap, view, inner, zones_lines)
    if view.help:
        zone_text = _help_lines(view, inner)
    left_w = max(30, (width * 45) // 100)
    right_w = width - left_w
    power = _power_lines(snap, view, left_w - 4, middle_lines)
    links = _link_lines(snap, view, right_w - 4, middle_lines)
    middle = Table.grid(expand=True)
    middle.add_column(width=left_w)
    middle.add_column(width=right_w)
    middle.add_row(
        _panel(power, _t(view, "Power & environment"), middle_lines),
        _panel(links, _t(view, "Busiest links"), middle_lines),
    )
    zones_title = _t(view, "Keys") if view.help else _t(view, "Devices by zone")
    parts: list[RenderableType] = [
        _header(snap, view, width),
        _panel(zone_text, zones_title, zones_lines),
    ]
    if snap.services:
        parts.append(
            _panel(
                _service_lines(snap, view, inner, service_lines),
                _services_title(snap, view),
                service_lines,
            )
        )
    parts += [
        middle,
        _panel(
            _alert_lines(snap, view, inner, alert_lines), _alerts_title(snap, view), alert_lines
        ),
        _footer(view, pages, width),
    ]
    return Frame(Group(*parts), pages, tuple(shown))


def _budget(snap: Snapshot, view: View, inner: int) -> tuple[int, int, int, int]:
    """Lines inside the zones, services, power/links and alerts panels, shared by what each
    has to show (an alert panel with two alerts gets two lines, the devices the rest), so the
    frame is exactly ``view.height`` rows and no panel keeps empty rows another one needs."""
    assert view.height is not None
    body = max(view.height, 20) - 2  # header and footer
    borders = 6 + (2 if snap.services else 0)
    free = body - borders
    need_zones = _natural_zone_lines(snap, inner, cap=free)
    need_services = len(snap.services)
    left_w = max(30, (max(view.width, 60) * 45) // 100)
    need_middle = max(len(_power_lines(snap, view, left_w - 4, 99)), len(snap.links), 1)
    need_alerts = max(1, len(snap.alerts))
    zones = min(need_zones, 2)
    services = min(need_services, 1)
    middle = min(need_middle, 3)
    alerts = min(need_alerts, 2)
    free -= zones + services + middle + alerts

    def grant(current: int, need: int, cap: int) -> int:
        nonlocal free
        more = max(0, min(need, cap) - current)
        more = min(more, free)
        free -= more
        return current + more

    zones = grant(zones, need_zones, round(body * 0.6))
    middle = grant(middle, need_middle, round(body * 0.3))
    services = grant(services, need_services, max(1, round(body * 0.15)))
    alerts = grant(alerts, need_alerts, round(body * 0.3))
    zones = grant(zones, need_zones, body)
    alerts = grant(alerts, need_alerts, body)
    middle = grant(middle, min(need_middle, 10), body)
    zones += free  # what nobody needs: below the device tiles
    return zones, services, middle, alerts


def _help_lines(view: View, inner: int) -> list[Text]:
    keys = [
        ("n  space  PgDn  ↓  →", N_("next page")),
        ("p  PgUp  ↑  ←", N_("previous page")),
        ("Home  End", N_("first / last page")),
        ("Tab  Shift-Tab", N_("select a device")),
        ("Enter", N_("device details (Esc: back)")),
        ("?", N_("this help (Esc closes it)")),
        ("q  Ctrl-C", N_("quit")),
    ]
    out = []
    for key, said in keys:
        line = Text(key.ljust(22), style="bold")
        line.append(_t(view, said))
        line.truncate(inner, overflow="ellipsis")
        out.append(line)
    return out


def _panel(lines: list[Text], title: str, height: int) -> Panel:
    padded = list(lines[:height]) + [Text("")] * max(0, height - len(lines))
    body = Text("\n").join(padded) if padded else Text("")
    return Panel(body, title=title, title_align="left", padding=(0, 1), height=height + 2)


# ------------------------------------------------------------------------------ header


def _header(snap: Snapshot, view: View, width: int) -> Table:
    counts = {s: 0 for s in STATE_MARK}
    for d in snap.devices:
        counts[d.state] = counts.get(d.state, 0) + 1
    left = Text()
    title = _t(view, "govnet machine room") if width >= 120 else "govnet"
    left.append(title, style="bold")
    left.append(f"  {len(snap.devices)}" + _t(view, " devices: "))
    for state in ("down", "unreachable", "unknown", "up"):
        if counts.get(state):
            left.append(f"{STATE_MARK[state]}{counts[state]} ", style=STATE_STYLE[state])
    firing = [a for a in snap.alerts if not a.suppressed]
    crit = sum(1 for a in firing if a.severity == "critical")
    left.append(
        " " + ntr(view.lang, "{n} alert", "{n} alerts", len(firing)),
        style="bold red" if crit else "yellow" if firing else "green",
    )
    if crit:
        said = _t(
            view,
            " ({crit} {critical})",
            crit=crit,
            critical=_severity(view, "critical", SEVERITY_WORDS),
        )
        left.append(said, style="bold red")
    stamp = "%Y-%m-%d %H:%M:%S" if width >= 120 else "%m-%d %H:%M:%S"
    right = Text(" " + time.strftime(stamp, time.localtime(snap.now)))
    if snap.daemon_alive:
        right.append(" " + _t(view, "daemon ok"), style="green")
    else:
        right.append(" " + _t(view, "NO DAEMON"), style="bold red")
    newest = snap.newest_poll
    if newest is not None:
        age = short_age(snap.now - newest)
        fresh = not any(d.last_poll == newest and d.stale(snap.now) for d in snap.devices)
        right.append(" " + _t(view, "data {age} old", age=age), style="" if fresh else "bold red")
    grid = Table.grid(expand=True)
    grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    grid.add_column(no_wrap=True, justify="right")
    grid.add_row(left, right)
    return grid


def short_age(seconds: float) -> str:
    """45s, 12m, 3h, 2d: an age that fits a tile."""
    seconds = max(0.0, seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _footer(view: View, pages: int, width: int) -> Text:
    parts = []
    if pages > 1:
        parts.append(
            _t(
                view,
                "page {value}/{pages}",
                value=view.page % pages + 1,
                pages=pages,
            )
        )
    if view.live:
        parts.append(_t(view, "n/p: page  Enter: details  ?: keys  q: quit"))
    else:
        parts.append(_t(view, "details: govnet alerts list · govnet monitor status"))
    return Text(clip("  ·  ".join(parts), width), style="dim", no_wrap=True)


# ------------------------------------------------------------------------------ zones


def _zone_order(zones: Sequence[str]) -> list[str]:
    known = [z for z in ZONE_ORDER if z in zones]
    return known + sorted(z for z in zones if z not in ZONE_ORDER)


def _tile_width(devices: Sequence[DeviceTile]) -> int:
    longest = max((len(d.name) for d in devices), default=8)
    flags = any(d.health is not None and d.health.flag for d in devices)
    return min(max(longest, 6), 16) + 3 + (2 if flags else 0)  # mark, space, name, [flag], gap


def _natural_zone_lines(snap: Snapshot, inner: int, cap: int = 16) -> int:
    zones: dict[str, list[DeviceTile]] = {}
    for d in snap.devices:
        zones.setdefault(d.zone, []).append(d)
    per_line = max(1, inner // _tile_width(snap.devices))
    total = sum(1 + math.ceil(len(ds) / per_line) for ds in zones.values())
    return max(1, min(total, cap))


def _zones(snap: Snapshot, view: View, inner: int, lines: int) -> tuple[list[Text], int, list[str]]:
    if not snap.devices:
        msg = _t(view, "no device states yet: is govnetd running? (govnet monitor run)")
        return [Text(msg, style="yellow")], 1, []
    zones: dict[str, list[DeviceTile]] = {}
    for d in snap.devices:
        zones.setdefault(d.zone, []).append(d)
    order = _zone_order(list(zones))
    tile_w = _tile_width(snap.devices)
    per_line = max(1, inner // tile_w)
    # every zone its summary line, tile lines shared by need (at least one each when possible)
    spare = max(0, lines - len(order))
    need = {z: math.ceil(len(zones[z]) / per_line) for z in order}
    grant = {z: 0 for z in order}
    while spare > 0 and any(grant[z] < need[z] for z in order):
        for z in sorted(order, key=lambda z: (grant[z], -need[z])):
            if spare and grant[z] < need[z]:
                grant[z] += 1
                spare -= 1
                break
    out: list[Text] = []
    pages = 1
    names: list[str] = []
    for z in order:
        ranked = sorted(((d.rank, d) for d in zones[z]), key=lambda rd: rd[0])
        devices = [d for _, d in ranked]
        out.append(_zone_summary(z, devices, view, inner, snap))
        capacity = grant[z] * per_line
        if capacity <= 0:
            continue
        if len(devices) <= capacity:
            shown, more = devices, 0
        else:
            slots = capacity - 1  # the last slot says how many more
            # devices in trouble stay on every page while the healthy ones turn over
            pinned = [d for r, d in ranked if r[0] < 5]
            rest = devices[len(pinned) :]
            if len(pinned) >= slots:
                pinned, rest = [], devices
            per_page = slots - len(pinned)
            zone_pages = math.ceil(len(rest) / per_page)
            pages = max(pages, zone_pages)
            start = (view.page % zone_pages) * per_page
            shown = pinned + rest[start : start + per_page]
            more = len(devices) - len(shown)
        names += [d.name for d in shown]
        tiles = [_tile(d, tile_w, snap.now, d.name == view.selected) for d in shown]
        if more:
            tiles.append(Text(f"+{more}".ljust(tile_w)[:tile_w], style="bold"))
        for i in range(0, len(tiles), per_line):
            out.append(Text("").join(tiles[i : i + per_line]))
    return out[:lines], pages, names


def _zone_summary(
    zone: str, devices: Sequence[DeviceTile], view: View, inner: int, snap: Snapshot
) -> Text:
    labels = snap.zone_labels.get(zone)  # the inventory's own (en, zh): data, not msgids
    if labels:
        name = (labels[1] or labels[0]) if view.lang == "zh" else (labels[0] or labels[1])
    else:
        name = _t(view, ZONE_LABELS.get(zone, zone))
    text = Text(name or zone, style="bold")
    text.append(_t(view, " · {n_devices} devices:", n_devices=len(devices)))
    counts: dict[str, int] = {}
    for d in devices:
        counts[d.state] = counts.get(d.state, 0) + 1
    for state in ("down", "unreachable", "unknown", "up"):
        if counts.get(state):
            word = _t(view, STATE_WORDS[state])
            text.append(f" {STATE_MARK[state]} {counts[state]} {word}", style=STATE_STYLE[state])
    stale = sum(1 for d in devices if d.stale(snap.now))
    if stale:
        text.append(_t(view, " · {stale} stale", stale=stale), style="dim")
    alerting = sum(1 for d in devices if d.alerts)
    if alerting:
        text.append(_t(view, " · {alerting} alerting", alerting=alerting), style="red")
    text.truncate(inner, overflow="ellipsis")
    return text


def _tile(d: DeviceTile, width: int, now: float, selected: bool = False) -> Text:
    mark, style = STATE_MARK.get(d.state, "?"), STATE_STYLE.get(d.state, "")
    if d.state == "up" and d.alerts:  # up, but something on it is alerting
        mark, style = ALERT_MARK, SEVERITY_STYLE.get(d.worst, "yellow")
    label = clip(d.name, width - 3)
    if d.stale(now):  # the last state the daemon saw, long ago: grey, with its age
        age = short_age(d.age(now) or 0.0)
        label = clip(d.name, max(1, width - 4 - len(age))) + " " + age
        style = "dim"
    tile = Text(mark + " ", style=style)
    flag = d.health.flag if d.health is not None and not d.stale(now) else ""
    if flag:  # a failed fan/PSU/board (!) or running hot/busy (^): the last cell says so
        label = clip(label, width - 4)
        tile.append(label + " " * max(0, width - 4 - Text(label).cell_len), style=style)
        tile.append(flag + " ", style=HEALTH_STYLE[flag])
    else:
        tile.append(label + " " * max(0, width - 2 - Text(label).cell_len), style=style)
    if selected:
        tile.stylize("reverse", 0, width - 1)
    return tile


# ------------------------------------------------------------------------------ services


def _services_title(snap: Snapshot, view: View) -> str:
    n = len(snap.services)
    bad = sum(1 for t in snap.services if t.state != "up")
    if bad:
        return _t(view, "Services ({n}, {bad} not up)", n=n, bad=bad)
    return _t(view, "Services ({n})", n=n)


def _service_lines(snap: Snapshot, view: View, width: int, lines: int) -> list[Text]:
    """``✖ portal  门户网站  down 2m  --  cert 45d  http: HTTP 503 …`` worst first."""
    tiles: list[ServiceTile] = snap.services
    shown = tiles[:lines]
    more = len(tiles) - len(shown)
    if more:
        shown = tiles[: lines - 1]
        more = len(tiles) - len(shown)
    name_w = min(16, max((len(t.name) for t in shown), default=6))
    label_w = 18 if width >= 96 else 12
    out: list[Text] = []
    for t in shown:
        mark, style = STATE_MARK.get(t.state, "?"), STATE_STYLE.get(t.state, "")
        if t.state == "up" and t.alerts:
            mark, style = ALERT_MARK, SEVERITY_STYLE.get(t.worst, "yellow")
        line = Text(mark + " ", style=style)
        line.append(clip(t.name, name_w).ljust(name_w) + " ", style="bold")
        label = t.label_zh if view.lang == "zh" else t.label_en
        label = clip(label or t.label_en or t.label_zh, label_w)
        line.append(label + " " * max(1, label_w + 1 - Text(label).cell_len))
        word = _t(view, STATE_WORDS.get(t.state, t.state))
        if t.state != "up" and t.since:
            word += " " + format_duration(max(0.0, snap.now - t.since))
        line.append(word + " " * max(1, 13 - Text(word).cell_len), style=style)
        speed = "--" if t.ms is None or t.state != "up" else f"{t.ms:.0f} ms"
        line.append(speed.rjust(8) + "  ")
        if t.cert_days is not None:
            days = f"{t.cert_days:.0f}"
            cert = _t(view, "cert {days}d", days=days)
            line.append(cert, style="bold red" if t.cert_days < 30 else "green")
            line.append("  ")
        if t.state != "up" and t.error:
            line.append(visible(t.error, keep_layout=False), style="dim")
        line.truncate(width, overflow="ellipsis")
        out.append(line)
    if more:
        hint = _t(view, "+{more} more: ", more=more) + "govnet report availability"
        out.append(Text(hint, style="dim"))
    return out


# ------------------------------------------------------------------------------ power


def _power_lines(snap: Snapshot, view: View, width: int, lines: int) -> list[Text]:
    out: list[Text] = []
    for u in snap.ups:
        out.append(_ups_line(snap, u, view, width))
    leaks = [s for s in snap.sensors if s.metric == "leak"]
    wet = [s for s in leaks if s.value == 1.0]
    if wet:
        names = ", ".join(f"{s.device} {s.name}" for s in wet)
        out.append(
            Text(clip(_t(view, "WATER LEAK: {names}", names=names), width), style="bold red")
        )
    elif leaks:
        n = len(leaks)
        out.append(
            Text(
                ntr(view.lang, "Leak: none ({n} sensor)", "Leak: none ({n} sensors)", n),
                style="green",
            )
        )
    for metric in ("temperature_c", "humidity_pct"):
        for s in snap.sensors:
            if s.metric == metric:
                out.append(_sensor_line(snap, s, view, width))
    failed = sorted({f"{s.device} {s.name}" for s in snap.sensors if not s.ok})
    if failed:
        label = _t(view, "sensor failed: ") + ", ".join(failed)
        out.append(Text(clip(label, width), style="yellow"))
    if not out:
        out.append(Text(_t(view, "no UPS or sensors monitored"), style="dim"))
    if len(out) > lines:
        more = len(out) - lines + 1
        out = [*out[: lines - 1], Text(_t(view, "+{more} more", more=more), style="dim")]
    return out


def _ups_line(snap: Snapshot, u: Ups, view: View, width: int) -> Text:
    line = Text(clip(u.device, 8).ljust(9))
    if u.state in ("down", "unreachable"):
        line.append(_t(view, STATE_WORDS[u.state]).upper(), style="bold red")
        return line
    source = UPS_SOURCE.get(int(u.source)) if u.source is not None else None
    if source:
        line.append(_t(view, source[0]), style=source[1])
    if u.battery in (3.0, 4.0):
        line.append(
            " " + (_t(view, "LOW") if u.battery == 3 else _t(view, "DEPLETED")), style="bold red"
        )
    if u.charge is not None:
        line.append(f" {u.charge:.0f}%")
    if u.minutes is not None:
        style = "bold red" if u.minutes < 10 else ""
        line.append(_t(view, " {minutes:.0f}min", minutes=u.minutes), style=style)
    room = width - line.cell_len - 1
    if room >= 3:
        points = snap.sparks.get((u.device, "ups_charge_pct", ""), [])
        line.append(" " + sparkline(points, snap.now, min(room, 12), 0, 100), style="cyan")
    line.truncate(width, overflow="ellipsis")
    return line


def _sensor_line(snap: Snapshot, s: Sensor, view: View, width: int) -> Text:
    unit = "°C" if s.metric == "temperature_c" else "%"
    lo, hi = TEMP_RANGE if s.metric == "temperature_c" else HUMIDITY_RANGE
    value = "--" if s.value is None else f"{s.value:.1f}{unit}"
    spark_w = min(8, width // 5) if width >= 24 else 0
    label_w = max(8, width - len(value) - spark_w - 2)
    line = Text(clip(f"{s.device} {s.name}", label_w).ljust(label_w) + " ")
    ok = s.value is not None and lo <= s.value <= hi
    line.append(value, style="green" if ok else "bold red")
    if spark_w:
        span = (10.0, 40.0) if s.metric == "temperature_c" else (0.0, 100.0)
        points = snap.sparks.get((s.device, s.metric, s.name), [])
        line.append(" " + sparkline(points, snap.now, spark_w, *span), style="cyan")
    return line


# ------------------------------------------------------------------------------ links


def _link_lines(snap: Snapshot, view: View, width: int, lines: int) -> list[Text]:
    if not snap.links:
        return [Text(_t(view, "no interface figures yet"), style="dim")]
    name_w = max(12, min(28, width // 2))
    spark_w = min(12, (width - name_w - 7) // 3) if width >= 50 else 0
    bar_w = max(4, width - name_w - 7 - (spark_w + 1 if spark_w else 0))
    out = []
    for link in snap.links[:lines]:
        label = clip(f"{link.device} {short_interface(link.interface)}", name_w).ljust(name_w)
        filled = round(bar_w * min(link.util, 100.0) / 100)
        style = "red" if link.util >= 90 else "yellow" if link.util >= 70 else "green"
        line = Text(label + " ")
        line.append("█" * filled, style=style)
        line.append("░" * (bar_w - filled), style="dim")
        line.append(f"{link.util:5.1f}%"[:6].rjust(6))
        if spark_w:
            points = snap.sparks.get((link.device, "if_in_bps", link.interface), [])
            peak = max((v for _, v in points), default=0.0)
            line.append(" " + sparkline(points, snap.now, spark_w, 0.0, peak or 1.0), style="cyan")
        out.append(line)
    return out


# ------------------------------------------------------------------------------ alerts


def _alerts_title(snap: Snapshot, view: View) -> str:
    n = len(snap.alerts)
    return _t(view, "Alerts ({n} firing, newest first)", n=n)


def _alert_lines(snap: Snapshot, view: View, width: int, lines: int) -> list[Text]:
    if not snap.alerts:
        return [Text(_t(view, "no alerts"), style="green")]
    shown: list[ActiveAlert] = snap.alerts[:lines]
    more = len(snap.alerts) - len(shown)
    if more:
        shown = snap.alerts[: lines - 1]
        more = len(snap.alerts) - len(shown)
    out = []
    for a in shown:
        sev = _severity(view, a.severity)
        when = time.strftime("%H:%M", time.localtime(a.opened))
        where = f"{a.device}:{short_interface(a.instance)}" if a.instance else a.device
        title = a.title_zh if view.lang == "zh" else a.title_en
        flags = ""
        if a.suppressed:
            flags += _t(view, " [suppressed]")
        if a.acked:
            flags += _t(view, " [acked]")
        if a.flapping:
            flags += _t(view, " [flapping]")
        line = Text(f"{when} ")
        pad = " " * max(1, 5 - Text(sev).cell_len)
        line.append(sev + pad, style=SEVERITY_STYLE.get(a.severity, ""))
        line.append(visible(f"{where} ", keep_layout=False), style="bold")
        line.append(visible(f"{title}{flags}: {a.message}", keep_layout=False))
        if a.suppressed:
            line.stylize("dim")
        line.truncate(width, overflow="ellipsis")
        out.append(line)
    if more:
        out.append(Text(_t(view, "+{more} more: govnet alerts list", more=more), style="dim"))
    return out


# ------------------------------------------------------------------------------ one device


def _value(value: float | None, text: str, unit: str) -> str:
    if value is None:
        return text or "--"
    if unit in ("bit/s", "/s") and abs(value) >= 1000:
        for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= factor:
                return f"{value / factor:.3g}{prefix} {unit}"
    if unit == "s":
        return format_duration(value)
    shown = f"{value:.1f}" if value % 1 else f"{value:.0f}"
    return f"{shown}{unit}" if unit in ("%", "°C", "%RH") else f"{shown} {unit}".rstrip()


def render_detail(d: Detail, view: View) -> Frame:
    """One device: its state, every non-interface reading the store has (system, UPS,
    sensors, health metric sets) with the last hour as a sparkline, its busiest interfaces,
    its firing alerts."""
    from govnet.monitor.metrics import METRICS

    width = max(view.width, 60)
    inner = width - 4
    state = str(d.state.get("state", "unknown"))
    head = Text(f"govnet · {d.device} ", style="bold")
    word = _t(view, STATE_WORDS.get(state, state))
    head.append(f"{STATE_MARK.get(state, '?')} {word}", style=STATE_STYLE.get(state, ""))
    since = d.state.get("since") or 0.0
    if since:
        head.append(" " + format_duration(max(0.0, d.now - since)))
    for key in ("role", "zone", "site"):
        if d.state.get(key):
            head.append(f" · {d.state[key]}")
    last = d.state.get("last_poll") or 0.0
    if last:
        age = format_duration(max(0.0, d.now - last))
        head.append(_t(view, " · polled {age} ago", age=age))
    if d.state.get("error") and state != "up":
        head.append(f" · {visible(str(d.state['error']), keep_layout=False)}", style="dim")
    head.truncate(width, overflow="ellipsis")

    readings: list[Text] = []
    label_w = min(34, max(16, inner // 3))
    value_w = 14
    spark_w = max(0, min(24, inner - label_w - value_w - 2))
    for r in d.readings:
        meta = METRICS.get(r.metric)
        label = f"{meta.label(view.lang) if meta else r.metric} {r.instance}".strip()
        shown = clip(label, label_w)  # padded by cells: Chinese labels are two a character
        line = Text(shown + " " * (label_w - Text(shown).cell_len) + " ")
        line.append(
            clip(_value(r.value, r.text, meta.unit if meta else ""), value_w).rjust(value_w)
        )
        points = d.sparks.get((d.device, r.metric, r.instance), [])
        if spark_w and points:
            lo = min(v for _, v in points)
            hi = max(v for _, v in points)
            line.append(
                " " + sparkline(points, d.now, spark_w, min(lo, 0.0), hi or 1.0), style="cyan"
            )
        readings.append(line)
    if not readings:
        readings.append(Text(_t(view, "no readings stored"), style="dim"))

    ports: list[Text] = []
    name_w = min(24, max(10, inner // 4))
    for p in d.ports:
        oper = "up" if p.oper == 1 else "down" if p.oper is not None else "?"
        style = "green" if oper == "up" else "red" if p.admin == 1 else "dim"
        line = Text(clip(short_interface(p.name), name_w).ljust(name_w) + " ")
        line.append(oper.ljust(5), style=style)
        util = "" if p.util is None else f"{p.util:5.1f}%"
        line.append(util.rjust(7))
        line.append(_value(p.in_bps, "", "bit/s").rjust(14) + " ↓")
        line.append(_value(p.out_bps, "", "bit/s").rjust(14) + " ↑")
        points = d.sparks.get((d.device, "if_in_bps", p.name), [])
        room = inner - line.cell_len - 2
        if points and room >= 6:
            peak = max(v for _, v in points)
            line.append(
                " " + sparkline(points, d.now, min(room, 24), 0.0, peak or 1.0), style="cyan"
            )
        if p.alias and line.cell_len + 3 < inner:
            line.append("  " + visible(p.alias, keep_layout=False), style="dim")
        line.truncate(inner, overflow="ellipsis")
        ports.append(line)

    alerts = _alert_lines(Snapshot(now=d.now, alerts=d.alerts), view, inner, max(1, len(d.alerts)))
    chart = _detail_chart(d)
    chart_lines = 0
    if view.height is not None:
        body = max(view.height, 20) - 2 - (6 if ports else 4)  # head, keys; panel borders
        alert_lines = min(len(alerts), max(1, body // 4))
        body -= alert_lines
        port_lines = min(len(ports), max(1, body // 2)) if ports else 0
        reading_lines = max(1, min(len(readings), body - port_lines))
        port_lines = min(len(ports), body - reading_lines)
        spare = body - reading_lines - port_lines
        if spare >= 6 and chart is not None:  # room to spare: the last hour as a chart
            chart_lines = spare - 2
        else:
            reading_lines += spare
    else:
        reading_lines, port_lines, alert_lines = len(readings), len(ports), len(alerts)
    if len(readings) > reading_lines:
        more = len(readings) - reading_lines + 1
        hint = _t(view, "+{more} more: govnet monitor show {device}", more=more, device=d.device)
        readings = [*readings[: reading_lines - 1], Text(hint, style="dim")]
    parts: list[RenderableType] = [
        head,
        _panel(readings, _t(view, "Health and readings"), reading_lines),
    ]
    if ports:
        parts.append(_panel(ports, _t(view, "Interfaces, busiest first"), port_lines))
    if chart_lines and chart is not None:
        from govnet.dashboard.chart import series_chart

        drawn = series_chart(chart, d.now - SPARK_WINDOW, d.now, inner, chart_lines - 2, view.lang)
        parts.append(_panel(drawn, _t(view, "Last hour"), chart_lines))
    n = len(d.alerts)
    parts.append(_panel(alerts, _t(view, "Alerts ({n})", n=n), alert_lines))
    keys = _t(
        view,
        "Esc: back  ←/→: previous/next device  history: govnet monitor history {device}  q: quit",
        device=d.device,
    )
    parts.append(Text(clip(keys, width), style="dim", no_wrap=True))
    return Frame(Group(*parts), 1, (d.device,))


def _detail_chart(d: Detail) -> Series | None:
    """The series the detail view charts when it has rows to spare: the busiest interface's
    inbound traffic, else the first reading with samples."""
    from govnet.monitor.history import Point, Series

    keys = [(d.device, "if_in_bps", p.name) for p in d.ports[:1]]
    keys += [(d.device, r.metric, r.instance) for r in d.readings]
    for key in keys:
        points = d.sparks.get(key)
        if points:
            return Series(key[0], key[1], key[2], [Point(t, v, v, v) for t, v in points])
    return None
