"""contrib/govnet-worker@.service: an instance verifies cleanly, scores under 3 on
``systemd-analyze security`` and runs ``govnet worker --zone`` of its instance name."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TEMPLATE = ROOT / "contrib" / "govnet-worker@.service"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def _instance(tmp_path: Path) -> Path:
    venv = Path(sys.executable).parent.parent
    path = tmp_path / "govnet-worker@internal.service"
    text = TEMPLATE.read_text(encoding="utf-8").replace("/opt/govnet/venv", str(venv))
    path.write_text(text, encoding="utf-8")
    return path


def test_the_instance_name_is_the_zone() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", text, re.M)
    assert " worker --zone %i " in exec_start and "CapabilityBoundingSet=\n" in text


@needs_systemd
def test_worker_unit_verifies_and_is_confined(tmp_path: Path) -> None:
    assert ANALYZE is not None
    path = _instance(tmp_path)
    done = subprocess.run(
        [ANALYZE, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    done = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found and float(found[1]) < 3.0, done.stdout + done.stderr
