"""The monitor against real SNMP agents, on both backends (pysnmp and gufo-snmp).

The agents are the lab's own (``govnet.lab.snmpagent``, built from ``inventory/lab-data``),
started in this process on free ports with a fake clock shared with the poller, so counters,
uptimes and for-durations move only when a test says so and every figure is exact. Each
scenario runs once per backend; one test checks both backends report identical samples.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypedDict

import pytest

from govnet.inventory import load_inventory
from govnet.inventory.model import Device, Link
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables
from govnet.lab.launcher import data_dir_for
from govnet.lab.server import build_plan
from govnet.lab.snmpagent import AgentSpec, SnmpLab
from govnet.monitor.alerts import AlertEngine
from govnet.monitor.config import MonitorConfig
from govnet.monitor.daemon import StoreWriter
from govnet.monitor.model import DeviceState, PollResult
from govnet.monitor.poller import Poller
from govnet.monitor.rules import load_rules
from govnet.monitor.topology import Topology
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from govnet.testing import FakeClock
from govnet.transport.snmp import snmp_backend
from tests.conftest import LAB_INVENTORY

pytestmark = pytest.mark.integration

BACKENDS = ["pysnmp", "gufo"]


class SnmpTiming(TypedDict):
    timeout: float
    retries: int


FAST: SnmpTiming = {"timeout": 0.15, "retries": 0}
PATIENT: SnmpTiming = {"timeout": 2.0, "retries": 1}

RULES = """
rules:
  - {id: device-down, title: {en: Device down, zh: 设备不可达}, severity: critical,
     state: device_down}
  - {id: ups-on-battery, title: {en: UPS on battery, zh: UPS电池供电}, severity: critical,
     state: ups_on_battery, for: 30s}
  - {id: ups-runtime-low, title: {en: UPS runtime low, zh: UPS后备时间不足}, severity: critical,
     metric: ups_minutes_left, below: 10, clear: 15}
"""


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def lab_specs(tmp: Path, names: Sequence[str] | None = None) -> tuple[list[AgentSpec], Any]:
    inv = load_inventory(LAB_INVENTORY)
    plan = build_plan(inv, data_dir_for(LAB_INVENTORY), tmp / "lab-state")
    specs = [dataclasses.replace(s, port=0) for s in plan.snmp if names is None or s.name in names]
    return specs, inv


def switch(name: str, utilisation: float, **snmp: Any) -> AgentSpec:
    tables = LabTables.model_validate(
        {
            "interfaces": [
                {"name": "GigabitEthernet0/0/1", "speed": 1000},
                {"name": "GigabitEthernet0/0/2", "oper": "down"},
            ]
        }
    )
    data = LabDeviceData(
        name, None, tables, LabBehaviour(snmp={"utilisation": utilisation, **snmp})
    )
    return AgentSpec(name, "access", "huawei", 0, data, community="lab-ro-test")


def ups(minutes: int, source: int) -> AgentSpec:
    data = LabDeviceData(
        "ups-t",
        None,
        LabTables(),
        LabBehaviour(snmp={"output_source": source, "minutes_remaining": minutes, "charge": 70}),
    )
    return AgentSpec("ups-t", "ups", "snmp", 0, data, community="lab-ro-test")


def bare_device(name: str, role: str, **vars_: Any) -> Device:
    from govnet.inventory.model import SnmpProfileSpec
    from govnet.secrets import SecretRef

    profile = SnmpProfileSpec(  # healthy agents: patient, a loaded CI machine must not miss a poll
        version="2c", community=SecretRef.parse("env:GOVNET_T_COMMUNITY"), **PATIENT
    )
    return Device(
        name=name,
        host="127.0.0.1",
        platform="huawei",
        role=role,
        zone="internal",
        site="city",
        snmp=profile,
        vars=dict(vars_),
    )


class Rig:
    """Agents + poller + alert engine + store, on one fake clock."""

    def __init__(
        self,
        tmp: Path,
        backend: str,
        specs: list[AgentSpec],
        devices: list[Device],
        links: Sequence[Link] = (),
        rules: str = RULES,
    ) -> None:
        self.tmp = tmp
        self.clock = FakeClock()
        self.backend_name = backend
        self.specs = specs
        self.devices = devices
        self.links = list(links)
        (tmp / "alerts.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
        self.rules = load_rules(tmp / "alerts.yaml")
        self.ms = MonitorStore(Store.open(f"sqlite:///{tmp / 'monitor.sqlite'}"))
        self.lab: SnmpLab | None = None
        self.results: list[PollResult] = []

    async def start(self) -> None:
        self.lab = SnmpLab(self.specs, clock=self.clock.monotonic)
        await self.lab.start()
        ports = {s.name: self.lab.address(s.name)[1] for s in self.specs}
        devices = [dataclasses.replace(d, snmp_port=ports[d.name]) for d in self.devices]
        self.devices = devices
        by_name = {d.name: d for d in devices}
        self.engine = AlertEngine(
            self.rules,
            by_name,
            Topology.build(by_name, self.links),
            StoreWriter(self.ms),
            None,
            self.clock,
        )
        self.backend = snmp_backend(self.backend_name, 16)
        self.poller = Poller(
            devices, self.backend, MonitorConfig(first_spread=0), self.clock, self.on_result
        )

    def on_result(self, result: PollResult, status: Any, transition: Any) -> None:
        self.results.append(result)
        StoreWriter(self.ms).poll(result, status)
        self.engine.on_poll(result, status, transition)

    async def restart_agents(self, specs: list[AgentSpec]) -> None:
        """Stop the agents and serve ``specs`` on the same ports (new lab data)."""
        assert self.lab is not None
        ports = {s.name: self.lab.address(s.name)[1] for s in self.specs}
        await self.lab.stop()
        self.specs = [dataclasses.replace(s, port=ports[s.name]) for s in specs]
        self.lab = SnmpLab(self.specs, clock=self.clock.monotonic)
        await self.lab.start()

    async def step(self, seconds: float) -> list[PollResult]:
        self.clock.advance(seconds)
        return await self.poller.run_due()

    async def stop(self) -> None:
        await self.backend.close()
        if self.lab is not None:
            await self.lab.stop()

    def firing(self) -> dict[str, dict[str, Any]]:
        return {a["key"]: a for a in self.ms.list_alerts("firing")}


@asynccontextmanager
async def rig(*args: Any, **kwargs: Any) -> AsyncIterator[Rig]:
    r = Rig(*args, **kwargs)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture(autouse=True)
def community(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_T_COMMUNITY", "lab-ro-test")


def samples(results: Sequence[PollResult], skip: Sequence[str] = ("rtt_ms",)) -> dict[Any, float]:
    return {
        (r.device, s.metric, s.instance): s.value
        for r in results
        for s in r.samples
        if s.metric not in skip
    }


def fast_devices(inv: Any, specs: list[AgentSpec], patient: bool = False) -> list[Device]:
    """The lab devices with FAST SNMP timeouts; with ``patient``, only silent agents get them
    (a busy CI machine must not make a healthy agent miss a poll and lose its baseline)."""
    out = []
    for s in specs:
        d = inv.devices[s.name]
        assert d.snmp is not None
        update = FAST if not patient or s.data.behaviour.silent else PATIENT
        out.append(dataclasses.replace(d, host="127.0.0.1", snmp=d.snmp.model_copy(update=update)))
    return out


# ------------------------------------------------------------------------------ the lab


def test_the_machine_room_on_both_backends_gives_identical_samples(tmp_path: Path) -> None:
    """Every lab agent, polled twice a minute apart, by each backend: same values exactly."""
    got: dict[str, dict[Any, float]] = {}

    async def scenario(backend: str) -> None:
        specs, inv = lab_specs(tmp_path)
        devices = fast_devices(inv, specs, patient=True)
        async with rig(tmp_path / backend, backend, specs, devices) as r:
            await r.poller.poll_all()
            r.clock.advance(60)
            second = await r.poller.poll_all()
            got[backend] = samples(second)
            states = {n: s.state for n, s in r.poller.statuses.items()}
            assert states.pop("ext-acc-town") is DeviceState.DOWN  # the hung switch, 60 s on
            assert set(states.values()) == {DeviceState.UP}

    for backend in BACKENDS:
        (tmp_path / backend).mkdir()
        asyncio.run(scenario(backend))
    a, b = got["pysnmp"], got["gufo"]
    assert a == b
    assert a[("ups-1", "ups_on_battery", "")] == 1.0
    assert a[("ups-1", "ups_minutes_left", "")] == 18.0
    assert a[("env-1", "temperature_c", "Inlet temperature")] == 23.5
    assert a[("env-1", "leak", "Water leak")] == 0.0
    assert a[("srv-int-1", "cpu_pct", "")] == 11.5
    uplink = a[("int-core-1", "if_in_bps", "GigabitEthernet0/0/24")]
    assert 0 < uplink < 10e9
    assert a[("ext-acc-town", "up", "")] == 0.0


def test_ups_on_battery_alert_after_its_for_and_runtime_clears_with_hysteresis(
    tmp_path: Path, backend: str
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, backend, [ups(20, 5)], [bare_device("ups-t", "ups")]) as r:
            opened_at = None
            for t in range(0, 60, 10):
                await (r.poller.poll_all() if t == 0 else r.step(10))
                if "ups-on-battery|ups-t|" in r.firing() and opened_at is None:
                    opened_at = t
            assert opened_at == 30  # pending for its 30 s, then critical
            alert = r.firing()["ups-on-battery|ups-t|"]
            assert alert["severity"] == "critical"
            assert "on battery (mains failed)" in alert["message"]
            # runtime falls below 10 min: at once; back to 12 (inside the band): still firing
            await r.restart_agents([ups(9, 5)])
            await r.step(30)
            assert "ups-runtime-low|ups-t|" in r.firing()
            await r.restart_agents([ups(12, 3)])  # mains back, battery recharging
            await r.step(30)
            assert set(r.firing()) == {"ups-runtime-low|ups-t|"}
            await r.restart_agents([ups(16, 3)])
            await r.step(30)
            assert r.firing() == {}
            assert len(r.ms.list_alerts(None)) == 2  # one alert per problem, all along

    asyncio.run(scenario())


def test_counter_wraps_and_a_reboot_are_gaps_not_spikes(tmp_path: Path, backend: str) -> None:
    specs = [switch("sw32", 0.6), switch("sw64", 0.6)]  # the lab varies rates ×0.5-1.5
    devices = [bare_device("sw32", "access", if_counters=32), bare_device("sw64", "access")]

    async def scenario() -> None:
        async with rig(tmp_path, backend, specs, devices) as r:
            await r.poller.poll_all()
            rates: dict[str, list[float | None]] = {"sw32": [], "sw64": []}
            events: dict[str, list[str]] = {"sw32": [], "sw64": []}
            for i in range(14):
                if i == 10:
                    assert r.lab is not None
                    for name in ("sw32", "sw64"):
                        r.lab.agent(name).restart_clock()  # the switches reboot
                r.clock.advance(20)
                for res in await r.poller.poll_all():
                    value = samples([res]).get((res.device, "if_in_bps", "GigabitEthernet0/0/1"))
                    rates[res.device].append(value)
                    events[res.device] += [e.kind for e in res.events]
            for name in ("sw32", "sw64"):
                seen = [v for v in rates[name] if v is not None]
                assert max(seen) - min(seen) < 1e-3 * max(seen), name  # one steady rate, no spike
                assert seen[0] <= 1e9  # never above the line
                assert rates[name][10] is None and "reboot" in events[name]  # reboot: a gap
            wraps = [v for v in rates["sw32"][:10] if v is None]
            assert len(wraps) >= 2  # 32-bit at 40-110 MB/s wraps every 40-100 s: gaps
            assert all(v is not None for v in rates["sw64"][:10])  # 64-bit: no wrap

    asyncio.run(scenario())


def test_silent_agent_goes_unreachable_then_down_with_backoff_and_comes_back(
    tmp_path: Path, backend: str
) -> None:
    specs, inv = lab_specs(tmp_path, ["int-acc-west"])

    async def scenario() -> None:
        async with rig(tmp_path, backend, specs, fast_devices(inv, specs)) as r:
            await r.poller.poll_all()
            assert r.lab is not None
            r.lab.agent("int-acc-west").silent = True
            seen: list[tuple[float, DeviceState]] = []
            start = r.clock.time()
            while r.clock.time() - start < 700:
                for _ in await r.step(1):
                    seen.append((r.clock.time() - start, r.poller.statuses["int-acc-west"].state))
            states = [s for _, s in seen]
            assert states[0] is DeviceState.UNREACHABLE
            down = states.index(DeviceState.DOWN)
            assert 45 <= seen[down][0] <= 60  # judged down after 45 s of failures
            times = [t for t, _ in seen[down:]]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert gaps[:3] == [60, 120, 240]  # backoff
            assert "device-down|int-acc-west|" in r.firing()
            r.lab.agent("int-acc-west").silent = False
            while r.poller.statuses["int-acc-west"].state is not DeviceState.UP:
                await r.step(5)
            assert r.firing() == {}

    asyncio.run(scenario())


def test_device_behind_a_down_uplink_is_suppressed(tmp_path: Path, backend: str) -> None:
    names = ["int-core-1", "int-agg-east", "int-acc-town"]
    specs, inv = lab_specs(tmp_path, names)
    links = [link for link in inv.links if {link.a_device, link.b_device} <= set(names)]

    async def scenario() -> None:
        async with rig(tmp_path, backend, specs, fast_devices(inv, specs), links) as r:
            await r.poller.poll_all()
            assert r.lab is not None
            for name in ("int-agg-east", "int-acc-town"):  # the county uplink fails
                r.lab.agent(name).silent = True
            start = r.clock.time()
            while r.clock.time() - start < 120:
                await r.step(1)
            firing = r.firing()
            assert set(firing) == {"device-down|int-agg-east|", "device-down|int-acc-town|"}
            assert not firing["device-down|int-agg-east|"]["suppressed"]
            town = firing["device-down|int-acc-town|"]
            assert town["suppressed"] and town["suppressed_by"] == "behind int-agg-east (down)"

    asyncio.run(scenario())


# ------------------------------------------------------------------------ device health


def test_seeded_hot_switch_failed_fan_and_failed_psu_raise_the_shipped_alerts(
    tmp_path: Path, backend: str
) -> None:
    """The lab's seeded faults (inventory/lab-data/*/lab.yaml), read from each vendor's MIB by
    the health set and judged by the shipped alert rules (playbooks/alerts.yaml)."""
    names = ["int-agg-east", "ext-core-1", "ext-agg-east", "int-acc-west", "ext-acc-west"]
    specs, inv = lab_specs(tmp_path, names)
    shipped = (Path(__file__).resolve().parents[2] / "playbooks" / "alerts.yaml").read_text()

    async def scenario() -> None:
        async with rig(
            tmp_path, backend, specs, fast_devices(inv, specs, patient=True), rules=shipped
        ) as r:
            first = await r.poller.poll_all()
            got = samples(first)
            latest = {(x.device, m, i): v for x in first for m, i, v, _ in x.latest}
            # Huawei (HUAWEI-ENTITY-EXTENT-MIB), names from entPhysicalName
            assert got[("int-agg-east", "temperature_c", "MPU Board 0")] == 78.0
            assert got[("int-agg-east", "cpu_pct", "MPU Board 0")] == 93.0
            assert latest[("int-agg-east", "fan_ok", "FAN1")] == 1.0
            assert latest[("int-agg-east", "psu_ok", "PWR2")] == 1.0
            # H3C (HH3C-ENTITY-EXT-MIB error status by entity class)
            assert latest[("ext-core-1", "fan_ok", "Fan 2")] == 0.0
            assert latest[("ext-core-1", "fan_ok", "Fan 1")] == 1.0
            assert latest[("ext-core-1", "psu_ok", "Power 1")] == 1.0
            assert got[("int-acc-west", "temperature_c", "Board 1")] == 41.0
            # Cisco (ENVMON, MEMORY-POOL, PROCESS with cpmCPUTotalPhysicalIndex → entity)
            assert latest[("ext-agg-east", "psu_ok", "Sw1, PS2")] == 0.0
            assert got[("ext-agg-east", "cpu_pct", "Switch 1")] == 12.0
            assert got[("ext-agg-east", "mem_used_pct", "Processor")] == 38.0
            assert ("int-agg-east", "temperature_c", "Chassis") not in got  # 0: no sensor
            fired: dict[str, float] = {}
            start = r.clock.time()
            while r.clock.time() - start < 11 * 60:
                await r.step(30)
                for key in r.firing():
                    fired.setdefault(key, r.clock.time() - start)
            assert fired["fan-failed|ext-core-1|Fan 2"] <= 30  # at once
            assert fired["psu-failed|ext-agg-east|Sw1, PS2"] <= 30
            assert 120 <= fired["device-temperature-high|int-agg-east|MPU Board 0"] <= 150
            assert 600 <= fired["cpu-high|int-agg-east|MPU Board 0"] <= 630  # its 10 min
            health = {k for k in fired if not k.startswith(("link-", "device-rebooted"))}
            assert health == {
                "fan-failed|ext-core-1|Fan 2",
                "psu-failed|ext-agg-east|Sw1, PS2",
                "device-temperature-high|int-agg-east|MPU Board 0",
                "cpu-high|int-agg-east|MPU Board 0",
            }
            alert = r.firing()["fan-failed|ext-core-1|Fan 2"]
            assert alert["severity"] == "high" and alert["message"] == "fan Fan 2 failed"

    asyncio.run(scenario())
