"""A cumulative histogram for the daemon's own timings (poll lag, poll duration), exported to
Prometheus as a real histogram (``_bucket``/``_sum``/``_count``) rather than quantile gauges:
quantiles of recent polls cannot be aggregated across pollers, buckets can.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

# seconds: a poll a few ms late is normal, one a minute late means the poller does not keep up
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Histogram:
    """Counts per upper bound (not cumulative here; ``cumulative()`` adds them up)."""

    bounds: tuple[float, ...] = LAG_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.n += 1

    def cumulative(self) -> list[tuple[str, float]]:
        """[(le, count ≤ le)] ending with ("+Inf", n), as prometheus_client wants buckets."""
        out: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            running += count
            out.append((repr(float(bound)), float(running)))
        out.append(("+Inf", float(self.n)))
        return out
