"""Decoding of the vendor health tables (govnet/data/health.yaml) per platform."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from govnet.monitor.health import (
    ENT_PHYSICAL_CLASS,
    ENT_PHYSICAL_NAME,
    HealthColumn,
    health_catalogue,
    health_set_for,
    health_values,
)
from govnet.monitor.metrics import METRICS
from govnet.monitor.metricsets import ROLE_SETS, metric_sets_for
from govnet.transport.snmp import SnmpValue

HW = "1.3.6.1.4.1.2011.5.25.31.1.1"
H3C = "1.3.6.1.4.1.25506.2.6.1.1.1.1"
CISCO_ENV = "1.3.6.1.4.1.9.9.13.1"
RUIJIE = "1.3.6.1.4.1.4881.1.1.10.2"


def decode(
    platform: str, columns: dict[str, dict[str, SnmpValue]], labels: dict[str, dict[str, SnmpValue]]
) -> dict[tuple[str, str], float]:
    hset = health_set_for(platform)
    assert hset is not None
    return {(m, i): v for m, i, v in health_values(hset, columns, labels)}


def test_every_column_says_where_its_oid_was_checked_and_names_a_known_metric() -> None:
    sets = health_catalogue().sets
    assert {p for s in sets for p in s.platforms} >= {
        "huawei",
        "hp_comware",
        "cisco_ios",
        "ruijie_os",
    }
    for s in sets:
        for c in s.columns:
            assert c.source.startswith("[") and "MIB" in c.source, (s.id, c.metric)
            assert c.metric in METRICS


def test_huawei_entity_names_skip_zero_and_fan_psu_states() -> None:
    got = decode(
        "huawei",
        {
            f"{HW}.1.1.5": {"16777216": 0, "16842753": 35},
            f"{HW}.1.1.7": {"16777216": 0, "16842753": 61},
            f"{HW}.1.1.11": {"16777216": 0, "16842753": 47},
            f"{HW}.10.1.7": {"0.0": 1, "0.1": 2},
            f"{HW}.18.1.6": {"0.1": 1, "0.2": 2, "0.3": 4},
        },
        {
            ENT_PHYSICAL_NAME: {"16777216": b"Chassis", "16842753": b"MPU Board 0"},
            f"{HW}.10.1.8": {"0.0": b"FAN1"},  # no description for the second fan
            f"{HW}.18.1.9": {"0.1": b"PWR1", "0.2": b"PWR2", "0.3": b"PWR3"},
        },
    )
    assert got == {
        ("cpu_pct", "MPU Board 0"): 35.0,
        ("mem_used_pct", "MPU Board 0"): 61.0,
        ("temperature_c", "MPU Board 0"): 47.0,
        ("fan_ok", "FAN1"): 1.0,
        ("fan_ok", "Fan 0.1"): 0.0,  # abnormal, named by its index
        ("psu_ok", "PWR1"): 1.0,
        ("psu_ok", "PWR2"): 0.0,  # notSupply; PWR3 unknown(4) gives nothing
    }


def test_h3c_error_status_split_by_entity_class() -> None:
    got = decode(
        "hp_comware",
        {
            f"{H3C}.6": {"2": 22, "10": 0},
            f"{H3C}.8": {"2": 48, "10": 0},
            f"{H3C}.12": {"2": 39, "10": 65535},
            f"{H3C}.19": {"2": 91, "10": 41, "11": 2, "20": 51, "21": 4},
        },
        {
            ENT_PHYSICAL_NAME: {
                "2": b"Board 1",
                "10": b"Fan 1",
                "11": b"Fan 2",
                "20": b"PSU 1",
                "21": b"PSU 2",
            },
            ENT_PHYSICAL_CLASS: {"2": 9, "10": 7, "11": 7, "20": 6, "21": 6},
        },
    )
    assert got == {
        ("cpu_pct", "Board 1"): 22.0,
        ("mem_used_pct", "Board 1"): 48.0,
        ("temperature_c", "Board 1"): 39.0,
        ("hw_ok", "Board 1"): 0.0,  # hardwareFaulty
        ("fan_ok", "Fan 1"): 0.0,  # fanError
        ("fan_ok", "Fan 2"): 1.0,
        ("psu_ok", "PSU 1"): 0.0,  # psuError; PSU 2 entityAbsent gives nothing
    }


def test_cisco_cpu_named_through_entity_memory_pools_and_envmon() -> None:
    got = decode(
        "cisco_ios",
        {
            "1.3.6.1.4.1.9.9.109.1.1.1.1.8": {"1": 7, "2": 9},
            "1.3.6.1.4.1.9.9.48.1.1.1.5": {"1": 75, "2": 10},
            "1.3.6.1.4.1.9.9.48.1.1.1.6": {"1": 25, "2": 0},
            f"{CISCO_ENV}.3.1.3": {"1006": 36},
            f"{CISCO_ENV}.4.1.3": {"1": 1, "2": 6, "3": 5},
            f"{CISCO_ENV}.5.1.3": {"1": 2, "2": 3},
        },
        {
            ENT_PHYSICAL_NAME: {"1001": b"Switch 1"},
            "1.3.6.1.4.1.9.9.109.1.1.1.1.2": {"1": 1001, "2": 0},  # 0: no entity
            "1.3.6.1.4.1.9.9.48.1.1.1.2": {"1": b"Processor", "2": b"I/O"},
            f"{CISCO_ENV}.3.1.2": {"1006": b"SW#1, Sensor#1, GREEN"},
            f"{CISCO_ENV}.4.1.2": {"1": b"Fan 1", "2": b"Fan 2", "3": b"Fan 3"},
            f"{CISCO_ENV}.5.1.2": {"1": b"PS1", "2": b"PS2"},
        },
    )
    assert got == {
        ("cpu_pct", "Switch 1"): 7.0,
        ("cpu_pct", "CPU 2"): 9.0,
        ("mem_used_pct", "Processor"): 75.0,
        ("mem_used_pct", "I/O"): 100.0,
        ("temperature_c", "SW#1, Sensor#1, GREEN"): 36.0,
        ("fan_ok", "Fan 1"): 1.0,
        ("fan_ok", "Fan 2"): 0.0,  # notFunctioning; Fan 3 notPresent gives nothing
        ("psu_ok", "PS1"): 1.0,  # warning still supplies
        ("psu_ok", "PS2"): 0.0,  # critical
    }


def test_ruijie_own_mib_and_duplicate_names_kept_apart() -> None:
    got = decode(
        "ruijie_os",
        {
            f"{RUIJIE}.36.1.2.1.5": {"1": 18},
            f"{RUIJIE}.35.1.1.1.3": {"1": 57},
            f"{RUIJIE}.1.1.23.1.3": {"1": 45, "2": 0},
            f"{RUIJIE}.1.1.21.1.2": {"1": 4, "2": 5, "3": 1},
            f"{RUIJIE}.1.1.18.1.2": {"1": 4, "2": 7},
        },
        {
            f"{RUIJIE}.36.1.2.1.2": {"1": b"slot 1"},
            f"{RUIJIE}.35.1.1.1.2": {"1": b"dram"},
            f"{RUIJIE}.1.1.23.1.2": {"1": b"CPU", "2": b"Board"},
            f"{RUIJIE}.1.1.21.1.3": {"1": b"Fan", "2": b"Fan"},
            f"{RUIJIE}.1.1.18.1.3": {"1": b"Power 1", "2": b"Power 2"},
        },
    )
    assert got == {
        ("cpu_pct", "slot 1"): 18.0,
        ("mem_used_pct", "dram"): 57.0,
        ("temperature_c", "CPU"): 45.0,
        ("fan_ok", "Fan"): 1.0,
        ("fan_ok", "Fan (2)"): 0.0,  # powerbutabnormal, same name as the first
        ("psu_ok", "Power 1"): 1.0,
        ("psu_ok", "Power 2"): 0.0,  # linefail
    }


def test_network_roles_poll_health_and_unknown_platforms_have_no_set() -> None:
    assert "health" in ROLE_SETS["access"] and "health" not in ROLE_SETS["server"]
    assert health_set_for("linux") is None
    from govnet.inventory.model import Device

    dev = Device(
        name="sw", host="127.0.0.1", platform="huawei", role="core", zone="internal", site="city"
    )
    assert "health" in metric_sets_for(dev)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "state"}, "'ok'"),
        ({"kind": "pool"}, "'free'"),
        ({"label": "hwEntityFanDesc"}, "label"),
        ({"metric": "fan_ok"}, "needs kind state"),
    ],
)
def test_a_bad_column_is_refused_with_what_to_fix(spec: dict[str, object], message: str) -> None:
    base = {
        "metric": "cpu_pct",
        "oid": "1.3.6.1.4.1.9.9.109.1.1.1.1.8",
        "object": "x",
        "source": "[pysnmp] x",
    }
    with pytest.raises(ValidationError, match=message):
        HealthColumn.model_validate({**base, **spec})
