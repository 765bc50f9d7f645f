"""Suppression by devices another sharded poller holds (#17): the store's view of them, how
long a row is trusted, the wait of a new alert for a view newer than itself, a hand-over."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govnet.inventory.model import Link
from govnet.monitor.alerts import MAX_REMOTE_WAIT
from govnet.monitor.config import MonitorConfig
from govnet.monitor.daemon import batch_of
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult
from govnet.monitor.topology import RemoteStates, Topology, trusted_until
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from tests.unit.monitor.support import device
from tests.unit.monitor.test_alerts import Rig

CONFIG = MonitorConfig(max_backoff=600.0, flush_every=1.0)
DEVICES = [
    device("agg", role="aggregation"),
    device("acc", role="access"),
    device("ups-1", role="ups"),
    device("srv", role="server", power_feed="ups-1"),
]
LINKS = [Link("agg", "Gi0/1", "acc", "Gi0/24")]


def row(name: str, state: str, last_poll: float, since: float | None = None) -> dict[str, Any]:
    return {
        "device": name,
        "state": state,
        "since": last_poll if since is None else since,
        "last_poll": last_poll,
    }


def view(
    rig: Rig, rows: list[dict[str, Any]], latest: Sequence[tuple[str, str, str, float]] = ()
) -> RemoteStates:
    return RemoteStates.from_rows(rows, latest, rig.clock.time(), rig.devices, CONFIG)


def rig_of(tmp: Path) -> Rig:
    """acc and srv polled here; agg and ups-1 held by another poller."""
    rig = Rig(tmp, devices=DEVICES, links=LINKS)
    rig.engine.remote = RemoteStates()
    return rig


def down(rig: Rig, name: str) -> None:
    rig.statuses[name].state = DeviceState.DOWN
    rig.poll(name, ok=False)


def test_a_row_is_trusted_for_two_intervals_or_a_down_devices_back_off() -> None:
    agg = device("agg", role="aggregation")  # 60 s
    assert trusted_until(row("agg", "up", 1000.0), agg, CONFIG) == 1000 + 60 + 60 + 2
    assert trusted_until(row("agg", "unreachable", 1000.0), agg, CONFIG) == 1000 + 120 + 2
    # down since 0, polled at 0, 60, 180, 420: the next poll is 480 s after the last
    assert trusted_until(row("agg", "down", 420.0, since=0.0), agg, CONFIG) == 420 + 480 + 62
    # … and never more than max_backoff apart
    assert trusted_until(row("agg", "down", 5000.0, since=0.0), agg, CONFIG) == 5000 + 600 + 62


def test_a_parent_another_poller_holds_suppresses_until_its_row_is_stale(tmp_path: Path) -> None:
    rig = rig_of(tmp_path)
    now = rig.clock.time()
    rig.engine.set_remote(view(rig, [row("agg", "down", now - 5), row("ups-1", "up", now)]))
    down(rig, "acc")
    assert rig.firing()["down|acc|"]["suppressed_by"] == "behind agg (down)"
    assert rig.notifier.seen() == []
    rig.clock.advance(60)  # agg's row: polled 65 s ago, down since then: trusted to +122
    rig.engine.recheck_remote()
    assert rig.firing()["down|acc|"]["suppressed"] and rig.notifier.seen() == []
    rig.clock.advance(60)  # its poller stopped writing: no longer trusted, told now
    rig.engine.recheck_remote()
    assert not rig.firing()["down|acc|"]["suppressed"]
    assert rig.notifier.seen() == [("firing", "down|acc|")]


def test_a_remote_port_and_a_remote_ups_suppress(tmp_path: Path) -> None:
    rig = rig_of(tmp_path)
    now = rig.clock.time()
    rows = [row("agg", "up", now), row("ups-1", "up", now)]
    latest = [("agg", "if_oper", "Gi0/1", 2.0), ("ups-1", "ups_output_source", "", 2.0)]
    rig.engine.set_remote(view(rig, rows, latest))
    down(rig, "acc")
    down(rig, "srv")
    firing = rig.firing()
    assert firing["down|acc|"]["suppressed_by"] == "behind agg:Gi0/1 (link down)"
    assert firing["down|srv|"]["suppressed_by"] == "power: ups-1 (output off)"
    # the port comes back, the UPS's mains too: both told at the next view
    rig.clock.advance(5)
    rows = [row("agg", "up", rig.clock.time()), row("ups-1", "up", rig.clock.time())]
    latest = [("agg", "if_oper", "Gi0/1", 1.0), ("ups-1", "ups_output_source", "", 3.0)]
    rig.engine.set_remote(view(rig, rows, latest))
    assert sorted(rig.notifier.seen()) == [("firing", "down|acc|"), ("firing", "down|srv|")]


def test_a_new_alert_waits_for_a_view_read_after_it(tmp_path: Path) -> None:
    rig = rig_of(tmp_path)
    rig.engine.settle = 2.0
    now = rig.clock.time()
    rig.engine.set_remote(view(rig, [row("agg", "up", now)]))
    rig.clock.advance(1)
    down(rig, "acc")  # agg up as far as the view tells; its poller may know better
    opened = rig.clock.time()
    assert rig.firing()["down|acc|"]["suppressed_by"] == (
        "waiting for the state of agg from their pollers"
    )
    rig.clock.advance(1)
    rig.engine.set_remote(view(rig, [row("agg", "up", now)]))  # read 1 s after: not yet
    assert rig.notifier.seen() == []
    rig.clock.advance(1)
    rig.engine.set_remote(view(rig, [row("agg", "down", opened + 0.5)]))  # committed late
    assert rig.firing()["down|acc|"]["suppressed_by"] == "behind agg (down)"
    assert rig.notifier.seen() == []


def test_the_wait_is_bounded_when_the_store_cannot_be_read(tmp_path: Path) -> None:
    rig = rig_of(tmp_path)
    rig.engine.set_remote(view(rig, [row("agg", "up", rig.clock.time())]))
    down(rig, "acc")
    assert rig.firing()["down|acc|"]["suppressed"]
    rig.clock.advance(MAX_REMOTE_WAIT)
    rig.engine.recheck_remote()  # no new view came: fail open
    assert rig.notifier.seen() == [("firing", "down|acc|")]


def test_a_parent_handed_over_keeps_suppressing_until_the_next_view(tmp_path: Path) -> None:
    rig = Rig(tmp_path, devices=DEVICES, links=LINKS)
    rig.engine.remote = RemoteStates()
    down(rig, "agg")  # both polled here
    down(rig, "acc")
    assert rig.firing()["down|acc|"]["suppressed_by"] == "behind agg (down)"
    rig.engine.release(["agg"])  # agg's shard goes to another poller
    rig.clock.advance(10)
    down(rig, "acc")
    rig.engine.recheck_remote()
    assert rig.firing()["down|acc|"]["suppressed_by"] == "behind agg (down)"
    assert rig.notifier.seen() == [("firing", "down|agg|")]


def test_unsharded_nothing_waits(tmp_path: Path) -> None:
    rig = Rig(tmp_path, devices=DEVICES, links=LINKS)
    assert rig.engine.remote is None
    down(rig, "acc")  # agg never polled: unknown, not a cause
    assert rig.notifier.seen() == [("firing", "down|acc|")]


def test_a_parent_not_read_yet_holds_a_restored_alert_rather_than_telling_it(
    tmp_path: Path,
) -> None:
    rig = rig_of(tmp_path)
    down(rig, "agg")  # a previous holder saw agg down: acc's alert suppressed, not told
    down(rig, "acc")
    assert rig.firing()["down|acc|"]["suppressed_by"] == "behind agg (down)"
    rig.engine.release(["agg", "acc"])
    rig.engine = rig.make_engine(LINKS)  # acc's shard comes to a poller that never read agg
    rig.engine.restore(rig.ms.firing_alerts())
    rig.clock.advance(60)
    rig.engine.remote = RemoteStates(read_at=rig.clock.time())  # read for others, not agg
    down(rig, "acc")
    assert rig.firing()["down|acc|"]["suppressed"]
    assert rig.notifier.seen() == [("firing", "down|agg|")]
    now = rig.clock.time()
    rig.engine.set_remote(view(rig, [row("agg", "down", now - 1)], ()))
    assert rig.firing()["down|acc|"]["suppressed_by"] == "behind agg (down)"
    rig.clock.advance(MAX_REMOTE_WAIT)  # no view since: agg's row still within its time
    rig.engine.recheck_remote()
    assert rig.notifier.seen() == [("firing", "down|agg|")]
    rig.clock.advance(100)  # past two intervals after agg's last poll: acc is told
    rig.engine.recheck_remote()
    assert rig.notifier.seen() == [("firing", "down|agg|"), ("firing", "down|acc|")]


def test_the_store_read_gives_the_rows_and_only_the_values_asked_for(store_url: str) -> None:
    topology = Topology.build({d.name: d for d in DEVICES}, LINKS)
    assert topology.dependencies("acc") == {"agg"} and topology.dependencies("srv") == {"ups-1"}
    keys = topology.dependency_keys("acc") + topology.dependency_keys("srv")
    assert keys == [
        ("agg", "if_oper", "Gi0/1"),
        ("ups-1", "ups_output_source", ""),
        ("ups-1", "ups_battery_status", ""),
    ]
    latest = [
        ("agg", "if_oper", "Gi0/1", 2.0),
        ("agg", "if_oper", "Gi0/2", 1.0),  # a port towards no device of this poller
        ("agg", "if_in_bps", "Gi0/1", 5.0),
        ("ups-1", "ups_output_source", "", 3.0),
    ]
    with Store.open(store_url) as store:
        ms = MonitorStore(store)
        for name, state in (("agg", DeviceState.UP), ("acc", DeviceState.DOWN)):
            result = PollResult(name, 100.0, 100.0, ok=True)  # written as the daemon writes
            result.latest = [(m, i, v, "") for d, m, i, v in latest if d == name]
            ms.write(batch_of(result, DeviceStatus(name, state=state, last_poll=100.0)), 100.0)
        ups = PollResult("ups-1", 100.0, 100.0, ok=True)
        ups.latest = [(m, i, v, "") for d, m, i, v in latest if d == "ups-1"]
        ms.write(batch_of(ups, DeviceStatus("ups-1", state=DeviceState.UP, last_poll=100.0)), 100.0)
        states, got = ms.dependency_rows(["agg", "ups-1"], keys)
    got_states = sorted((r["device"], r["state"], r["last_poll"]) for r in states)
    assert got_states == [("agg", "up", 100.0), ("ups-1", "up", 100.0)]
    assert sorted(got) == [
        ("agg", "if_oper", "Gi0/1", 2.0),
        ("ups-1", "ups_output_source", "", 3.0),
    ]
