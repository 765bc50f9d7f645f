"""The dashboard: golden frames through the CLI from a known store, and the layout rules
(exact height, worst first, paging) at 2,000 devices."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.text import Text

from govnet.cli.main import cli
from govnet.dashboard.render import View, render, sparkline
from govnet.dashboard.snapshot import ActiveAlert, DeviceTile, Snapshot, read_snapshot
from govnet.store.availability import ServiceBatch, ServiceStore
from govnet.store.db import Store
from govnet.store.monitor import Batch, MonitorStore

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "monitor"
NOW = 1_800_000_000.0  # 2027-01-15 16:00:00 in Beijing

DEVICES = [  # name, zone, role, state, since
    ("int-core-1", "internal", "core", "up"),
    ("gap-1", "internal", "gap", "up"),
    ("int-agg-east", "internal", "aggregation", "up"),
    ("int-acc-west", "internal", "access", "up"),
    ("int-acc-town", "internal", "access", "unreachable"),
    ("srv-int-1", "internal", "server", "up"),
    ("ups-1", "internal", "ups", "up"),
    ("env-1", "internal", "env", "up"),
    ("ext-core-1", "external", "core", "up"),
    ("ext-agg-east", "external", "aggregation", "up"),
    ("ext-acc-west", "external", "access", "up"),
    ("ext-acc-town", "external", "access", "down"),
    ("srv-ext-1", "external", "server", "up"),
]


@pytest.fixture(autouse=True)
def beijing_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def machine_room(path: Path) -> str:
    """A store as govnetd leaves it: states, UPS on battery, a hot inlet, alerts, an hour of
    samples for the sparklines."""
    url = f"sqlite:///{path}"
    ms = MonitorStore(Store.open(url))
    batch = Batch.empty()
    for name, zone, role, state in DEVICES:
        batch.devices.append(
            {
                "device": name,
                "zone": zone,
                "site": "city",
                "role": role,
                "rack": "",
                "state": state,
                "since": NOW - 600,
                "last_poll": NOW - 10,
                "last_ok": NOW - 10,
                "failures": 0,
                "error": "" if state == "up" else "no SNMP reply",
                "error_kind": "",
                "rtt_ms": 2.0,
                "uptime_s": 3e6,
                "next_poll": NOW + 50,
                "sys_name": name,
                "sys_descr": "",
            }
        )

    def latest(
        device: str, metric: str, value: float | None, instance: str = "", text: str = ""
    ) -> None:
        batch.latest.append((device, metric, instance, NOW - 10, value, text))

    for metric, value in (
        ("ups_output_source", 5),
        ("ups_battery_status", 2),
        ("ups_charge_pct", 64),
        ("ups_minutes_left", 18),
        ("ups_seconds_on_battery", 1500),
        ("ups_load_pct", 46),
    ):
        latest("ups-1", metric, value)
    for metric, reading, name in (
        ("temperature_c", 28.1, "Inlet temperature"),
        ("humidity_pct", 45, "Humidity"),
        ("leak", 0, "Water leak"),
    ):
        latest("env-1", metric, reading, name)
        latest("env-1", "sensor_ok", 1, name)
    for device, port, util in (
        ("int-core-1", "GigabitEthernet0/0/24", 93.5),
        ("gap-1", "int0", 71.2),
        ("ext-core-1", "GigabitEthernet1/0/24", 40.0),
        ("int-agg-east", "GigabitEthernet0/0/1", 12.5),
    ):
        latest(device, "if_util_pct", util, port)
        latest(device, "if_alias", None, port, "uplink")
    # int-core-1 in depth (the detail view): health readings as a vendor metric set stores
    # them (per component), interfaces, an hour of samples
    for metric, level, instance in (
        ("cpu_pct", 35.0, "MPU Board 1"),
        ("mem_used_pct", 61.0, "MPU Board 1"),
        ("temperature_c", 48.0, "MPU Board 1"),
        ("rtt_ms", 2.0, ""),
        ("uptime_s", 3e6, ""),
    ):
        latest("int-core-1", metric, level, instance)
    for port, oper, bps in (
        ("GigabitEthernet0/0/24", 1, 9.35e8),
        ("GigabitEthernet0/0/1", 1, 2e7),
        ("GigabitEthernet0/0/2", 2, 0.0),
    ):
        latest("int-core-1", "if_oper", oper, port)
        latest("int-core-1", "if_admin", 1, port)
        latest("int-core-1", "if_in_bps", bps, port)
        latest("int-core-1", "if_out_bps", bps / 4, port)
    for minute in range(60):
        ts = NOW - 3600 + minute * 60
        batch.samples.append(("int-core-1", "cpu_pct", "MPU Board 1", ts, 20 + minute / 4))
        batch.samples.append(
            ("int-core-1", "if_in_bps", "GigabitEthernet0/0/24", ts, 3e8 + minute * 1e7)
        )
        batch.samples.append(("ups-1", "ups_charge_pct", "", ts, 100 - minute * 0.6))
        batch.samples.append(
            ("env-1", "temperature_c", "Inlet temperature", ts, 24 + minute * 0.07)
        )
        batch.samples.append(("env-1", "humidity_pct", "Humidity", ts, 45.0))
    ms.write(batch, NOW)
    for i, (key, severity, device, title_en, title_zh, message, suppressed) in enumerate(
        [
            (
                "device-down|ext-acc-town|",
                "critical",
                "ext-acc-town",
                "Device down",
                "设备不可达",
                "not answering SNMP (no SNMP reply); down 10m",
                False,
            ),
            (
                "ups-on-battery|ups-1|",
                "critical",
                "ups-1",
                "UPS on battery",
                "UPS电池供电（市电中断）",
                "on battery (mains failed), for 25m, 64% charge, 18 min left",
                False,
            ),
            (
                "inlet-temperature-high|env-1|Inlet temperature",
                "high",
                "env-1",
                "Inlet temperature high",
                "机房进风温度过高",
                "Temperature Inlet temperature 28.1°C above 27°C for 5m",
                False,
            ),
            (
                "link-down|int-agg-east|GigabitEthernet0/0/1",
                "high",
                "int-agg-east",
                "Link down",
                "链路中断",
                "link GigabitEthernet0/0/1 is down (admin up)",
                False,
            ),
            (
                "device-down|int-acc-town|",
                "critical",
                "int-acc-town",
                "Device down",
                "设备不可达",
                "not answering SNMP",
                True,
            ),
        ]
    ):
        ms.open_alert(
            {
                "key": key,
                "rule": key.split("|")[0],
                "device": device,
                "instance": key.split("|")[2],
                "severity": severity,
                "status": "firing",
                "opened": NOW - 1500 + i * 120,
                "updated": NOW,
                "message": message,
                "title_en": title_en,
                "title_zh": title_zh,
                "suppressed": suppressed,
                "suppressed_by": "behind int-agg-east:GigabitEthernet0/0/1 (link down)"
                if suppressed
                else "",
            }
        )
    ms.set_meta("daemon", '{"heartbeat": %r, "pid": 1}' % (NOW - 3))
    ServiceStore(ms.store).write(
        ServiceBatch(
            states=[
                {
                    "service": "oa",
                    "zone": "internal",
                    "unit": "city-it-center",
                    "site": "city",
                    "host": "srv-int-1",
                    "label_zh": "协同办公系统",
                    "label_en": "OA system",
                    "state": "up",
                    "since": NOW - 86400,
                    "last_check": NOW - 20,
                    "last_ok": NOW - 20,
                    "failures": 0,
                    "error": "",
                    "ms": 182.4,
                    "cert_days": 12.6,
                    "next_check": NOW + 10,
                    "updated": NOW,
                },
                {
                    "service": "portal",
                    "zone": "external",
                    "unit": "city-it-center",
                    "site": "city",
                    "host": "srv-ext-1",
                    "label_zh": "门户网站",
                    "label_en": "Government portal",
                    "state": "down",
                    "since": NOW - 300,
                    "last_check": NOW - 5,
                    "last_ok": NOW - 330,
                    "failures": 9,
                    "error": "http: HTTP 503 (expected 200)",
                    "ms": 8.1,
                    "cert_days": None,
                    "next_check": NOW + 25,
                    "updated": NOW,
                },
            ]
        )
    )
    return url


FRAMES = [
    ("en", 100, 30),
    ("zh", 80, 24),
    ("en", 80, None),
    ("en", 80, 24),
    ("zh", 200, 60),
    ("en", 200, 60),
]


@pytest.mark.parametrize(("lang", "width", "height"), FRAMES)
def test_once_matches_the_golden_frame(
    tmp_path: Path, lang: str, width: int, height: int | None
) -> None:
    check_golden(tmp_path, f"dashboard-{lang}-{width}x{height or 'auto'}.txt", lang, width, height)


@pytest.mark.parametrize(("lang", "width", "height"), [("zh", 80, 24), ("en", 200, 60)])
def test_device_detail_matches_the_golden_frame(
    tmp_path: Path, lang: str, width: int, height: int
) -> None:
    output = check_golden(
        tmp_path,
        f"dashboard-detail-{lang}-{width}x{height}.txt",
        lang,
        width,
        height,
        "--device",
        "int-core-1",
    )
    for text in ("int-core-1", "MPU Board 1", "GE0/0/24", "48"):
        assert text in output


@pytest.mark.parametrize(("lang", "width", "height"), [("zh", 80, 24), ("en", 80, 24)])
def test_stale_states_are_grey_with_their_age(
    tmp_path: Path, lang: str, width: int, height: int
) -> None:
    """The daemon stopped an hour ago: the header says how old the data is, every tile its age."""
    output = check_golden(
        tmp_path,
        f"dashboard-stale-{lang}-{width}x{height}.txt",
        lang,
        width,
        height,
        now=NOW + 3600,
    )
    assert ("data 1h old" if lang == "en" else "数据1h前") in output
    for n in (8, 5):  # per zone
        assert (f"{n} stale" if lang == "en" else f"{n} 台数据过时") in output


def check_golden(
    tmp_path: Path,
    name: str,
    lang: str,
    width: int,
    height: int | None,
    *extra: str,
    now: float = NOW,
) -> str:
    url = machine_room(tmp_path / "m.sqlite")
    args = [
        "--db",
        url,
        "--lang",
        lang,
        "--no-color",
        "dashboard",
        "--once",
        "--width",
        str(width),
        "--now",
        str(now),
        *extra,
    ]
    if height:
        args += ["--height", str(height)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    golden = GOLDEN / name
    if os.environ.get("GOVNET_UPDATE_GOLDEN"):
        golden.write_text(result.output, encoding="utf-8")
    assert result.output == golden.read_text(encoding="utf-8")
    if height:
        assert len(result.output.splitlines()) == height
    assert all(Text(line).cell_len <= width for line in result.output.splitlines())
    return result.output


def fleet(n: int) -> Snapshot:
    devices = []
    for i in range(n):
        state = "down" if i % 397 == 5 else "unreachable" if i % 211 == 7 else "up"
        devices.append(
            DeviceTile(
                f"acc-{i:04d}",
                "internal" if i % 3 else "external",
                "town",
                "",
                "access",
                state,
                NOW - 60,
                "",
            )
        )
    alerts = [
        ActiveAlert(
            i,
            NOW - i,
            "critical",
            d.name,
            "",
            "Device down",
            "设备不可达",
            "x",
            False,
            False,
            False,
        )
        for i, d in enumerate(d for d in devices if d.state == "down")
    ]
    return Snapshot(now=NOW, devices=devices, alerts=alerts, daemon={"heartbeat": NOW})


def lines_of(frame_view: View, snap: Snapshot) -> list[str]:
    console = Console(
        width=frame_view.width,
        file=None,
        record=True,
        no_color=True,
        force_terminal=False,
        legacy_windows=False,
    )
    with console.capture() as capture:
        console.print(render(snap, frame_view).renderable)
    return capture.get().splitlines()


def test_two_thousand_devices_fit_80x24_worst_first_with_pages() -> None:
    snap = fleet(2000)
    frame = render(snap, View(80, 24, "en"))
    out = lines_of(View(80, 24, "en"), snap)
    assert len(out) == 24
    text = "\n".join(out)
    assert "Internal zone · 1333 devices: ✖ 4 down ◐ 7 unreachable ● 1322 up" in text
    assert "External zone · 667 devices: ✖ 2 down ◐ 3 unreachable ● 662 up" in text
    trouble = [d.name for d in snap.devices if d.state != "up"]
    assert all(name in text for name in trouble)  # worst first: every one on screen
    assert frame.pages > 40 and f"page 1/{frame.pages}" in out[-1]  # ~36 tiles a page
    second = "\n".join(lines_of(View(80, 24, "en", page=1), snap))
    assert all(name in second for name in trouble)  # ... and on every page
    assert "acc-0001" in text and "acc-0001" not in second  # while the healthy ones turn


def test_sparkline() -> None:
    points = [(NOW - 3600 + i * 600, float(i * 20)) for i in range(6)]
    assert sparkline(points, NOW, 6, 0, 100) == "▁▂▄▅▇█"
    assert sparkline([], NOW, 4, 0, 100) == "    "


def test_snapshot_reads_the_store(tmp_path: Path) -> None:
    url = machine_room(tmp_path / "m.sqlite")
    snap = read_snapshot(MonitorStore(Store.open(url)), NOW)
    assert len(snap.devices) == len(DEVICES) and snap.daemon_alive
    assert [u.device for u in snap.ups] == ["ups-1"] and snap.ups[0].source == 5
    assert snap.links[0].util == 93.5 and snap.links[0].alias == "uplink"
    assert len(snap.sparks[("ups-1", "ups_charge_pct", "")]) == 60
    assert [a.device for a in snap.alerts][:2] == ["int-acc-town", "int-agg-east"]  # newest first
    only = read_snapshot(MonitorStore(Store.open(url)), NOW, zones=["external"])
    assert {d.zone for d in only.devices} == {"external"} and only.ups == []
    assert [t.name for t in snap.services] == ["portal", "oa"]  # worst first
    assert snap.services[1].ms == 182.4 and snap.services[1].cert_days == 12.6
    assert [t.name for t in only.services] == ["portal"]
