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
from tests.integration.conftest import Lab
from tests.integration.test_bastion import govnet, rows

pytestmark = pytest.mark.integration
LAB_PASSWORD = (ROOT / "inventory" / "lab-secrets" / "admin.password").read_text().strip()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)


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
