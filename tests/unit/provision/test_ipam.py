"""IPAM: deterministic allocation from the zone pools, exhaustion, release, persistence and
concurrent allocations (threads in one process, and separate `govnet ipam` processes)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from govnet.inventory import Inventory, load_inventory
from govnet.provision import ipam
from govnet.provision.ipam import IpamError, Request
from govnet.store.db import Store
from tests.conftest import LAB_INVENTORY

INVENTORY = """
zones:
  internal:
    isolated_from: [external]
    pools: {prefixes: [10.20.0.0/22, 10.30.0.0/24], vlans: [100-103, 110]}
  external: {pools: {prefixes: [172.16.0.0/16], vlans: [200-299]}}
sites:
  city: {level: city}
units:
  u1: {site: city, zones: [internal]}
  u2: {site: city, zones: [internal]}
  u3: {site: city, zones: [internal]}
  u4: {site: city, zones: [internal]}
  u5: {site: city, zones: [internal]}
  u6: {site: city, zones: [internal]}
  ext-only: {site: city, zones: [external]}
credentials:
  ops: {username: admin, password: env:GOVNET_TEST_PASSWORD}
defaults: {credentials: ops}
devices:
  core: {host: 127.0.0.1, address: 10.20.0.1, platform: huawei, role: core, zone: internal, site: city}
"""


@pytest.fixture
def inv(write_inventory: Callable[..., Path]) -> Inventory:
    return load_inventory(write_inventory(INVENTORY))


@pytest.fixture
def store(store_url: str) -> Store:
    return Store.open(store_url)


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def test_next_free_vlan_and_subnet_skipping_networks_the_inventory_uses(
    store: Store, inv: Inventory
) -> None:
    a, created = ipam.allocate(store, inv, Request("u1", "internal"))
    assert created and (a.vlan, a.prefix, str(a.gateway)) == (100, net("10.20.1.0/24"), "10.20.1.1")
    # 10.20.0.0/24 holds the core switch's address: never handed out
    b, _ = ipam.allocate(store, inv, Request("u2", "internal"))
    assert (b.vlan, b.prefix) == (101, net("10.20.2.0/24"))
    again, created = ipam.allocate(store, inv, Request("u1", "internal"))
    assert not created and again == a  # allocating twice returns the allocation
    c, _ = ipam.allocate(store, inv, Request("u3", "internal", prefix_len=25))
    assert c.prefix == net("10.20.0.128/25")  # aligned, in pool order; only .0/25 holds the core
    with pytest.raises(
        IpamError, match=r"no free /23 left"
    ):  # 10.20.0.0/23 in use, .2/23 overlaps u2
        ipam.allocate(store, inv, Request("u4", "internal", prefix_len=23))


def test_preview_is_what_allocate_gives_and_records_nothing(store: Store, inv: Inventory) -> None:
    seen, new = ipam.preview(store, inv, Request("u1", "internal"))
    assert new and ipam.allocations(store) == []
    made, _ = ipam.allocate(store, inv, Request("u1", "internal"))
    assert (seen.vlan, seen.prefix) == (made.vlan, made.prefix)


def test_exhaustion_names_the_pool_and_what_to_do(store: Store, inv: Inventory) -> None:
    for unit in ("u1", "u2", "u3", "u4", "u5"):  # VLANs 100-103 and 110
        ipam.allocate(store, inv, Request(unit, "internal", prefix_len=28))
    with pytest.raises(
        IpamError,
        match=r"zone internal has no free VLAN left in its pools \(100-103, 110, 5 allocated\)",
    ):
        ipam.allocate(store, inv, Request("u6", "internal", prefix_len=28))
    ipam.release(store, "internal", "u3")
    with pytest.raises(IpamError, match=r"no free /16 left"):
        ipam.allocate(store, inv, Request("u6", "internal", prefix_len=16))


def test_subnets_run_out_before_vlans(store: Store, inv: Inventory) -> None:
    for unit in ("u1", "u2", "u3"):  # 10.20.1-3.0/24 (10.20.0.0/24 is in use)
        ipam.allocate(store, inv, Request(unit, "internal"))
    assert ipam.allocate(store, inv, Request("u4", "internal"))[0].prefix == net("10.30.0.0/24")
    with pytest.raises(IpamError, match="no free /24 left in its pools"):
        ipam.allocate(store, inv, Request("u5", "internal"))


def test_release_frees_both_and_they_are_reused(store: Store, inv: Inventory) -> None:
    a, _ = ipam.allocate(store, inv, Request("u1", "internal"))
    ipam.allocate(store, inv, Request("u2", "internal"))
    gone = ipam.release(store, "internal", "u1")
    assert gone == a and ipam.find(store, "internal", "u1") is None
    c, _ = ipam.allocate(store, inv, Request("u3", "internal"))
    assert (c.vlan, c.prefix) == (a.vlan, a.prefix)  # lowest free again: deterministic
    with pytest.raises(IpamError, match="unit u1 has no allocation in zone internal"):
        ipam.release(store, "internal", "u1")


def test_allocations_persist_across_store_reopen(store_url: str, inv: Inventory) -> None:
    url = store_url
    a, _ = ipam.allocate(Store.open(url), inv, Request("u1", "internal", note="office move"))
    [b] = ipam.allocations(Store.open(url))
    assert (b.zone, b.unit, b.vlan, b.prefix, b.note) == (
        "internal",
        "u1",
        a.vlan,
        a.prefix,
        "office move",
    )
    assert b.allocated_at is not None and b.allocated_at.tzinfo is not None


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (Request("nobody", "internal"), r"unit 'nobody': no such unit in the inventory \(known: "),
        (Request("u1", "dmz"), r"zone 'dmz': no such zone"),
        (
            Request("ext-only", "internal"),
            r"unit ext-only is not on zone internal \(its zones: external\)",
        ),
        (Request("u1", "internal", prefix_len=31), r"prefix length /31: use 8 to 30"),
        (
            Request("u1", "internal", vlan=150),
            r"VLAN 150 is outside zone internal's pools \(100-103, 110\)",
        ),
        (
            Request("u1", "internal", prefix=net("192.168.0.0/24")),
            r"192\.168\.0\.0/24 is outside zone internal's pools",
        ),
    ],
)
def test_bad_requests(store: Store, inv: Inventory, req: Request, message: str) -> None:
    with pytest.raises(IpamError, match=message):
        ipam.allocate(store, inv, req)


def test_recording_existing_networks_and_conflicts(store: Store, inv: Inventory) -> None:
    a, _ = ipam.allocate(
        store, inv, Request("u1", "internal", vlan=110, prefix=net("10.20.2.0/24"))
    )
    assert (a.vlan, a.prefix) == (110, net("10.20.2.0/24"))
    with pytest.raises(IpamError, match="VLAN 110 in zone internal is already allocated to u1"):
        ipam.allocate(store, inv, Request("u2", "internal", vlan=110))
    with pytest.raises(
        IpamError, match=r"10\.20\.2\.0/23 overlaps 10\.20\.2\.0/24, allocated to u1"
    ):
        ipam.allocate(store, inv, Request("u2", "internal", prefix=net("10.20.2.0/23")))
    with pytest.raises(IpamError, match="already has VLAN 110"):
        ipam.allocate(store, inv, Request("u1", "internal", vlan=100))
    b, _ = ipam.allocate(store, inv, Request("u2", "internal"))
    assert (b.vlan, b.prefix) == (100, net("10.20.1.0/24"))


def test_concurrent_allocations_never_hand_out_the_same_vlan_or_subnet(
    store_url: str, inv: Inventory
) -> None:
    url = store_url
    Store.open(url)
    units = ["u1", "u2", "u3", "u4", "u5"]

    def one(unit: str) -> ipam.Allocation:
        return ipam.allocate(Store.open(url), inv, Request(unit, "internal", prefix_len=26))[0]

    with ThreadPoolExecutor(len(units)) as pool:
        got = list(pool.map(one, units))
    assert len({a.vlan for a in got}) == len(units)
    assert all(not x.prefix.overlaps(y.prefix) for i, x in enumerate(got) for y in got[i + 1 :])
    assert sorted(a.vlan for a in ipam.allocations(Store.open(url))) == [100, 101, 102, 103, 110]


def test_separate_govnet_processes_allocating_at_once(store_url: str) -> None:
    """Two admins run 'govnet ipam allocate' at the same moment: distinct VLANs and subnets."""
    url = store_url
    Store.open(url)  # the schema exists (creating it is not what races here)
    env = {**os.environ, "GOVNET_DB": url, "GOVNET_LANG": "en"}
    units = ["city-it-center", "city-finance", "east-gov", "east-market"]
    procs = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "govnet"),
                "-i",
                str(LAB_INVENTORY),
                "ipam",
                "allocate",
                unit,
                "--zone",
                "external",
                "-f",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for unit in units
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    got = [json.loads(o[0]) for o in outs]
    assert len({g["vlan"] for g in got}) == len(units)
    nets = [ipaddress.ip_network(g["prefix"]) for g in got]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert not any(n.overlaps(ipaddress.ip_network("172.20.0.0/24")) for n in nets)  # core's subnet
