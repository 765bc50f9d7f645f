"""Issue 12 item 6: text from devices, files and people reaches the terminal as text.

Escape sequences are shown, never sent; ``:x:`` stays ``:x:`` (no emoji); ``[bold]`` stays
``[bold]`` (no markup); CSV cells never start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.dashboard.render import View, render
from govnet.dashboard.snapshot import ActiveAlert, DeviceTile, Snapshot
from govnet.textsafe import SafeConsole, csv_cell, visible
from tests.conftest import LAB_INVENTORY, MINIMAL, ROOT

HOSTILE = "\x1b]0;pwned\x07\x1b[2J :x: [bold]B[/bold] [/]"


def assert_inert(out: str) -> None:
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "❌" not in out  # :x: stays text


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "configs"
    folder.mkdir()
    for device in (ROOT / "inventory" / "lab-data").iterdir():
        if (device / "running.cfg").is_file():
            shutil.copy(device / "running.cfg", folder / f"{device.name}.cfg")
    town = folder / "int-acc-town.cfg"
    town.write_text(
        town.read_text().replace(
            "snmp-agent community read public", f"snmp-agent community read public {HOSTILE}"
        )
    )
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("GOVNET_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.chdir(ROOT)
    return folder


def audit(configs: Path, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["-i", str(LAB_INVENTORY), "--lang", "en", "audit", "--from-dir", str(configs), *args],
    )
    assert result.exit_code in (1, 3), result.output
    return result.output


def test_a_hostile_config_line_in_the_audit_table(configs: Path) -> None:
    out = audit(configs, "-f", "table", "--limit", "int-acc-town")
    assert_inert(out)
    assert "read public \\x1b]0;pwned\\x07\\x1b[2J :x: [bold]B[/bold] [/]" in out


def test_a_hostile_config_line_in_html_junit_and_csv(configs: Path, tmp_path: Path) -> None:
    for fmt in ("html", "junit", "csv"):
        path = tmp_path / f"report.{fmt}"
        audit(configs, "-f", fmt, "-o", str(path), "--limit", "int-acc-town")
        text = path.read_text(encoding="utf-8")
        assert_inert(text)
        assert "\\x1b]0;pwned" in text, fmt
    import xml.etree.ElementTree as ET

    ET.fromstring((tmp_path / "report.junit").read_bytes())  # well-formed XML 1.0


def test_csv_cells_never_start_a_formula(write_inventory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = MINIMAL + (
        "terminals:\n"
        "  - {name: pc1, mac: 00:11:22:33:44:55, unit: office, zone: internal,"
        " owner: \"=cmd|' /C calc'!A0\", os: '@SUM(1+1)'}\n"
        "  - {name: pc2, mac: 00:11:22:33:44:56, unit: office, zone: internal,"
        " owner: '+1-2', os: '-'}\n"
    )
    result = CliRunner().invoke(
        cli,
        ["-i", str(write_inventory(text)), "inventory", "list", "--terminals", "-f", "csv"],
    )
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert rows["pc1"]["owner"] == "'=cmd|' /C calc'!A0"
    assert rows["pc1"]["os"] == "'@SUM(1+1)"
    assert rows["pc2"]["owner"] == "'+1-2" and rows["pc2"]["os"] == "-"
    assert csv_cell("-12.5") == "-12.5" and csv_cell(3) == 3 and csv_cell("\x1b[2J") == "\\x1b[2J"


def test_an_error_message_is_printed_as_text(write_inventory) -> None:  # type: ignore[no-untyped-def]
    path = write_inventory(MINIMAL.replace("host: 127.0.0.2", "host: 'root:x:0:0[bold]'"))
    result = CliRunner().invoke(cli, ["-i", str(path), "inventory", "validate"])
    assert result.exit_code == 2
    assert "got 'root:x:0:0[bold]'" in result.output
    assert_inert(result.output)


def test_inventory_show_and_tree_print_labels_as_text(write_inventory) -> None:  # type: ignore[no-untyped-def]
    text = MINIMAL.replace(
        "town: {level: town", "town: {label: '[red]:x: town\x1b[2J', level: town"
    )
    text = text.replace(
        "site: town, unit: office,", f"description: '{HOSTILE}', site: town, unit: office,"
    )
    inv = str(write_inventory(text.replace("\x1b", "\\e").replace("\x07", "\\a")))
    for args in (["inventory", "show", "sw1"], ["inventory", "tree"]):
        result = CliRunner().invoke(cli, ["-i", inv, "--lang", "en", *args])
        assert result.exit_code == 0, result.output
        assert_inert(result.output)
    assert (
        "[bold]B[/bold]" in CliRunner().invoke(cli, ["-i", inv, "inventory", "show", "sw1"]).output
    )


def test_the_dashboard_shows_hostile_alert_text_as_text() -> None:
    now = time.time()
    snap = Snapshot(
        now=now,
        devices=[DeviceTile("sw1", "internal", "city", "", "access", "down", now - 60, HOSTILE)],
        alerts=[
            ActiveAlert(
                1,
                now - 60,
                "critical",
                "sw1",
                "",
                "Port :x: [bold]down",
                "端口",
                HOSTILE,
                False,
                False,
                False,
            )
        ],
    )
    console = SafeConsole(width=120, record=True, force_terminal=False, no_color=True)
    with console.capture() as capture:
        console.print(render(snap, View(120, 24, "en")).renderable)
    out = capture.get()
    assert_inert(out)
    assert "Port :x: [bold]down" in out and "\\x1b]0;pwned" in out


def test_safe_console_shows_controls_even_inside_text_objects() -> None:
    from rich.text import Text

    console = SafeConsole(width=80, record=True, force_terminal=True)
    with console.capture() as capture:
        console.print(Text("a\x1b[2Jb"))
        console.print("c\x1b]0;t\x07d :x: [bold]e")
    out = capture.get()
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out
    assert "a␛[2Jb" in out and "c\\x1b]0;t\\x07d :x: [bold]e" in out
    assert visible("tab\tnew\nline\x9b") == "tab\tnew\nline\\u009b"


def test_backup_show_prints_a_stored_config_as_text(tmp_path: Path) -> None:
    from govnet.collect.backup import store_config
    from govnet.durations import utcnow
    from govnet.store.db import Store

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store_config(
        Store.open(url), "int-core-1", f"sysname x\ndescription {HOSTILE}\n", None, utcnow()
    )
    result = CliRunner().invoke(
        cli, ["-i", str(LAB_INVENTORY), "--db", url, "backup", "show", "int-core-1"]
    )
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert "description \\x1b]0;pwned" in result.output


def test_json_on_stdout_stays_valid_json_with_any_control_character(tmp_path: Path) -> None:
    import json

    from govnet.cli.common import App

    weird = "a\x1b[2J b\x7f c\x85 d\u202e e"
    app = App(None, "en")
    runner = CliRunner()
    with runner.isolation() as (out, _err, *_):
        app.write(json.dumps({"v": weird}, ensure_ascii=False), None)
        text = out.getvalue().decode()
    assert_inert(text)
    assert "\x7f" not in text and "\x85" not in text and "\u202e" not in text
    assert json.loads(text) == {"v": weird}
