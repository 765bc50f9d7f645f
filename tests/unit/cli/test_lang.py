"""The reader's language, as cron runs govnet: no LANG, the console script in a process of its
own. --lang, then the config file's ``lang:``, then LANG; findings' messages and errors follow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LAB_INVENTORY, ROOT

BASELINE = ROOT / "playbooks" / "mlps2-baseline.yaml"
GOVNET = Path(sys.executable).with_name("govnet")


def cron_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What cron gives a job: no LANG/LC_*, no GOVNET_* but what the line sets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LANG", "LC_", "GOVNET_")) and k != "LANGUAGE"
    }
    env.update(HOME=str(tmp_path), GOVNET_CONFIG=os.devnull, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    env.update(extra)
    return env


def govnet(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GOVNET), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's saved configs but one (ext-acc-town: could not check)."""
    folder = tmp_path_factory.mktemp("configs")
    for device in ("int-acc-town", "int-core-1"):
        shutil.copy(
            ROOT / "inventory" / "lab-data" / device / "running.cfg", folder / f"{device}.cfg"
        )
    return folder


def audit(env: dict[str, str], saved: Path, tmp_path: Path, *extra: str) -> str:
    done = govnet(
        env,
        "-i",
        str(LAB_INVENTORY),
        "--db",
        f"sqlite:///{tmp_path / 's.sqlite'}",
        "audit",
        "-p",
        str(BASELINE),
        "--from-dir",
        str(saved),
        "--limit",
        "int-acc-town,int-core-1,ext-acc-town",
        *extra,
    )
    assert done.returncode == 3, done.stderr  # ext-acc-town has no saved config
    return done.stdout


def test_lang_zh_without_lang_gives_chinese_findings_and_errors(
    saved: Path, tmp_path: Path
) -> None:
    out = audit(cron_env(tmp_path), saved, tmp_path, "--lang", "zh")
    # the explanation around the device's own line is Chinese; the line stays as it is
    assert "第 15 行 'telnet server enable' 违反本项要求" in out
    assert "15: telnet server enable（不得匹配" in out
    assert "中没有保存的配置 ext-acc-town.cfg" in out  # the could-not-check reason
    assert "不合规" in out and "无法检查" in out
    assert "matches '^telnet" not in out and "no saved config" not in out


def test_english_without_lang_or_config(saved: Path, tmp_path: Path) -> None:
    out = audit(cron_env(tmp_path), saved, tmp_path)
    assert "line 15: 'telnet server enable' matches" in out
    assert "no saved config ext-acc-town.cfg" in out
    assert "违反" not in out


def test_the_config_file_lang_is_honoured_without_lang(saved: Path, tmp_path: Path) -> None:
    config = tmp_path / "govnet.yaml"
    config.write_text("lang: zh\n")
    env = cron_env(tmp_path, GOVNET_CONFIG=str(config))
    out = audit(env, saved, tmp_path)
    assert "第 15 行 'telnet server enable' 违反本项要求" in out
    # --lang on the command line still wins over the file
    assert "违反" not in audit(env, saved, tmp_path, "--lang", "en")
    # and LANG loses to the file: a zh config under an English locale stays Chinese
    env_en = {**env, "LANG": "en_US.UTF-8"}
    assert "违反本项要求" in audit(env_en, saved, tmp_path)


def test_a_broken_inventory_is_one_chinese_line_under_lang_zh(tmp_path: Path) -> None:
    broken = tmp_path / "inventory.yaml"
    broken.write_text("zones:\n  internal: [\n")
    done = govnet(cron_env(tmp_path), "--lang", "zh", "-i", str(broken), "inventory", "validate")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines == [
        f"{broken}:3:1: YAML 语法错误：did not find expected node content",
        "govnet: 设备清单中有 1 处错误",
    ], done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_key_suggests_in_chinese(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text("zones:\n  internal:\n    lable: 政务内网\n")
    done = govnet(cron_env(tmp_path), "-i", str(bad), "--lang", "zh", "inventory", "validate")
    assert done.returncode == 2
    assert "zones.internal.lable: 未知的键（可用：" in done.stderr
    assert "是否应为 'label'？" in done.stderr
