"""Topology suppression across sharded pollers (#17), on a real PostgreSQL and a real SNMP agent.

A real sharded govnetd (in this process, ``--shards 2``) polls the access switch acc-1 (the
lab's SNMP agent on a free loopback port); its uplink's parent agg-4 is in the other shard,
held by a second shard member whose "poller" writes agg-4's ``monitor_devices`` row through
its own MonitorStore, as a sharded poller does. acc-1 is polled every second and is down one
second after its agent stops. The alert on acc-1 must then:

1. wait for the store's view of agg-4 and be told, agg-4 being up;
2. be suppressed when agg-4's poller commits agg-4 down *after* acc-1's alert opened (within
   the settle window: one poller seeing the child first would have judged it the same), and
   never told;
3. be told when agg-4's row goes stale (its poller stopped writing: fail open).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from govnet.inventory import Inventory, load_inventory
from govnet.inventory.model import Device
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables
from govnet.lab.snmpagent import AgentSpec, SnmpLab
from govnet.monitor import daemon as daemon_module
from govnet.monitor.config import MonitorConfig
from govnet.monitor.daemon import Daemon, DaemonOptions, batch_of
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult
from govnet.monitor.sharding import ShardMember, ShardOptions
from govnet.monitor.shards import shard_of
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from tests.pgserver import PostgresServer

pytestmark = pytest.mark.integration

PARENT, CHILD = "agg-4", "acc-1"
KEY = f"device-down|{CHILD}|"

INVENTORY = """
zones:
  internal: {{isolated_from: []}}
sites:
  city: {{level: city}}
snmp_profiles:
  v2: {{version: "2c", community: env:GOVNET_T_COMMUNITY, timeout: 0.3, retries: 0}}
defaults:
  snmp_profile: v2
  zone: internal
  site: city
  vars: {{poll_interval: 1s}}
devices:
  {parent}: {{host: 127.0.0.1, snmp_port: {parent_port}, platform: huawei, role: aggregation}}
  {child}: {{host: 127.0.0.1, snmp_port: {child_port}, platform: huawei, role: access}}
links:
  - {{a: "{parent}:GigabitEthernet0/0/1", b: "{child}:GigabitEthernet0/0/24"}}
"""

RULES = """
notifiers:
  - kind: log
rules:
  - {id: device-down, title: {en: Device down, zh: 设备不可达}, severity: critical,
     state: device_down}
"""


class OtherPoller:
    """The holder of the parent's shard: a real shard member; its polls are agg-4's rows,
    written as a poller's store writer writes them (every second while it runs)."""

    def __init__(self, store: Store) -> None:
        self.mstore = MonitorStore(store)
        self.member = ShardMember(store, ShardOptions(2, every=0.5), self, holder="other")
        self.state = DeviceState.UP
        self.since = time.time()
        self.writing = True

    async def gain(self, shards: set[int], clean: set[int]) -> None:
        pass

    async def lose(self, shards: set[int], failed: bool) -> None:
        pass

    def beat(self) -> dict[str, Any]:
        return {"shards": {s: 0.0 for s in self.member.held}, "devices": 1, "lag_p99": 0.0}

    def set_state(self, state: DeviceState) -> None:
        self.state, self.since = state, time.time()
        self.write()

    def write(self) -> None:
        now = time.time()
        up = self.state is DeviceState.UP
        status = DeviceStatus(
            device=PARENT,
            zone="internal",
            site="city",
            role="aggregation",
            state=self.state,
            since=self.since,
            last_poll=now,
            last_ok=now if up else self.since,
            failures=0 if up else 3,
            error="" if up else "no answer",
        )
        result = PollResult(PARENT, now, now, ok=up)  # a poll of agg-4, as its poller's
        if up:  # store writer commits it (a failed poll carries no port values)
            result.latest = [("if_oper", "GigabitEthernet0/0/1", 1.0, "")]
        self.mstore.write(batch_of(result, status), now)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.writing:
                await asyncio.to_thread(self.write)
            await asyncio.sleep(1.0)


def agent(port: int) -> SnmpLab:
    tables = LabTables.model_validate(
        {"interfaces": [{"name": "GigabitEthernet0/0/24", "speed": 1000}]}
    )
    data = LabDeviceData(CHILD, None, tables, LabBehaviour(snmp={}))
    spec = AgentSpec(CHILD, "access", "huawei", port, data, community="lab-ro-test")
    return SnmpLab([spec])


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.database() as url:
        yield url


def firing(ms: MonitorStore) -> dict[str, Any] | None:
    return next((a for a in ms.list_alerts("firing") if a["key"] == KEY), None)


def events(ms: MonitorStore, alert: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["event"], e["detail"]) for e in ms.alert_events(int(alert["id"]))]


async def until(what: str, check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_a_child_behind_a_parent_another_poller_holds(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert (shard_of(PARENT, 2), shard_of(CHILD, 2)) == (0, 1)  # the shards the test expects
    monkeypatch.setenv("GOVNET_T_COMMUNITY", "lab-ro-test")
    monkeypatch.setattr(daemon_module, "HEARTBEAT_EVERY", 0.25)  # the view's refresh
    caplog.set_level(logging.INFO, logger="govnet.monitor")  # a quiet CLI test may have raised it
    (tmp_path / "alerts.yaml").write_text(RULES, encoding="utf-8")

    async def scenario() -> None:
        lab = agent(0)
        await lab.start()
        port = lab.address(CHILD)[1]
        path = tmp_path / "inv.yaml"
        path.write_text(
            INVENTORY.format(parent=PARENT, child=CHILD, parent_port=9, child_port=port),
            encoding="utf-8",
        )

        def load() -> tuple[Inventory, list[Device]]:
            inventory = load_inventory(path)
            return inventory, list(inventory.devices.values())

        with Store.open(pg_url) as theirs, Store.open(pg_url) as ours, Store.open(pg_url) as db:
            ms = MonitorStore(db)
            other = OtherPoller(theirs)
            await other.member.start()
            await other.member.step()  # alone: both shards, until the daemon comes
            stop = asyncio.Event()
            background = [
                asyncio.create_task(other.member.run(stop)),
                asyncio.create_task(other.run(stop)),
            ]
            # flush_every 2 s: a settle window of 3 s for the test to act in (the writer
            # still commits within 0.2 s of a poll)
            config = MonitorConfig(
                down_after=1.0, retry_delay=0.5, max_backoff=1.0, first_spread=0.0, flush_every=2.0
            )
            options = DaemonOptions(
                config=config,
                rules=tmp_path / "alerts.yaml",
                listen=None,
                handle_signals=False,
                shards=2,
            )
            daemon = Daemon(load, ours, options)
            run = asyncio.create_task(daemon.run())
            try:
                await until(
                    "the daemon polling acc-1 only",
                    lambda: (
                        daemon.poller is not None
                        and list(daemon.poller.devices) == [CHILD]
                        and other.member.held == {0}
                    ),
                )
                assert daemon.engine is not None and daemon.engine.settle == 3.0
                await until(
                    "acc-1 up",
                    lambda: daemon.engine and daemon.engine.states.get(CHILD) is DeviceState.UP,
                )

                # 1. agg-4 up, acc-1's agent stops: the alert waits for agg-4's state, told
                await lab.stop()
                alert = await until("acc-1's alert", lambda: firing(ms))
                assert alert["suppressed_by"].startswith("waiting for the state of agg-4")
                alert = await until(
                    "acc-1's alert told", lambda: (firing(ms) or {}).get("notified") and firing(ms)
                )
                said = events(ms, alert)
                assert [e for e, _ in said] == ["opened", "suppressed", "unsuppressed", "notified"]
                assert not alert["suppressed"]
                lab = agent(port)
                await lab.start()
                await until("acc-1's alert resolved", lambda: firing(ms) is None)

                # 2. acc-1 fails first, agg-4's poller commits agg-4 down after acc-1's alert
                # opened: suppressed all the same, never told
                await lab.stop()
                alert = await until("acc-1's second alert", lambda: firing(ms))
                assert alert["suppressed_by"].startswith("waiting for the state of agg-4")
                await asyncio.to_thread(other.set_state, DeviceState.DOWN)
                assert time.time() - alert["opened"] < daemon.engine.settle  # within the window
                alert = await until(
                    "suppressed behind agg-4",
                    lambda: (
                        (firing(ms) or {}).get("suppressed_by") == "behind agg-4 (down)"
                        and firing(ms)
                    ),
                )
                await asyncio.sleep(1.0)  # several refreshes and polls later: still held
                alert = firing(ms)
                assert alert is not None and alert["suppressed"] and not alert["notified"]
                assert "notified" not in [e for e, _ in events(ms, alert)]

                # 3. agg-4's poller dies (its row is no longer renewed): fail open, told
                other.writing = False
                gone = time.time()
                alert = await until(
                    "acc-1's alert told once agg-4's row is stale",
                    lambda: (firing(ms) or {}).get("notified") and firing(ms),
                )
                # trusted until its last poll + 1 s (down: its back-off, at most 1 s here)
                # + 1 s + flush_every + 1 s; then one refresh
                assert time.time() - gone < 1.0 + 1.0 + 2.0 + 1.0 + 2.0
                said = events(ms, alert)
                assert said[-2:] == [("unsuppressed", "was behind agg-4 (down)"), ("notified", "")]
                stale = [r for r in caplog.records if r.msg.startswith("stale states from other")]
                assert [getattr(r, "devices", None) for r in stale] == [[PARENT]]
            finally:
                daemon.stop()
                stop.set()
                await asyncio.wait_for(run, 30)
                await asyncio.gather(*background)
                await other.member.stop()
                await lab.stop()

    asyncio.run(scenario())
