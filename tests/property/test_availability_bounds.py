"""No duration in an availability report is longer than its period (issue 18).

Units, sites and zones used to add up their members' times: on a fresh store the lab's
city-it-center (nine targets) showed 2d17h32m of 无数据 inside a 7h22m period.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govnet.availability.sla import LEVELS, build_report
from govnet.inventory import Inventory, load_inventory
from govnet.report.availability import display_rows, duration
from govnet.store.availability import Span
from tests.conftest import ROOT

H = 3600.0
PERIOD = 7 * H + 22 * 60
DURATIONS = ("up_s", "down_s", "unknown_s", "maintenance_s", "outage_s", "longest_outage_s")


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(Path(ROOT / "inventory" / "lab.yaml"))


def _targets(inv: Inventory) -> list[tuple[str, str]]:
    return [("device", n) for n in inv.devices] + [("service", n) for n in inv.services]


def test_fresh_store_unit_has_no_data_for_the_period_not_more(inventory: Inventory) -> None:
    report = build_report(inventory, [], 0.0, PERIOD, "day", "UTC")
    (unit,) = [r for r in report.by_level("unit") if r.name == "city-it-center"]
    d = unit.to_dict()
    assert unit.members == 11  # 9 + the two machine-room firewalls int-fw-1, ext-fw-1
    assert d["unknown_s"] == PERIOD and d["times"] == "wall"
    assert d["availability_of"] == "device-time" and d["device_time"]["unknown_pct"] == 100.0
    (shown,) = [r for r in display_rows(report, "unit", "zh") if r["name"] == "city-it-center"]
    assert shown["unknown"] == duration(PERIOD) == "7h22m00s"


def test_one_member_down_is_wall_time_and_device_share(inventory: Inventory) -> None:
    spans = [
        Span(kind, name, "down" if name == "int-core-1" else "up", 0.0, PERIOD, 60.0)
        for kind, name in _targets(inventory)
    ]
    report = build_report(inventory, spans, 0.0, PERIOD, "day", "UTC")
    (unit,) = [r for r in report.by_level("unit") if r.name == "city-it-center"]
    d = unit.to_dict()
    assert d["down_s"] == PERIOD and d["outages"] == 1 and d["outage_s"] == PERIOD
    assert d["unknown_s"] == 0
    assert d["availability_pct"] == pytest.approx(100 * 10 / 11, abs=1e-3)  # device-time


def test_a_member_never_polled_is_not_held_against_its_unit(inventory: Inventory) -> None:
    """Issue 14: could-not-check is reported apart, not counted as non-availability."""
    spans = [
        Span(kind, name, "up", 0.0, PERIOD, 60.0)
        for kind, name in _targets(inventory)
        if name != "int-fw-1"  # never polled in the period
    ]
    report = build_report(inventory, spans, 0.0, PERIOD, "day", "UTC")
    (unit,) = [r for r in report.by_level("unit") if r.name == "city-it-center"]
    d = unit.to_dict()
    assert unit.members == 10 and d["unknown_s"] == 0
    assert d["availability_pct"] == pytest.approx(100.0)
    (fw,) = [r for r in report.by_level("device") if r.name == "int-fw-1"]
    assert fw.to_dict()["unknown_s"] == PERIOD  # still in the report, as no data


spans_strategy = st.lists(
    st.tuples(
        st.integers(0, 14),  # target index (modulo the inventory's)
        st.sampled_from(["up", "down"]),
        st.floats(-2 * H, PERIOD + 2 * H),
        st.floats(0, 3 * H),
        st.floats(0, 600),
    ),
    max_size=40,
)


@settings(deadline=None, max_examples=150)
@given(spans_strategy, st.floats(0, PERIOD))
def test_every_duration_is_within_the_period(
    inventory: Inventory, raw: list[tuple[int, str, float, float, float]], cut: float
) -> None:
    targets = _targets(inventory)
    spans = [
        Span(*targets[i % len(targets)], state, a, a + length, valid)
        for i, state, a, length, valid in raw
    ]
    start, end = cut / 2, cut / 2 + PERIOD / 2 + cut / 2
    period = end - start
    report = build_report(inventory, spans, start, end, "custom", "UTC")
    for row in report.rows:
        d = row.to_dict()
        for key in DURATIONS:
            assert d[key] <= period + 0.1, (row.level, row.name, key, d[key], period)
        t = row.times
        assert max(t.up, t.down, t.unknown, t.maintenance) <= period + 1e-6
        if row.wall is None:  # one target: its states do not overlap
            assert t.up + t.down + t.unknown + t.maintenance == pytest.approx(period, abs=1e-3)
        assert all(o.duration <= period + 1e-6 for o in t.outages)
        assert 0.0 <= (d["availability_pct"] if d["availability_pct"] is not None else 0) <= 100.0
    for level in LEVELS:
        for shown in display_rows(report, level, "en"):
            assert "d" not in shown["unknown"] or period >= 86400
