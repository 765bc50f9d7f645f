"""Reaching devices the way the field does (issue 20), against real OpenSSH servers.

Debian's sshd (tests/sshd.py) is started on private 127.0.0.1 ports with its own host keys:
as the bastion (运维堡垒机) in front of the lab's switches, as a second hop of a chain, and as
a Linux host logged into with a key whose passphrase comes from a ``cmd:`` secret. The path
through the bastion is proved by sshd's own log (one ``direct-tcpip`` request per device,
one login for the whole run), and in the last test by a lab run inside a network namespace
whose only door from the host is the bastion's sshd (direct connections are refused).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from govnet.cli.main import cli
from govnet.errors import ConnectError
from govnet.inventory import Inventory, load_inventory
from govnet.transport.jump import pool
from govnet.transport.ssh import SshOptions, SshSession
from tests.conftest import ROOT
from tests.integration.conftest import Lab, relocate_lab
from tests.sshd import Sshd, keygen, need_sshd

pytestmark = pytest.mark.integration
PASSPHRASE = "Bastion-Key-Pass-9f3"
SWITCHES = ("int-core-1", "int-acc-west", "int-agg-east")


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    need_sshd()
    folder = tmp_path / "keys"
    folder.mkdir()
    keygen(folder / "ops", passphrase=PASSPHRASE)  # the operator's key, encrypted
    (folder / "ops.pass").write_text(PASSPHRASE + "\n")
    return folder


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)


class Servers:
    def __init__(self, base: Path, keys: Path) -> None:
        self.base, self.keys, self.all = base, keys, {}  # type: ignore[var-annotated]

    def start(self, name: str) -> Sshd:
        server = Sshd(self.base, name, [self.keys / "ops"]).start()
        self.all[name] = server
        return server


@pytest.fixture
def servers(tmp_path: Path, keys: Path) -> Iterator[Servers]:
    s = Servers(tmp_path / "sshd", keys)
    yield s
    for server in s.all.values():
        server.stop()


def inventory(lab: Lab, tmp_path: Path, keys: Path, **extra: Any) -> Path:
    """The lab inventory plus the operator's key credentials and ``extra`` sections merged."""
    data = yaml.safe_load(lab.inventory_path.read_text(encoding="utf-8"))
    data["credentials"]["ops-key"] = {
        "username": "root",
        "key_file": f"file:{keys / 'ops'}",
        "passphrase": f"cmd:cat {keys / 'ops.pass'}",
    }
    for section, body in extra.items():
        if isinstance(body, dict) and isinstance(data.get(section), dict):
            for name, value in body.items():
                if isinstance(value, dict) and isinstance(data[section].get(name), dict):
                    data[section][name].update(value)
                else:
                    data[section][name] = value
        else:
            data[section] = body
    folder = tmp_path / "inv"
    folder.mkdir(exist_ok=True)
    for name in ("lab-data", "lab-secrets", "lab-terminals.csv"):
        link = folder / name
        if not link.exists():
            link.symlink_to(lab.inventory_path.parent / name)
    path = folder / "lab.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def bastion(server: Sshd, **values: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": server.port, "credentials": "ops-key", **values}


def govnet(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-i", str(path), "--lang", "en", *args])


def rows(result: Result) -> dict[str, dict[str, Any]]:
    return {r["device"]: r for r in json.loads(result.stdout)["results"]}


def forwarded_ports(server: Sshd) -> list[int]:
    """The ports sshd forwarded direct-tcpip channels to, from its own log."""
    return [
        int(m[1])
        for m in re.finditer(
            r"server_request_direct_tcpip: .*target [^ ]+ port (\d+)", server.log_text()
        )
    ]


def secrets_absent(result: Result) -> None:
    lab_password = (ROOT / "inventory" / "lab-secrets" / "admin.password").read_text().strip()
    for text in (result.stdout, result.stderr):
        assert PASSPHRASE not in text and lab_password not in text


# ------------------------------------------------------------------------------ a bastion


def test_backup_and_audit_reach_the_switches_through_a_real_openssh_bastion(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    b1 = servers.start("b1")
    # jump set on the zone: every internal device goes through b1, with b1's own key login
    path = inventory(
        lab,
        tmp_path,
        keys,
        bastions={"b1": bastion(b1, max_channels=2)},
        zones={"internal": {"jump": "b1"}},
    )
    inv = load_inventory(path)
    assert [h.name for h in inv.devices["int-core-1"].jump] == ["b1"]
    assert inv.devices["ext-core-1"].jump == ()  # another zone: direct

    limit = ",".join(SWITCHES)
    result = govnet(path, "backup", "--limit", limit, "--retries", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    assert {r["status"] for r in rows(result).values()} == {"new"}
    ports = {inv.devices[name].port for name in SWITCHES}
    assert sorted(forwarded_ports(b1)) == sorted(ports)  # one forwarded channel per device
    log = b1.log_text()
    assert log.count("Accepted publickey for root") == 1  # one bastion login for the run
    assert f"first contact with 127.0.0.1:{b1.port}" in result.stderr  # its key, learned
    stats = pool().stats()["b1"]
    assert 1 <= stats["peak_channels"] <= 2  # max_channels: 2 with 16 workers
    secrets_absent(result)

    audit = govnet(path, "audit", "--limit", "int-acc-town", "--no-store", "-f", "json")
    assert audit.exit_code == 1, audit.output  # int-acc-town's seeded findings, read via b1
    assert lab.inventory.devices["int-acc-town"].port in forwarded_ports(b1)
    secrets_absent(audit)


def test_a_two_hop_chain(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    outer, inner = servers.start("outer"), servers.start("inner")
    path = inventory(
        lab,
        tmp_path,
        keys,
        bastions={"outer": bastion(outer), "inner": bastion(inner)},
        devices={"int-core-1": {"jump": ["outer", "inner"]}},
    )
    result = govnet(path, "backup", "--limit", "int-core-1", "--retries", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    assert forwarded_ports(outer) == [inner.port]  # the first hop only reaches the second
    assert forwarded_ports(inner) == [lab.inventory.devices["int-core-1"].port]
    assert "Accepted publickey for root" in inner.log_text()


def test_a_bastion_with_a_changed_host_key_is_refused(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    b1 = servers.start("b1")
    path = inventory(
        lab, tmp_path, keys, bastions={"b1": bastion(b1)}, devices={"int-core-1": {"jump": "b1"}}
    )
    first = govnet(path, "backup", "--limit", "int-core-1", "--retries", "0", "-f", "json")
    assert first.exit_code == 0, first.output
    b1.stop()
    b1.rotate_host_key()
    b1.start()
    before = b1.log_text().count("Accepted publickey")
    changed = govnet(path, "backup", "--limit", "int-core-1", "--retries", "0", "-f", "json")
    assert changed.exit_code == 3, changed.output
    row = rows(changed)["int-core-1"]
    assert row["error_kind"] == "hostkey" and "bastion b1 (127.0.0.1:" in row["message"]
    assert b1.log_text().count("Accepted publickey") == before  # nothing was sent to it
    assert "govnet hostkeys accept b1" in row["message"]
    accepted = govnet(path, "hostkeys", "accept", "b1")
    assert accepted.exit_code == 0, accepted.output
    again = govnet(path, "backup", "--limit", "int-core-1", "--retries", "0", "-f", "json")
    assert again.exit_code == 0, again.output


def test_a_bastion_that_drops_mid_run_is_reported_per_device_naming_the_hop(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    b1 = servers.start("b1")
    path = inventory(
        lab, tmp_path, keys, bastions={"b1": bastion(b1)}, zones={"internal": {"jump": "b1"}}
    )
    inv = load_inventory(path)
    options = SshOptions(retries=0, read_timeout=5)
    with SshSession(inv.devices["int-core-1"], options) as session:
        assert "sysname" in session.fetch("running_config").lower()
        b1.stop()  # the bastion and its sessions are killed mid-run
        with pytest.raises(ConnectError, match=r"bastion b1 \(127\.0\.0\.1:\d+\) dropped"):
            session.fetch("running_config")
    with pytest.raises(ConnectError, match=r"bastion b1 \(127\.0\.0\.1:\d+\) refused"):
        SshSession(inv.devices["int-acc-west"], options).open()

    result = govnet(
        path,
        "backup",
        "--limit",
        "int-core-1,int-acc-west,ext-core-1",
        "-f",
        "json",
        "--retries",
        "0",
    )
    assert result.exit_code == 3
    by = rows(result)
    for name in ("int-core-1", "int-acc-west"):
        assert by[name]["status"] == "failed" and "bastion b1" in by[name]["message"]
    assert by["ext-core-1"]["status"] in ("new", "unchanged")  # direct, unaffected


# ---------------------------------------------------------------------- a key-auth Linux host


def test_a_linux_host_reached_with_a_key_whose_passphrase_comes_from_cmd(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    host = servers.start("linux")
    path = inventory(
        lab,
        tmp_path,
        keys,
        devices={
            "srv-key": {
                "host": "127.0.0.1",
                "port": host.port,
                "platform": "linux",
                "role": "server",
                "groups": ["internal-net"],
                "site": "city",
                "credentials": "ops-key",
                "snmp_profile": None,
            }
        },
    )
    result = govnet(path, "backup", "--limit", "srv-key", "--retries", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    assert rows(result)["srv-key"]["status"] == "new"
    assert "Accepted publickey for root" in host.log_text()
    shown = govnet(path, "backup", "show", "srv-key")
    assert shown.exit_code == 0 and "Subsystem" in shown.stdout  # the host's sshd_config
    secrets_absent(result)

    # the wrong passphrase: an input error naming the device and the key file, exit 2
    (keys / "ops.pass").write_text("not-it\n")
    from govnet.transport import jump

    jump._keys.clear()
    import govnet.secrets as secrets

    secrets._cmd_cache.clear()
    wrong = govnet(path, "backup", "--limit", "srv-key", "--retries", "0")
    assert wrong.exit_code == 2, wrong.output
    assert "srv-key" in wrong.stderr and str(keys / "ops") in wrong.stderr
    assert "Traceback" not in wrong.output


# ------------------------------------------------------- the lab in a namespace, one door in


@pytest.fixture
def namespace() -> Iterator[str]:
    from govnet.lab import netns

    reason = netns.unavailable(try_create=True)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"govnet-bastion-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        for pid in pids.stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), 9)
        subprocess.run(["ip", "netns", "del", name], check=False)


@dataclass
class Walled:
    """The lab inside a namespace whose only door from the host is bastion b1's sshd."""

    path: Path  # its inventory: defaults.jump = b1 (at the door), key login to b1
    inventory: Inventory
    b1: Sshd
    state: Path  # the lab's state directory


@contextlib.contextmanager
def walled_lab(tmp_path: Path, keys: Path, namespace: str) -> Iterator[Walled]:
    """The lab's switches listen on the namespace's own loopback; the host reaches only the
    bastion's sshd (through tests/nsrelay.py). Direct connections are refused (checked)."""
    path = relocate_lab(tmp_path / "inv")
    state = tmp_path / "state"
    state.mkdir()
    with (tmp_path / "lab.log").open("wb") as log:
        lab = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                namespace,
                sys.executable,
                "-m",
                "govnet.lab.server",
                "--inventory",
                str(path),
                "--state-dir",
                str(state),
            ],
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
    (state / "lab.pid").write_text(f"{lab.pid}\n")  # `ip netns exec` execs: the server's pid
    relay: subprocess.Popen[str] | None = None
    b1 = Sshd(tmp_path / "sshd", "b1", [keys / "ops"], netns=namespace)
    try:
        deadline = time.monotonic() + 30
        while not (state / "ready.json").exists():
            assert lab.poll() is None and time.monotonic() < deadline, (
                tmp_path / "lab.log"
            ).read_text()
            time.sleep(0.05)
        b1.start()
        relay = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "nsrelay.py"), namespace, str(b1.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert relay.stdout is not None
        door = int(relay.stdout.readline())

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["credentials"]["ops-key"] = {
            "username": "root",
            "key_file": f"file:{keys / 'ops'}",
            "passphrase": f"cmd:cat {keys / 'ops.pass'}",
        }
        data["bastions"] = {"b1": {"host": "127.0.0.1", "port": door, "credentials": "ops-key"}}
        data["defaults"]["jump"] = "b1"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        inv = load_inventory(path)
        for name in (*SWITCHES, "ext-core-1", "int-acc-town"):  # nothing reachable directly
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", inv.devices[name].port), timeout=2)
        yield Walled(path, inv, b1, state)
    finally:
        if relay is not None:
            relay.kill()
            relay.wait(5)
            if relay.stdout is not None:
                relay.stdout.close()
        b1.stop()
        lab.terminate()
        lab.wait(10)


def test_the_lab_in_a_namespace_is_reached_only_through_the_bastion(
    tmp_path: Path, keys: Path, namespace: str, cli_env: None
) -> None:
    """Backup and audit of switches the host cannot reach directly work, via b1."""
    with walled_lab(tmp_path, keys, namespace) as walled:
        path, inv, b1 = walled.path, walled.inventory, walled.b1
        switches = ("int-core-1", "ext-core-1", "int-agg-east", "ext-agg-east", "int-acc-west")
        result = govnet(
            path, "backup", "--limit", ",".join(switches), "--retries", "0", "-f", "json"
        )
        assert result.exit_code == 0, result.output
        assert {r["status"] for r in rows(result).values()} == {"new"}
        assert sorted(forwarded_ports(b1)) == sorted(inv.devices[n].port for n in switches)
        assert b1.log_text().count("Accepted publickey for root") == 1

        audit = govnet(path, "audit", "--limit", "int-acc-town", "--no-store", "-f", "json")
        assert audit.exit_code == 1, audit.output
        failed = {
            f["control"] for f in json.loads(audit.stdout)["findings"] if f["status"] == "fail"
        }
        assert "mgmt.ssh-only" in failed
        secrets_absent(result)
        secrets_absent(audit)

        # the hung switch behind the bastion: judged from the bastion's side, not peeked at
        hung = govnet(path, "backup", "--limit", "ext-acc-town", "--retries", "0", "-f", "json")
        assert hung.exit_code == 3
        message = rows(hung)["ext-acc-town"]["message"]
        assert "via bastion b1" in message and "no SSH banner" in message
