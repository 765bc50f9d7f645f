"""Durations as people write them (``90s``, ``5m``, ``24h``, ``7d``) and ages as they read them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(value: Any) -> timedelta:
    """``300``/``"300"`` (seconds), ``"90s"``, ``"5m"``, ``"24h"``, ``"7d"``, ``"2w"`` or a
    timedelta → timedelta. Raises ValueError with the accepted forms."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"bad duration {value!r} (expected e.g. 90s, 5m, 24h, 7d)")
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(value)
        if not m:
            raise ValueError(f"bad duration {value!r} (expected e.g. 90s, 5m, 24h, 7d)")
        seconds = float(m[1]) * _UNITS[m[2] or "s"]
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return timedelta(seconds=seconds)


def format_age(age: timedelta) -> str:
    """A compact age: ``42s``, ``5m``, ``3h12m``, ``2d4h``."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"
