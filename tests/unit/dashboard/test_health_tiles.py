"""One health mark per network device on the dashboard (the health set's latest values)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from govnet.dashboard.render import View, render
from govnet.dashboard.snapshot import DeviceHealth, read_snapshot
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore

NOW = 1_765_000_000.0


def store(path: Path) -> MonitorStore:
    ms = MonitorStore(Store.open(f"sqlite:///{path}"))
    batch = Batch.empty()
    for name, role in (
        ("sw-hot", "aggregation"),
        ("sw-fan", "core"),
        ("sw-fine", "access"),
        ("env-1", "env"),
    ):
        batch.devices.append(
            {
                "device": name,
                "zone": "internal",
                "site": "city",
                "role": role,
                "rack": "",
                "state": "up",
                "since": NOW - 600,
                "last_poll": NOW - 10,
                "last_ok": NOW - 10,
                "failures": 0,
                "error": "",
                "error_kind": "",
                "rtt_ms": 2.0,
                "uptime_s": 3e6,
                "next_poll": NOW + 50,
                "sys_name": name,
                "sys_descr": "",
            }
        )
    for device, metric, instance, value in (
        ("sw-hot", "temperature_c", "MPU Board 0", 78.0),
        ("sw-hot", "cpu_pct", "MPU Board 0", 93.0),
        ("sw-hot", "fan_ok", "FAN1", 1.0),
        ("sw-fan", "temperature_c", "Board 1", 41.0),
        ("sw-fan", "fan_ok", "Fan 1", 1.0),
        ("sw-fan", "fan_ok", "Fan 2", 0.0),
        ("sw-fine", "temperature_c", "MPU Board 0", 41.0),
        ("sw-fine", "mem_used_pct", "MPU Board 0", 38.0),
        ("env-1", "temperature_c", "Inlet temperature", 23.5),
        ("env-1", "sensor_ok", "Inlet temperature", 1.0),
    ):
        batch.latest.append((device, metric, instance, NOW - 10, value, ""))
    ms.write(batch, NOW)
    return ms


def test_health_per_device_and_room_sensors_without_board_temperatures(tmp_path: Path) -> None:
    snap = read_snapshot(store(tmp_path / "m.sqlite"), NOW)
    health = {d.name: d.health for d in snap.devices}
    assert health["sw-hot"] == DeviceHealth(93.0, None, 78.0, ())
    assert health["sw-fan"] == DeviceHealth(None, None, 41.0, ("fan:Fan 2",))
    assert health["sw-fine"] == DeviceHealth(None, 38.0, 41.0, ())
    assert health["env-1"] is None
    assert [(s.device, s.name) for s in snap.sensors] == [("env-1", "Inlet temperature")]
    assert [health[n].flag for n in ("sw-hot", "sw-fan", "sw-fine")] == ["^", "!", ""]  # type: ignore[union-attr]
    console = Console(width=100, record=True, no_color=True, force_terminal=False)
    with console.capture() as capture:
        console.print(render(snap, View(100, 30, "en")).renderable)
    text = capture.get()
    assert "│ ● env-1     ● sw-fan  ! ● sw-fine   ● sw-hot  ^ " in text  # one column each
