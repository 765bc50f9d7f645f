"""Shell completion of device, zone, site, unit and playbook names (issue 18), through the
same environment protocol bash uses: ``_GOVNET_COMPLETE=bash_complete COMP_WORDS=…
COMP_CWORD=…``. The fast path (govnet.cli.entry) must answer exactly as click's completion on
the full CLI does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from govnet.cli import entry
from govnet.inventory import load_inventory
from govnet.inventory_names import inventory_names, scan
from tests.conftest import LAB_INVENTORY, ROOT

FAST = "from govnet.cli.entry import main; main()"
CITY = ROOT / "inventory" / "city"


def complete(words: str, cword: int) -> str:
    """What bash gets from `govnet` (the console script's code) for this command line."""
    done = subprocess.run(
        [sys.executable, "-c", FAST],
        env={
            **os.environ,
            "_GOVNET_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


def values(out: str) -> list[str]:
    return [line.partition(",")[2] for line in out.splitlines() if line]


def test_device_names_complete_in_bash() -> None:
    assert values(complete("govnet backup diff int-", 3)) == [
        "int-core-1",
        "int-agg-east",
        "int-acc-west",
        "int-acc-town",
        "int-acc-east",
        "int-fw-1",
    ]
    city = complete(f"govnet -i {CITY} monitor show ext-", 5)
    assert "ext-acc-county-01" in values(city) and all(v.startswith("ext-") for v in values(city))


def test_zones_sites_units_limit_and_playbooks() -> None:
    assert values(complete("govnet audit --zone ", 3)) == ["internal", "external", "internet"]
    assert "county-east" in values(complete("govnet report availability --site co", 4))
    assert values(complete("govnet ipam allocate east-g", 3)) == ["east-gov"]
    assert values(complete("govnet backup --limit int-core-1,!ext-c", 3)) == [
        "int-core-1,!ext-core-1"
    ]
    playbooks = values(complete("govnet audit -p ", 3))
    assert "playbooks/mlps2-baseline.yaml" in playbooks
    assert "playbooks/alerts.yaml" not in playbooks and "playbooks/av-sources.yaml" not in playbooks


def in_process(
    monkeypatch: pytest.MonkeyPatch, words: str, cword: str, shell: str = "bash"
) -> tuple[str | None, str]:
    """(fast path's answer, click's answer on the full CLI), in this process."""
    from click.shell_completion import get_completion_class

    from govnet.cli.main import cli

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", cword)
    cls = get_completion_class(shell)
    assert cls is not None
    return entry.fast_complete(f"{shell}_complete"), cls(cli, {}, "govnet", "_X").complete()


@pytest.mark.parametrize(
    ("words", "cword"),
    [
        ("govnet backup diff int-", "3"),
        ("govnet -q backup show ", "4"),
        ("govnet monitor status --unit ", "4"),
        ("govnet dashboard --zone in", "3"),
        ("govnet inventory show c", "3"),
        ("govnet alerts list --device ups", "4"),
        ("govnet backup --limit ext-core-1,int", "3"),
        ("govnet audit --playbook playbooks/iso", "3"),
        ("govnet ipam release --zone ", "4"),
        (f"govnet --inventory {CITY} report availability --site county-0", "6"),
    ],
)
def test_fast_path_answers_as_click_does(
    monkeypatch: pytest.MonkeyPatch, words: str, cword: str
) -> None:
    fast, full = in_process(monkeypatch, words, cword)
    assert fast is not None and fast.splitlines() == full.splitlines() != []


@pytest.mark.parametrize(
    ("words", "cword"), [("govnet backup st", "2"), ("govnet audit --zo", "2")]
)
def test_commands_and_options_are_left_to_click(
    monkeypatch: pytest.MonkeyPatch, words: str, cword: str
) -> None:
    fast, full = in_process(monkeypatch, words, cword)
    assert fast is None and full


@pytest.mark.parametrize(("shell", "cword"), [("zsh", "3"), ("fish", "int-core")])
def test_other_shells(monkeypatch: pytest.MonkeyPatch, shell: str, cword: str) -> None:
    fast, full = in_process(monkeypatch, "govnet backup diff int-core", cword, shell)
    assert fast is not None and "int-core-1" in fast and fast.splitlines() == full.splitlines()


def test_fast_tables_match_the_click_tree() -> None:
    from govnet.cli.main import cli

    options: dict[tuple[str, ...], dict[str, str]] = {}
    args: dict[tuple[str, ...], str] = {}

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        for p in cmd.params:
            which = getattr(getattr(p, "_custom_shell_complete", None), "govnet_completes", None)
            if which is None:
                continue
            if isinstance(p, click.Option):
                options.setdefault(path, {}).update(dict.fromkeys(p.opts, which))
            else:
                assert p is next(q for q in cmd.params if isinstance(q, click.Argument))
                args[path] = which
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))

    walk(cli, ())
    assert options == entry.OPTIONS
    assert args == entry.ARGS


@pytest.mark.parametrize("path", [LAB_INVENTORY, CITY])
def test_names_are_the_loaders_names(path: Path) -> None:
    inv = load_inventory(path)
    names = inventory_names(path)
    assert names["devices"] == list(inv.devices)
    for section in ("zones", "sites", "units", "services"):
        assert sorted(names[section]) == sorted(getattr(inv, section)), section


def test_other_yaml_layouts_fall_back_to_the_parser(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "devices: {sw-1: {address: 10.0.0.1}, 'sw 2': {}}\n", encoding="utf-8"
    )
    (tmp_path / "b.yaml").write_text(
        "# block style, quoted keys, comments, nested values\nzones:\n    'internal':\n"
        '        label: {zh: 内网}\n    # a comment\n    "external": {}\ndevices:\n'
        "    sw-3:\n        vars:\n            note: |\n                sw-4: not a device\n",
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text("devices: [oops\n", encoding="utf-8")  # broken: no names
    names = inventory_names(tmp_path)
    assert names["devices"] == ["sw-1", "sw 2", "sw-3"]
    assert names["zones"] == ["internal", "external"]
    assert scan("devices:\n  - a\n") is None
    assert inventory_names(tmp_path / "missing")["devices"] == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_in_bash_itself(tmp_path: Path) -> None:
    """The script README installs, sourced in bash, completing a device name."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "govnet"
    script.write_text(f"#!{sys.executable}\n{FAST.replace('; ', chr(10))}\n", encoding="utf-8")
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    source = subprocess.run(
        ["govnet"],
        env={**env, "_GOVNET_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    ).stdout
    (tmp_path / "complete.bash").write_text(source, encoding="utf-8")
    shell = (
        f". {tmp_path / 'complete.bash'}; COMP_WORDS=(govnet backup diff int-a); COMP_CWORD=3; "
        '_govnet_completion govnet; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        ["bash", "-c", shell],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.stdout.split() == ["int-agg-east", "int-acc-west", "int-acc-town", "int-acc-east"]
