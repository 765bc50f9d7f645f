"""Legacy Telnet, on purpose only (issue 20): a Telnet-only lab switch (govnet/lab/telnetsim.py)
is refused without ``allow_insecure: true``, backed up with it (saying so on every run), and
its audit keeps failing ``mgmt.ssh-only``. The lab password is read through ``cmd:``."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from govnet.cli.main import cli
from govnet.errors import InventoryError
from govnet.inventory import load_inventory
from govnet.lab import launcher
from tests.conftest import ROOT
from tests.integration.conftest import PortPicker

pytestmark = pytest.mark.integration
DEVICE = "int-acc-town"  # its lab config enables Telnet: the baseline failure it is seeded with


def write_inventory(folder: Path, **device: Any) -> Path:
    """The lab inventory reduced to one switch on free ports, with ``device`` values merged;
    the password comes from ``cmd:cat …``."""
    data = yaml.safe_load((ROOT / "inventory" / "lab.yaml").read_text(encoding="utf-8"))
    ports = PortPicker()
    try:
        switch = data["devices"][DEVICE]
        switch.update(port=ports.pick(socket.SOCK_STREAM), snmp_port=ports.pick(socket.SOCK_DGRAM))
    finally:
        ports.release()
    switch.update(device)
    data["devices"] = {DEVICE: switch}
    for section in ("links", "services", "terminals_csv"):
        data.pop(section, None)
    secret = ROOT / "inventory" / "lab-secrets" / "admin.password"
    data["credentials"]["lab-admin"]["password"] = f"cmd:cat {secret}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("lab-data", "lab-secrets"):
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / "inventory" / name)
    path = folder / "lab.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def govnet(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-i", str(path), "--lang", "en", *args])


def test_telnet_is_refused_without_allow_insecure(tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "inv", transport="telnet")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert "devices.int-acc-town.transport" in str(caught.value.diagnostics[0])
    assert "allow_insecure: true" in str(caught.value.diagnostics[0])
    result = govnet(path, "inventory", "validate")
    assert result.exit_code == 2 and "allow_insecure: true" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def telnet_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = write_inventory(tmp_path / "inv", transport="telnet", allow_insecure=True)
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)
    state = tmp_path / "state"
    launcher.up(path, state)
    try:
        yield path
    finally:
        launcher.down(state)


def test_a_telnet_only_switch_is_backed_up_when_allowed_and_still_fails_its_audit(
    telnet_lab: Path,
) -> None:
    port = load_inventory(telnet_lab).devices[DEVICE].port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:  # Telnet, not SSH
        assert b"Username:" in s.recv(200)

    result = govnet(telnet_lab, "backup", "--retries", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["results"][0]
    assert (row["device"], row["status"]) == (DEVICE, "new") and row["lines"] > 10
    assert f"{DEVICE}: using Telnet (clear text, allow_insecure)" in result.stderr
    shown = govnet(telnet_lab, "backup", "show", DEVICE)
    assert "telnet server enable" in shown.stdout

    audit = govnet(telnet_lab, "audit", "--no-store", "-f", "json")
    assert audit.exit_code == 1, audit.output
    assert "using Telnet" in audit.stderr  # every run that uses it says so
    report = json.loads(audit.stdout)
    failed = {f["control"] for f in report["findings"] if f["status"] == "fail"}
    assert "mgmt.ssh-only" in failed
    password = (ROOT / "inventory" / "lab-secrets" / "admin.password").read_text().strip()
    for text in (result.output, audit.output, shown.output):
        assert password not in text
