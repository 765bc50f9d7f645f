"""The netns lab's plan (pure): names, addresses from the zone pools, the canary, refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from govnet.errors import LabError
from govnet.inventory import load_inventory
from govnet.lab.netns import check_prefix, exec_argv, plan
from tests.conftest import LAB_INVENTORY


def test_the_lab_plan_uses_the_pools_and_the_declared_canary() -> None:
    p = plan(load_inventory(LAB_INVENTORY), "gvt1")
    assert p.namespaces == ["gvt1-int", "gvt1-leak", "gvt1-ext", "gvt1-inet"]
    assert p.canary == "172.20.255.250" and p.dns_port == 53
    assert {(a.ns, a.iface, a.cidr) for a in p.addresses} == {
        ("gvt1-int", "eth0", "10.10.255.253/16"),
        ("gvt1-leak", "int0", "10.10.255.254/16"),
        ("gvt1-leak", "ext0", "172.20.255.254/16"),
        ("gvt1-ext", "eth0", "172.20.255.250/16"),
        ("gvt1-ext", "inet0", "198.51.100.254/24"),
        ("gvt1-inet", "eth0", "198.51.100.253/24"),
    }
    assert p.routes == (("gvt1-int", "default", "10.10.255.254"),)
    assert p.vantage == "10.10.255.253"
    # every veth joins two of the lab's namespaces: none reaches the host's network
    assert all(a in p.namespaces and b in p.namespaces for a, _ia, b, _ib in p.links)
    assert exec_argv("gvt1-ext", ["govnet", "isolation", "canary"])[:4] == [
        "ip",
        "netns",
        "exec",
        "gvt1-ext",
    ]


@pytest.mark.parametrize("prefix", ["", "Govnet", "1abc", "a-b", "abcdefghijklm", "a b"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(LabError, match="--prefix"):
        check_prefix(prefix)


def test_a_zone_without_canary_cannot_host_the_lab(write_inventory: Callable[..., Path]) -> None:
    path = write_inventory("""
        zones:
          internal: {isolated_from: [external], pools: {prefixes: [10.0.0.0/8]}}
          external: {pools: {prefixes: [172.16.0.0/12]}}
          internet: {}
        sites: {city: {level: city}}
        """)
    with pytest.raises(LabError, match="declares no IPv4 canary"):
        plan(load_inventory(path), "gvt2")
