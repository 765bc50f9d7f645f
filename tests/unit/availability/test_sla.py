"""Availability arithmetic on recorded spans: gaps are unknown, maintenance is excluded,
outages are clipped to the period."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.availability.sla import tally
from govnet.store.availability import Span

H = 3600.0


def span(state: str, start: float, end: float, valid: float = 120.0) -> Span:
    return Span("service", "portal", state, start, end, valid)


def test_all_up_is_100_percent() -> None:
    t = tally([span("up", 0, 10 * H)], 0, 10 * H)
    assert t.availability == 100.0 and t.unknown == 0 and t.outages == []


def test_gap_is_unknown_never_up() -> None:
    # up 0-2h, daemon stopped, up again 5h-10h: 2h02m..5h is unknown
    t = tally([span("up", 0, 2 * H), span("up", 5 * H, 10 * H)], 0, 10 * H)
    assert t.unknown == 3 * H - 120
    assert t.up == 7 * H + 120
    assert t.availability is not None and t.availability < 100


def test_outage_across_the_period_start_counts_only_its_part() -> None:
    spans = [span("up", 0, 9 * H), span("down", 9 * H, 11 * H), span("up", 11 * H, 20 * H)]
    t = tally(spans, 10 * H, 20 * H)
    assert len(t.outages) == 1
    assert t.outages[0].duration == H
    assert t.down == H and t.up == 9 * H


def test_maintenance_window_is_excluded() -> None:
    spans = [span("up", 0, 4 * H), span("down", 4 * H, 5 * H), span("up", 5 * H, 10 * H)]
    t = tally(spans, 0, 10 * H, windows=[(4 * H, 5 * H)])
    assert t.maintenance == H and t.down == 0 and t.outages == []
    assert t.availability == 100.0


def test_adjacent_down_spans_are_one_outage() -> None:
    spans = [span("down", 0, H), span("down", H, 2 * H), span("up", 2 * H, 3 * H)]
    t = tally(spans, 0, 3 * H)
    assert len(t.outages) == 1 and t.outages[0].duration == 2 * H


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["up", "down"]),
            st.integers(0, 200),
            st.integers(0, 50),
            st.integers(1, 30),
        ),
        max_size=12,
    ),
    st.integers(0, 300),
    st.integers(1, 300),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 60)), max_size=3),
)
def test_times_always_add_up(
    raw: list[tuple[str, int, int, int]], start: int, length: int, wins: list[tuple[int, int]]
) -> None:
    spans = sorted(
        (span(state, a, a + n, v) for state, a, n, v in raw), key=lambda s: (s.start, s.end)
    )
    end = start + length
    t = tally(spans, start, end, [(a, a + n) for a, n in wins])
    assert abs(t.up + t.down + t.unknown + t.maintenance - t.total) < 1e-6
    assert min(t.up, t.down, t.unknown, t.maintenance) >= -1e-9
    assert sum(o.duration for o in t.outages) <= t.down + 1e-6
