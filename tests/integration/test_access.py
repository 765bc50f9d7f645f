"""More of reaching devices the way the field does (issue 20), against the real lab and real
OpenSSH servers (tests/sshd.py): passwords from the keyring library, ``~/.ssh/config`` Host
blocks, a server that wants a key *and* a password, host-key scans through a bastion, and
provisioning through a bastion that is the only way in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

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
)
from tests.sshd import Sshd

pytestmark = pytest.mark.integration
keys, servers, cli_env = test_bastion.keys, test_bastion.servers, test_bastion.cli_env  # fixtures
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


@pytest.fixture
def test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import keyring
    import keyring.core

    from govnet import secrets
    from tests.keyringfile import JsonKeyring

    path = tmp_path / "keyring.json"
    monkeypatch.setenv("GOVNET_TEST_KEYRING", str(path))
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(JsonKeyring())
    secrets._keyring_cache.clear()
    yield path
    secrets._keyring_cache.clear()


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
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "tests.keyringfile.JsonKeyring",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(
        [str(Path(sys.executable).parent / "govnet"), "-i", str(path), "--lang", "en", "-vv", "audit",
         "--limit", "int-core-1", "--no-store", "-f", "json"],
        env=env, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
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
    lab: Lab, tmp_path: Path, keys: Path, servers: Servers, cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """sshd with ``AuthenticationMethods publickey,password``: as a Linux device (netmiko) and
    as a bastion (paramiko) in front of a lab switch; the key alone is refused."""
    both = Sshd(servers.base, "both", [keys / "ops"], root_password=BOTH_PASSWORD).start()
    servers.all["both"] = both
    monkeypatch.setenv("GOVNET_T_ROOT_PW", BOTH_PASSWORD)
    server = {"host": "127.0.0.1", "port": both.port, "platform": "linux", "role": "server",
              "groups": ["internal-net"], "site": "city", "snmp_profile": None}  # fmt: skip
    key_only = {"username": "root", "key_file": f"file:{keys / 'ops'}",
                "passphrase": f"cmd:cat {keys / 'ops.pass'}"}  # fmt: skip
    path = inventory(
        lab, tmp_path, keys,
        credentials={"key-and-pw": {**key_only, "password": "env:GOVNET_T_ROOT_PW"},
                     "key-only": key_only},
        bastions={"both": bastion(both, credentials="key-and-pw")},
        devices={"srv-both": {**server, "credentials": "key-and-pw"},
                 "srv-key-only": {**server, "credentials": "key-only", "port": both.port},
                 "int-core-1": {"jump": "both"}},
    )  # fmt: skip
    result = govnet(path, "backup", "--limit", "srv-both,int-core-1", "--retries", "0",
                    "-f", "json")  # fmt: skip
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
