"""Settings from any directory: the config file (strict, file:line errors), the precedence
option > environment > config file > default, the shipped playbooks, and `govnet init`."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.settings import (
    ENV_KEYS,
    ConfigError,
    find_config,
    load_config,
    load_settings,
    resolve,
    shipped_playbooks,
)
from govnet.starter import write_starter
from tests.conftest import LAB_INVENTORY, ROOT


@pytest.fixture(autouse=True)
def _no_govnet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests set what they need; `make test` exports GOVNET_INVENTORY, for one."""
    for var in ENV_KEYS:
        monkeypatch.delenv(var, raising=False)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ shipped playbooks


def test_shipped_playbooks_are_the_repo_playbooks() -> None:
    """One source of truth: the packaged folder is the top-level playbooks/ (a symlink in a
    checkout, copied into the wheel), file for file and byte for byte."""
    shipped = shipped_playbooks()
    for name in ("mlps2-baseline.yaml", "alerts.yaml", "av-sources.yaml", "antivirus.yaml"):
        assert (shipped / name).is_file(), name
    assert (shipped / "templates" / "huawei" / "baseline.j2").is_file()
    repo = ROOT / "playbooks"
    files = sorted(p.relative_to(repo) for p in repo.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
    _match, mismatch, errors = filecmp.cmpfiles(repo, shipped, [str(f) for f in files], False)
    assert (mismatch, errors) == ([], [])


def test_defaults_need_no_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a folder without playbooks/, audit --from-dir still finds its baseline."""
    configs = tmp_path / "configs"
    configs.mkdir()
    town = ROOT / "inventory" / "lab-data" / "int-acc-town" / "running.cfg"
    (configs / "int-acc-town.cfg").write_bytes(town.read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    code, out, err = run(
        "-i",
        str(LAB_INVENTORY),
        "--lang",
        "en",
        "audit",
        "--from-dir",
        str(configs),
        "--no-store",
        "--limit",
        "int-acc-town",
        "-f",
        "json",
    )
    assert code == 1, err  # the lab's seeded Telnet/public community on int-acc-town
    assert '"snmp.no-default-community"' in out


# ------------------------------------------------------------------ the config file


def test_config_keys_and_relative_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path / "etc" / "govnet.yaml",
        "inventory: inv\ndb: sqlite:///data/g.sqlite\nlang: en\ntimezone: Asia/Urumqi\n"
        "playbooks: pb\n",
    )
    s = resolve({}, load_config(path), path)
    assert s.inventory == tmp_path / "etc" / "inv"
    assert s.db == f"sqlite:///{(tmp_path / 'etc' / 'data' / 'g.sqlite').resolve()}"
    assert (s.lang, s.timezone) == ("en", "Asia/Urumqi")
    assert s.playbook("alerts.yaml") == tmp_path / "etc" / "pb" / "alerts.yaml"
    assert s.templates_dir == tmp_path / "etc" / "pb" / "templates"  # follows playbooks
    absolute = resolve({}, load_config(write(path, "db: sqlite:////var/lib/g.sqlite\n")), path)
    assert absolute.db == "sqlite:////var/lib/g.sqlite"
    assert resolve({}).playbooks_dir == shipped_playbooks()


def test_broker_key_keeps_its_password_by_reference(tmp_path: Path) -> None:
    """``broker:`` for distributed audits; its password as a secret reference, never in the
    URL; GOVNET_BROKER overrides the file."""
    path = write(
        tmp_path / "govnet.yaml",
        "broker: redis://10.0.0.5:6379/0\nbroker_password: env:GOVNET_REDIS_PW\n",
    )
    s = resolve({}, load_config(path), path)
    assert s.broker == "redis://10.0.0.5:6379/0"
    assert s.broker_password is not None and s.broker_password.ref == "env:GOVNET_REDIS_PW"
    assert resolve({"GOVNET_BROKER": "redis://127.0.0.1:6380/1"}, load_config(path)).broker == (
        "redis://127.0.0.1:6380/1"
    )
    for bad, why in [
        ("broker: redis://:hunter2@h:6379/0\n", "no password in the URL"),
        ("broker: amqp://h\n", "must be a redis:// or rediss:// URL"),
        ("broker: redis://h\nbroker_password: hunter2\n", "plain-text secrets are not allowed"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_config(write(path, bad))
        assert why in str(info.value.diagnostics), bad


def test_environment_beats_config_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "govnet.yaml", "inventory: a.yaml\ndb: sqlite:///a\nlang: en\ntemplates: t\n"
    )
    env = {
        "GOVNET_INVENTORY": "/x/b.yaml",
        "GOVNET_DB": "sqlite:////b",
        "GOVNET_LANG": "zh_CN",
        "GOVNET_TEMPLATES": "/x/tpl",
        "GOVNET_TZ": "UTC",
    }
    s = resolve(env, load_config(path), path)
    assert (s.inventory, s.db, s.lang) == (Path("/x/b.yaml"), "sqlite:////b", "zh")
    assert (s.templates_dir, s.timezone) == (Path("/x/tpl"), "UTC")
    assert s.override(inventory=Path("/c.yaml"), db=None).inventory == Path("/c.yaml")
    assert s.override(inventory=Path("/c.yaml"), db=None).db == "sqlite:////b"


def test_option_beats_environment_beats_config_through_the_cli(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yaml", "zones: {a: {bogus: 1}}\n")
    config = write(tmp_path / "govnet.yaml", f"inventory: {broken}\nlang: en\n")
    env = {"GOVNET_CONFIG": str(config)}
    code, _out, err = run("inventory", "validate", env=env)  # config file: the broken one
    assert code == 2 and "broken.yaml:1" in err
    env["GOVNET_INVENTORY"] = str(LAB_INVENTORY)  # environment beats the config file
    code, out, err = run("inventory", "validate", env=env)
    assert code == 0 and out.startswith("OK:"), err
    code, _out, err = run("-i", str(broken), "inventory", "validate", env=env)  # option wins
    assert code == 2 and "broken.yaml:1" in err
    code, out, _err = run(
        "--lang", "zh", "-i", str(LAB_INVENTORY), "inventory", "validate", env=env
    )
    assert out.startswith("校验通过")


def test_unknown_key_and_bad_values_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "govnet.yaml",
        "inventory: inv.yaml\ninventroy: x\nlang: fr\ntimezone: Mars/Olympus\ndb: 5\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = [str(d) for d in info.value.diagnostics]
    assert lines == [
        f"{path}:2:1: inventroy: unknown key (known: broker, broker_password, db, inventory, lang, limits, "
        "playbooks, remote_write, templates, timezone); did you mean 'inventory'?",
        f"{path}:3:1: lang: Input should be 'zh' or 'en', got 'fr'",
        f"{path}:4:1: timezone: unknown time zone 'Mars/Olympus' (e.g. Asia/Shanghai)",
        f"{path}:5:1: db: Input should be a valid string, got 5",
    ]
    code, out, err = run("inventory", "validate", env={"GOVNET_CONFIG": str(path)})
    assert code == 2 and out == ""
    assert f"{path}:2:1: inventroy: unknown key" in err and "4 errors in config file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "the top level must be a mapping"),
        ("a: [\n", "YAML syntax error"),
        ("lang: en\nlang: zh\n", "duplicate key 'lang'"),
    ],
)
def test_malformed_config_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "govnet.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value.diagnostics[0])


def test_which_config_file_is_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert find_config({"HOME": str(home)}) in (None, Path("/etc/govnet/govnet.yaml"))
    user = write(home / ".config" / "govnet" / "govnet.yaml", "lang: en\n")
    assert find_config({"HOME": str(home)}) == user
    xdg = write(tmp_path / "xdg" / "govnet" / "govnet.yaml", "lang: zh\n")
    assert find_config({"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}) == xdg
    assert load_settings({"HOME": str(home)}).lang == "en"
    assert load_settings({"GOVNET_CONFIG": os.devnull, "HOME": str(home)}).lang is None
    code, _out, err = run("inventory", "validate", env={"GOVNET_CONFIG": str(tmp_path / "no")})
    assert code == 2
    assert f"GOVNET_CONFIG={tmp_path / 'no'}: no such file" in err


# ------------------------------------------------------------------ govnet init


def test_init_writes_what_validate_accepts_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "site"
    code, out, err = run("--lang", "en", "init", str(target))
    assert code == 0, err
    assert "wrote" in out
    assert (target / "playbooks" / "mlps2-baseline.yaml").read_bytes() == (
        shipped_playbooks() / "mlps2-baseline.yaml"
    ).read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run(
        "inventory", "validate", env={"GOVNET_CONFIG": str(target / "govnet.yaml")}
    )
    assert code == 0, err
    assert (
        out.strip() == "校验通过：2 个网络，1 个地点，1 个单位，6 台设备，0 个终端，0 条链路"
    )  # lang: zh
    code, out, _ = run(
        "inventory", "list", "-f", "csv", env={"GOVNET_CONFIG": str(target / "govnet.yaml")}
    )
    platforms = {line.split(",")[5] for line in out.splitlines()[1:]}
    assert platforms == {"huawei", "hp_comware", "ruijie_os", "cisco_ios", "linux", "snmp"}


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    write_starter(tmp_path)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("# mine\n", encoding="utf-8")
    code, _out, err = run("init", str(tmp_path))
    assert code == 2 and "already exist" in err and "--force" in err
    assert inventory.read_text(encoding="utf-8") == "# mine\n"  # nothing written
    fresh = tmp_path / "fresh"
    write(fresh / "playbooks" / "alerts.yaml", "# mine\n")
    code, _out, err = run("init", str(fresh))
    assert code == 2 and not (fresh / "govnet.yaml").exists()
    code, _out, err = run("init", "--force", str(tmp_path))
    assert code == 0, err
    assert inventory.read_text(encoding="utf-8").startswith("# Starter inventory")


def test_govnetd_reads_the_config_file(tmp_path: Path) -> None:
    """govnetd: the config's inventory is the one loaded; a bad config stops it with exit 2."""
    from govnet.cli.daemon import cli as daemon

    broken = write(tmp_path / "inv" / "broken.yaml", "zones: {a: {bogus: 1}}\n")
    config = write(tmp_path / "govnet.yaml", "inventory: inv/broken.yaml\n")
    args = ["--once", "--no-metrics", "--log-format", "text"]
    result = CliRunner().invoke(daemon, args, env={"GOVNET_CONFIG": str(config)})
    assert result.exit_code == 2 and f"{broken}:1" in result.stderr
    write(config, "inventory: inv/broken.yaml\nlistenn: 1\n")
    result = CliRunner().invoke(daemon, args, env={"GOVNET_CONFIG": str(config)})
    assert result.exit_code == 2 and f"{config}:2:1: listenn: unknown key" in result.stderr


def test_time_zone_and_playbooks_from_the_config_reach_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoneinfo import ZoneInfo

    from govnet.availability.sla import local_zone
    from govnet.monitor.rules import default_rules
    from govnet.provision.templates import templates_dir

    config = write(tmp_path / "govnet.yaml", "timezone: Asia/Urumqi\nplaybooks: mine\n")
    monkeypatch.setenv("GOVNET_CONFIG", str(config))
    assert local_zone(None) == ZoneInfo("Asia/Urumqi")
    assert local_zone("UTC") == ZoneInfo("UTC")  # --tz wins
    assert default_rules() == tmp_path / "mine" / "alerts.yaml"
    assert templates_dir() == tmp_path / "mine" / "templates"
    monkeypatch.setenv("GOVNET_TZ", "Asia/Shanghai")
    assert local_zone(None) == ZoneInfo("Asia/Shanghai")  # environment beats the file


# ------------------------------------------------------------------ input limits


def test_limits_in_the_config_file_are_under_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govnet.limits import MIB, limits
    from govnet.settings import activate

    monkeypatch.delenv("GOVNET_LIMITS", raising=False)
    config = write(tmp_path / "govnet.yaml", "limits: {rows: 500000, inventory_bytes: 128M}\n")
    settings = resolve({}, load_config(config), config)
    assert settings.limits == (("inventory_bytes", 128 * MIB), ("rows", 500_000))
    try:
        activate(settings)
        assert limits().rows == 500_000 and limits().inventory_bytes == 128 * MIB
        monkeypatch.setenv("GOVNET_LIMITS", "rows=10")
        assert limits().rows == 10 and limits().inventory_bytes == 128 * MIB
    finally:
        activate(None)
    assert limits().rows == 10 and limits().inventory_bytes == 64 * MIB


def test_bad_limits_in_the_config_file_are_located(tmp_path: Path) -> None:
    path = write(tmp_path / "govnet.yaml", "lang: en\nlimits:\n  rws: 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (line,) = [str(d) for d in info.value.diagnostics]
    assert line.startswith(f"{path}:2:1: limits: unknown limit 'rws' (known: cell_chars, ")
    assert line.endswith("did you mean 'rows'?")
    path.write_text("limits: {csv_bytes: lots}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value.diagnostics[0]) == (
        f"{path}:1:1: limits: csv_bytes: not a size or count 'lots' (e.g. 500000, 64K, 32M, 1G)"
    )
