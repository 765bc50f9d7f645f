"""``govnet audit --from-dir`` with bad saved configs (issue 12): a binary, undecodable,
oversized or not-a-file config is an ``error`` finding for that device naming the file, and
every other device is still audited; nothing is read without end."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.checks.audit import read_saved_config
from govnet.cli.main import cli
from govnet.limits import LimitError, Limits
from tests.conftest import LAB_INVENTORY, ROOT


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "configs"
    folder.mkdir()
    for device in (ROOT / "inventory" / "lab-data").iterdir():
        if (device / "running.cfg").is_file():
            shutil.copy(device / "running.cfg", folder / f"{device.name}.cfg")
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("GOVNET_LIMITS", raising=False)
    monkeypatch.chdir(ROOT)
    return folder


def audit(folder: Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        cli,
        [
            "-i",
            str(LAB_INVENTORY),
            "--lang",
            "en",
            "audit",
            "--from-dir",
            str(folder),
            "-f",
            "json",
        ],
    )
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def errors(report: dict) -> dict[str, set[str]]:  # type: ignore[type-arg]
    out: dict[str, set[str]] = {}
    for f in report["findings"]:
        if f["status"] == "error":
            out.setdefault(f["device"], set()).add(f["message"])
    return out


def test_bad_files_are_errors_of_their_device_only(configs: Path) -> None:
    (configs / "int-core-1.cfg").write_bytes(bytes(range(256)) * 40)  # binary
    (configs / "int-agg-east.cfg").write_bytes(b"sysname x\n\xff\xfe\x80\x81 interface\n" * 3)
    os.remove(configs / "ext-core-1.cfg")
    os.mkfifo(configs / "ext-core-1.cfg")  # never opened for a blocking read
    os.remove(configs / "ext-agg-east.cfg")
    os.symlink("/dev/zero", configs / "ext-agg-east.cfg")
    code, report, _ = audit(configs)
    assert code == 3  # devices could not be read (that outranks findings)
    assert any(f["status"] == "fail" for f in report["findings"])  # int-acc-town still judged
    found = errors(report)
    assert found.pop("ext-acc-town") == {
        f"missing: no saved config ext-acc-town.cfg|.conf|.txt in {configs}"
    }
    assert {d: sorted(m) for d, m in found.items()} == {
        "int-core-1": [
            f"unreadable: {configs}/int-core-1.cfg: binary data (NUL bytes), not a saved config text"
        ],
        "int-agg-east": [
            f"unreadable: {configs}/int-agg-east.cfg: neither UTF-8 nor GBK text (undecodable byte at offset 10); save the config as text"
        ],
        "ext-core-1": [
            f"unreadable: {configs}/ext-core-1.cfg: a FIFO (named pipe), not a regular file: give a file"
        ],
        "ext-agg-east": [
            f"unreadable: {configs}/ext-agg-east.cfg: a device, not a regular file: give a file"
        ],
    }
    audited = {f["device"] for f in report["findings"] if f["status"] in ("pass", "fail")}
    assert {"int-acc-town", "int-acc-west", "ext-acc-west"} <= audited


def test_a_config_over_the_cap_is_refused_before_reading(
    configs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (configs / "int-core-1.cfg").open("r+b") as fh:
        fh.truncate(40 * 1024 * 1024)  # sparse
    code, report, _ = audit(configs)
    assert errors(report)["int-core-1"] == {
        f"unreadable: {configs}/int-core-1.cfg: 40 MiB is larger than the 16 MiB limit for this kind of file "
        "(raise it with GOVNET_LIMITS=config_bytes=…)"
    }
    monkeypatch.setenv("GOVNET_LIMITS", "config_bytes=1K")
    code, report, _ = audit(configs)
    assert code == 3 and set(errors(report)) == {
        "ext-acc-town",
        *(p.stem for p in configs.iterdir()),
    }


def test_gbk_configs_still_read(tmp_path: Path) -> None:
    path = tmp_path / "x.cfg"
    path.write_bytes("sysname 青石镇\n".encode("gbk"))
    assert read_saved_config(path) == "sysname 青石镇\n"
    with pytest.raises(LimitError):
        read_saved_config(path, Limits(config_bytes=4))


def test_known_hosts_files_go_through_the_bounded_reader(tmp_path: Path) -> None:
    """A FIFO or device where a known_hosts file should be is an error, never a blocked read."""
    from govnet.errors import GovnetError
    from govnet.transport.hostkeys import KnownHosts

    fifo = tmp_path / "known_hosts"
    os.mkfifo(fifo)
    with pytest.raises(GovnetError, match="known_hosts: cannot read known hosts: a FIFO"):
        KnownHosts(fifo, system=[]).own()
    with pytest.raises(GovnetError, match="/dev/zero: cannot read known hosts: a device"):
        KnownHosts(tmp_path / "none", system=[Path("/dev/zero")]).lookup("sw1", 22)
