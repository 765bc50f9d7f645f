"""``govnet -q`` under cron (no terminal): nothing on stdout or stderr on success, for every
command group; ``--output`` still written; errors still one line each (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from tests.integration.conftest import Lab

pytestmark = pytest.mark.integration


def quiet(inventory: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-q", "-i", str(inventory), "--lang", "en", *args])
    return result.exit_code, result.stdout, result.stderr


def test_every_command_group_is_silent_with_q(lab: Lab, store_env: Path) -> None:
    inv = lab.inventory_path
    out = store_env / "availability.json"
    runs = [
        ("inventory", "list"),
        ("inventory", "validate"),
        ("lab", "status"),
        ("backup", "--limit", "int-agg-east,ext-agg-east"),
        ("backup", "stale", "--limit", "int-agg-east,ext-agg-east"),
        ("audit", "--limit", "int-agg-east"),
        ("audit", "history"),
        ("monitor", "run", "--once", "--no-metrics", "--limit", "int-agg-east,ext-agg-east"),
        ("monitor", "status"),
        ("alerts", "list"),
        ("dashboard", "--once"),
        ("report", "availability", "-p", "day", "-f", "json", "-o", str(out)),
        ("av", "import", "inventory/lab-data/av-export.csv", "--source", "qianxin"),
        ("av", "snapshots"),
        ("ipam", "list"),
        ("provision", "tasks"),
        ("isolation", "report"),
    ]
    failures = []
    for args in runs:
        code, stdout, stderr = quiet(inv, *args)
        if stdout or stderr:
            failures.append((args, code, stdout[:300], stderr[:300]))
    assert failures == []
    assert json.loads(out.read_text(encoding="utf-8"))  # --output is still written


def test_errors_still_show_with_q(lab: Lab, store_env: Path) -> None:
    code, stdout, stderr = quiet(lab.inventory_path, "backup", "show", "no-such-device")
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("govnet: ")
