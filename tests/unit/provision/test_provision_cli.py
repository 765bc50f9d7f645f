"""Task arguments and the CLI's input errors: exit 2 with one clear line, before any device
is contacted (the inventory's devices are not running here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.provision.tasks import OnboardArgs, TaskError, get_task, parse_args
from tests.conftest import LAB_INVENTORY, ROOT


@pytest.fixture(autouse=True)
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.chdir(ROOT)


def govnet(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-i", str(LAB_INVENTORY), "--lang", "en", *args])
    return result.exit_code, result.output


def test_arguments_are_parsed_and_validated() -> None:
    args = parse_args(
        get_task("onboard-unit"),
        ["unit=east-market", "ports=Gi0/0/5, GigabitEthernet0/0/6", "prefix-len=26"],
    )
    assert isinstance(args, OnboardArgs)
    assert (
        args.ports == ("Gi0/0/5", "GigabitEthernet0/0/6")
        and args.prefix_len == 26
        and args.zone is None
    )


@pytest.mark.parametrize(
    ("task", "words", "message"),
    [
        ("baseline", ["syslog=1.2.3.4"], "baseline: unknown argument 'syslog' (arguments: none)"),
        ("onboard-unit", [], "onboard-unit: needs unit=… (the unit (单位) to onboard)"),
        (
            "onboard-unit",
            ["east-market"],
            "onboard-unit: bad argument 'east-market': expected KEY=VALUE",
        ),
        ("onboard-unit", ["unit=a", "unit=b"], "onboard-unit: argument 'unit' given twice"),
        (
            "onboard-unit",
            ["unit=a", "prefix_len=33"],
            "onboard-unit: prefix_len='33': Input should be less than or equal to 30",
        ),
        (
            "onboard-unit",
            ["unit=a", "prefix_len=big"],
            "onboard-unit: prefix_len='big': Input should be a valid integer",
        ),
        (
            "onboard-unit",
            ["unit=a", "ports=eth 1"],
            "onboard-unit: ports='eth 1': bad interface name 'eth 1'",
        ),
    ],
)
def test_bad_arguments(task: str, words: list[str], message: str) -> None:
    with pytest.raises(TaskError) as err:
        parse_args(get_task(task), words)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["provision", "plan", "basline"],
            "unknown task 'basline' (known: baseline, onboard-unit, remove-default-accounts, shutdown-unused-ports)",
        ),
        (["provision", "plan", "baseline", "x=1"], "baseline: unknown argument 'x'"),
        (["provision", "apply", "onboard-unit", "--yes"], "onboard-unit: needs unit=…"),
        (
            ["provision", "plan", "onboard-unit", "unit=nobody"],
            "onboard-unit: unit='nobody': no such unit",
        ),
        (
            ["provision", "plan", "onboard-unit", "unit=east-market"],
            "unit east-market is on zones internal, external: pass zone=NAME",
        ),
        (
            ["provision", "plan", "onboard-unit", "unit=west-gov", "zone=internal"],
            "no aggregation switch on zone internal at county-west or city",
        ),
        (
            ["provision", "plan", "baseline", "--limit", "nothing-*"],
            "no device matches the filters",
        ),
        (
            ["provision", "plan", "baseline", "--templates", "/nonexistent"],
            "template folder /nonexistent not found",
        ),
        (["ipam", "allocate", "nobody", "--zone", "internal"], "unit 'nobody': no such unit"),
        (
            ["ipam", "release", "east-gov", "--zone", "internal"],
            "unit east-gov has no allocation in zone internal",
        ),
        (
            ["ipam", "allocate", "east-gov", "--zone", "internal", "--prefix", "10.10.4.0/33"],
            "--prefix '10.10.4.0/33'",
        ),
    ],
)
def test_cli_input_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    code, out = govnet(*args)
    assert code == 2, out
    assert message in out
    assert "Traceback" not in out


def test_apply_on_devices_without_templates_asks_nothing_and_sends_nothing() -> None:
    result = CliRunner().invoke(
        cli,
        ["-i", str(LAB_INVENTORY), "provision", "apply", "baseline", "--limit", "gap-1"],
        input="",
    )
    # gap-1 (SNMP only) has no baseline template: nothing to plan or ask; it is reported skipped
    assert result.exit_code == 0, result.output
    assert "skipped: gap-1" in result.output


def test_tasks_lists_arguments_and_template_platforms() -> None:
    code, out = govnet("provision", "tasks", "-f", "csv")
    assert code == 0
    assert 'baseline,-,"cisco_ios, hp_comware, huawei, ruijie_os"' in out
    assert 'onboard-unit,"unit, zone?, ports?, prefix_len?"' in out
