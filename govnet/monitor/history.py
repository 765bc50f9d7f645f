"""What the store kept of a device's metrics over a period: the series to show, at which
resolution, and the 95th percentile / peak figures of the traffic report.

Resolution follows retention (``monitor_rollups``): raw samples for up to two days, 5-minute
rollups up to two weeks, hourly ones beyond, so a year of a link is 8,760 points, not three
million. The part of a period not rolled up yet (the last minutes) is grouped from the raw
samples the same way, so "this month so far" ends now.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from govnet import i18n
from govnet.errors import GovnetError
from govnet.monitor.metrics import METRICS, is_series
from govnet.store.monitor import MonitorStore

RAW_SPAN = 2 * 86400.0  # at most this long: raw samples
FIVE_MINUTE_SPAN = 14 * 86400.0  # at most this long: 5-minute rollups; longer: hourly
DEFAULT_INTERFACES = 2  # with no METRIC: the busiest interfaces of the device


@dataclass(frozen=True)
class Point:
    ts: float
    value: float  # the bucket's average
    low: float
    high: float


@dataclass
class Series:
    device: str
    metric: str
    instance: str
    points: list[Point] = field(default_factory=list)

    @property
    def unit(self) -> str:
        meta = METRICS.get(self.metric)
        return meta.unit if meta else ""

    def label(self, lang: str) -> str:
        meta = METRICS.get(self.metric)
        name = meta.label(lang) if meta else self.metric
        return f"{name} {self.instance}".strip()


@dataclass
class History:
    device: str
    since: float
    until: float
    step: int  # 0 raw, 300, 3600
    series: list[Series]


def step_for(since: float, until: float, now: float, raw_kept: float = RAW_SPAN) -> int:
    """0 (raw) for a short recent period, 300 up to two weeks, else 3600."""
    span = until - since
    if span <= RAW_SPAN and since >= now - raw_kept:
        return 0
    return 300 if span <= FIVE_MINUTE_SPAN else 3600


_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float, tz: tzinfo) -> tuple[float, float]:
    """``24h``, ``7d``, ``90m`` (back from now) or ``FROM..TO`` (dates or ISO times; a date as
    TO includes that day) → (since, until)."""
    text = text.strip()
    m = _RELATIVE.fullmatch(text)
    if m:
        return now - float(m[1]) * _UNIT[m[2]], now
    parts = text.split("..")
    if len(parts) == 2:
        since = _when(parts[0], tz, False, text)
        until = min(_when(parts[1], tz, True, text), now) if parts[1].strip() else now
        if until <= since:
            raise GovnetError(
                i18n._("--since {text!r}: TO must be after FROM (and FROM in the past)", text=text)
            )
        return since, until
    raise GovnetError(
        i18n._(
            "--since {text!r}: expected a duration back from now (24h, 7d, 90m) or FROM..TO "
            "(2026-11-01..2026-11-30, or ISO times)",
            text=text,
        )
    )


def _when(text: str, tz: tzinfo, is_end: bool, whole: str) -> float:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.fromisoformat(text).replace(tzinfo=tz)
            return day.timestamp() + (86400 if is_end else 0)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise GovnetError(
            i18n._(
                "--since {whole!r}: {text!r} is not a date (YYYY-MM-DD) or ISO time",
                whole=whole,
                text=text,
            )
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def select_series(
    ms: MonitorStore, device: str, wanted: Sequence[str]
) -> dict[tuple[str, str, str], int]:
    """The series ids to show: ``METRIC`` (all its instances) or ``METRIC:INSTANCE``; none
    given: every metric of the device but ``up``, interfaces only the busiest two."""
    keys = ms.series_keys(device)
    if not keys:
        raise GovnetError(
            i18n._(
                "{device}: no history stored (not monitored, not a device name, or no samples "
                "yet: govnet monitor status)",
                device=device,
            )
        )
    if wanted:
        chosen: dict[tuple[str, str, str], int] = {}
        for item in wanted:
            metric, _, instance = item.partition(":")
            if metric not in METRICS:
                raise GovnetError(
                    i18n._(
                        "{item}: unknown metric; known: {metrics}",
                        item=item,
                        metrics=", ".join(sorted(METRICS)),
                    )
                )
            if not is_series(metric):
                raise GovnetError(
                    i18n._(
                        "{item}: {metric} is kept as its latest value only (govnet monitor show)",
                        item=item,
                        metric=metric,
                    )
                )
            found = {
                k: v
                for k, v in keys.items()
                if k[1] == metric and (not instance or k[2] == instance)
            }
            if not found:
                have = sorted({k[2] for k in keys if k[1] == metric})
                hint = f" (instances: {', '.join(have[:10])})" if have else ""
                raise GovnetError(
                    i18n._(
                        "{device}: no history of {item}{hint}", device=device, item=item, hint=hint
                    )
                )
            chosen.update(found)
        return chosen
    busiest = _busiest_interfaces(ms, device, DEFAULT_INTERFACES)
    return {
        k: v
        for k, v in keys.items()
        if k[1] != "up" and (not k[1].startswith("if_") or k[2] in busiest)
    }


def _busiest_interfaces(ms: MonitorStore, device: str, n: int) -> set[str]:
    rows = ms.latest_values(["if_in_bps", "if_out_bps"], device)
    traffic: dict[str, float] = {}
    for r in rows:
        if r["value"] is not None:
            traffic[r["instance"]] = traffic.get(r["instance"], 0.0) + float(r["value"])
    return {i for i, _ in sorted(traffic.items(), key=lambda kv: (-kv[1], kv[0]))[:n]}


def read_history(
    ms: MonitorStore, device: str, wanted: Sequence[str], since: float, until: float, now: float
) -> History:
    ids = select_series(ms, device, wanted)
    step = step_for(since, until, now)
    by_id = {sid: Series(*key) for key, sid in ids.items()}
    for sid, ts, n, total, lo, hi in ms.history_rows(list(by_id), since, until, step):
        by_id[sid].points.append(Point(ts, total / n, lo, hi))
    ordered = sorted(by_id.values(), key=lambda s: (s.metric, s.instance))
    return History(device, since, until, step, ordered)


# ------------------------------------------------------------------------------ traffic


@dataclass(frozen=True)
class LinkTraffic:
    device: str
    interface: str
    alias: str
    speed_bps: float | None
    in_p95_bps: float
    out_p95_bps: float
    in_peak_bps: float
    out_peak_bps: float
    samples: int  # 5-minute (or hourly) buckets with data

    @property
    def p95_bps(self) -> float:
        return max(self.in_p95_bps, self.out_p95_bps)

    @property
    def peak_bps(self) -> float:
        return max(self.in_peak_bps, self.out_peak_bps)

    @property
    def p95_util(self) -> float | None:
        return self.p95_bps / self.speed_bps if self.speed_bps else None

    @property
    def peak_util(self) -> float | None:
        return self.peak_bps / self.speed_bps if self.speed_bps else None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (the carriers' 95th: sort, drop the top 5 %, take the next)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def traffic_report(
    ms: MonitorStore, since: float, until: float, devices: Iterable[str] | None = None
) -> tuple[int, list[LinkTraffic]]:
    """Per interface with traffic in the period: 95th percentile of 5-minute averages (hourly
    ones beyond 30 days of rollups) and the peak (the highest raw sample), in and out, against
    the interface speed; busiest (95th percentile utilisation) first. → (step, rows)."""
    step = 300 if until - since <= 31 * 86400 else 3600
    keys = ms.series_keys(metrics=["if_in_bps", "if_out_bps"])
    if devices is not None:
        allowed = set(devices)
        keys = {k: v for k, v in keys.items() if k[0] in allowed}
    by_id = {sid: key for key, sid in keys.items()}
    # one series at a time (rows come ordered by series): memory is one series' buckets
    figures: dict[tuple[str, str, str], tuple[float, float, int]] = {}  # p95, peak, buckets
    current: int | None = None
    values: list[float] = []
    peak = 0.0

    def done() -> None:
        if current is not None and values:
            figures[by_id[current]] = (percentile(values, 95), peak, len(values))

    for sid, _ts, n, total, _lo, hi in ms.history_rows(list(by_id), since, until, step):
        if sid != current:
            done()
            current, values, peak = sid, [], 0.0
        values.append(total / n)
        peak = max(peak, hi)
    done()
    speeds = {(r["device"], r["instance"]): r["value"] for r in ms.latest_values(["if_speed_bps"])}
    aliases = {(r["device"], r["instance"]): r["text"] for r in ms.latest_values(["if_alias"])}
    links: list[LinkTraffic] = []
    none = (0.0, 0.0, 0)
    for device, interface in sorted({(k[0], k[2]) for k in figures}):
        inbound = figures.get((device, "if_in_bps", interface), none)
        outbound = figures.get((device, "if_out_bps", interface), none)
        speed = speeds.get((device, interface))
        links.append(
            LinkTraffic(
                device,
                interface,
                aliases.get((device, interface)) or "",
                float(speed) if speed else None,
                inbound[0],
                outbound[0],
                inbound[1],
                outbound[1],
                max(inbound[2], outbound[2]),
            )
        )
    links.sort(key=lambda k: (-(k.p95_util or 0.0), -k.p95_bps, k.device, k.interface))
    return step, links
