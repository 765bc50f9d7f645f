"""The monitor's settings: poll intervals by role, timeouts, state timings, retention.

Defaults suit a city machine room; ``govnet monitor run`` options override them and a device
overrides its own interval and timeout in the inventory (``vars.poll_interval: 30s``,
``vars.poll_timeout: 10s``), directly or through a group.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from govnet import i18n
from govnet.durations import parse_duration
from govnet.errors import GovnetError
from govnet.inventory.model import Device

DEFAULT_INTERVALS: dict[str, float] = {
    "core": 60,
    "aggregation": 60,
    "access": 60,
    "firewall": 60,
    "gap": 60,
    "router": 60,
    "server": 60,
    "ups": 30,
    "env": 30,
}


@dataclass(frozen=True)
class Retention:
    """How long samples are kept at each resolution (raw, 5-minute and hourly rollups)."""

    raw: float = 48 * 3600
    rollup_5m: float = 30 * 86400
    rollup_1h: float = 365 * 86400

    @classmethod
    def parse(cls, text: str) -> Retention:
        """``raw=48h,5m=30d,1h=1y`` (any subset) → Retention."""
        keys = {"raw": "raw", "5m": "rollup_5m", "1h": "rollup_1h"}
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = part.partition("=")
            if key.strip() not in keys or not value:
                raise GovnetError(
                    i18n._(
                        "--retention {text!r}: expected raw=DURATION,5m=DURATION,1h=DURATION",
                        text=text,
                    )
                )
            try:
                values[keys[key.strip()]] = parse_duration(value, f"retention {key}")
            except ValueError as exc:
                raise GovnetError(i18n._("--retention: {exc}", exc=exc)) from None
        return replace(cls(), **values)


@dataclass(frozen=True)
class MonitorConfig:
    intervals: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_INTERVALS))
    default_interval: float = 60.0
    concurrency: int = 64  # polls in flight at once
    poll_timeout: float = 30.0  # the outer limit on one whole poll
    retry_delay: float = 15.0  # an unreachable device is polled again after this
    down_after: float = 45.0  # failing for this long makes it down
    max_backoff: float = 600.0  # a down device is polled at most this far apart
    first_spread: float = 5.0  # first polls are spread over this many seconds
    first_rate: float = 100.0  # …or longer: at most this many first polls a second (first and
    # second polls cost ~1.4-1.5 steady ones; 10,000 devices at 60 s: over two intervals)
    retention: Retention = Retention()
    maintenance_every: float = 300.0  # rollups and retention
    flush_every: float = 1.0  # samples are committed at least this often

    def interval(self, device: Device) -> float:
        raw = device.vars.get("poll_interval")
        if raw is not None:
            try:
                value = parse_duration(raw, "vars.poll_interval")
            except ValueError as exc:
                raise GovnetError(f"{device.name}: {exc}") from None
            if value < 1:
                raise GovnetError(
                    i18n._("{name}: vars.poll_interval must be at least 1s", name=device.name)
                )
            return value
        return float(self.intervals.get(device.role, self.default_interval))

    def timeout(self, device: Device) -> float:
        """The outer limit on one poll of ``device``: ``vars.poll_timeout``, else the
        configured one, never more than 90% of its interval (polls must not overlap)."""
        raw = device.vars.get("poll_timeout")
        value = self.poll_timeout
        if raw is not None:
            try:
                value = parse_duration(raw, "vars.poll_timeout")
            except ValueError as exc:
                raise GovnetError(f"{device.name}: {exc}") from None
        return max(0.5, min(value, self.interval(device) * 0.9))
