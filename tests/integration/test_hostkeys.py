"""Host key checking for real (issue 12): netmiko/paramiko against SSH servers on 127.0.0.1.

A fake server that records every authentication attempt stands on a device's address with
another key: it must never see the password. Then the lab (one stable host key per device)
through the CLI: tofu learns and says so, a rotated key stops the backup with exit 3 until
``govnet hostkeys accept``, ``forget`` makes tofu learn again, strict refuses unknown keys,
and a conflicting system known_hosts line is a mismatch too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
import pytest
import yaml
from click.testing import CliRunner, Result

from govnet.cli.main import cli
from govnet.errors import AuthError
from govnet.inventory import load_inventory
from govnet.transport.hostkeys import HostKey, HostKeyError, KnownHosts
from govnet.transport.ssh import SshOptions, SshSession
from tests.conftest import ROOT
from tests.integration.conftest import Lab
from tests.ports import reserve_port

pytestmark = pytest.mark.integration
T = TypeVar("T")
PASSWORD = "s3cret-admin-pw"
FP = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


# --------------------------------------------------------------------- the fake SSH server


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class Recorder:
    """What reached the fake server after key exchange."""

    users: list[str] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)


class _Impostor(asyncssh.SSHServer):
    def __init__(self, seen: Recorder) -> None:
        self.seen = seen

    def begin_auth(self, username: str) -> bool:
        self.seen.users.append(username)
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        self.seen.passwords.append(password)
        return False


@dataclass
class Fake:
    port: int
    key: HostKey
    seen: Recorder


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    loop = LoopThread()
    key = asyncssh.generate_private_key("ssh-ed25519")
    seen = Recorder()
    try:

        async def listen() -> Any:
            return await asyncssh.listen(
                "127.0.0.1", 0, server_factory=lambda: _Impostor(seen), server_host_keys=[key]
            )

        acceptor = loop.run(listen())
        yield Fake(acceptor.get_port(), HostKey(key.public_data), seen)
        acceptor.close()
        loop.run(acceptor.wait_closed())
    finally:
        loop.close()


@pytest.fixture
def device_at(fake: Fake, write_inventory: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("GOVNET_TEST_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOVNET_TEST_COMMUNITY", "Hostkeys-Test-Snmp-7c1")  # masked once used
    fake.seen.users.clear()
    fake.seen.passwords.clear()

    def make(
        policy: str = "tofu", platform: str = "huawei", role: str = "core"
    ) -> tuple[Path, Any]:
        path = write_inventory(f"""
            zones: {{internal: {{}}}}
            sites: {{city: {{level: city}}}}
            credentials: {{ops: {{username: admin, password: env:GOVNET_TEST_PASSWORD}}}}
            defaults: {{credentials: ops, host_key_policy: {policy},
                        vars: {{syslog: 10.0.0.10, ntp: 10.0.0.10, mgmt_net: 10.0.0.0/24,
                               snmp_v3: {{user: u, group: g, auth_protocol: sha,
                                         auth_key: env:GOVNET_TEST_COMMUNITY,
                                         priv_protocol: aes128,
                                         priv_key: env:GOVNET_TEST_COMMUNITY}}}}}}
            devices:
              sw1: {{host: 127.0.0.1, port: {fake.port}, platform: {platform}, role: {role},
                    zone: internal, site: city, timeout: 5}}
            """)
        return path, load_inventory(path).devices["sw1"]

    return make


def test_an_impostor_with_another_key_never_gets_the_password(
    fake: Fake, device_at: Any, tmp_path: Path
) -> None:
    _, device = device_at("tofu")
    store = KnownHosts(tmp_path / "kh", [])
    genuine = HostKey.parse(
        "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIPONrMegJsie4XaL8gc56SWvDyz947C0CTeUeg4hjQM7"
    )
    store.record("sw1", "127.0.0.1", fake.port, genuine, via="tofu")
    with pytest.raises(HostKeyError) as err:
        SshSession(device, SshOptions(known_hosts=store, retries=2)).open()
    assert genuine.fingerprint in str(err.value) and fake.key.fingerprint in str(err.value)
    assert fake.seen == Recorder()  # no user name, no password: nothing after key exchange


def test_strict_sends_nothing_to_an_unknown_key(fake: Fake, device_at: Any, tmp_path: Path) -> None:
    _, device = device_at("strict")
    store = KnownHosts(tmp_path / "kh", [])
    with pytest.raises(HostKeyError, match="unknown host key"):
        SshSession(device, SshOptions(known_hosts=store)).open()
    assert fake.seen == Recorder() and not store.path.exists()


def test_control_the_recorder_sees_a_password_when_the_key_is_trusted(
    fake: Fake, device_at: Any, tmp_path: Path
) -> None:
    """Without this, the two tests above could pass with a recorder that records nothing."""
    _, device = device_at("tofu")
    store = KnownHosts(tmp_path / "kh", [])
    with pytest.raises(AuthError):  # first contact: learned, then the impostor says no
        SshSession(device, SshOptions(known_hosts=store, retries=0)).open()
    assert fake.seen.passwords == [PASSWORD]
    assert [e.key for e in store.own()] == [fake.key]


def test_backup_refuses_the_impostor_with_exit_3_and_never_says_unchanged(
    fake: Fake, device_at: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = device_at("tofu")
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.delenv("GOVNET_KNOWN_HOSTS")  # the file beside the store
    genuine = HostKey.parse(
        "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAING8kYc1S/rGySWpMq+KrUdbNc+W909aQ4n4TbDKzPsv"
    )
    KnownHosts(tmp_path / "known_hosts", []).record("sw1", "127.0.0.1", fake.port, genuine, "tofu")
    result = CliRunner().invoke(cli, ["-i", str(path), "--lang", "en", "backup", "-f", "json"])
    assert result.exit_code == 3, result.output
    (row,) = json.loads(result.stdout)["results"]
    assert (row["status"], row["error_kind"]) == ("failed", "hostkey")
    assert genuine.fingerprint in row["message"] and fake.key.fingerprint in row["message"]
    assert "govnet hostkeys accept sw1" in row["message"]
    assert fake.seen == Recorder()


@pytest.mark.parametrize(
    ("args", "platform", "role"),
    [
        (["audit", "-p", "playbooks/mlps2-baseline.yaml", "--no-store"], "huawei", "core"),
        (["provision", "plan", "baseline"], "huawei", "core"),
        (["audit", "-p", "playbooks/antivirus.yaml", "--no-store"], "linux", "server"),
    ],
    ids=["audit", "provision", "av-clamav"],
)
def test_every_ssh_command_refuses_the_impostor(
    fake: Fake,
    device_at: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    platform: str,
    role: str,
) -> None:
    path, _ = device_at("tofu", platform, role)
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)
    genuine = HostKey.parse(
        "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAING8kYc1S/rGySWpMq+KrUdbNc+W909aQ4n4TbDKzPsv"
    )
    KnownHosts(Path(os.environ["GOVNET_KNOWN_HOSTS"]), []).record(
        "sw1", "127.0.0.1", fake.port, genuine, "tofu"
    )
    result = CliRunner().invoke(cli, ["-i", str(path), "--lang", "en", *args])
    assert result.exit_code == 3, result.output
    assert "HOST KEY CHANGED" in result.output and fake.key.fingerprint in result.output
    assert fake.seen == Recorder()


# ----------------------------------------------------------------------------------- the lab


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.delenv("GOVNET_KNOWN_HOSTS")
    monkeypatch.chdir(ROOT)
    return tmp_path / "known_hosts"


def govnet(inventory: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-i", str(inventory), "--lang", "en", *args])


def _backup(inventory: Path, limit: str) -> tuple[Result, dict[str, dict[str, Any]]]:
    result = govnet(inventory, "backup", "--limit", limit, "--retries", "0", "-f", "json")
    rows = {r["device"]: r for r in json.loads(result.stdout)["results"]}
    return result, rows


def test_tofu_learns_then_a_rotated_key_stops_backup_until_accepted(
    lab: Lab, cli_env: Path
) -> None:
    inv = lab.inventory_path
    first, rows = _backup(inv, "int-core-1,int-acc-west")
    assert first.exit_code == 0, first.output
    learned = [ln for ln in first.stderr.splitlines() if "first contact" in ln]
    assert sorted(ln.split(": ")[2] for ln in learned) == ["int-acc-west", "int-core-1"]
    assert all(FP.search(ln) for ln in learned)
    assert cli_env.is_file() and (cli_env.stat().st_mode & 0o777) == 0o600

    again, rows = _backup(inv, "int-core-1,int-acc-west")
    assert again.exit_code == 0 and "first contact" not in again.stderr
    assert {r["status"] for r in rows.values()} == {"unchanged"}

    listed = json.loads(govnet(inv, "hostkeys", "list", "-f", "json").stdout)
    old = {k["device"]: k["fingerprint"] for k in listed["keys"]}
    assert set(old) == {"int-core-1", "int-acc-west"} and listed["file"] == str(cli_env)

    rotated = govnet(
        inv, "lab", "hostkey", "rotate", "int-core-1", "--state-dir", str(lab.state_dir)
    )
    assert rotated.exit_code == 0, rotated.output
    new = FP.findall(rotated.stdout)[0]
    assert new != old["int-core-1"] and "the lab serves it now" in rotated.stdout

    changed, rows = _backup(inv, "int-core-1,int-acc-west")
    assert changed.exit_code == 3
    core = rows["int-core-1"]
    assert (core["status"], core["error_kind"]) == ("failed", "hostkey")
    assert old["int-core-1"] in core["message"] and new in core["message"]
    assert "govnet hostkeys accept int-core-1" in core["message"]
    assert rows["int-acc-west"]["status"] == "unchanged"

    accepted = govnet(inv, "hostkeys", "accept", "int-core-1")
    assert accepted.exit_code == 0, accepted.output
    assert new in accepted.stdout and old["int-core-1"] in accepted.stdout
    ok, rows = _backup(inv, "int-core-1")
    assert ok.exit_code == 0 and rows["int-core-1"]["status"] == "unchanged"

    forgot = govnet(inv, "hostkeys", "forget", "int-core-1")
    assert forgot.exit_code == 0 and new in forgot.stdout
    relearned, _ = _backup(inv, "int-core-1,int-acc-west")
    assert relearned.exit_code == 0
    assert [ln.split(": ")[2] for ln in relearned.stderr.splitlines() if "first contact" in ln] == [
        "int-core-1"
    ]


def _with_defaults(lab: Lab, tmp_path: Path, **values: str) -> Path:
    data = yaml.safe_load(lab.inventory_path.read_text(encoding="utf-8"))
    data["defaults"].update(values)
    folder = tmp_path / "inv"
    folder.mkdir()
    for name in ("lab-data", "lab-secrets", "lab-terminals.csv"):
        (folder / name).symlink_to(lab.inventory_path.parent / name)
    path = folder / "lab.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_strict_refuses_an_unknown_key_until_accepted(
    lab: Lab, cli_env: Path, tmp_path: Path
) -> None:
    inv = _with_defaults(lab, tmp_path, host_key_policy="strict")
    refused, rows = _backup(inv, "int-core-1")
    assert refused.exit_code == 3 and rows["int-core-1"]["error_kind"] == "hostkey"
    assert "unknown host key" in rows["int-core-1"]["message"]
    assert "govnet hostkeys accept int-core-1" in rows["int-core-1"]["message"]
    assert not cli_env.exists()

    scan = govnet(inv, "hostkeys", "scan", "--limit", "int-core-1", "-f", "json")
    assert scan.exit_code == 1, scan.output
    (row,) = json.loads(scan.stdout)["results"]
    assert (row["status"], row["policy"]) == ("unknown", "strict")

    wrong = govnet(inv, "hostkeys", "accept", "int-core-1", "--expect", "SHA256:" + "A" * 43)
    assert wrong.exit_code == 3 and row["fingerprint"] in wrong.output and not cli_env.exists()
    assert (
        govnet(inv, "hostkeys", "accept", "int-core-1", "--expect", row["fingerprint"]).exit_code
        == 0
    )
    ok, rows = _backup(inv, "int-core-1")
    assert ok.exit_code == 0 and rows["int-core-1"]["status"] in ("new", "unchanged")


def test_a_conflicting_system_known_hosts_line_stops_backup(
    lab: Lab, cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = lab.inventory.devices["int-acc-west"].port
    system = tmp_path / "ssh_known_hosts"
    stale = "AAAAC3NzaC1lZDI1NTE5AAAAIPONrMegJsie4XaL8gc56SWvDyz947C0CTeUeg4hjQM7"
    system.write_text(f"[127.0.0.1]:{port} ssh-ed25519 {stale}\n")
    monkeypatch.setenv("GOVNET_SYSTEM_KNOWN_HOSTS", str(system))
    refused, rows = _backup(lab.inventory_path, "int-acc-west")
    assert refused.exit_code == 3
    message = rows["int-acc-west"]["message"]
    assert (
        f"({system}:1)" in message and f"ssh-keygen -R '[127.0.0.1]:{port}' -f {system}" in message
    )
    # accepting in govnet's own file cannot overrule the user's file: still exit 3
    assert govnet(lab.inventory_path, "hostkeys", "accept", "int-acc-west").exit_code == 3


def test_scan_learns_without_logging_in(lab: Lab, cli_env: Path) -> None:
    scan = govnet(
        lab.inventory_path, "hostkeys", "scan", "--limit", "int-core-1,ext-core-1", "-f", "json"
    )
    assert scan.exit_code == 0, scan.output
    assert {r["status"] for r in json.loads(scan.stdout)["results"]} == {"learned"}
    again = govnet(
        lab.inventory_path, "hostkeys", "scan", "--limit", "int-core-1,ext-core-1", "-f", "json"
    )
    assert {r["status"] for r in json.loads(again.stdout)["results"]} == {"known"}


def test_the_hung_switch_is_unreachable_in_a_scan(lab: Lab, cli_env: Path) -> None:
    scan = govnet(
        lab.inventory_path,
        "hostkeys",
        "scan",
        "--limit",
        "ext-acc-town",
        "--timeout",
        "1",
        "-f",
        "json",
    )
    assert scan.exit_code == 3
    assert json.loads(scan.stdout)["results"][0]["status"] == "unreachable"
    rotate = govnet(
        lab.inventory_path,
        "lab",
        "hostkey",
        "rotate",
        "ext-acc-town",
        "--state-dir",
        str(lab.state_dir),
    )
    assert rotate.exit_code == 2 and "silent in the lab" in rotate.output
    both = govnet(
        lab.inventory_path, "hostkeys", "accept", "int-agg-east", "ext-acc-town", "--timeout", "1"
    )
    assert both.exit_code == 3 and "ext-acc-town" in both.stderr  # the other one is accepted
    listed = json.loads(govnet(lab.inventory_path, "hostkeys", "list", "-f", "json").stdout)
    assert [k["device"] for k in listed["keys"]] == ["int-agg-east"]


def test_simulated_devices_keep_their_own_key_across_restarts_and_rotate_one(
    tmp_path: Path,
) -> None:
    from govnet.lab.data import LabDeviceData
    from govnet.lab.sshsim import HOST_KEY_FILE, SimDevice, SshSimulator, new_host_key
    from govnet.transport.ssh import fetch_host_key

    def port() -> int:
        return reserve_port()

    sims = [
        SimDevice(
            name,
            "huawei",
            port(),
            "u",
            "p",
            tmp_path / name,
            LabDeviceData(name=name, running_config=None),
        )
        for name in ("a", "b")
    ]
    devices = {d.name: load_inventory_device(d.name, d.port, tmp_path) for d in sims}
    loop = LoopThread()
    try:
        sim = SshSimulator(sims)
        loop.run(sim.start())
        first = {n: fetch_host_key(d, timeout=3) for n, d in devices.items()}
        assert first["a"] != first["b"]  # one key per device
        loop.run(sim.stop())
        again = SshSimulator(sims)
        loop.run(again.start())
        try:
            assert {n: fetch_host_key(d, timeout=3) for n, d in devices.items()} == first
            new_host_key(tmp_path / "a" / HOST_KEY_FILE)  # what 'govnet lab hostkey rotate' does
            assert again.reload_host_keys() == ["a"]
            assert fetch_host_key(devices["a"], timeout=3) not in (first["a"], first["b"])
            assert fetch_host_key(devices["b"], timeout=3) == first["b"]
        finally:
            loop.run(again.stop())
    finally:
        loop.close()
    key_file = tmp_path / "b" / HOST_KEY_FILE
    assert (key_file.stat().st_mode & 0o777) == 0o600


def load_inventory_device(name: str, port: int, tmp_path: Path) -> Any:
    from govnet.inventory.model import Device

    return Device(
        name=name,
        host="127.0.0.1",
        platform="huawei",
        role="core",
        zone="z",
        site="s",
        port=port,
        timeout=3,
    )
