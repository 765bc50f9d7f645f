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
        "int-acc-east",
        "int-acc-town",
        "int-acc-west",
        "int-agg-east",
    ]
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


def test_describe_resolves_each_kind_of_name() -> None:
    from govnet.inventory.views import describe

    inv = INV
    device = describe(inv, "int-acc-town")
    assert device["kind"] == "device" and device["platform"] == "huawei"
    assert all("int-acc-town" in link for link in device["links"])
    unit = next(iter(inv.units))
    assert describe(inv, unit)["kind"] == "unit"
    site = describe(inv, next(iter(inv.sites)))
    assert site["kind"] == "site" and site["path"][-1] == site["name"]
    assert describe(inv, "internal")["kind"] == "zone"
    with pytest.raises(GovnetError, match="'nosuch': no device, terminal, unit, site or zone"):
        describe(inv, "nosuch")


def test_targets_leave_out_terminals_for_device_only_filters_or_when_unused() -> None:
    from govnet.inventory.select import select_targets

    devices, terminals = select_targets(INV, Filters(zone=("internal",)))
    assert devices and terminals and all(t.zone == "internal" for t in terminals)
    devices, terminals = select_targets(INV, Filters(role=("core",)))
    assert [d.name for d in devices] == ["ext-core-1", "int-core-1"] and terminals == []
    _, terminals = select_targets(INV, Filters(role=("terminal",)))
    assert len(terminals) == len(INV.terminals)
    _, terminals = select_targets(INV, Filters(), terminals_apply=lambda: False)
    assert terminals == []
    with pytest.raises(GovnetError, match="no device or terminal matches the filters"):
        select_targets(INV, Filters(limit=("nothing-*",)))


def test_terminal_only_selection_refuses_device_filters() -> None:
    from govnet.inventory.select import DeviceOnlyFilter, select_only_terminals

    assert [t.name for t in select_only_terminals(INV, Filters(limit=("pc-west-03",)))] == [
        "pc-west-03"
    ]
    for kw in ({"role": ("access",)}, {"platform": ("huawei",)}, {"tag": ("x",)}):
        with pytest.raises(DeviceOnlyFilter, match="select devices, not terminals"):
            select_only_terminals(INV, Filters(**kw))
    with pytest.raises(GovnetError, match="no terminal matches the filters"):
        select_only_terminals(INV, Filters(limit=("nothing-*",)))


@pytest.mark.parametrize(
    "limit",
    [
        ("int-core-1",),
        ("int-core-1,int-fw-1", "int-core-1"),
        ("int-fw-1,int-core-1,!int-fw-1",),
        ("no-such-device",),
        ("int-core-1", "no-such-device"),
    ],
)
def test_names_without_wildcards_are_looked_up_as_globs_would_match(
    limit: tuple[str, ...],
) -> None:
    # "[x]" matches the letter x: the same selection by the glob path, as a reference
    as_globs = tuple(
        ",".join(
            ("!" + f"[{p[1]}]{p[2:]}") if p.startswith("!") else f"[{p[0]}]{p[1:]}"
            for p in item.split(",")
        )
        for item in limit
    )
    for kw in ({}, {"zone": ("internal",)}, {"role": ("firewall",)}):
        assert names(limit=limit, **kw) == names(limit=as_globs, **kw)
    terminal_names = [t.name for t in select_terminals(INV, Filters(limit=limit))]
    assert terminal_names == [t.name for t in select_terminals(INV, Filters(limit=as_globs))]


def test_a_terminal_by_name() -> None:
    first = next(iter(INV.terminals))
    assert [t.name for t in select_terminals(INV, Filters(limit=(first,)))] == [first]
