"""The one error boundary of govnet and govnetd (govnet.cli.common.run_main)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from govnet.errors import DeviceTimeout, ExitCode, TransportError

SCRIPT = textwrap.dedent("""\
    import sys
    import click
    from govnet.cli.common import run_main
    from govnet.errors import StoreError

    @click.command()
    @click.argument("what")
    def cmd(what):
        if what == "bug":
            raise RuntimeError("boom: env:SECRET never shown \\x1b[2J")
        if what == "store":
            raise StoreError("store postgresql://u:***@db/g: connection refused")
        if what == "exit":
            sys.exit(3)

    run_main(cmd, "govnet")
""")


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "cli.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_a_bug_is_one_line_and_exit_4(tmp_path: Path) -> None:
    done = run(tmp_path, "bug")
    assert done.returncode == int(ExitCode.INTERNAL) == 4
    [line] = done.stderr.splitlines()
    assert line.startswith("govnet: internal error: RuntimeError: boom")
    assert "GOVNET_DEBUG=1" in line and "\x1b" not in line and "Traceback" not in done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = run(tmp_path, "bug", GOVNET_DEBUG="1")
    assert "Traceback (most recent call last)" in done.stderr and "RuntimeError" in done.stderr


def test_a_govnet_error_outside_a_group_is_its_exit_code(tmp_path: Path) -> None:
    done = run(tmp_path, "store")
    assert done.returncode == ExitCode.STORE
    assert done.stderr.strip() == "govnet: store postgresql://u:***@db/g: connection refused"


def test_exit_codes_pass_through(tmp_path: Path) -> None:
    assert run(tmp_path, "exit").returncode == 3
    assert run(tmp_path, "fine").returncode == 0


def test_govnetd_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    conf = tmp_path / "govnet.yaml"
    conf.write_text("inventroy: x\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "from govnet.cli.daemon import main; main()", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GOVNET_CONFIG": str(conf)},
    )
    assert done.returncode == 2, done.stderr
    assert "govnet.yaml:1:1" in done.stderr and "Traceback" not in done.stderr


def test_device_timeout_is_a_timeout_error() -> None:
    exc = DeviceTimeout("sw1", "no answer within 10 s")
    assert isinstance(exc, TimeoutError) and isinstance(exc, TransportError)
    assert str(exc) == "sw1: no answer within 10 s" and exc.exit_code == ExitCode.UNREACHABLE
