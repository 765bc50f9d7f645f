"""CSV for people and for scripts: Chinese headers and a UTF-8 BOM in Chinese (Excel on
Windows), the machine keys in English or with --csv-keys; JSON unchanged; errors in the
reader's language."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.report.tabular import BOM, Column, to_csv
from tests.conftest import ROOT

LAB = str(ROOT / "inventory" / "lab.yaml")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-i", LAB, "--no-cache", *args], env=env or {})
    return result.exit_code, result.stdout, result.stderr


def test_chinese_csv_has_labelled_headers_and_a_bom() -> None:
    code, out, err = run("--lang", "zh", "inventory", "list", "-f", "csv")
    assert code == 0, err
    assert out.startswith(BOM)
    header = next(csv.reader(io.StringIO(out.removeprefix(BOM))))
    assert header[:3] == ["设备", "网络", "地点"], header
    assert not set(header) & {"name", "zone", "site"}
    assert out.encode("utf-8")[:3] == b"\xef\xbb\xbf"  # what Excel looks for


@pytest.mark.parametrize(
    "args", [("--lang", "en"), ("--lang", "zh", "--csv-keys")], ids=["english", "csv-keys"]
)
def test_english_or_csv_keys_give_the_machine_keys(args: tuple[str, ...]) -> None:
    code, out, err = run(*args, "inventory", "list", "-f", "csv")
    assert code == 0, err
    assert not out.startswith(BOM)
    header = out.splitlines()[0]
    assert header == "name,zone,site,unit,role,platform,address,ssh,snmp,tags"


def test_the_environment_asks_for_keys_too() -> None:
    code, out, _err = run(
        "--lang", "zh", "inventory", "list", "-f", "csv", env={"GOVNET_CSV_KEYS": "1"}
    )
    assert code == 0 and not out.startswith(BOM)


def test_json_keeps_its_keys_in_chinese() -> None:
    code_zh, zh, _ = run("--lang", "zh", "inventory", "list", "-f", "json")
    code_en, en, _ = run("--lang", "en", "inventory", "list", "-f", "json")
    assert code_zh == code_en == 0
    assert json.loads(zh) == json.loads(en)


def test_to_csv_follows_the_language_it_is_given() -> None:
    cols = [Column("device", "Device"), Column("status", "Status")]
    rows = [{"device": "core-1", "status": "up"}]
    assert to_csv(rows, cols, "en") == "device,status\ncore-1,up\n"
    assert to_csv(rows, cols, "zh") == BOM + "设备,结果\ncore-1,up\n"


def test_a_store_error_is_said_in_chinese_and_names_the_file() -> None:
    code, _out, err = run(
        "--lang", "zh", "--db", "sqlite:////nonexistent/x.sqlite", "monitor", "status"
    )
    assert code == 2, err  # nothing recorded there yet: a usage error
    assert err.startswith("govnet: 存储 /nonexistent/x.sqlite：文件不存在；请检查 --db"), err
    code, _out, err = run(
        "--lang", "en", "--db", "sqlite:////nonexistent/x.sqlite", "monitor", "status"
    )
    assert "store /nonexistent/x.sqlite: no such file; check --db" in err, err
