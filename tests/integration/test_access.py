"""More of reaching devices the way the field does (issue 20), against the real lab and real
OpenSSH servers (tests/sshd.py): passwords from the keyring library, ``~/.ssh/config`` Host
blocks, a server that wants a key *and* a password, host-key scans through a bastion, and
provisioning through a bastion that is the only way in."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from tests.conftest import ROOT
from tests.integration import test_bastion
from tests.integration.conftest import Lab
from tests.integration.test_bastion import (
    Servers,
    bastion,
    forwarded_ports,
    govnet,
    inventory,
    rows,
    secrets_absent,
    walled_lab,
)
from tests.sshd import Sshd, keygen

pytestmark = pytest.mark.integration
# fixtures
keys, servers, cli_env = test_bastion.keys, test_bastion.servers, test_bastion.cli_env
namespace = test_bastion.namespace
BOTH_PASSWORD = "Root-And-Key-Pw-58"
LAB_PASSWORD = (ROOT / "inventory" / "lab-secrets" / "admin.password").read_text().strip()


def with_credentials(lab: Lab, tmp_path: Path, **creds: object) -> Path:
    """The lab inventory (in ``tmp_path``) with its lab-admin credentials replaced."""
    data = yaml.safe_load(lab.inventory_path.read_text(encoding="utf-8"))
    data["credentials"]["lab-admin"] = {"username": "govnet", **creds}
    path = lab.inventory_path.parent / f"access-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ keyring:


def test_a_lab_password_read_from_the_keyring_logs_in_and_is_never_shown(
    lab: Lab, tmp_path: Path, test_keyring: Path, cli_env: None
) -> None:
    import keyring

    keyring.set_password("govnet-lab", "govnet", LAB_PASSWORD)  # through the library's API
    path = with_credentials(lab, tmp_path, password="keyring:govnet-lab/govnet")
    result = govnet(path, "-vv", "backup", "--limit", "int-core-1", "--retries", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    assert rows(result)["int-core-1"]["status"] == "new"
    assert LAB_PASSWORD not in result.stdout and LAB_PASSWORD not in result.stderr

    # a subprocess, the backend named by PYTHON_KEYRING_BACKEND as an operator would
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyringfile.JsonKeyring",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "govnet"),
            "-i",
            str(path),
            "--lang",
            "en",
            "-vv",
            "audit",
            "--limit",
            "int-core-1",
            "--no-store",
            "-f",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["findings"]
    assert LAB_PASSWORD not in done.stdout and LAB_PASSWORD not in done.stderr

    # an entry that is not there: exit 2 before any device is contacted, naming it
    missing = with_credentials(lab, tmp_path, password="keyring:govnet-lab/nobody")
    refused = govnet(missing, "backup", "--limit", "int-core-1", "--retries", "0")
    assert refused.exit_code == 2, refused.output
    assert "no password for 'nobody' in keyring service 'govnet-lab'" in refused.stderr
    assert "Traceback" not in refused.output


# ------------------------------------------------------------------- a key and a password


def test_a_server_that_wants_a_key_and_a_password_gets_both(
    lab: Lab,
    tmp_path: Path,
    keys: Path,
    servers: Servers,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sshd with ``AuthenticationMethods publickey,password``: as a Linux device (netmiko) and
    as a bastion (paramiko) in front of a lab switch; the key alone is refused."""
    both = Sshd(servers.base, "both", [keys / "ops"], root_password=BOTH_PASSWORD).start()
    servers.all["both"] = both
    monkeypatch.setenv("GOVNET_T_ROOT_PW", BOTH_PASSWORD)
    server = {
        "host": "127.0.0.1",
        "port": both.port,
        "platform": "linux",
        "role": "server",
        "groups": ["internal-net"],
        "site": "city",
        "snmp_profile": None,
    }
    key_only = {
        "username": "root",
        "key_file": f"file:{keys / 'ops'}",
        "passphrase": f"cmd:cat {keys / 'ops.pass'}",
    }
    path = inventory(
        lab,
        tmp_path,
        keys,
        credentials={
            "key-and-pw": {**key_only, "password": "env:GOVNET_T_ROOT_PW"},
            "key-only": key_only,
        },
        bastions={"both": bastion(both, credentials="key-and-pw")},
        devices={
            "srv-both": {**server, "credentials": "key-and-pw"},
            "srv-key-only": {**server, "credentials": "key-only", "port": both.port},
            "int-core-1": {"jump": "both"},
        },
    )
    result = govnet(
        path, "backup", "--limit", "srv-both,int-core-1", "--retries", "0", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    assert {r["status"] for r in rows(result).values()} == {"new"}
    log = both.log_text()
    assert log.count("Partial publickey for root") == 2  # the key first, then …
    assert log.count("Accepted password for root") == 2  # … the password: device and bastion
    assert forwarded_ports(both) == [lab.inventory.devices["int-core-1"].port]
    secrets_absent(result)
    assert BOTH_PASSWORD not in result.output

    refused = govnet(path, "backup", "--limit", "srv-key-only", "--retries", "0", "-f", "json")
    assert refused.exit_code == 3, refused.output
    row = rows(refused)["srv-key-only"]
    assert row["error_kind"] == "auth" and "authentication failed" in row["message"]


# ----------------------------------------------------- host keys and provisioning via b1


def scanned(result: Result) -> dict[str, dict[str, Any]]:
    return {r["device"]: r for r in json.loads(result.stdout)["results"]}


def test_hostkeys_scan_and_accept_go_through_the_bastion_checking_its_key_first(
    tmp_path: Path, keys: Path, namespace: str, cli_env: None
) -> None:
    from govnet.lab import launcher

    with walled_lab(tmp_path, keys, namespace) as walled:
        path, inv, b1 = walled.path, walled.inventory, walled.b1
        scan = govnet(path, "hostkeys", "scan", "--limit", "int-core-1,ext-core-1", "-f", "json")
        assert scan.exit_code == 0, scan.output
        found = scanned(scan)
        assert next(iter(found)) == "b1"  # the bastion's own key first, then through it
        assert {r["status"] for r in found.values()} == {"learned"}, found
        assert sorted(forwarded_ports(b1)) == sorted(
            inv.devices[n].port for n in ("int-core-1", "ext-core-1")
        )
        assert b1.log_text().count("Accepted publickey for root") == 1

        # a switch re-keyed behind the bastion: seen as changed through it, accepted through it
        rotation = launcher.rotate_host_key(inv, "int-core-1", walled.state)
        assert rotation.live
        changed = govnet(path, "hostkeys", "scan", "--limit", "int-core-1", "-f", "json")
        assert changed.exit_code == 3, changed.output
        found = scanned(changed)
        assert (found["b1"]["status"], found["int-core-1"]["status"]) == ("known", "changed")
        accepted = govnet(path, "hostkeys", "accept", "int-core-1", "-f", "json")
        assert accepted.exit_code == 0, accepted.output
        [row] = json.loads(accepted.stdout)["accepted"]
        assert row["fingerprint"] == rotation.new and row["replaced"] == [rotation.old]
        again = govnet(path, "hostkeys", "scan", "--limit", "int-core-1", "-f", "json")
        assert again.exit_code == 0 and scanned(again)["int-core-1"]["status"] == "known"

        # the bastion re-keyed: nothing is sent to it (no login) until it is accepted
        b1.stop()
        b1.rotate_host_key()
        b1.start()
        logins = b1.log_text().count("Accepted publickey")
        refused = govnet(path, "hostkeys", "scan", "--limit", "int-core-1", "-f", "json")
        assert refused.exit_code == 3, refused.output
        found = scanned(refused)
        assert found["b1"]["status"] == "changed"
        behind = found["int-core-1"]
        assert behind["status"] == "unreachable" and "bastion b1 (127.0.0.1:" in behind["message"]
        assert "HOST KEY CHANGED" in behind["message"]
        no_accept = govnet(path, "hostkeys", "accept", "int-core-1")
        assert no_accept.exit_code == 3 and "bastion b1" in no_accept.stderr
        assert b1.log_text().count("Accepted publickey") == logins
        assert govnet(path, "hostkeys", "accept", "b1").exit_code == 0
        healed = govnet(path, "hostkeys", "scan", "--limit", "int-core-1", "-f", "json")
        assert healed.exit_code == 0, healed.output
        assert {r["status"] for r in scanned(healed).values()} == {"known"}


def test_provisioning_and_mac_discovery_through_the_bastion_apply_and_roll_back(
    tmp_path: Path, keys: Path, namespace: str, cli_env: None
) -> None:
    """`provision apply` pushes, verifies and rolls back over channels through b1 (the lab
    cannot be reached otherwise); `backup macs` reads MAC tables the same way."""
    from govnet.transport.ssh import SshSession

    def running(name: str) -> str:
        with SshSession(inv.devices[name]) as session:
            return session.fetch("running_config")

    with walled_lab(tmp_path, keys, namespace) as walled:
        path, inv, b1 = walled.path, walled.inventory, walled.b1
        apply = ("provision", "apply", "baseline", "--yes", "-f", "json")
        done = govnet(path, *apply, "--limit", "int-acc-town")
        assert done.exit_code == 0, done.output
        doc = json.loads(done.stdout)
        assert [d["status"] for d in doc["devices"]] == ["changed"]
        assert "undo telnet server enable" in doc["devices"][0]["commands"]
        assert not re.search(r"(?m)^telnet server enable", running("int-acc-town"))

        # a change the device shows differently: undone, through the same bastion
        templates = tmp_path / "templates"
        shutil.copytree(ROOT / "playbooks" / "templates", templates)
        (templates / "huawei" / "baseline.j2").write_text(
            "user-interface vty 16 20\n idle-timeout 5 0\n idle-timeout 6 0\n"
        )
        before = running("int-core-1")
        undone = govnet(path, *apply, "--limit", "int-core-1", "--templates", str(templates))
        assert undone.exit_code == 1, undone.output
        [row] = json.loads(undone.stdout)["devices"]
        assert row["status"] == "rolled-back" and row["rollback"]
        assert running("int-core-1") == before

        macs = govnet(
            path, "backup", "macs", "--limit", "ext-acc-west", "--retries", "0", "-f", "json"
        )
        assert macs.exit_code == 0, macs.output
        [found] = json.loads(macs.stdout)["results"]
        assert found["status"] == "ok" and found["sightings"] > 0

        ports = {inv.devices[n].port for n in ("int-acc-town", "int-core-1", "ext-acc-west")}
        assert ports <= set(forwarded_ports(b1))
        secrets_absent(done)
        secrets_absent(undone)


# ------------------------------------------------------------------------ ~/.ssh/config


def test_ssh_config_host_blocks_reach_a_real_sshd_and_proxyjump_becomes_the_chain(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    """Host aliases, User and IdentityFile from an OpenSSH config; ProxyJump to a bastion
    alias; and StrictHostKeyChecking no in the file does not stop a changed key."""
    keygen(keys / "cfg")  # unencrypted, as a key ssh-agent-less OpenSSH users keep
    linux = Sshd(servers.base, "linux", [keys / "cfg"]).start()
    jumpbox = Sshd(servers.base, "jumpbox", [keys / "cfg"]).start()
    servers.all.update(linux=linux, jumpbox=jumpbox)
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host linux-box\n  HostName 127.0.0.1\n  Port {linux.port}\n  User root\n"
        f"  IdentityFile {keys / 'cfg'}\n  StrictHostKeyChecking no\n"
        f"Host jumpbox\n  HostName 127.0.0.1\n  Port {jumpbox.port}\n  User root\n"
        f"  IdentityFile {keys / 'cfg'}\n"
        "Host core-via-jumpbox\n  HostName 127.0.0.1\n  ProxyJump jumpbox\n"
    )
    path = inventory(
        lab,
        tmp_path,
        keys,
        credentials={"from-ssh-config": {}},
        devices={
            "srv-cfg": {
                "host": "linux-box",
                "ssh_config": str(config),
                "platform": "linux",
                "role": "server",
                "groups": ["internal-net"],
                "site": "city",
                "credentials": "from-ssh-config",
                "snmp_profile": None,
            },
            "int-core-1": {"host": "core-via-jumpbox", "ssh_config": str(config)},
        },
    )
    result = govnet(path, "backup", "--limit", "srv-cfg,int-core-1", "--retries", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    assert {r["status"] for r in rows(result).values()} == {"new"}
    assert "Accepted publickey for root" in linux.log_text()
    assert forwarded_ports(jumpbox) == [lab.inventory.devices["int-core-1"].port]
    assert jumpbox.log_text().count("Accepted publickey for root") == 1
    assert f"first contact with 127.0.0.1:{linux.port}" in result.stderr  # key learned (tofu)
    secrets_absent(result)
    shown = govnet(path, "inventory", "show", "int-core-1", "-f", "json")
    assert json.loads(shown.stdout)["jump"] == ["jumpbox"]

    linux.stop()
    linux.rotate_host_key()
    linux.start()
    changed = govnet(path, "backup", "--limit", "srv-cfg", "--retries", "0", "-f", "json")
    assert changed.exit_code == 3, changed.output
    assert rows(changed)["srv-cfg"]["error_kind"] == "hostkey"  # 'StrictHostKeyChecking no' or not
    validated = govnet(path, "inventory", "validate")
    assert "StrictHostKeyChecking no for linux-box is ignored" in validated.output, validated.output


# ------------------------------------------------ per-bastion channel cap, per-hop failures


def test_max_channels_caps_the_sessions_through_a_bastion(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    from govnet.errors import DeviceTimeout
    from govnet.inventory import load_inventory
    from govnet.transport.jump import pool
    from govnet.transport.ssh import SshOptions, SshSession

    capped = servers.start("capped")
    path = inventory(
        lab,
        tmp_path,
        keys,
        bastions={"capped": bastion(capped, max_channels=1)},
        zones={"internal": {"jump": "capped"}},
        devices={"int-acc-west": {"timeout": 0.25}},  # waits 4 × its timeout for a channel
    )
    inv = load_inventory(path)
    options = SshOptions(retries=0)
    with SshSession(inv.devices["int-core-1"], options) as first:
        with pytest.raises(
            DeviceTimeout,
            match=r"bastion capped \(127\.0\.0\.1:\d+\): all 1 "
            r"channels stayed busy",
        ):
            SshSession(inv.devices["int-acc-west"], options).open()
        assert "sysname" in first.fetch("running_config").lower()
    with SshSession(inv.devices["int-acc-west"], SshOptions(retries=0, timeout=10)) as second:
        assert second.fetch("running_config")  # the slot was given back

    switches = ("int-core-1", "int-agg-east", "int-acc-town", "int-acc-west")
    result = govnet(
        path,
        "backup",
        "--limit",
        ",".join(switches),
        "--retries",
        "0",
        "--timeout",
        "10",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert sorted(set(forwarded_ports(capped))) == sorted(
        lab.inventory.devices[n].port for n in switches
    )
    assert pool().stats()["capped"]["peak_channels"] == 1  # 16 workers, one channel at a time


def test_a_chain_reports_which_hop_failed_for_each_device(
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None
) -> None:
    outer, down = servers.start("outer"), servers.start("down")
    keygen(keys / "stranger")
    picky = Sshd(servers.base, "picky", [keys / "stranger"]).start()  # not the ops key
    servers.all["picky"] = picky
    down.stop()
    path = inventory(
        lab,
        tmp_path,
        keys,
        bastions={"outer": bastion(outer), "down": bastion(down), "picky": bastion(picky)},
        devices={
            "int-core-1": {"jump": ["outer", "down"]},
            "int-agg-east": {"jump": ["outer", "picky"]},
        },
    )
    result = govnet(
        path,
        "backup",
        "--limit",
        "int-core-1,int-agg-east,ext-core-1",
        "--retries",
        "0",
        "-f",
        "json",
    )
    assert result.exit_code == 3, result.output
    by = rows(result)
    assert re.search(
        r"bastion outer \(127\.0\.0\.1:\d+\) could not open a channel to bastion down "
        rf"\(127\.0\.0\.1:{down.port}\)",
        by["int-core-1"]["message"],
    ), by["int-core-1"]
    assert by["int-agg-east"]["error_kind"] == "auth"
    assert (
        f"bastion picky (127.0.0.1:{picky.port}) refused the login of 'root'"
        in (by["int-agg-east"]["message"])
    )
    assert by["ext-core-1"]["status"] == "new"  # direct, unaffected
    assert sorted(forwarded_ports(outer)) == sorted([down.port, picky.port])


# ---------------------------------------------------------------------------- ssh-agent


def test_agent_credentials_log_in_with_the_key_held_by_a_real_ssh_agent(
    lab: Lab,
    tmp_path: Path,
    keys: Path,
    servers: Servers,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`agent: true`: the key is only in ssh-agent (no file named in the inventory), for a
    Linux host and for the bastion in front of a switch."""
    keygen(keys / "agentkey")
    host = Sshd(servers.base, "agent-host", [keys / "agentkey"]).start()
    servers.all["agent-host"] = host
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(
            ["ssh-add", "-q", str(keys / "agentkey")], env=env, check=True, capture_output=True
        )
        (keys / "agentkey").unlink()  # only the agent has it now
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        path = inventory(
            lab,
            tmp_path,
            keys,
            credentials={"by-agent": {"username": "root", "agent": True}},
            bastions={"agent-b": bastion(host, credentials="by-agent")},
            devices={
                "srv-agent": {
                    "host": "127.0.0.1",
                    "port": host.port,
                    "platform": "linux",
                    "role": "server",
                    "groups": ["internal-net"],
                    "site": "city",
                    "credentials": "by-agent",
                    "snmp_profile": None,
                },
                "int-core-1": {"jump": "agent-b"},
            },
        )
        result = govnet(
            path, "backup", "--limit", "srv-agent,int-core-1", "--retries", "0", "-f", "json"
        )
        assert result.exit_code == 0, result.output
        assert {r["status"] for r in rows(result).values()} == {"new"}
        assert host.log_text().count("Accepted publickey for root") == 2  # device + bastion
        assert forwarded_ports(host) == [lab.inventory.devices["int-core-1"].port]
    finally:
        agent.kill()
        agent.wait(5)
