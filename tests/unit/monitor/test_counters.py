"""Counter math: a rate or a gap, never a spike; sysUpTime wraps are not reboots."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from govnet.monitor.counters import (
    COUNTER32,
    COUNTER64,
    TICKS_WRAP,
    DeltaKind,
    UptimeChange,
    counter_rate,
    uptime_change,
)

bits = st.sampled_from([32, 64])


def test_steady_counter_gives_its_rate() -> None:
    assert counter_rate(1000, 61000, 60.0).rate == 1000.0
    assert counter_rate(1000, 61000, 60.0, bits=32, max_rate=2000).kind is DeltaKind.OK


def test_first_poll_and_zero_interval_are_gaps() -> None:
    assert counter_rate(None, 5, 60.0).kind is DeltaKind.FIRST
    assert counter_rate(5, 10, 0.0).kind is DeltaKind.FIRST


def test_32bit_wrap_is_a_gap_not_a_spike() -> None:
    d = counter_rate(COUNTER32 - 1000, 4000, 30.0, bits=32, max_rate=125_000_000)
    assert d.kind is DeltaKind.WRAP and d.gap


def test_decrease_no_wrap_explains_is_a_reset() -> None:
    # at 1 Mbit/s a 32-bit counter cannot come round in 30 s: the device reset it
    d = counter_rate(3_000_000_000, 10, 30.0, bits=32, max_rate=125_000)
    assert d.kind is DeltaKind.RESET and d.gap


def test_reboot_is_a_gap_even_when_the_counter_grew() -> None:
    assert counter_rate(10, 5000, 60.0, rebooted=True).kind is DeltaKind.RESET


def test_faster_than_the_line_is_a_spike_gap() -> None:
    d = counter_rate(0, 10_000_000_000, 60.0, max_rate=125_000_000 * 1.1)
    assert d.kind is DeltaKind.SPIKE and d.gap


@given(
    prev=st.integers(0, COUNTER64 - 1),
    cur=st.integers(0, COUNTER64 - 1),
    seconds=st.floats(0.001, 1e6),
    width=bits,
    max_rate=st.one_of(st.none(), st.floats(1.0, 1e12)),
    rebooted=st.booleans(),
)
def test_never_negative_never_above_the_line(
    prev: int, cur: int, seconds: float, width: int, max_rate: float | None, rebooted: bool
) -> None:
    top = COUNTER64 if width == 64 else COUNTER32
    prev, cur = prev % top, cur % top
    d = counter_rate(prev, cur, seconds, width, max_rate, rebooted)
    if d.rate is not None:
        assert d.kind is DeltaKind.OK
        assert d.rate >= 0
        assert max_rate is None or d.rate <= max_rate
        assert d.rate == (cur - prev) / seconds
    else:
        assert d.kind is not DeltaKind.OK
    if cur < prev or rebooted:
        assert d.gap  # any decrease, or a reboot: a gap


@given(
    start=st.integers(0, COUNTER32 - 1),
    steps=st.lists(st.integers(0, 50_000_000), min_size=1, max_size=30),
    seconds=st.floats(1.0, 300.0),
)
def test_a_wrapping_32bit_counter_gives_exact_rates_or_gaps(
    start: int, steps: list[int], seconds: float
) -> None:
    """Whatever the real traffic, every rate reported is the true one; wraps are gaps."""
    real = start
    prev = start
    for step in steps:
        real += step
        cur = real % COUNTER32
        d = counter_rate(prev, cur, seconds, 32, max_rate=None)
        if d.rate is not None:
            assert d.rate == step / seconds
        else:
            assert d.kind is DeltaKind.WRAP
        prev = cur


def test_uptime() -> None:
    assert uptime_change(None, 100, 0) is UptimeChange.FIRST
    assert uptime_change(100, 6100, 60) is UptimeChange.OK
    assert uptime_change(500_000, 300, 60) is UptimeChange.REBOOT
    assert uptime_change(TICKS_WRAP - 2000, 4000, 60) is UptimeChange.WRAP
    # engine boots going up is proof, whatever sysUpTime says
    assert uptime_change(100, 6100, 60, prev_boots=3, cur_boots=4) is UptimeChange.REBOOT


@given(prev=st.integers(0, TICKS_WRAP - 1), seconds=st.floats(1.0, 3600.0))
def test_uptime_wrap_vs_reboot(prev: int, seconds: float) -> None:
    cur = (prev + int(seconds * 100)) % TICKS_WRAP
    change = uptime_change(prev, cur, seconds)
    assert change in (UptimeChange.OK, UptimeChange.WRAP)  # a running device never "reboots"
    assert uptime_change(prev, 0, seconds) in (
        UptimeChange.REBOOT,
        UptimeChange.WRAP,
        UptimeChange.OK,
    )
