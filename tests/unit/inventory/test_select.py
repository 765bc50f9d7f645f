from __future__ import annotations

import pytest

from govnet.errors import GovnetError
from govnet.inventory import Filters, load_inventory, select_devices, select_terminals
from tests.conftest import LAB_INVENTORY

INV = load_inventory(LAB_INVENTORY)


def names(**kw: tuple[str, ...]) -> list[str]:
    return [d.name for d in select_devices(INV, Filters(**kw))]


def test_site_includes_child_sites() -> None:
    assert names(site=("county-east",)) == [
        "ext-acc-town",
        "ext-agg-east",
        "int-acc-east",
        "int-acc-town",
        "int-agg-east",
    ]


def test_filters_and_across_or_within() -> None:
    assert names(zone=("internal",), role=("access", "aggregation")) == [
        "int-acc-east", "int-acc-town", "int-acc-west", "int-agg-east",
    ]  # fmt: skip
    assert names(platform=("cisco_ios",), tag=("mlps-l3",)) == ["ext-acc-west", "ext-agg-east"]


def test_limit_globs_and_exclusion() -> None:
    assert names(limit=("int-*,!int-acc-*",)) == ["int-agg-east", "int-core-1", "int-fw-1"]
    assert names(limit=("ups-1", "env-?")) == ["env-1", "ups-1"]


def test_unknown_filter_value_is_an_error() -> None:
    with pytest.raises(GovnetError, match="--zone 'intranet': no such zone"):
        names(zone=("intranet",))


def test_terminals_by_site_and_zone() -> None:
    ts = select_terminals(INV, Filters(site=("town-qingshi",), zone=("internal",)))
    assert [t.name for t in ts] == ["pc-town-01", "pc-town-02", "pc-town-05"]
