"""The shipped systemd units (issue 18): they verify cleanly, score under 3 on
``systemd-analyze security``, grant CAP_NET_RAW only, and govnetd is ``Type=notify`` with a
watchdog. Skipped where systemd-analyze is not installed (``apt-get install systemd``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONTRIB = ROOT / "contrib"
UNITS = ["govnetd.service", "govnet-audit.service", "govnet-audit.timer"]
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def _settings(unit: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (CONTRIB / unit).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def _installable(tmp_path: Path) -> list[Path]:
    """The units as shipped, ExecStart's /opt/govnet/venv pointing at this checkout's venv
    (verify checks that the commands exist)."""
    venv = Path(sys.executable).parent.parent
    out = []
    for unit in UNITS:
        text = (CONTRIB / unit).read_text(encoding="utf-8")
        path = tmp_path / unit
        path.write_text(text.replace("/opt/govnet/venv", str(venv)), encoding="utf-8")
        out.append(path)
    return out


@needs_systemd
def test_units_verify_without_a_warning(tmp_path: Path) -> None:
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "verify", *map(str, _installable(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == ""


@needs_systemd
@pytest.mark.parametrize("unit", ["govnetd.service", "govnet-audit.service"])
def test_security_exposure_is_under_3(tmp_path: Path, unit: str) -> None:
    assert ANALYZE is not None
    path = dict(zip(UNITS, _installable(tmp_path), strict=True))[unit]
    done = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found[1]) < 3.0, done.stdout


def test_govnetd_is_notify_with_watchdog_and_only_net_raw() -> None:
    s = _settings("govnetd.service")
    assert s["Type"] == ["notify"] and int(s["WatchdogSec"][0]) > 0
    assert s["CapabilityBoundingSet"] == ["CAP_NET_RAW"]
    assert s["AmbientCapabilities"] == ["CAP_NET_RAW"]
    for key in (
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "NoNewPrivileges",
        "RestrictAddressFamilies",
        "SystemCallFilter",
        "StateDirectory",
        "LogsDirectory",
    ):
        assert key in s, key
    assert "example.invalid" not in s["Documentation"][0]
    timer = _settings("govnet-audit.timer")
    assert timer["OnCalendar"] and timer["Unit"] == ["govnet-audit.service"]
    assert _settings("govnet-audit.service")["CapabilityBoundingSet"] == [""]
