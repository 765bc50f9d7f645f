"""``govnet`` imports a command's module only when that command is used (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys

from govnet.cli.main import COMMANDS, cli


def test_every_command_is_listed() -> None:
    assert sorted(cli.commands) == sorted(name for name, _ in COMMANDS)
    assert all(cli.commands[name].name == name for name, _ in COMMANDS)


def test_one_command_imports_only_its_module() -> None:
    code = (
        "import json, sys\n"
        "from govnet.cli.main import cli\n"
        "assert cli.commands.get('audit') is not None\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('govnet.cli.'))))\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    modules = json.loads(out[0])
    assert "govnet.cli.audit" in modules
    assert not {"govnet.cli.backup", "govnet.cli.monitor", "govnet.cli.dashboard"} & set(modules)
    assert out[1] == "False"  # the audit of saved configs needs no store
