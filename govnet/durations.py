"""Durations, one grammar for every option, inventory field and rule file.

A duration is a number of seconds (``300``) or one or more number+unit parts: ``90s``, ``5m``,
``1.5h``, ``7d``, ``2w``, ``1y`` (365 days), ``1h30m``. Units: s m h d w y. Where a point in
time is wanted (``--since``), a duration means "that long ago", and a date (``2026-11-01``) or
an ISO time (``2026-11-01T08:00+08:00``) is taken as it is.

Bounds (positive, at most a week, …) belong to the field or option that reads the value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import click
from pydantic import BeforeValidator

from govnet.i18n import _


def utcnow() -> datetime:
    """Now, in UTC (here rather than in govnet.store.db: importing SQLAlchemy costs ~0.5 s)."""
    return datetime.now(UTC)


UNITS: dict[str, float] = {
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "y": 365 * 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdwy])")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?[smhdwy])+$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
EXAMPLES = "e.g. 90s, 5m, 1.5h, 7d, 2w, 1y or 1h30m"


def parse_duration(value: Any, what: str = "duration") -> float:
    """A duration (see the module) → seconds, never negative. ValueError names ``what``."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(
            _("bad {what} {value!r} ({examples})", what=what, value=value, examples=EXAMPLES)
        )
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        if _NUMBER.match(text):
            seconds = float(text)
        elif _WHOLE.match(text):
            seconds = sum(float(n) * UNITS[u] for n, u in _PART.findall(text))
        else:
            raise ValueError(
                _("bad {what} {value!r} ({examples})", what=what, value=value, examples=EXAMPLES)
            )
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(
            _(
                "bad {what} {value!r}: must be a finite, non-negative duration",
                what=what,
                value=value,
            )
        )
    return seconds


def parse_since(value: str, now: datetime | None = None, what: str = "--since") -> datetime:
    """A duration ago, a date or an ISO time (UTC when it names no zone) → an aware datetime."""
    now = now or datetime.now(UTC)
    text = value.strip()
    try:
        return now - timedelta(seconds=parse_duration(text, what))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _(
                "bad {what} {value!r}: a duration ({examples}), a date (2026-11-01) or an ISO time",
                what=what,
                value=value,
                examples=EXAMPLES,
            )
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=now.tzinfo or UTC)


def format_duration(seconds: float, parts: int | None = None) -> str:
    """Seconds as people read them: ``1h``, ``1m30s``, ``2d4h``, ``0.5s``. ``parts`` keeps
    only the largest units (``parts=2``: ``3d4h`` rather than ``3d4h5m6s``)."""
    if seconds < 1:
        return f"{seconds:.2g}s" if seconds > 0 else "0s"
    rest = round(seconds)
    out: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out[:parts] if parts else out) or "0s"


def format_age(age: timedelta) -> str:
    """A compact age: ``42s``, ``5m``, ``3h12m``, ``2d4h`` (two units at most)."""
    return format_duration(max(0, int(age.total_seconds())), parts=2)


def _seconds(value: Any) -> float:
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_seconds)]
"""A duration field in seconds (pydantic); bounds go on the field: ``Field(gt=0, le=…)``."""


class DurationParam(click.ParamType):  # type: ignore[type-arg]
    """``--interval 5m``: seconds (float), or a timedelta with ``as_timedelta``."""

    name = "duration"

    def __init__(self, as_timedelta: bool = False, positive: bool = True) -> None:
        self.as_timedelta = as_timedelta
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta) and self.as_timedelta:
            return value
        try:
            seconds = parse_duration(value, "duration")
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if self.positive and seconds == 0:
            self.fail(_("{value!r}: must be longer than 0", value=value), param, ctx)
        return timedelta(seconds=seconds) if self.as_timedelta else seconds


class SinceParam(click.ParamType):  # type: ignore[type-arg]
    """``--since 7d|1.5h|2026-11-01|ISO``: an aware datetime."""

    name = "since"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_since(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
