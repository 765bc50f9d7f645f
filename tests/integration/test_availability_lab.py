"""Service checks end to end (issue 8): govnetd checks the lab's portal while it goes down
and comes back (``govnet lab service down|up portal``); the store, the alert and the
availability report show the outage against the portal's unit.

Runs its own lab copy (the switch is lab state): every port free, the services' URLs moved to
free ports too (tests/integration/conftest.py ``relocate_lab`` moves device ports only), the
services checked every second.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from govnet.lab import launcher
from tests.integration.conftest import PortPicker, relocate_lab
from tests.integration.test_monitor_daemon import query, wait_for

pytestmark = pytest.mark.integration

GOVNET = [sys.executable, "-c", "from govnet.cli.main import main; main()"]


def relocate_services(path: Path) -> dict[str, str]:
    """Move every service's http URL to a free loopback port, check every second."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    urls: dict[str, str] = {}
    taken = {d[k] for d in data["devices"].values() for k in ("port", "snmp_port") if k in d}
    ports = PortPicker()
    ports.used |= taken
    try:
        for name, service in data["services"].items():
            service["interval"] = "1s"
            for probe in service["probes"]:
                if probe["kind"] == "http":
                    url = urlsplit(probe["url"])
                    netloc = f"{url.hostname}:{ports.pick(socket.SOCK_STREAM)}"
                    probe["url"] = urls[name] = urlunsplit(url._replace(netloc=netloc))
    finally:
        ports.release()
    for profile in data["snmp_profiles"].values():  # the hung switch fails fast
        profile.update(timeout=1, retries=0)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return urls


@pytest.fixture
def own_lab(tmp_path: Path) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    inventory = relocate_lab(tmp_path / "inv")
    urls = relocate_services(inventory)
    state = tmp_path / "lab-state"
    launcher.up(inventory, state)
    try:
        yield inventory, state, urls
    finally:
        launcher.down(state)


def govnet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOVNET, *args], capture_output=True, text=True, timeout=60)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def test_portal_outage_is_recorded_alerted_and_reported(
    own_lab: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    inventory, state, urls = own_lab
    ready = json.loads((state / launcher.READY).read_text(encoding="utf-8"))
    assert {s["name"]: s["error"] for s in ready["services"]} == {"oa": "", "portal": ""}
    assert urls["portal"].startswith("http://127.0.0.1:")

    db = tmp_path / "monitor.sqlite"
    start = time.time() - 1
    with (tmp_path / "govnetd.log").open("wb") as err:
        daemon = subprocess.Popen(
            [
                *GOVNET,
                "-i",
                str(inventory),
                "--db",
                f"sqlite:///{db}",
                "monitor",
                "run",
                "--down-after",
                "2s",
                "--no-metrics",
                "--log-format",
                "json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        portal = "SELECT state FROM service_states WHERE service = 'portal'"
        wait_for("the portal up", lambda: query(db, portal) == [("up",)])

        down = govnet(
            "-i", str(inventory), "lab", "service", "down", "portal", "--state-dir", str(state)
        )
        assert down.returncode == 0, down.stderr
        assert "service portal down (503)" in down.stdout
        wait_for("the portal down", lambda: query(db, portal) == [("down",)])
        firing = "SELECT status FROM monitor_alerts WHERE key = 'service-down|portal|'"
        wait_for("service-down firing", lambda: ("firing",) in query(db, firing))
        error = query(db, "SELECT error FROM service_states WHERE service = 'portal'")[0][0]
        assert "HTTP 503" in error

        up = govnet(
            "-i", str(inventory), "lab", "service", "up", "portal", "--state-dir", str(state)
        )
        assert up.returncode == 0, up.stderr
        wait_for("the portal back up", lambda: query(db, portal) == [("up",)], timeout=40)
        wait_for("service-down resolved", lambda: query(db, firing) == [("resolved",)])
        resolved = query(
            db, "SELECT opened, resolved FROM monitor_alerts WHERE key = 'service-down|portal|'"
        )
        assert resolved[0][1] is not None and resolved[0][1] > resolved[0][0]
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    end = time.time() + 1

    # the recorded history: up, then down, then up again
    spans = query(
        db,
        "SELECT state FROM availability_spans WHERE kind = 'service' AND name = 'portal' "
        "ORDER BY start, id",
    )
    assert [s for (s,) in spans] == ["up", "down", "up"]
    oa = query(db, "SELECT DISTINCT state FROM availability_spans WHERE name = 'oa'")
    assert oa == [("up",)]

    report = govnet(
        "-i",
        str(inventory),
        "--db",
        f"sqlite:///{db}",
        "report",
        "availability",
        "--period",
        f"{iso(start)}..{iso(end)}",
        "-f",
        "json",
    )
    assert report.returncode == 0, report.stderr
    rows = {(r["level"], r["name"]): r for r in json.loads(report.stdout)["rows"]}
    service = rows[("service", "portal")]
    assert service["unit"] == "city-it-center" and service["zone"] == "external"
    assert service["outages"] == 1 and service["down_s"] > 0
    assert service["availability_pct"] is not None and service["availability_pct"] < 100
    unit = rows[("unit", "city-it-center")]
    assert unit["outages"] >= 1 and unit["down_s"] >= service["down_s"]
    assert unit["availability_pct"] is not None and unit["availability_pct"] < 100
    assert rows[("service", "oa")]["outages"] == 0
