"""Reaching devices (issue 20): key/agent credentials, jump chains and their inheritance,
Telnet only on purpose, and ``cmd:`` secrets that fail, hang or print nothing."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from govnet.errors import InventoryError, SecretError
from govnet.inventory import load_inventory
from govnet.secrets import REDACTOR, RedactingFilter, SecretRef, _cmd_cache
from tests.conftest import MINIMAL

Writer = Callable[..., Path]

BASTIONS = """
bastions:
  edge: {host: 127.0.0.1, port: 2201, credentials: jumpkey, host_key_policy: strict}
  inner: {host: 127.0.0.1, port: 2202, credentials: jumpkey, max_channels: 2}
"""


def errors_of(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    return [str(d) for d in info.value.diagnostics if d.severity == "error"]


def test_key_file_is_relative_to_its_yaml_and_jump_inherits_device_group_site_zone_defaults(
    write_inventory: Writer,
) -> None:
    text = MINIMAL.replace(
        "  town: {level: town, parent: county}", "  town: {level: town, parent: county, jump: edge}"
    ).replace(
        "  external: {pools: {prefixes: [172.16.0.0/12]}}",
        "  external: {pools: {prefixes: [172.16.0.0/12]}, jump: [edge, inner]}",
    )
    path = write_inventory(
        text.replace(
            "credentials:\n  ops:",
            "credentials:\n  jumpkey: {username: ops, key_file: file:keys/ops}\n  ops:",
        )
        + BASTIONS
    )
    inv = load_inventory(path)
    sw1, sw2 = inv.devices["sw1"], inv.devices["sw2"]
    assert [h.name for h in sw1.jump] == ["edge"]  # its site (town)
    assert [h.name for h in sw2.jump] == ["edge", "inner"]  # its zone (external)
    edge = sw1.jump[0]
    assert edge.credentials.key_file == str(path.parent / "keys" / "ops")
    assert (edge.host_key_policy, edge.max_channels, sw2.jump[1].max_channels) == ("strict", 8, 2)
    assert sw1.to_dict()["jump"] == ["edge"] and sw1.to_dict()["password"] == "***"

    # the device's own jump beats its site's; [] means direct
    direct = write_inventory(
        text.replace(
            "groups: [huawei-access, internal]}", "groups: [huawei-access, internal], jump: []}"
        ).replace(
            "credentials:\n  ops:", "credentials:\n  jumpkey: {username: ops, agent: true}\n  ops:"
        )
        + BASTIONS,
        name="direct.yaml",
    )
    assert load_inventory(direct).devices["sw1"].jump == ()


def test_bad_jumps_and_credentials_are_located(write_inventory: Writer) -> None:
    text = MINIMAL.replace(
        "credentials:\n  ops:",
        "credentials:\n  nokey: {username: x}\n  pp: {username: x, password: env:A, passphrase: env:B}\n"
        "  ops:",
    ).replace("groups: [huawei-access, internal]}", "groups: [huawei-access, internal], jump: edg}")
    errors = errors_of(
        write_inventory(text + BASTIONS.replace("credentials: jumpkey", "credentials: ops"))
    )
    assert any("credentials.nokey" in e and "password, key_file or agent" in e for e in errors)
    assert any("credentials.pp" in e and "passphrase goes with key_file" in e for e in errors)
    assert any(
        "devices.sw1.jump" in e and "unknown bastion 'edg'" in e and "edge" in e for e in errors
    )


def test_telnet_needs_allow_insecure(write_inventory: Writer) -> None:
    text = MINIMAL.replace(
        "platform: cisco_ios, role: core}", "platform: cisco_ios, role: core, transport: telnet}"
    )
    (error,) = errors_of(write_inventory(text))
    assert "devices.sw2.transport" in error and "allow_insecure: true" in error
    ok = text.replace("transport: telnet}", "transport: telnet, allow_insecure: true}")
    assert load_inventory(write_inventory(ok, name="ok.yaml")).devices["sw2"].transport == "telnet"


# ------------------------------------------------------------------------------ cmd: secrets


def test_cmd_prints_the_first_line_once_per_run_and_is_masked(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    script = tmp_path / "vault.py"
    script.write_text(
        "import sys, pathlib\n"
        f"p = pathlib.Path({str(counter)!r}); p.write_text(p.read_text() + 'x' if p.exists() else 'x')\n"
        "print('Vault-Secret-41 with spaces'); print('second line')\n"
    )
    ref = SecretRef.parse(f"cmd:{sys.executable} {script} 'net/core'")
    assert repr(ref) == "SecretRef(cmd:***)" and str(ref) == "***"
    assert ref.resolve("sw1 password") == "Vault-Secret-41 with spaces"
    assert ref.resolve("sw2 password") == "Vault-Secret-41 with spaces"
    assert counter.read_text() == "x"  # run once, cached for the run
    assert REDACTOR("pw Vault-Secret-41 with spaces.") == "pw ***."


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("false", r"sw1 password: command 'false' failed \(exit 1\)"),
        ("true", r"command 'true' printed nothing"),
        ("printf '\\n'", r"printed nothing"),
        ("govnet-no-such-vault get x", r"'govnet-no-such-vault' not found"),
        ("sh -c 'sleep 30'", r"did not finish within 0.5 s"),
        ("pass show 'unterminated", r"cannot parse cmd: reference"),
    ],
)
def test_cmd_failures_are_one_line_secret_errors(
    command: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVNET_SECRET_CMD_TIMEOUT", "0.5")
    _cmd_cache.clear()
    started = time.monotonic()
    with pytest.raises(SecretError, match=message) as info:
        SecretRef.parse(f"cmd:{command}").resolve("sw1 password")
    assert time.monotonic() - started < 15  # a hang (30 s) is cut at the timeout, children too
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_a_hanging_grandchild_does_not_hold_the_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_SECRET_CMD_TIMEOUT", "0.5")
    started = time.monotonic()
    with pytest.raises(SecretError, match="did not finish"):
        SecretRef.parse("cmd:sh -c 'sleep 30 & sleep 30'").resolve("x")
    assert time.monotonic() - started < 15  # not the 30 s hang


# -------------------------------------------------------------------------- keyring: secrets


def test_keyring_refs_round_trip_through_the_keyring_library_once_per_run(
    test_keyring: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import keyring

    keyring.set_password("govnet/net", "core-admin", "Keyring-Secret-63 x")
    ref = SecretRef.parse("keyring:govnet/net/core-admin")  # the last / separates the user
    assert repr(ref) == "SecretRef(keyring:***)" and str(ref) == "***"
    assert ref.resolve("sw1 password") == "Keyring-Secret-63 x"
    keyring.set_password("govnet/net", "core-admin", "changed-later")
    assert ref.resolve("sw2 password") == "Keyring-Secret-63 x"  # cached for the run
    assert REDACTOR("pw Keyring-Secret-63 x.") == "pw ***."
    escaped = REDACTOR(f"Pattern not detected: {re.escape('Keyring-Secret-63 x')!r}")
    assert "Keyring" not in escaped  # and in every other spelling (tests/unit/test_secrets.py)
    logger = logging.getLogger("govnet.test.keyring")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG):
        try:
            raise ValueError("auth failed for Keyring-Secret-63 x")
        except ValueError:
            logger.debug("login %s", "Keyring-Secret-63 x", exc_info=True)
    assert "Keyring-Secret" not in caplog.text and "ValueError: auth failed for ***" in caplog.text


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {},
            r"sw1 password: no password for 'core-admin' in keyring service 'net'; store it "
            r"with: keyring set net core-admin",
        ),
        ({"locked": True}, r"cannot read keyring entry net/core-admin \(the keyring is locked"),
        ({"hang": True}, r"did not answer within 0.5 s for net/core-admin"),
    ],
)
def test_keyring_failures_are_one_line_secret_errors(
    state: dict[str, bool], message: str, test_keyring: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("GOVNET_SECRET_CMD_TIMEOUT", "0.5")
    test_keyring.write_text(json.dumps(state))
    started = time.monotonic()
    with pytest.raises(SecretError, match=message) as info:
        SecretRef.parse("keyring:net/core-admin").resolve("sw1 password")
    assert time.monotonic() - started < 15  # not the 30 s hang
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_no_keyring_backend_says_how_to_name_one(test_keyring: Path) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(SecretError, match=r"no keyring backend is available; .*PYTHON_KEYRING"):
        SecretRef.parse("keyring:net/admin").resolve("sw1 password")


@pytest.mark.parametrize("bad", ["keyring:", "keyring:net", "keyring:net/", "keyring:/admin"])
def test_keyring_refs_need_service_and_user(bad: str) -> None:
    with pytest.raises(ValueError, match="keyring:SERVICE/USER"):
        SecretRef.parse(bad)


# ------------------------------------------------------------------------ ~/.ssh/config


SSH_CONFIG = """\
Host sw1-alias
  HostName 127.0.0.9
  Port 2299
  User cfguser
Host sw2
  HostName 127.0.0.22
  Port 2022
  User other
  IdentityFile {keys}/missing
  IdentityFile {keys}/id_sw2
  ProxyJump jumper@edge-alias:2201,inner
  StrictHostKeyChecking no
Host edge-alias
  HostName 10.9.9.9
  IdentityFile {keys}/edge
  ProxyJump outermost
Host outermost
  HostName 10.8.8.8
  User far
Host loop-a
  ProxyJump loop-b
Host loop-b
  ProxyJump loop-a
Host piped
  ProxyCommand nc %h %p
"""


def test_ssh_config_host_blocks_fill_in_what_the_inventory_leaves_unset(
    tmp_path: Path, write_inventory: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "id_sw2").write_text("not read at load time")
    (tmp_path / "ssh").mkdir()
    (tmp_path / "ssh" / "config").write_text(SSH_CONFIG.format(keys=keys))
    text = (
        MINIMAL.replace("sw1: {host: 127.0.0.1,", "sw1: {host: sw1-alias,")
        .replace("sw2: {host: 127.0.0.2,", "sw2: {host: sw2, credentials: nouser,")
        .replace("credentials:\n  ops:", "credentials:\n  nouser: {password: env:B}\n  ops:")
        .replace("defaults:\n", "defaults:\n  ssh_config: ssh/config\n")  # relative to the YAML
        + BASTIONS.replace("credentials: jumpkey", "credentials: ops")
    )
    inv = load_inventory(write_inventory(text))
    sw1, sw2 = inv.devices["sw1"], inv.devices["sw2"]
    assert (sw1.host, sw1.port) == ("127.0.0.9", 2222)  # HostName; the group's port wins
    assert sw1.credentials is not None and sw1.credentials.username == "admin"  # inventory wins
    assert sw1.ssh_config == str(tmp_path / "ssh" / "config") and sw1.jump == ()
    assert (sw2.host, sw2.port) == ("127.0.0.22", 2022)
    assert sw2.credentials is not None and sw2.credentials.username == "other"
    assert sw2.credentials.key_file == str(keys / "id_sw2")  # the first IdentityFile that exists
    outermost, edge, inner = sw2.jump  # edge-alias's own ProxyJump comes first
    assert (outermost.host, outermost.port, outermost.credentials.username) == (
        "10.8.8.8",
        22,
        "far",
    )
    assert outermost.credentials.agent and outermost.credentials.key_file is None
    assert (edge.name, edge.host, edge.port) == ("edge-alias", "10.9.9.9", 2201)
    assert edge.credentials.username == "jumper" and edge.credentials.key_file == str(keys / "edge")
    assert inner.name == "inner" and inner.max_channels == 2  # the bastions: entry of that name
    warning = next(str(w) for w in inv.warnings if "StrictHostKeyChecking" in str(w))
    assert "StrictHostKeyChecking no for sw2 is ignored" in warning and "tofu" in warning

    # an inventory jump (even []) wins over ProxyJump; ssh_config: false turns it off
    direct = text.replace("sw2: {host: sw2,", "sw2: {host: sw2, jump: [],")
    assert load_inventory(write_inventory(direct, name="direct.yaml")).devices["sw2"].jump == ()
    off = text.replace("sw1: {host: sw1-alias,", "sw1: {host: sw1-alias, ssh_config: false,")
    assert load_inventory(write_inventory(off, name="off.yaml")).devices["sw1"].host == "sw1-alias"

    # the validated-inventory cache notices a changed ssh_config
    monkeypatch.setenv("GOVNET_CACHE_DIR", str(tmp_path / "cache"))
    path = write_inventory(text, name="cached.yaml")
    assert load_inventory(path, cache=True).devices["sw1"].host == "127.0.0.9"
    (tmp_path / "ssh" / "config").write_text(
        SSH_CONFIG.format(keys=keys).replace("127.0.0.9", "127.0.0.10")
    )
    assert load_inventory(path, cache=True).devices["sw1"].host == "127.0.0.10"


def test_ssh_config_problems_are_located(tmp_path: Path, write_inventory: Writer) -> None:
    (tmp_path / "config").write_text(SSH_CONFIG.format(keys=tmp_path))
    piped = MINIMAL.replace("sw1: {host: 127.0.0.1,", "sw1: {host: piped, ssh_config: config,")
    (error,) = errors_of(write_inventory(piped))
    assert "devices.sw1.ssh_config" in error and "ProxyCommand" in error and "ProxyJump" in error
    looped = MINIMAL.replace("sw1: {host: 127.0.0.1,", "sw1: {host: loop-a, ssh_config: config,")
    (error,) = errors_of(write_inventory(looped, name="looped.yaml"))
    assert "ProxyJump loops through loop-a" in error
    missing = MINIMAL.replace("sw1: {host: 127.0.0.1,", "sw1: {host: x, ssh_config: nope,")
    (error,) = errors_of(write_inventory(missing, name="missing.yaml"))
    assert f"ssh_config {tmp_path / 'nope'} does not exist" in error
    nouser = MINIMAL.replace("  ops: {username: admin,", "  ops: {")
    errors = errors_of(write_inventory(nouser, name="nouser.yaml"))
    assert any("name no username for 127.0.0.1" in e and "ssh_config" in e for e in errors)
    empty = MINIMAL.replace(
        "  ops: {username: admin, password: env:GOVNET_TEST_PASSWORD}", "  ops: {}"
    )
    errors = errors_of(write_inventory(empty, name="empty.yaml"))
    assert any("devices.sw1.credentials" in e and "name no username" in e for e in errors)


def test_the_indexed_ssh_config_lookup_answers_as_paramikos_own(tmp_path: Path) -> None:
    import paramiko

    from govnet.inventory.sshconfig import SshConfigFile

    text = (
        "Host sw-1 sw-2\n  HostName 10.0.0.1\n  User a\nHost sw-*\n  Port 2200\n"
        "Host !sw-3 sw-?\n  User neg\nMatch host sw-4\n  User matched\n"
        "Host sw-2\n  User late\n  IdentityFile /k/one\nHost [ab]x\n  Port 2201\n"
        "Host *\n  IdentityFile /k/all\n  User default\n"
    )
    (tmp_path / "config").write_text(text)
    ours, theirs = SshConfigFile(tmp_path / "config"), paramiko.SSHConfig.from_text(text)
    for name in ("sw-1", "sw-2", "sw-3", "sw-4", "sw-10", "other", "ax", "cx"):
        assert ours._lookup(name) == dict(theirs.lookup(name)), name
