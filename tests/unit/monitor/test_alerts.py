"""The alert engine on synthetic polls: for-durations, hysteresis, latches, flapping,
suppression, one alert per problem across restarts, and the rules loader's errors."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from govnet.errors import PlaybookError
from govnet.inventory.model import Link
from govnet.monitor.alerts import AlertEngine
from govnet.monitor.daemon import StoreWriter
from govnet.monitor.model import DeviceState, DeviceStatus, PollResult, Sample
from govnet.monitor.notify import Notice
from govnet.monitor.rules import AlertRules, load_rules
from govnet.monitor.topology import READS as TOPOLOGY_READS
from govnet.monitor.topology import Topology
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from govnet.testing import FakeClock
from tests.unit.monitor.support import device

RULES = """
defaults:
  flap: {window: 10m, changes: 4}
rules:
  - id: hot
    title: {en: Hot, zh: 热}
    severity: high
    metric: temperature_c
    above: 27
    clear: 26
    for: 5m
  - id: on-battery
    title: {en: On battery, zh: 电池}
    severity: critical
    state: ups_on_battery
  - id: leak
    title: {en: Leak, zh: 漏水}
    severity: critical
    state: leak
    latch: true
  - id: down
    title: {en: Down, zh: 宕机}
    severity: critical
    state: device_down
  - id: link
    title: {en: Link, zh: 链路}
    severity: high
    state: link_down
"""


class Recorder:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)

    def seen(self) -> list[tuple[str, str]]:
        return [(n.status, n.key) for n in self.notices]


class Rig:
    def __init__(
        self,
        tmp: Path,
        rules: str = RULES,
        devices: list[Any] | None = None,
        links: list[Link] | None = None,
    ) -> None:
        path = tmp / "alerts.yaml"
        path.write_text(textwrap.dedent(rules), encoding="utf-8")
        self.rules = load_rules(path)
        self.devices = {d.name: d for d in (devices or [device("env-1", role="env")])}
        self.clock = FakeClock()
        self.ms = MonitorStore(Store.open(f"sqlite:///{tmp / 'a.sqlite'}"))
        self.notifier = Recorder()
        self.statuses = {n: DeviceStatus(n, state=DeviceState.UP) for n in self.devices}
        self.engine = self.make_engine(links or [])

    def make_engine(self, links: list[Link]) -> AlertEngine:
        topo = Topology.build(self.devices, links)
        return AlertEngine(
            self.rules,
            self.devices,
            topo,
            StoreWriter(self.ms),
            self.notifier,  # type: ignore[arg-type]
            self.clock,
        )

    def poll(
        self,
        name: str = "env-1",
        ok: bool = True,
        latest: list[Any] | None = None,
        **samples: float,
    ) -> None:
        result = PollResult(name, self.clock.time(), self.clock.time(), ok=ok)
        for key, value in samples.items():
            metric, _, instance = key.partition("__")
            result.samples.append(Sample(metric, instance.replace("_", " "), value))
        result.latest = list(latest or [])
        self.engine.on_poll(result, self.statuses[name])

    def firing(self) -> dict[str, dict[str, Any]]:
        return {a["key"]: a for a in self.ms.list_alerts("firing")}


def test_threshold_waits_for_its_duration_and_clears_with_hysteresis(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    for _ in range(5):  # 4 minutes above 27: pending, not yet an alert
        rig.poll(temperature_c__Inlet=28.0)
        rig.clock.advance(60)
    assert rig.firing() == {}
    rig.poll(temperature_c__Inlet=28.5)
    assert list(rig.firing()) == ["hot|env-1|Inlet"]
    alert = rig.firing()["hot|env-1|Inlet"]
    assert alert["severity"] == "high" and alert["value"] == 28.5
    assert "Temperature Inlet 28.5°C above 27°C for 5m" in alert["message"]
    for value in (26.5, 27.5, 26.2, 28.0):  # wobbling in and out of the band: still one alert
        rig.clock.advance(60)
        rig.poll(temperature_c__Inlet=value)
    assert len(rig.ms.list_alerts(None)) == 1 and rig.firing()
    rig.clock.advance(60)
    rig.poll(temperature_c__Inlet=25.9)  # at or below the clear level: resolved
    assert rig.firing() == {}
    assert rig.notifier.seen() == [("firing", "hot|env-1|Inlet"), ("resolved", "hot|env-1|Inlet")]


def test_state_rule_at_once_and_one_alert_across_restarts(tmp_path: Path) -> None:
    rig = Rig(tmp_path, devices=[device("ups-1", role="ups")])
    rig.poll("ups-1", latest=[("ups_output_source", "", 5.0, "")])
    assert list(rig.firing()) == ["on-battery|ups-1|"]
    # the daemon restarts: the firing alert is restored, not opened again
    rig.engine = rig.make_engine([])
    rig.engine.restore(rig.ms.firing_alerts())
    rig.clock.advance(30)
    rig.poll("ups-1", latest=[("ups_output_source", "", 5.0, "")])
    assert len(rig.ms.list_alerts(None)) == 1
    assert len(rig.notifier.notices) == 1
    rig.poll("ups-1", latest=[("ups_output_source", "", 3.0, "")])
    assert rig.firing() == {}
    assert rig.notifier.seen()[-1] == ("resolved", "on-battery|ups-1|")


def test_leak_is_latched_until_acknowledged(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.poll(leak__Water_leak=1.0)
    rig.clock.advance(30)
    rig.poll(leak__Water_leak=0.0)  # dried up: still firing
    alert = rig.firing()["leak|env-1|Water leak"]
    assert "latched until acknowledged" in alert["message"]
    rig.ms.ack([alert["id"]], "duty", "mopped", rig.clock.time())
    rig.engine.sync_acks(rig.ms.acked_firing_keys())
    assert rig.firing() == {}
    events = [e["event"] for e in rig.ms.alert_events(alert["id"])]
    assert events == ["opened", "notified", "cleared", "acked", "resolved"]


def test_flapping_holds_one_alert_and_stops_notifications(tmp_path: Path) -> None:
    rig = Rig(tmp_path, devices=[device("ups-1", role="ups")])
    for i in range(12):  # mains failing and returning every 30 s
        rig.poll("ups-1", latest=[("ups_output_source", "", 5.0 if i % 2 == 0 else 3.0, "")])
        rig.clock.advance(30)
    alerts = rig.ms.list_alerts(None)
    statuses = [a["status"] for a in alerts]
    assert statuses.count("firing") == 1 and len(alerts) <= 3  # not six open/close pairs
    assert rig.firing()["on-battery|ups-1|"]["flapping"]
    assert len(rig.notifier.notices) <= 4
    # stable (mains back) for the whole window: resolved
    for _ in range(25):
        rig.poll("ups-1", latest=[("ups_output_source", "", 3.0, "")])
        rig.clock.advance(30)
    assert rig.firing() == {}


def test_a_restored_flapping_alert_stays_held_until_stable(tmp_path: Path) -> None:
    rig = Rig(tmp_path, devices=[device("ups-1", role="ups")])
    for i in range(12):
        rig.poll("ups-1", latest=[("ups_output_source", "", 5.0 if i % 2 == 0 else 3.0, "")])
        rig.clock.advance(30)
    assert rig.firing()["on-battery|ups-1|"]["flapping"]
    rig.engine = rig.make_engine([])  # kill -9 and restart
    rig.engine.restore(rig.ms.firing_alerts())
    notices, alerts = len(rig.notifier.notices), rig.ms.list_alerts(None)
    for i in range(6):  # still flapping after the restart: the same alert, no notification
        rig.poll("ups-1", latest=[("ups_output_source", "", 3.0 if i % 2 == 0 else 5.0, "")])
        rig.clock.advance(30)
    assert [a["id"] for a in rig.ms.list_alerts(None)] == [a["id"] for a in alerts]
    assert len(rig.ms.list_alerts("firing")) == 1 and len(rig.notifier.notices) == notices
    for _ in range(25):  # then stable for the window: resolved
        rig.poll("ups-1", latest=[("ups_output_source", "", 3.0, "")])
        rig.clock.advance(30)
    assert rig.firing() == {}


def test_device_behind_a_down_uplink_is_suppressed(tmp_path: Path) -> None:
    devices = [
        device("core", role="core"),
        device("agg", role="aggregation"),
        device("acc", role="access"),
    ]
    links = [Link("core", "Gi0/1", "agg", "Gi0/24"), Link("agg", "Gi0/1", "acc", "Gi0/24")]
    rig = Rig(tmp_path, devices=devices, links=links)
    for name in ("agg", "acc"):
        rig.statuses[name].state = DeviceState.DOWN
    rig.poll("agg", ok=False)
    rig.poll("acc", ok=False)
    firing = rig.firing()
    assert not firing["down|agg|"]["suppressed"]
    assert firing["down|acc|"]["suppressed"]
    assert firing["down|acc|"]["suppressed_by"] == "behind agg (down)"
    assert rig.notifier.seen() == [("firing", "down|agg|")]
    # agg comes back, acc is still down: no longer a consequence, told now
    rig.statuses["agg"].state = DeviceState.UP
    rig.poll("agg", latest=[("if_oper", "Gi0/1", 1.0, ""), ("if_admin", "Gi0/1", 1.0, "")], up=1.0)
    rig.poll("acc", ok=False)
    assert not rig.firing()["down|acc|"]["suppressed"]
    assert ("firing", "down|acc|") in rig.notifier.seen()


def test_link_down_only_on_watched_ports_and_suppresses_what_is_behind(tmp_path: Path) -> None:
    devices = [device("agg", role="aggregation"), device("acc", role="access")]
    rig = Rig(tmp_path, devices=devices, links=[Link("agg", "Gi0/1", "acc", "Gi0/24")])
    rig.poll(
        "agg",
        up=1.0,
        latest=[
            ("if_oper", "Gi0/1", 2.0, ""),
            ("if_admin", "Gi0/1", 1.0, ""),
            ("if_oper", "Gi0/9", 2.0, ""),
            ("if_admin", "Gi0/9", 1.0, ""),  # a PC switched off
        ],
    )
    rig.statuses["acc"].state = DeviceState.DOWN
    rig.poll("acc", ok=False)
    firing = rig.firing()
    assert set(firing) == {"link|agg|Gi0/1", "down|acc|"}
    assert firing["down|acc|"]["suppressed_by"] == "behind agg:Gi0/1 (link down)"


def test_power_feed_suppresses(tmp_path: Path) -> None:
    devices = [device("ups-1", role="ups"), device("srv", role="server", power_feed="ups-1")]
    rig = Rig(tmp_path, devices=devices)
    rig.poll(
        "ups-1", latest=[("ups_output_source", "", 5.0, ""), ("ups_battery_status", "", 4.0, "")]
    )
    rig.statuses["srv"].state = DeviceState.DOWN
    rig.poll("srv", ok=False)
    assert rig.firing()["down|srv|"]["suppressed_by"] == "power: ups-1 (battery depleted)"


def test_without_the_exporter_only_what_suppression_reads_is_kept(tmp_path: Path) -> None:
    """No /metrics: the engine keeps in memory only the latest values suppression reads (the
    parent's port towards a child, a UPS's output and battery), not every port's status of
    every switch; suppression still sees them."""
    devices = [
        device("agg", role="aggregation"),
        device("acc", role="access"),
        device("ups-1", role="ups"),
        device("srv", role="server", power_feed="ups-1"),
    ]
    rig = Rig(tmp_path, devices=devices, links=[Link("agg", "Gi0/1", "acc", "Gi0/24")])
    rig.engine.keep_latest = TOPOLOGY_READS
    ports = [("if_oper", "Gi0/1", 2.0, ""), ("if_admin", "Gi0/1", 1.0, "")]
    ports += [("if_oper", "Gi0/9", 2.0, ""), ("if_admin", "Gi0/9", 1.0, "")]
    rig.poll("agg", up=1.0, latest=ports)
    rig.poll(
        "ups-1", latest=[("ups_output_source", "", 5.0, ""), ("ups_battery_status", "", 4.0, "")]
    )
    rig.poll("acc", up=1.0, latest=[("if_oper", "Gi0/24", 1.0, "")])
    assert rig.engine.latest == {
        ("agg", "if_oper", "Gi0/1"): 2.0,
        ("ups-1", "ups_output_source", ""): 5.0,
        ("ups-1", "ups_battery_status", ""): 4.0,
    }
    for name in ("acc", "srv"):
        rig.statuses[name].state = DeviceState.DOWN
        rig.poll(name, ok=False)
    firing = rig.firing()
    assert firing["down|acc|"]["suppressed_by"] == "behind agg:Gi0/1 (link down)"
    assert firing["down|srv|"]["suppressed_by"] == "power: ups-1 (battery depleted)"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "- {id: x, title: {en: a, zh: b}, severity: high, metric: temperature_c, above: 27, clear: 28}",
            "rules[0]: clear (28) must not be above 'above' (27): it is the level the value falls back to",
        ),
        (
            "- {id: x, title: {en: a, zh: b}, severity: high, metric: temprature_c, above: 27}",
            "rules[0]: unknown metric 'temprature_c'",
        ),
        (
            "- {id: x, title: {en: a, zh: b}, severity: high, state: ups_on_battery, for: soon}",
            "rules[0].for: bad duration 'soon' (e.g. 90s, 5m, 1.5h, 7d, 2w, 1y or 1h30m)",
        ),
        (
            "- {id: x, title: {en: a, zh: b}, severity: urgent, state: leak}",
            "rules[0].severity: Input should be 'critical', 'high', 'medium' or 'low'",
        ),
        (
            "- {id: x, title: {en: a, zh: b}, severity: low, state: leak, control: room.ups2}",
            "rules[0].control: unknown control 'room.ups2'",
        ),
    ],
)
def test_rule_errors_are_located(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(f"rules:\n  {body}\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as info:
        load_rules(path)
    text = [str(d) for d in info.value.diagnostics]
    assert any(message in t and t.startswith(f"{path}:2:") for t in text), text


def test_shipped_rules_load() -> None:
    rules = load_rules(Path(__file__).resolve().parents[3] / "playbooks" / "alerts.yaml")
    assert isinstance(rules, AlertRules)
    by_id = rules.by_id()
    assert (
        by_id["ups-on-battery"].for_ == 0 and by_id["ups-on-battery"].severity.value == "critical"
    )
    assert (by_id["inlet-temperature-high"].above, by_id["inlet-temperature-low"].below) == (27, 18)
    assert by_id["water-leak"].latch


def test_alerts_inside_a_maintenance_window_are_muted_then_told_when_it_ends(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, devices=[device("ups-1", role="ups")])
    ends = rig.clock.time() + 600
    rig.engine.maintenance = lambda name, now: (
        "maintenance window ups-swap" if name == "ups-1" and now < ends else ""
    )
    rig.poll("ups-1", latest=[("ups_output_source", "", 5.0, "")])
    [alert] = rig.firing().values()
    assert alert["suppressed"] and alert["suppressed_by"] == "maintenance window ups-swap"
    assert rig.notifier.notices == []  # muted, but recorded
    rig.clock.advance(601)
    rig.poll("ups-1", latest=[("ups_output_source", "", 5.0, "")])
    assert rig.notifier.seen() == [("firing", "on-battery|ups-1|")]
    assert not rig.firing()["on-battery|ups-1|"]["suppressed"]


def test_the_inventory_says_which_window_covers_a_device(write_inventory: Any) -> None:
    from govnet.inventory import load_inventory
    from tests.conftest import MINIMAL

    inv = load_inventory(
        write_inventory(
            MINIMAL
            + """
maintenance:
  - {name: nightly, units: [office], weekly: {days: [mon, tue, wed, thu, fri, sat, sun], at: "02:00", duration: 1h}, timezone: Asia/Shanghai}
  - {name: county-move, sites: [county], start: 2030-01-01T08:00:00+08:00, end: 2030-01-01T12:00:00+08:00}
"""
        )
    )
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")

    def at(year: int, month: int, day: int, hour: int, minute: int) -> float:
        return datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()

    window = inv.maintenance_now("device", "sw1", at(2029, 12, 3, 2, 30))
    assert window is not None and window.name == "nightly"  # sw1's unit
    assert inv.maintenance_now("device", "sw1", at(2029, 12, 3, 3, 30)) is None
    assert inv.maintenance_now("device", "sw2", at(2029, 12, 3, 2, 30)) is None
    move = inv.maintenance_now("device", "sw1", at(2030, 1, 1, 9, 0))  # town is in the county
    assert move is not None
    assert inv.maintenance_now("device", "nope", at(2030, 1, 1, 9, 0)) is None
