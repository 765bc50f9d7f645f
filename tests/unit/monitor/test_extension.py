"""The daemon's extension seam: a fake extension sees every hook, in order, with the daemon's
fake clock; the daemon runs with no extension at all."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

import govnet.monitor
from govnet.inventory import Inventory, load_inventory
from govnet.inventory.model import Device
from govnet.monitor import daemon as daemon_module
from govnet.monitor.config import MonitorConfig
from govnet.monitor.daemon import Daemon, DaemonOptions
from govnet.monitor.extension import DaemonContext, DaemonExtension
from govnet.monitor.model import DeviceStatus, PollResult
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from govnet.testing import FakeClock
from tests.conftest import MINIMAL
from tests.unit.monitor.support import FakeSnmp, system_mib

MAINTENANCE_EVERY = 1e6  # fake seconds: maintenance only when the test moves the clock so far


class Fake(DaemonExtension):
    """Records each hook; claims the stored alerts of its own rule."""

    name = "fake"

    def __init__(self) -> None:
        self.events: list[str] = []
        self.polled: list[str] = []
        self.ctx: DaemonContext | None = None
        self.claimed: list[str] = []
        self.threads: dict[str, str] = {}
        self.inventories: list[Inventory] = []

    def _seen(self, hook: str) -> None:
        self.events.append(hook)
        self.threads[hook] = threading.current_thread().name

    def setup(self, ctx: DaemonContext, inventory: Inventory) -> None:
        self._seen("setup")
        self.ctx = ctx
        self.inventories.append(inventory)

    def restore(self, rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        self._seen("restore")
        rows = list(rows)
        self.claimed = [str(r["key"]) for r in rows if r["rule"] == "fake-rule"]
        return [r for r in rows if r["rule"] != "fake-rule"]

    async def run(self, stop: asyncio.Event) -> None:
        self._seen("run")
        await stop.wait()  # or cancelled when the daemon stops

    async def run_once(self) -> None:
        self._seen("run_once")

    def on_device_poll(self, result: PollResult, status: DeviceStatus) -> None:
        self._seen("on_device_poll")
        self.polled.append(result.device)

    def maintain(self, now: float) -> None:
        self._seen("maintain")

    def reload(self, inventory: Inventory) -> None:
        self._seen("reload")
        self.inventories.append(inventory)


def squeeze(events: list[str]) -> list[str]:
    """Consecutive repeats as one: the order of the hooks, not how often polls came."""
    return [e for i, e in enumerate(events) if i == 0 or events[i - 1] != e]


def alert_row(key: str, rule: str, opened: float) -> dict[str, Any]:
    return {
        "key": key,
        "rule": rule,
        "device": key.split("|")[1],
        "instance": "",
        "severity": "high",
        "status": "firing",
        "opened": opened,
        "updated": opened,
        "value": None,
        "message": "from the previous run",
        "title_en": rule,
        "title_zh": rule,
        "control": "",
        "suppressed": False,
        "suppressed_by": "",
        "flapping": False,
        "latched": False,
        "notified": True,
        "acked": False,
    }


class Rig:
    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GOVNET_TEST_COMMUNITY", "public")
        monkeypatch.setenv("GOVNET_TEST_PASSWORD", "x")
        monkeypatch.setattr(daemon_module, "HEARTBEAT_EVERY", 0.02)
        path = tmp / "inv.yaml"
        path.write_text(MINIMAL, encoding="utf-8")
        self.path = path
        self.clock = FakeClock()
        self.store = Store.open(f"sqlite:///{tmp / 'monitor.sqlite'}")
        self.snmp = FakeSnmp({"sw1": system_mib(name="sw1")})
        self.snmp.silent.add("sw2")
        self.loads = 0

    def load(self) -> tuple[Inventory, list[Device]]:
        self.loads += 1
        inventory = load_inventory(self.path)
        return inventory, list(inventory.devices.values())

    def daemon(self, once: bool, extensions: list[DaemonExtension]) -> Daemon:
        options = DaemonOptions(
            config=MonitorConfig(maintenance_every=MAINTENANCE_EVERY),
            listen=None,
            once=once,
            handle_signals=False,
        )
        return Daemon(self.load, self.store, options, self.clock, self.snmp, extensions)


async def until(
    what: str, check: Callable[[], bool], clock: FakeClock | None = None, timeout: float = 20.0
) -> None:
    """Wait for ``check``; the fake clock, if given, moves 5 s each step (polls come due)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if clock is not None:
            clock.advance(5.0)
        await asyncio.sleep(0.01)


def test_an_extension_gets_every_hook_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path, monkeypatch)
    ms = MonitorStore(rig.store)
    t0 = rig.clock.time() - 600
    ms.open_alert(alert_row("fake-rule|svc|", "fake-rule", t0))
    ms.open_alert(alert_row("gone-rule|sw1|", "gone-rule", t0))
    fake = Fake()
    daemon = rig.daemon(once=False, extensions=[fake])
    seen: dict[str, str] = {}

    async def drive() -> None:
        await until("both devices polled", lambda: {"sw1", "sw2"} <= set(fake.polled), rig.clock)
        assert fake.ctx is not None
        # the public suppression: a host that does not answer is the cause of what runs on it
        seen["sw1"], seen["sw2"] = fake.ctx.suppression("sw1"), fake.ctx.suppression("sw2")
        daemon.request_reload()
        await until("the reload", lambda: "reload" in fake.events)
        assert "maintain" not in fake.events
        rig.clock.advance(MAINTENANCE_EVERY)  # the next housekeeping tick maintains
        await until("maintenance", lambda: "maintain" in fake.events)
        daemon.stop()

    async def main() -> Any:
        summary, _ = await asyncio.gather(daemon.run(), drive())
        return summary

    summary = asyncio.run(main())

    order = [e for e in squeeze(fake.events) if e != "on_device_poll"]
    assert order == ["setup", "restore", "run", "reload", "maintain"]
    assert squeeze(fake.events)[3] == "on_device_poll"  # polls before the reload asked after
    assert fake.events.count("setup") == fake.events.count("restore") == 1
    assert fake.threads["maintain"] == "govnet-store-writer"  # with the store maintenance
    assert fake.threads["on_device_poll"] == threading.current_thread().name  # the loop
    ctx = fake.ctx
    assert ctx is not None
    assert ctx.clock is rig.clock and ctx.config is daemon.options.config
    assert ctx.store is rig.store and ctx.writer is daemon.writer
    assert ctx.notifier is daemon.notifier
    assert seen == {"sw1": "", "sw2": "host sw2 (unreachable)"}
    assert len(fake.inventories) == 2 and rig.loads == 2  # set-up and the reload
    assert fake.inventories[1] is not fake.inventories[0]
    # restore: the extension kept its alert; the engine resolved the one of an unknown rule
    assert fake.claimed == ["fake-rule|svc|"]
    status = {r["key"]: r["status"] for r in ms.list_alerts(None)}  # + sw2 down, perhaps
    assert {k: status[k] for k in ("fake-rule|svc|", "gone-rule|sw1|")} == {
        "fake-rule|svc|": "firing",
        "gone-rule|sw1|": "resolved",
    }
    assert summary.polls >= 2


def test_once_runs_the_extensions_once_beside_the_polls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path, monkeypatch)
    fake = Fake()
    summary = asyncio.run(rig.daemon(once=True, extensions=[fake]).run())
    assert fake.events[:2] == ["setup", "restore"]
    assert sorted(set(fake.events[2:])) == ["on_device_poll", "run_once"]
    assert fake.events.count("run_once") == 1 and sorted(fake.polled) == ["sw1", "sw2"]
    assert (summary.polls, summary.failures) == (2, 1)


def test_the_daemon_runs_with_no_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig(tmp_path, monkeypatch)
    summary = asyncio.run(rig.daemon(once=True, extensions=[]).run())
    assert (summary.polls, summary.failures) == (2, 1)
    devices = {r["device"]: r["state"] for r in MonitorStore(rig.store).device_states()}
    assert devices == {"sw1": "up", "sw2": "unreachable"}

    daemon = rig.daemon(once=False, extensions=[])

    async def main() -> None:
        async def stop_after_polls() -> None:
            polled = lambda: daemon.poller is not None and daemon.poller.stats.polls >= 2  # noqa: E731
            await until("two polls", polled, rig.clock)
            daemon.stop()

        await asyncio.gather(daemon.run(), stop_after_polls())

    asyncio.run(main())
    assert daemon.extensions == ()
    assert daemon.suppression("sw2") == "host sw2 (unreachable)"


def test_the_monitor_package_does_not_import_the_service_checks() -> None:
    """The daemon is handed its extensions: nothing in govnet.monitor names govnet.availability,
    and importing the daemon loads none of it (until the layer contract checks this)."""
    folder = Path(govnet.monitor.__file__).parent
    naming = [p.name for p in sorted(folder.glob("*.py")) if "govnet.availability" in p.read_text()]
    assert naming == []
    code = (
        "import sys, govnet.monitor.daemon, govnet.monitor.alerts; "
        "print([m for m in sys.modules if m.startswith('govnet.availability')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
