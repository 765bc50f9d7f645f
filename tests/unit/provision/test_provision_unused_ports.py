"""Opt-in task shutdown-unused-ports: which ports are candidates (never uplinks, links, trunks,
management or routed ports, nor ports in use), and that a device govnet has not watched long
enough is left alone. The MAC sightings it decides on are in tests/unit/store/test_macs.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from govnet.checks.fleet import FleetContext
from govnet.checks.kinds.isolation_l2 import _record_sightings
from govnet.collect.macs import sightings
from govnet.collect.tables import DeviceTables, TableEntry
from govnet.inventory import Filters, Inventory, load_inventory
from govnet.provision.tasks import (
    ShutdownUnusedPorts,
    TaskError,
    idle_ports,
    make_job,
    parse_args,
)
from govnet.store import macs
from govnet.store.db import Store
from tests.conftest import ROOT

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# int-acc-town (huawei, address 10.10.3.1): Gi0/0/24 is in the lab's links (b end)
HUAWEI = """\
sysname int-acc-town
#
interface Vlanif103
 ip address 10.10.103.1 255.255.255.0
#
interface MEth0/0/1
#
interface LoopBack0
 ip address 10.255.0.3 255.255.255.255
#
interface Eth-Trunk1
 port link-type trunk
#
interface GigabitEthernet0/0/1
 port link-type access
 port default vlan 103
#
interface GigabitEthernet0/0/2
 port link-type access
 port default vlan 103
#
interface GigabitEthernet0/0/3
 port default vlan 103
#
interface GigabitEthernet0/0/4
 shutdown
#
interface GigabitEthernet0/0/5
 port link-type hybrid
 port hybrid untagged vlan 103
#
interface GigabitEthernet0/0/6
 eth-trunk 1
#
interface GigabitEthernet0/0/7
 undo portswitch
 ip address 10.10.3.1 255.255.255.0
#
interface GigabitEthernet0/0/8
 undo portswitch
 ip address 192.0.2.1 255.255.255.252
#
interface GigabitEthernet0/0/24
 port link-type access
#
interface NULL0
#
return
"""

# ext-acc-west (cisco_ios): Gi0/24 in the lab's links (b end), short names in the config
CISCO = """\
hostname ext-acc-west
!
interface GigabitEthernet0/1
 switchport mode access
!
interface GigabitEthernet0/2
 switchport access vlan 202
 switchport mode trunk
!
interface GigabitEthernet0/3
 channel-group 1 mode active
!
interface GigabitEthernet0/4
 switchport access vlan 202
!
interface Port-channel1
 switchport mode trunk
!
interface Vlan202
 ip address 172.20.2.1 255.255.255.0
!
interface GigabitEthernet0/24
 switchport mode access
!
end
"""


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(ROOT / "inventory" / "lab.yaml")


def test_only_idle_access_ports_are_candidates_on_huawei(inv: Inventory) -> None:
    seen = {
        "GigabitEthernet0/0/1": NOW - timedelta(days=2),  # in use
        "GE0/0/2": NOW - timedelta(days=45),  # idle; a short name in the records
        "GigabitEthernet0/0/24": NOW - timedelta(days=90),  # idle, but in links
        "GigabitEthernet0/0/5": NOW - timedelta(days=90),  # idle, but hybrid
    }
    choice = idle_ports(inv, inv.devices["int-acc-town"], HUAWEI, seen, NOW, 30)
    assert [(p.name, p.last_seen) for p in choice.idle] == [
        ("GigabitEthernet0/0/2", NOW - timedelta(days=45)),
        ("GigabitEthernet0/0/3", None),  # never seen, not a trunk: an access port
    ]
    assert choice.in_use == ["GigabitEthernet0/0/1"]
    assert choice.already_down == ["GigabitEthernet0/0/4"]
    assert choice.protected == {
        "GigabitEthernet0/0/5": "trunk/hybrid (an uplink)",
        "GigabitEthernet0/0/6": "member of an aggregate (an uplink)",
        "GigabitEthernet0/0/7": "the management interface",
        "GigabitEthernet0/0/8": "a routed port",
        "GigabitEthernet0/0/24": "in the inventory's links",
    }  # Vlanif, MEth, LoopBack, Eth-Trunk, NULL0: never even considered


def test_a_port_seen_exactly_at_the_cutoff_is_in_use(inv: Inventory) -> None:
    seen = {"GigabitEthernet0/0/2": NOW - timedelta(days=30)}
    choice = idle_ports(inv, inv.devices["int-acc-town"], HUAWEI, seen, NOW, 30)
    assert "GigabitEthernet0/0/2" in choice.in_use
    choice = idle_ports(inv, inv.devices["int-acc-town"], HUAWEI, seen, NOW, 29)
    assert "GigabitEthernet0/0/2" in [p.name for p in choice.idle]


def test_only_idle_access_ports_are_candidates_on_cisco(inv: Inventory) -> None:
    choice = idle_ports(inv, inv.devices["ext-acc-west"], CISCO, {}, NOW, 30)
    assert [p.name for p in choice.idle] == ["GigabitEthernet0/1", "GigabitEthernet0/4"]
    assert choice.protected == {
        "GigabitEthernet0/2": "trunk/hybrid (an uplink)",
        "GigabitEthernet0/3": "member of an aggregate (an uplink)",
        "GigabitEthernet0/24": "in the inventory's links",
    }


def test_a_link_on_the_a_end_protects_the_port_too(inv: Inventory) -> None:
    text = "interface GigabitEthernet0/0/1\n port link-type access\n#\n"
    choice = idle_ports(inv, inv.devices["int-core-1"], text, {}, NOW, 30)
    assert choice.idle == [] and "GigabitEthernet0/0/1" in choice.protected


def test_days_is_validated() -> None:
    task = ShutdownUnusedPorts()
    assert parse_args(task, []).days == 30  # type: ignore[attr-defined]
    with pytest.raises(TaskError, match=r"days='0'"):
        parse_args(task, ["days=0"])
    with pytest.raises(TaskError, match="unknown argument 'weeks'"):
        parse_args(task, ["weeks=4"])


def test_watched_since_needs_an_unbroken_recent_watch() -> None:
    gap = timedelta(days=3)
    days = [NOW - timedelta(days=d) for d in (40, 38, 30, 28, 26, 1)]
    assert macs.watched_since([], NOW, gap) is None
    # 26 → 1: a 25-day hole, the watch starts again yesterday
    assert macs.watched_since(days, NOW, gap) == NOW - timedelta(days=1)
    days = [NOW - timedelta(days=d) for d in range(40, 0, -2)]
    assert macs.watched_since(days, NOW, gap) == NOW - timedelta(days=40)
    assert macs.watched_since(days[:-3], NOW, gap) is None  # the latest is 8 days old


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")


def _skip(inv: Inventory, store: Store, days: int = 30) -> str | None:
    task = ShutdownUnusedPorts()
    args = parse_args(task, [f"days={days}"])
    job, _ = make_job(
        inv,
        store,
        task.name,
        [f"days={days}"],
        ROOT / "playbooks" / "templates",
        Filters(limit=("int-acc-town",)),
        commit=False,
    )
    return task.skip_prepared(inv, inv.devices["int-acc-town"], args, job.prepared)


def test_a_device_not_watched_long_enough_is_skipped(inv: Inventory, store: Store) -> None:
    now = datetime.now(UTC)
    reason = _skip(inv, store)
    assert reason is not None and "none recorded" in reason and "nothing is shut" in reason
    for age in range(10, -1, -2):  # ten days of daily-ish collections
        macs.record(store, "int-acc-town", [], now - timedelta(days=age), "ssh")
    reason = _skip(inv, store)
    assert reason is not None and "watched only since" in reason and "10 of the 30" in reason
    assert _skip(inv, store, days=9) is None
    for age in range(40, 10, -2):
        macs.record(store, "int-acc-town", [], now - timedelta(days=age), "ssh")
    assert _skip(inv, store) is None


def test_make_job_marks_the_short_history_devices_skipped(inv: Inventory, store: Store) -> None:
    job, targets = make_job(
        inv,
        store,
        "shutdown-unused-ports",
        ["days=7"],
        ROOT / "playbooks" / "templates",
        Filters(limit=("int-acc-town", "ext-acc-west")),
        commit=False,
    )
    assert sorted((t.device.name, t.skip is not None) for t in targets) == [
        ("ext-acc-west", True),
        ("int-acc-town", True),
    ]
    assert job.task.uses_running


def test_the_task_is_opt_in_never_part_of_the_baseline() -> None:
    for platform in ("huawei", "hp_comware", "cisco_ios"):
        folder = ROOT / "playbooks" / "templates" / platform
        assert (folder / "shutdown-unused-ports.j2").is_file()
        assert "shutdown" not in (folder / "baseline.j2").read_text(encoding="utf-8").replace(
            "undo shutdown", ""
        ).replace("no shutdown", "")


def test_only_mac_table_rows_of_other_hosts_are_sightings() -> None:
    t = DeviceTables("sw", "z", "ssh", own_macs={"00:e0:fc:00:00:01"})
    t.entries = [
        TableEntry("sw", "z", "00:1a:2b:00:00:01", None, 10, "GigabitEthernet0/0/1", "ssh-mac"),
        TableEntry("sw", "z", "00:1a:2b:00:00:02", "10.0.0.2", 10, "Vlanif10", "ssh-arp"),
        TableEntry("sw", "z", "00:e0:fc:00:00:01", None, 10, "GigabitEthernet0/0/2", "ssh-mac"),
        TableEntry("sw", "z", "01:00:5e:00:00:01", None, 10, "GigabitEthernet0/0/3", "snmp-fdb"),
        TableEntry("sw", "z", "00:1a:2b:00:00:04", None, None, "bridge-port-7", "snmp-fdb"),
        TableEntry("sw", "z", "00:1a:2b:00:00:05", None, None, None, "snmp-fdb"),
        TableEntry("sw", "z", "00:1a:2b:00:00:06", None, None, "GigabitEthernet0/0/6", "snmp-fdb"),
    ]
    assert [(s.port, s.mac, s.vlan) for s in sightings(t)] == [
        ("GigabitEthernet0/0/1", "00:1a:2b:00:00:01", 10),
        ("GigabitEthernet0/0/6", "00:1a:2b:00:00:06", None),
    ]


def test_an_audit_reading_tables_records_sightings(store: Store) -> None:
    ok = DeviceTables("sw", "z", "snmp")
    ok.entries = [TableEntry("sw", "z", "00:1a:2b:00:00:01", None, 10, "Gi0/1", "snmp-fdb")]
    failed = DeviceTables("sw2", "z", "snmp", error="SNMP: timeout")
    ctx = FleetContext(None, [], {}, store, NOW, "live")
    _record_sightings(ctx, {"sw": ok, "sw2": failed})
    assert macs.last_seen_by_port(store, "sw") == {"Gi0/1": NOW}
    assert macs.collections(store, "sw") == [NOW]
    assert macs.collections(store, "sw2") == []  # an unread table is no watch


@pytest.mark.parametrize("platform", ["huawei", "hp_comware", "cisco_ios"])
def test_idle_ports_are_shut_and_a_refused_line_rolls_back_on_each_platform(
    inv: Inventory, tmp_path: Path, platform: str
) -> None:
    """In process on the lab's shell of each platform: with 40 days of collections and no
    sighting, every access port that is up is shut (never the linked uplink), a new plan is
    empty, and a line refused half-way rolls back to exactly the start."""
    from govnet.provision.operations import ProvisionOptions, apply_devices
    from tests.provision_sim.run import DEVICES
    from tests.provision_sim.session import Bench

    name = DEVICES[platform]
    device = inv.devices[name]
    seed = (ROOT / "inventory" / "lab-data" / name / "running.cfg").read_text("utf-8")
    bench = Bench(tmp_path / "bench")
    bench.load(device, seed)
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    now = datetime.now(UTC)
    for age in range(40, -1, -2):
        macs.record(store, name, [], now - timedelta(days=age), "ssh")
    start = bench.running(device)
    expected = [p.name for p in idle_ports(inv, device, start, {}, now, 30).idle]
    assert len(expected) >= 2  # the lab's access ports that are up

    def apply() -> str:
        job, targets = make_job(
            inv,
            store,
            "shutdown-unused-ports",
            ["days=30"],
            ROOT / "playbooks" / "templates",
            Filters(limit=(name,)),
            commit=True,
        )
        opts = ProvisionOptions(workers=1, session=bench.session)
        _, [change] = apply_devices(job, targets, store, opts)
        return change.status

    assert apply() == "changed"
    after = bench.running(device)
    choice = idle_ports(inv, device, after, {}, now, 30)
    assert choice.idle == []
    assert set(expected) <= set(choice.already_down)
    assert choice.protected == idle_ports(inv, device, start, {}, now, 30).protected
    assert "in the inventory's links" in choice.protected.values()  # its uplink, still up
    assert apply() == "unchanged"

    bench.load(device, seed, reject=[f"^interface {re.escape(expected[1])}$"])
    before = bench.running(device)
    assert apply() == "rolled-back"
    assert bench.running(device) == before
