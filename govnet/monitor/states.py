"""Device states: up → unreachable → down, with backoff, as Zabbix's unreachable pollers do.

- a failed poll makes an ``up`` (or never-seen) device ``unreachable``: it is polled again
  after ``retry_delay`` instead of its interval, to confirm quickly;
- failures for ``down_after`` seconds make it ``down``: it is then polled with exponential
  backoff (interval, 2×, 4×, … up to ``max_backoff``) so dead devices cost little;
- one answer makes it ``up`` again, back on its interval.

A slow or dead device never delays the others: each poll runs as its own task under the
outer timeout (see poller.py).
"""

from __future__ import annotations

from govnet.monitor.config import MonitorConfig
from govnet.monitor.model import DeviceState, DeviceStatus

Transition = tuple[DeviceState, DeviceState]


def on_success(status: DeviceStatus, now: float) -> Transition | None:
    old = status.state
    status.failures = 0
    status.error = status.error_kind = ""
    status.last_ok = now
    status.last_poll = now
    if old is not DeviceState.UP:
        status.state = DeviceState.UP
        status.since = now
        return old, DeviceState.UP
    return None


def on_failure(
    status: DeviceStatus,
    now: float,
    error: str,
    kind: str,
    interval: float,
    config: MonitorConfig,
) -> Transition | None:
    old = status.state
    status.failures += 1
    status.error, status.error_kind = error, kind
    status.last_poll = now
    if old in (DeviceState.UP, DeviceState.UNKNOWN):
        status.state = DeviceState.UNREACHABLE
        status.since = now
        return old, DeviceState.UNREACHABLE
    if old is DeviceState.UNREACHABLE and now - status.since >= config.down_after - 0.001:
        status.state = DeviceState.DOWN
        status.since = now
        status.backoff = interval
        return old, DeviceState.DOWN
    if old is DeviceState.DOWN:
        status.backoff = min(max(status.backoff, interval) * 2, max(config.max_backoff, interval))
    return None


def next_delay(status: DeviceStatus, interval: float, config: MonitorConfig) -> float:
    """Seconds from this poll to the next one."""
    if status.state is DeviceState.UNREACHABLE:
        remaining = status.since + config.down_after - status.last_poll
        # retry soon, and land exactly when the device would be judged down
        return max(1.0, min(config.retry_delay, interval, max(remaining, 1.0)))
    if status.state is DeviceState.DOWN:
        return max(status.backoff, interval)
    return interval
