"""Decoders of the metric sets: ENTITY-SENSOR scaling, UPS-MIB, HOST-RESOURCES, vendor probes."""

from __future__ import annotations

import pytest

from govnet.errors import GovnetError
from govnet.monitor.metricsets import (
    HR_STORAGE_FIXED_DISK,
    HR_STORAGE_RAM,
    UPS_BATTERY_STATUS,
    UPS_CHARGE,
    UPS_MINUTES_LEFT,
    UPS_OUTPUT_SOURCE,
    UPS_SECONDS_ON_BATTERY,
    entity_sensor_samples,
    host_samples,
    metric_sets_for,
    probe_catalogue,
    probe_samples,
    ups_values,
)
from tests.unit.monitor.support import device


def test_entity_sensor_scale_and_precision() -> None:
    types = {"2": 8, "3": 9, "4": 12, "5": 12, "6": 8, "7": 8}
    scales = {"2": 9, "3": 9, "4": 9, "5": 9, "6": 8, "7": 9}  # 8 = milli
    precisions = {"2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0}
    values = {"2": 235, "3": 45, "4": 1, "5": 2, "6": 23500, "7": 99}
    statuses = {"2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 3}
    names = {
        "2": "Inlet",
        "3": "Humidity",
        "4": "Water leak under floor",
        "5": "Door",
        "6": "Outlet",
        "7": "Broken",
    }
    out = entity_sensor_samples(types, scales, precisions, values, statuses, names)
    got = {(m, i): v for m, i, v in out}
    assert got[("temperature_c", "Inlet")] == 23.5
    assert got[("temperature_c", "Outlet")] == 23.5  # 23500 milli-degrees
    assert got[("humidity_pct", "Humidity")] == 45
    assert got[("leak", "Water leak under floor")] == 1.0  # truthvalue 1 = true = water
    assert got[("contact", "Door")] == 0.0  # truthvalue 2 = false
    assert got[("sensor_ok", "Broken")] == 0.0
    assert ("temperature_c", "Broken") not in got  # a failed sensor's value is not trusted


def test_leak_sensors_named_in_vars_override_the_words() -> None:
    out = entity_sensor_samples(
        {"2": 12}, {}, {}, {"2": 1}, {"2": 1}, {"2": "Contact 1"}, ["Contact 1"]
    )
    assert ("leak", "Contact 1", 1.0) in out


def test_ups_on_battery() -> None:
    scalars = {
        UPS_OUTPUT_SOURCE: 5,
        UPS_BATTERY_STATUS: 2,
        UPS_CHARGE: 64,
        UPS_MINUTES_LEFT: 18,
        UPS_SECONDS_ON_BATTERY: 420,
    }
    samples, latest = ups_values(scalars, {"1": 0}, {"1": 46, "2": 30})
    assert ("ups_on_battery", "", 1.0) in samples
    assert ("ups_charge_pct", "", 64.0) in samples
    assert ("ups_load_pct", "", 46.0) in samples  # the busiest line
    assert ("ups_input_voltage", "1", 0.0) in samples
    assert ("ups_seconds_on_battery", "", 420.0) in latest
    assert ("ups_output_source", "", 5.0) in latest


def test_host_resources() -> None:
    storage = {
        "1": (HR_STORAGE_RAM, "Physical memory", 1024),
        "2": (HR_STORAGE_FIXED_DISK, "/", 4096),
        "3": ("1.3.6.1.2.1.25.2.1.3", "Swap", 1024),
    }
    out = host_samples(
        {"196608": 10, "196609": 20},
        storage,
        {"1": 1000, "2": 200, "3": 10},
        {"1": 600, "2": 50, "3": 10},
    )
    assert out == [
        ("cpu_pct", "", 15.0),
        ("storage_used_pct", "/", 25.0),
        ("mem_used_pct", "", 60.0),
    ]


def test_vendor_probe_table() -> None:
    catalogue = probe_catalogue()
    akcp = next(p for p in catalogue.probes if p.id == "akcp-sensorprobe")
    assert akcp.matches("1.3.6.1.4.1.3854.1.2.2.1") and not akcp.matches("1.3.6.1.4.1.38540")
    temp, _, leak = akcp.tables
    out = probe_samples(
        temp, {"value": {"0": 24}, "name": {"0": b"Rack 3 inlet"}, "status": {"0": 2}}
    )
    assert out == [("sensor_ok", "Rack 3 inlet", 1.0), ("temperature_c", "Rack 3 inlet", 24.0)]
    out = probe_samples(leak, {"value": {"1": 4}, "name": {"1": "Water"}})
    assert ("leak", "Water", 1.0) in out
    out = probe_samples(temp, {"value": {"0": 0}, "status": {"0": 7}})
    assert out == [("sensor_ok", "0", 0.0)]


def test_metric_sets_by_role_and_vars() -> None:
    assert metric_sets_for(device(role="ups")) == ("system", "ups")
    assert metric_sets_for(device(role="server")) == ("system", "interfaces", "host")
    assert metric_sets_for(device(metric_sets=["sensors"])) == ("system", "sensors")
    with pytest.raises(GovnetError, match="unknown set"):
        metric_sets_for(device(metric_sets=["bogus"]))


def test_column_walks_take_the_fewest_even_pages_within_about_a_kilobyte() -> None:
    from govnet.monitor.metricsets import MAX_COLUMN_REPETITIONS, column_repetitions

    assert column_repetitions(52) == 27  # 53 OIDs (the rows and the one past): 2 pages
    assert column_repetitions(28) == 29  # one page
    assert column_repetitions(39) == MAX_COLUMN_REPETITIONS
    assert column_repetitions(100) == 34  # 3 pages
    assert column_repetitions(0) == column_repetitions(4) == 25  # never below the default
