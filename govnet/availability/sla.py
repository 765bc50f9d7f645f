"""Availability arithmetic: recorded spans + maintenance windows → up/down/unknown per target.

For one target (a device or a service) over a period ``[start, end)`` (clipped at *now*):

- each recorded span counts in its state from its start until the next span starts or, at the
  latest, ``valid`` seconds after its last observation: time no observation covers is
  **unknown** (the daemon was not running) and is never counted as up;
- time inside a planned maintenance window of the target (its own, its unit's or its site's)
  is **maintenance**, whatever the state: excluded from the SLA;
- availability = up ÷ (period − maintenance): unknown time is not up;
- an **outage** is a run of adjacent down spans; it is counted in the period it overlaps, with
  its duration inside the period and outside maintenance (an outage that began last month
  counts this month only for its part in this month).

Units, sites and zones hold many targets, so their figures say which clock they use:

- **times are wall-clock**: down = while *any* member was down (outside its
  maintenance), unknown = while any member had no data, maintenance = while any member was in
  maintenance, up = while every member was up; an outage is a run of time in which some member
  was down. None of them can exceed the period (summing members' times would: nine devices
  without data for 7h22m are not "2d17h32m without data").
- **availability is over device-time**: the members' up time ÷ their scheduled time, so a unit
  of ten devices with one down all day is 90% available; ``device_time`` in JSON gives the
  members' up/down/unknown/maintenance shares of their summed time (percentages, not durations).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from govnet import i18n
from govnet.errors import GovnetError
from govnet.inventory.model import Inventory, MaintenanceWindow
from govnet.settings import time_zone
from govnet.store.availability import Span

Interval = tuple[float, float]


@dataclass(frozen=True)
class Outage:
    start: float
    end: float
    duration: float  # inside the period, outside maintenance


@dataclass
class Tally:
    total: float = 0.0
    up: float = 0.0
    down: float = 0.0
    unknown: float = 0.0
    maintenance: float = 0.0
    outages: list[Outage] = field(default_factory=list)
    # where the times lie (merged, clipped to the period): for wall-clock group figures
    down_at: list[Interval] = field(default_factory=list, repr=False)
    unknown_at: list[Interval] = field(default_factory=list, repr=False)
    maintenance_at: list[Interval] = field(default_factory=list, repr=False)

    @property
    def scheduled(self) -> float:
        return self.total - self.maintenance

    @property
    def availability(self) -> float | None:
        """Up ÷ scheduled time (percent); None when nothing was scheduled."""
        return 100.0 * self.up / self.scheduled if self.scheduled > 0 else None

    def add(self, other: Tally) -> None:
        self.total += other.total
        self.up += other.up
        self.down += other.down
        self.unknown += other.unknown
        self.maintenance += other.maintenance
        self.outages.extend(other.outages)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[list[float]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def overlap(a: float, b: float, windows: Sequence[Interval]) -> float:
    return sum(max(0.0, min(b, wb) - max(a, wa)) for wa, wb in windows)


def measure(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in merge(intervals))


def subtract(whole: Interval, parts: Iterable[Interval]) -> list[Interval]:
    """``whole`` less the (merged) ``parts``."""
    out: list[Interval] = []
    at, end = whole
    for a, b in merge(parts):
        if b <= at or a >= end:
            continue
        if a > at:
            out.append((at, a))
        at = max(at, b)
    if at < end:
        out.append((at, end))
    return out


def segments(spans: Sequence[Span]) -> list[tuple[float, float, str]]:
    """(from, to, state) for one target's spans, oldest first; gaps are left out."""
    out: list[tuple[float, float, str]] = []
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    for i, span in enumerate(ordered):
        stop = span.end + span.valid
        if i + 1 < len(ordered):
            stop = min(stop, ordered[i + 1].start)
        stop = max(stop, span.start)
        if stop > span.start:
            out.append((span.start, stop, span.state))
    return out


def tally(
    spans: Sequence[Span], start: float, end: float, windows: Sequence[Interval] = ()
) -> Tally:
    """One target's times over ``[start, end)``; ``windows`` are its maintenance spans."""
    t = Tally()
    if end <= start:
        return t
    maint = merge((max(a, start), min(b, end)) for a, b in windows)
    t.total = end - start
    t.maintenance = sum(b - a for a, b in maint)
    run: list[float] | None = None  # an outage being gathered: [from, to]
    seen: list[Interval] = []
    for a, b, state in segments(spans):
        ca, cb = max(a, start), min(b, end)
        if cb > ca:
            counted = (cb - ca) - overlap(ca, cb, maint)
            seen.append((ca, cb))
            if state == "up":
                t.up += counted
            else:
                t.down += counted
                t.down_at.extend(subtract((ca, cb), maint))
        if state != "up":
            if run is not None and a <= run[1]:
                run[1] = max(run[1], b)
            else:
                _close(t, run, start, end, maint)
                run = [a, b]
        else:
            _close(t, run, start, end, maint)
            run = None
    _close(t, run, start, end, maint)
    t.unknown = max(0.0, t.total - t.maintenance - t.up - t.down)
    t.down_at = merge(t.down_at)
    t.unknown_at = subtract((start, end), [*seen, *maint])
    t.maintenance_at = maint
    return t


def wall_tally(members: Sequence[Tally], start: float, end: float) -> Tally:
    """A group's wall-clock times over ``[start, end)`` from its members' tallies."""
    t = Tally(total=max(0.0, end - start))
    if not members or end <= start:
        return t
    t.down_at = merge(i for m in members for i in m.down_at)
    t.unknown_at = merge(i for m in members for i in m.unknown_at)
    t.maintenance_at = merge(i for m in members for i in m.maintenance_at)
    t.down, t.unknown = measure(t.down_at), measure(t.unknown_at)
    t.maintenance = measure(t.maintenance_at)
    t.up = max(0.0, t.total - measure([*t.down_at, *t.unknown_at, *t.maintenance_at]))
    # an outage of the group: a run of members' outages that touch or overlap
    runs = merge((max(o.start, start), min(o.end, end)) for m in members for o in m.outages)
    for a, b in runs:
        duration = overlap(a, b, t.down_at)
        if duration > 0:
            t.outages.append(Outage(a, b, duration))
    return t


def _close(
    t: Tally, run: list[float] | None, start: float, end: float, maint: Sequence[Interval]
) -> None:
    if run is None:
        return
    a, b = max(run[0], start), min(run[1], end)
    if b <= a:
        return
    duration = (b - a) - overlap(a, b, maint)
    if duration > 0:
        t.outages.append(Outage(run[0], run[1], duration))


# ------------------------------------------------------------------------- periods


def local_zone(name: str | None) -> tzinfo:
    """``--tz``, else GOVNET_TZ or the config file's ``timezone``, else this machine's."""
    return time_zone(name, "--tz")


_KEYWORDS = ("day", "week", "month", "yesterday", "last-week", "last-month")


def parse_period(text: str, now: float, tz: tzinfo) -> tuple[float, float, str]:
    """``month|week|day`` (so far), ``yesterday|last-week|last-month``, or ``FROM..TO``
    (dates or ISO times; a date as TO includes that day) → (start, end, label)."""
    today = datetime.fromtimestamp(now, tz).date()

    def midnight(d: date) -> float:
        return datetime.combine(d, time(), tz).timestamp()

    text = text.strip()
    if text in ("day", "yesterday"):
        d = today if text == "day" else today - timedelta(days=1)
        return midnight(d), midnight(d + timedelta(days=1)), d.isoformat()
    if text in ("week", "last-week"):
        monday = today - timedelta(days=today.weekday())
        if text == "last-week":
            monday -= timedelta(days=7)
        iso = monday.isocalendar()
        return midnight(monday), midnight(monday + timedelta(days=7)), f"{iso[0]}-W{iso[1]:02d}"
    if text in ("month", "last-month"):
        first = today.replace(day=1)
        if text == "last-month":
            first = (first - timedelta(days=1)).replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return midnight(first), midnight(nxt), first.strftime("%Y-%m")
    m = re.fullmatch(r"(.+?)\.\.(.+)", text)
    if not m:
        raise GovnetError(
            i18n._(
                "--period {text!r}: expected {keywords} or FROM..TO (e.g. 2025-01-01..2025-01-31)",
                text=text,
                keywords=", ".join(_KEYWORDS),
            )
        )
    start = _when(m[1], tz, False)
    end = _when(m[2], tz, True)
    if end <= start:
        raise GovnetError(i18n._("--period {text!r}: TO must be after FROM", text=text))
    return start, end, f"{m[1].strip()}..{m[2].strip()}"


def _when(text: str, tz: tzinfo, is_end: bool) -> float:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = date.fromisoformat(text)
            if is_end:
                d += timedelta(days=1)
            return datetime.combine(d, time(), tz).timestamp()
        value = datetime.fromisoformat(text)
    except ValueError:
        raise GovnetError(
            i18n._("--period: bad date or time {text!r} (YYYY-MM-DD or ISO)", text=text)
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.timestamp()


# ------------------------------------------------------------------------- the report


LEVELS = ("zone", "site", "unit", "device", "service")


@dataclass
class Row:
    level: str  # device | service | unit | site | zone
    name: str
    label_en: str
    label_zh: str
    unit: str = ""
    site: str = ""
    zone: str = ""
    tally: Tally = field(default_factory=Tally)  # a group's: the members' device-time sums
    members: int = 1
    wall: Tally | None = None  # a group's wall-clock times (None for a device or service)

    @property
    def times(self) -> Tally:
        """The durations to show: wall-clock for every row (a device's own are wall-clock)."""
        return self.wall if self.wall is not None else self.tally

    def to_dict(self) -> dict[str, Any]:
        dev = self.tally
        t = self.times
        avail = dev.availability
        extra: dict[str, Any] = {}
        if self.wall is not None:
            whole = dev.total or 1.0
            extra["device_time"] = {
                "members": self.members,
                "up_pct": round(100 * dev.up / whole, 4),
                "down_pct": round(100 * dev.down / whole, 4),
                "unknown_pct": round(100 * dev.unknown / whole, 4),
                "maintenance_pct": round(100 * dev.maintenance / whole, 4),
                "outages": len(dev.outages),
            }
        return {
            "level": self.level,
            "name": self.name,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "unit": self.unit,
            "site": self.site,
            "zone": self.zone,
            "members": self.members,
            "availability_pct": None if avail is None else round(avail, 4),
            "up_s": round(t.up, 1),
            "down_s": round(t.down, 1),
            "unknown_s": round(t.unknown, 1),
            "maintenance_s": round(t.maintenance, 1),
            "outages": len(t.outages),
            "outage_s": round(sum(o.duration for o in t.outages), 1),
            "longest_outage_s": round(max((o.duration for o in t.outages), default=0.0), 1),
            "times": "wall",
            "availability_of": "device-time" if self.wall is not None else "wall",
            **extra,
        }


@dataclass
class AvailabilityReport:
    period: str
    start: float
    end: float  # clipped at the time the report was made
    tz: str
    rows: list[Row]

    def by_level(self, level: str) -> list[Row]:
        return [r for r in self.rows if r.level == level]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": 1,
            "period": self.period,
            "start": datetime.fromtimestamp(self.start).astimezone().isoformat(),
            "end": datetime.fromtimestamp(self.end).astimezone().isoformat(),
            "tz": self.tz,
            "rows": [r.to_dict() for r in self.rows],
        }


def _rank(row: Row) -> tuple[int, float, float, str]:
    avail = row.tally.availability
    return (avail is None, avail if avail is not None else 0.0, -row.tally.down, row.name)


def windows_for(
    windows: Sequence[MaintenanceWindow],
    kind: str,
    name: str,
    unit: str | None,
    site_chain: Sequence[str | None],
    start: float,
    end: float,
) -> list[Interval]:
    out: list[Interval] = []
    for w in windows:
        if any(w.covers(kind, name, unit, s) for s in (list(site_chain) or [None])):
            out.extend(w.intervals(start, end))
    return out


def build_report(
    inventory: Inventory,
    spans: Sequence[Span],
    start: float,
    end: float,
    period: str,
    tz: str,
    devices: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
) -> AvailabilityReport:
    """Rows per device, service, unit, site and zone, each level ranked worst first."""
    by_target: dict[tuple[str, str], list[Span]] = {}
    for span in spans:
        by_target.setdefault((span.kind, span.name), []).append(span)
    wanted_devices = list(devices) if devices is not None else list(inventory.devices)
    wanted_services = list(services) if services is not None else list(inventory.services)
    rows: list[Row] = []
    groups: dict[tuple[str, str], Row] = {}

    def group(level: str, name: str) -> Row:
        row = groups.get((level, name))
        if row is None:
            table: Any = {
                "unit": inventory.units,
                "site": inventory.sites,
                "zone": inventory.zones,
            }[level]
            label = table[name].label if name in table else None
            row = Row(
                level,
                name,
                label.en or name if label else name,
                label.zh or name if label else name,
                members=0,
            )
            groups[(level, name)] = row
        return row

    members: list[tuple[str, str, str | None, str, str, str, str]] = []
    for name in wanted_devices:
        d = inventory.devices[name]
        members.append(("device", name, d.unit, d.site, d.zone, name, name))
    for name in wanted_services:
        svc = inventory.services[name]
        members.append(
            (
                "service",
                name,
                svc.unit,
                svc.site,
                svc.zone,
                svc.label.en or name,
                svc.label.zh or name,
            )
        )
    for kind, name, unit, site, zone, en, zh in members:
        chain = inventory.site_chain(site)
        windows = windows_for(inventory.maintenance, kind, name, unit, chain, start, end)
        t = tally(by_target.get((kind, name), []), start, end, windows)
        rows.append(Row(kind, name, en, zh, unit or "", site, zone, t))
    # A member never polled in the period could not be counted: the 通报 lists it apart and it
    # is not held against its unit, site or zone — unless no member of that group was polled
    # (then the group itself has no data for the period, and says so).
    observed = {(r.level, r.name) for r in rows if by_target.get((r.level, r.name))}
    counted: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        for level, key in (("unit", row.unit), ("site", row.site), ("zone", row.zone)):
            if key:
                counted.setdefault((level, key), []).append(row)
    parts: dict[tuple[str, str], list[Tally]] = {}
    for where, members_ in counted.items():
        seen = [r for r in members_ if (r.level, r.name) in observed] or members_
        g = group(*where)
        for r in seen:
            g.tally.add(r.tally)
            g.members += 1
            parts.setdefault(where, []).append(r.tally)
    for where, g in groups.items():
        g.wall = wall_tally(parts.get(where, []), start, end)
    ordered: list[Row] = []
    for level in LEVELS:
        level_rows = [r for r in rows if r.level == level] + [
            g for (lv, _), g in groups.items() if lv == level
        ]
        ordered.extend(sorted(level_rows, key=_rank))
    return AvailabilityReport(period, start, end, tz, ordered)
