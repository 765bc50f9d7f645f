"""SshSimulator's checks that need no network: the plan and the host key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from govnet.errors import LabError
from govnet.lab.data import LabBehaviour, LabDeviceData
from govnet.lab.sshsim import SimDevice, SshSimulator, load_host_key


def _device(
    tmp_path: Path, name: str, port: int, platform: str = "huawei", **kw: bool
) -> SimDevice:
    return SimDevice(
        name=name,
        platform=platform,
        port=port,
        username="u",
        password="p",
        state_dir=tmp_path / name,
        data=LabDeviceData(
            name=name, running_config=None, behaviour=LabBehaviour.model_validate(kw)
        ),
    )


def test_two_devices_on_one_port_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LabError, match=r"B and A both use 127\.0\.0\.1:2201"):
        SshSimulator([_device(tmp_path, "A", 2201), _device(tmp_path, "B", 2201)], tmp_path / "k")


def test_unknown_platforms_are_refused_unless_silent(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="X: cannot simulate platform 'junos'"):
        SshSimulator([_device(tmp_path, "X", 2202, "junos")], tmp_path / "k")
    SshSimulator([_device(tmp_path, "Y", 2203, "junos", silent=True)], tmp_path / "k")


def test_host_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ssh_host_ed25519_key"
    first = load_host_key(path)
    assert first.algorithm == b"ssh-ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_bytes()
    again = load_host_key(path)
    assert path.read_bytes() == text
    assert again.export_public_key() == first.export_public_key()
