"""Service checks as a daemon extension: set up from a context, its alerts muted in a
maintenance window, suppressed while the host is down, told once the cause has gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govnet.availability.checkers import CheckOutcome
from govnet.availability.extension import ServiceChecks
from govnet.availability.runner import CheckResult
from govnet.inventory import load_inventory
from govnet.monitor.config import MonitorConfig
from govnet.monitor.daemon import StoreWriter
from govnet.monitor.extension import DaemonContext
from govnet.monitor.model import DeviceState, DeviceStatus
from govnet.monitor.notify import Notice
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore
from govnet.testing import FakeClock
from tests.conftest import MINIMAL

# FakeClock starts at 2027-01-15 08:00 UTC: the window covers its first hour
SERVICES = """
services:
  portal: {zone: external, unit: office, host: sw2, probes: [{kind: tcp, host: 127.0.0.1, port: 8443}]}
maintenance:
  - name: upgrade
    services: [portal]
    start: "2027-01-15T07:30:00+00:00"
    end: "2027-01-15T09:00:00+00:00"
"""


class Recorder:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


def test_service_alerts_muted_in_a_window_then_behind_the_host_then_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVNET_TEST_COMMUNITY", "public")
    monkeypatch.setenv("GOVNET_TEST_PASSWORD", "x")
    path = tmp_path / "inv.yaml"
    path.write_text(MINIMAL + SERVICES, encoding="utf-8")
    inventory = load_inventory(path)
    clock = FakeClock()
    ms = MonitorStore(Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}"))
    notifier = Recorder()
    host_down = {"sw2"}
    ctx = DaemonContext(
        config=MonitorConfig(),
        clock=clock,
        store=ms.store,
        writer=StoreWriter(ms, clock=clock),  # not started: writes at once
        notifier=notifier,  # type: ignore[arg-type]
        suppression=lambda host: f"host {host} (down)" if host in host_down else "",
    )
    checks = ServiceChecks()
    checks.setup(ctx, inventory)

    def check(ok: bool) -> None:
        now = clock.time()
        result = CheckResult(
            "portal",
            now,
            now,
            outcomes=[CheckOutcome("tcp", "tcp", ok, ms=3.0, error="" if ok else "refused")],
        )
        state = DeviceState.UP if ok else DeviceState.DOWN
        status = DeviceStatus("portal", state=state, since=now - 60, error=result.error)
        checks.alerts.on_check(result, status)

    def alert() -> dict[str, Any]:
        (row,) = ms.list_alerts(None, device="portal")
        return row

    check(False)  # in the window: stored, muted
    assert alert()["status"] == "firing"
    assert alert()["suppressed_by"] == "maintenance window upgrade"
    assert notifier.notices == []

    clock.advance(3600.0)  # the window is over, the host still down
    check(False)
    assert alert()["suppressed_by"] == "host sw2 (down)" and notifier.notices == []

    host_down.clear()  # the host is back first: the service's alert is told now, once
    check(False)
    check(False)
    assert not alert()["suppressed"]
    assert [(n.status, n.key, n.zone) for n in notifier.notices] == [
        ("firing", "service-down|portal|", "external")
    ]

    check(True)
    assert alert()["status"] == "resolved"
    assert [n.status for n in notifier.notices] == ["firing", "resolved"]
