"""Counter and uptime arithmetic: rates from SNMP counters without spikes.

A counter that went *down* between two polls either wrapped (a 32-bit ``ifInOctets`` passes
2^32 in 34 s at 1 Gbit/s) or was reset (the device rebooted, the line card was replaced,
the agent restarted). Telling the two apart reliably is not possible from two numbers, and a
wrong guess draws a spike across every graph, so both leave a **gap**: no rate for that
interval, a :class:`Delta` saying why, and the next interval counts again. Rates above what
the interface can carry (``max_rate``) are gaps too (a counter that jumped).

``sysUpTime`` wraps after 497 days (2^32 hundredths of a second); :func:`uptime_change` tells a
wrap from a reboot by how far the old value was from the top and how much time passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

COUNTER32 = 1 << 32
COUNTER64 = 1 << 64
TICKS_WRAP = 1 << 32  # sysUpTime, hundredths of a second


class DeltaKind(StrEnum):
    OK = "ok"
    WRAP = "wrap"  # decreased, and a single wrap could explain it
    RESET = "reset"  # decreased, and no single wrap explains it (or the device rebooted)
    SPIKE = "spike"  # increased faster than the interface can carry
    FIRST = "first"  # nothing to compare with


@dataclass(frozen=True, slots=True)
class Delta:
    kind: DeltaKind
    rate: float | None = None  # per second; None unless kind is OK

    @property
    def gap(self) -> bool:
        return self.rate is None


def counter_rate(
    prev: int | None,
    cur: int,
    seconds: float,
    bits: int = 64,
    max_rate: float | None = None,
    rebooted: bool = False,
) -> Delta:
    """The per-second rate of a counter between two polls, or a gap saying why not.

    ``bits`` is 32 or 64 (the counter's width), ``max_rate`` the fastest it can honestly grow
    (octets per second for an interface of known speed, with headroom), ``rebooted`` whether
    the device restarted between the polls (every counter then starts again: a gap).
    """
    if prev is None or seconds <= 0:
        return Delta(DeltaKind.FIRST)
    if rebooted:
        return Delta(DeltaKind.RESET)
    top = COUNTER64 if bits == 64 else COUNTER32
    if cur < prev:
        wrapped = top - prev + cur
        if max_rate is None or wrapped <= max_rate * seconds:
            return Delta(DeltaKind.WRAP)
        return Delta(DeltaKind.RESET)
    rate = (cur - prev) / seconds
    if max_rate is not None and rate > max_rate:
        return Delta(DeltaKind.SPIKE)
    return Delta(DeltaKind.OK, rate)


class UptimeChange(StrEnum):
    FIRST = "first"
    OK = "ok"
    WRAP = "wrap"  # sysUpTime passed 2^32 ticks (497 days): not a reboot
    REBOOT = "reboot"


def uptime_change(
    prev_ticks: int | None,
    cur_ticks: int,
    seconds: float,
    prev_boots: int | None = None,
    cur_boots: int | None = None,
    slack: float = 30.0,
) -> UptimeChange:
    """Did the device reboot between two polls ``seconds`` apart?

    snmpEngineBoots going up is proof. Otherwise sysUpTime going down is a reboot unless the old
    value was within ``seconds + slack`` of the 2^32-tick wrap and the new one is small enough
    to have come round since.
    """
    if prev_boots is not None and cur_boots is not None and cur_boots > prev_boots:
        return UptimeChange.REBOOT
    if prev_ticks is None:
        return UptimeChange.FIRST
    if cur_ticks >= prev_ticks:
        return UptimeChange.OK
    window = (max(seconds, 0.0) + slack) * 100
    if TICKS_WRAP - prev_ticks <= window and cur_ticks <= window:
        return UptimeChange.WRAP
    return UptimeChange.REBOOT
