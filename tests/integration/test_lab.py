"""The embedded lab for real: netmiko over SSH to every device, SNMP GETs, state, clean exit."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import AuthError, DeviceTimeout
from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.platforms import platforms
from govnet.secrets import SecretRef
from govnet.transport.ssh import SshOptions, SshSession
from tests.integration.conftest import Lab, relocate_lab

pytestmark = pytest.mark.integration


def ssh_devices(lab: Lab) -> list[str]:
    return sorted(
        d.name
        for d in lab.inventory.devices.values()
        if platforms()[d.platform].netmiko and d.name != "ext-acc-town"
    )


def test_netmiko_reads_every_lab_device_config(lab: Lab) -> None:
    names = ssh_devices(lab)
    assert len(names) == 12  # with the Ruijie switch and the two firewalls
    for name in names:
        device = lab.inventory.devices[name]
        with SshSession(device) as s:
            config = s.fetch("running_config")
        if device.platform != "linux":  # the device's own name as sysname/hostname
            assert name in config, (name, config[:200])
        assert len(config.splitlines()) > 5, name


def test_config_change_persists_across_restart(tmp_path: Path) -> None:
    path = relocate_lab(tmp_path / "inv")
    state = tmp_path / "state"
    inv = load_inventory(path)
    device = inv.devices["int-core-1"]
    launcher.up(path, state)
    try:
        with SshSession(device) as s:
            s.configure(["interface GigabitEthernet0/0/7", " description persisted-by-test"])
            assert "persisted-by-test" in s.fetch("running_config")
    finally:
        launcher.down(state)
    launcher.up(path, state)
    try:
        with SshSession(device) as s:
            assert "persisted-by-test" in s.fetch("running_config")
    finally:
        launcher.down(state)


def test_silent_device_times_out_and_wrong_password_is_auth_error(lab: Lab) -> None:
    silent = lab.inventory.devices["ext-acc-town"]
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout, match="ext-acc-town"):
        SshSession(silent, SshOptions(timeout=2, retries=0)).open()
    assert time.monotonic() - t0 < 10
    device = lab.inventory.devices["int-core-1"]
    assert device.credentials is not None
    wrong_file = lab.inventory_path.parent / "wrong-password"
    wrong_file.write_text("not-the-password\n")
    bad_creds = device.credentials.model_copy(update={"password": SecretRef(f"file:{wrong_file}")})
    from dataclasses import replace

    with pytest.raises(AuthError, match="authentication failed"):
        SshSession(replace(device, credentials=bad_creds), SshOptions(retries=0)).open()


def test_snmp_get_sysdescr_from_every_agent(lab: Lab) -> None:
    from govnet.transport import snmp

    async def all_gets() -> dict[str, object]:
        out: dict[str, object] = {}
        backend = snmp.snmp_backend()
        try:
            for d in lab.inventory.devices.values():
                if d.snmp is None or d.name == "ext-acc-town":
                    continue
                target = snmp.SnmpTarget.for_device(d)
                out[d.name] = await backend.get(target, ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0"])
        finally:
            await backend.close()
        return out

    results = asyncio.run(all_gets())
    assert len(results) == 15
    for name, values in results.items():
        assert isinstance(values, dict) and str(values["1.3.6.1.2.1.1.5.0"]) == name, values
        assert str(values["1.3.6.1.2.1.1.1.0"]), name  # sysDescr present


@pytest.mark.skipif(
    shutil.which("snmpget") is None,
    reason="net-snmp's snmpget is not installed (apt-get install snmp)",
)
def test_net_snmp_reaches_the_lab(lab: Lab) -> None:
    d = lab.inventory.devices["int-core-1"]
    assert d.snmp is not None and d.snmp.community is not None
    community = d.snmp.community.resolve()
    out = subprocess.run(
        [
            "snmpget",
            "-v2c",
            "-c",
            community,
            "-t",
            "2",
            "-r",
            "1",
            f"127.0.0.1:{d.snmp_port}",
            "1.3.6.1.2.1.1.5.0",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert out.returncode == 0 and "int-core-1" in out.stdout, out.stderr


def test_lab_cli_up_status_down_leaves_nothing(tmp_path: Path) -> None:
    path = relocate_lab(tmp_path / "inv")
    state = tmp_path / "state"
    runner = CliRunner()
    result = runner.invoke(cli, ["-i", str(path), "lab", "up", "--state-dir", str(state)])
    assert result.exit_code == 0, result.output
    st = launcher.status(state)
    assert st.running and st.pid
    pid = st.pid
    result = runner.invoke(
        cli, ["-i", str(path), "lab", "status", "--state-dir", str(state), "-f", "json"]
    )
    assert result.exit_code == 0 and '"running": true' in result.output
    inv = load_inventory(path)
    ports = [d.port for d in inv.devices.values() if platforms()[d.platform].netmiko]
    result = runner.invoke(cli, ["-i", str(path), "lab", "down", "--state-dir", str(state)])
    assert result.exit_code == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    for port in ports:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    result = runner.invoke(cli, ["-i", str(path), "lab", "status", "--state-dir", str(state)])
    assert result.exit_code == 3


def test_killed_lab_server_leaves_nothing_and_is_detected(tmp_path: Path) -> None:
    path = relocate_lab(tmp_path / "inv")
    state = tmp_path / "state"
    st = launcher.up(path, state)
    assert st.pid is not None
    assert psutil.Process(st.pid).children(recursive=True) == []  # one process, nothing to orphan
    os.kill(st.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while launcher.status(state).running and time.monotonic() < deadline:
        os.waitpid(st.pid, os.WNOHANG)
        time.sleep(0.05)
    assert not launcher.status(state).running
    launcher.up(path, state)  # a stale pid file does not block the next start
    launcher.down(state)
