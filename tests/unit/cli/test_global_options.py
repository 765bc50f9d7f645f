"""The group's options are accepted after the subcommand too, as Ansible users type them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from tests.conftest import LAB_INVENTORY, ROOT


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run where no default inventory exists, with no inventory in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOVNET_INVENTORY", raising=False)
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'env.sqlite'}")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_inventory_after_the_subcommand() -> None:
    code, out, err = run("inventory", "tree", "-i", str(LAB_INVENTORY), "--lang", "en")
    assert code == 0, err
    assert "East County" in out and "东城县" not in out


def test_lang_after_the_subcommand_wins_over_the_one_before() -> None:
    code, out, _ = run(
        "--lang", "en", "inventory", "tree", "--inventory", str(LAB_INVENTORY), "--lang", "zh"
    )
    assert code == 0
    assert "东城县" in out and "East County" not in out


def test_without_any_inventory_the_error_says_how_to_give_one() -> None:
    code, _, err = run("inventory", "tree")
    assert code == 2 and "pass -i FILE|DIR" in err


def test_db_and_quiet_after_a_nested_subcommand(elsewhere: Path) -> None:
    db = elsewhere / "given.sqlite"
    args = ["audit", "-p", str(ROOT / "playbooks" / "mlps2-baseline.yaml"), "--from-dir"]
    configs = elsewhere / "configs"
    configs.mkdir()
    (configs / "int-core-1.cfg").write_text(
        (ROOT / "inventory" / "lab-data" / "int-core-1" / "running.cfg").read_text()
    )
    code, out, err = run(
        *args,
        str(configs),
        "-i",
        str(LAB_INVENTORY),
        "--db",
        f"sqlite:///{db}",
        "-q",
        "-f",
        "json",
        "--limit",
        "int-core-1",
        "-o",
        str(elsewhere / "r.json"),
    )
    assert code in (0, 1), err
    assert err == "" and out == ""  # -q: nothing but errors; the report goes to --output
    assert json.loads((elsewhere / "r.json").read_text())["findings"]
    assert db.exists() and not (elsewhere / "env.sqlite").exists()
    code, out, err = run("audit", "history", "--db", f"sqlite:///{db}", "-i", str(LAB_INVENTORY))
    assert code == 0 and "1" in out, err


def test_govnetd_keeps_its_own_options() -> None:
    from govnet.cli.daemon import cli as daemon

    names = [o for p in daemon.params for o in getattr(p, "opts", [])]
    assert names.count("-i") == 1 and names.count("--db") == 1


def test_output_to_a_device_writes_through_it_and_never_replaces_it(tmp_path: Path) -> None:
    """``-o /dev/null`` once replaced the device node with a regular file (atomic rename)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    code, _, err = run("inventory", "list", "-i", str(LAB_INVENTORY), "-f", "json", "-o", str(fifo))
    reader.join(10)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode) and json.loads(got[0])
    code, _, err = run(
        "inventory", "list", "-i", str(LAB_INVENTORY), "-f", "json", "-o", "/dev/null"
    )
    assert code == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode), err
