"""Terminal charts drawn with rich: an area chart per series (eighth-block columns, so a
12-row chart has 96 levels), a y axis with the range and an x axis with local times.

Why not plotext: rich is already how every govnet screen is drawn (the same console, width
and colour handling, CJK labels measured in cells, and exact-string tests with a fixed-width
console); an area chart is fifty lines, and a new dependency for it would be one more thing
in the hashed lock and the offline bundle.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import pairwise

from rich.console import Group
from rich.text import Text

from govnet.i18n import tr
from govnet.monitor.history import History, Point, Series

BLOCKS = " ▁▂▃▄▅▆▇█"
STYLES = ("cyan", "green", "magenta", "yellow", "blue", "red")


def human(value: float, unit: str) -> str:
    """12.3M bit/s, 540 ms, 27.5 °C: three significant figures and an SI prefix for rates."""
    if unit in ("bit/s", "/s", "") and abs(value) >= 1000:
        for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= factor:
                return f"{value / factor:.3g}{prefix} {unit}".rstrip()
    text = f"{value:.3g}" if abs(value) < 1e6 else f"{value:.3e}"
    return f"{text} {unit}".rstrip() if unit not in ("%", "°C", "%RH") else f"{text}{unit}"


def columns(points: Sequence[Point], since: float, until: float, width: int) -> list[float | None]:
    """One value per column: the average of the points falling in its slice of time. With
    more columns than points, a column between two points no further apart than the series'
    usual spacing (three times its median) holds the earlier value: a gap in the chart is a
    gap in the data, not the terminal being wider than the sample count."""
    sums = [0.0] * width
    counts = [0] * width
    span = max(until - since, 1e-9)
    inside = [p for p in points if since <= p.ts <= until]
    for p in inside:
        i = min(width - 1, int((p.ts - since) / span * width))
        sums[i] += p.value
        counts[i] += 1
    out: list[float | None] = [sums[i] / counts[i] if counts[i] else None for i in range(width)]
    if len(inside) >= 2:
        gaps = sorted(b.ts - a.ts for a, b in pairwise(inside))
        usual = 3 * gaps[len(gaps) // 2] + span / width
        filled = [i for i, v in enumerate(out) if v is not None]
        for a, b in pairwise(filled):
            if b - a > 1 and (b - a) * span / width <= usual:
                for i in range(a + 1, b):
                    out[i] = out[a]
    return out


def area(
    values: Sequence[float | None], height: int, lo: float, hi: float, style: str
) -> list[Text]:
    span = hi - lo if hi > lo else 1.0
    levels = [
        None if v is None else max(0, min(height * 8, round((v - lo) / span * height * 8)))
        for v in values
    ]
    rows = []
    for row in range(height - 1, -1, -1):  # top first
        line = Text()
        for level in levels:
            if level is None:
                line.append("·" if row == 0 else " ", style="dim")
                continue
            fill = level - row * 8
            line.append(BLOCKS[max(0, min(8, fill))], style=style)
        rows.append(line)
    return rows


def _stamp(ts: float, span: float) -> str:
    fmt = "%H:%M" if span <= 86400 else "%m-%d %H:%M" if span <= 14 * 86400 else "%Y-%m-%d"
    return time.strftime(fmt, time.localtime(ts))


def series_chart(
    s: Series, since: float, until: float, width: int, height: int, lang: str, style: str = "cyan"
) -> list[Text]:
    """Title line, ``height`` chart rows with the y axis on the left, the time axis."""
    values = [p.value for p in s.points if since <= p.ts <= until]
    peak = max((p.high for p in s.points if since <= p.ts <= until), default=None)
    lo = min(0.0, min(values, default=0.0))
    hi = max(values, default=1.0)
    if s.unit in ("%", "%RH") and hi <= 100:
        hi = 100.0
    axis_w = max(len(human(hi, s.unit)), len(human(lo, s.unit))) + 1
    plot_w = max(8, width - axis_w - 1)
    title = Text(s.label(lang), style="bold")
    if values:
        last = values[-1]
        avg = sum(values) / len(values)
        now, mean = tr(lang, "now"), tr(lang, "avg")
        title.append(f"  {now} {human(last, s.unit)}  {mean} {human(avg, s.unit)}")
        if peak is not None:
            top = tr(lang, "peak")
            title.append(f"  {top} {human(peak, s.unit)}")
    else:
        title.append("  " + tr(lang, "no samples in this period"), style="yellow")
    title.truncate(width, overflow="ellipsis")
    out = [title]
    body = area(columns(s.points, since, until, plot_w), height, lo, hi, style)
    for i, line in enumerate(body):
        label = human(hi, s.unit) if i == 0 else human(lo, s.unit) if i == height - 1 else ""
        row = Text(
            label.rjust(axis_w - 1) + " ┤" if label else " " * (axis_w - 1) + " │", style="dim"
        )
        row.append_text(line)
        out.append(row)
    span = until - since
    left, mid, right = _stamp(since, span), _stamp(since + span / 2, span), _stamp(until, span)
    axis = " " * (axis_w + 1) + left
    middle_at = axis_w + 1 + plot_w // 2 - len(mid) // 2
    axis = axis.ljust(middle_at) + mid
    axis = axis.ljust(axis_w + 1 + plot_w - len(right)) + right
    out.append(Text(axis, style="dim"))
    return out


def history_chart(h: History, width: int, height: int, lang: str) -> Group:
    """Every series of a history, one chart under the other, ``height`` rows each."""
    parts: list[Text] = []
    for i, s in enumerate(h.series):
        if i:
            parts.append(Text(""))
        parts.extend(series_chart(s, h.since, h.until, width, height, lang, STYLES[i % 6]))
    return Group(*parts)
